"""Cards for files sent in to import: the check (counts, the first problems, an Import button), the question which
kind of data a file holds, and the outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.bank_import import ImportReport
from bot.cards.model import Attachment, Button, Card, CardKind, Field, LineTable, Tone
from bot.documents.imports import KINDS, ImportResult, Problem
from bot.files import FileInfo
from bot.i18n import Texts
from domain.messages import N_

BANK = "bank"
PROBLEMS_SHOWN = 10  # problems listed on the card; the rest are in the problems file
BANK_LINES_SHOWN = 10


def kind_label(t: Texts, kind: str) -> str:
    return t.t(N_("Bank statement")) if kind == BANK else t.t(KINDS[kind].sheet_en)


def _problem_rows(t: Texts, problems: Sequence[Problem]) -> LineTable:
    shown = problems[:PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    return LineTable(
        columns=[t.t("Row"), t.t("Column"), t.t("Value"), t.t("Reason")],
        rows=[[str(p.row or ""), p.column, p.value, p.reason(t.tag)] for p in shown],
        note=t.tn("…and {n} more problem in the problems file", "…and {n} more problems in the problems file", more)
        if more else None)


def _problems_file(t: Texts, info: FileInfo | None, url: str | None) -> tuple[list[Attachment], list[Button]]:
    if info is None or url is None:
        return [], []
    return ([Attachment(key=info.key, kind="file", filename=info.filename, mime=info.mime, size=info.size, url=url,
                        title=t.t("Problems (XLSX)"))],
            [Button(action="open_document", label=t.t("Problems (XLSX)"), token="", url=url)])


def sheet_check_card(t: Texts, check_id: int, filename: str, result: ImportResult, apply_token: str | None,
                     valid_until: datetime | None, problems: tuple[FileInfo | None, str | None]) -> Card:
    ok = result.ok and apply_token is not None
    attachments, links = _problems_file(t, *problems)
    fields = [Field(label=t.t("Rows"), value=t.number(result.rows)),
              Field(label=t.t("Rows created"), value=t.number(result.created)),
              Field(label=t.t("Updated"), value=t.number(result.updated)),
              Field(label=t.t("Unchanged"), value=t.number(result.unchanged))]
    if result.problems:
        fields.append(Field(label=t.t("Problems"), value=t.number(len(result.problems))))
    text = [result.summary(t.tag)]
    if ok and valid_until is not None:
        text.append(t.t("Press Import to write exactly what was checked (valid until {time}).",
                        time=t.datetime(valid_until)))
    elif result.ok:
        text.append(t.t("Nothing to import: every row is as it is already."))
    else:
        text.append(t.t("Fix the rows listed, then send the file again."))
    buttons = [Button(action="import_apply", label=t.t("Import"), token=apply_token, style="primary")] if ok and apply_token else []
    return Card(kind=CardKind.IMPORT_CHECK, key=f"import:{check_id}", locale=t.tag, title=t.t("Checked: {name}", name=filename),
                subtitle=kind_label(t, result.kind), tone=Tone.INFO if ok else (Tone.NEUTRAL if result.ok else Tone.DANGER),
                fields=fields, text=text, table=_problem_rows(t, result.problems) if result.problems else None,
                buttons=buttons + links, attachments=attachments, data={"check": str(check_id), "kind": result.kind})


def bank_check_card(t: Texts, check_id: int, filename: str, report: ImportReport, apply_token: str | None,
                    valid_until: datetime | None) -> Card:
    ok = apply_token is not None
    fields = [Field(label=t.t("Payments to record"), value=t.number(len(report.recorded))),
              Field(label=t.t("Total"), value=t.money(report.total)),
              Field(label=t.t("Imported before"), value=t.number(len(report.already))),
              Field(label=t.t("Not matched"), value=t.number(len(report.unmatched)))]
    shown = report.recorded[:BANK_LINES_SHOWN]
    table = LineTable(columns=[t.t("Row"), t.t("Order"), t.t("Amount")],
                      rows=[[str(m.line.row), m.order_number, t.money(m.amount)] for m in shown],
                      note=t.tn("…and {n} more", "…and {n} more", len(report.recorded) - len(shown))
                      if len(report.recorded) > len(shown) else None) if shown else None
    text = [t.t("Row {row}: {amount} from {payer} not matched ({why})", row=u.line.row, amount=t.money(u.line.amount),
                payer=u.line.payer or "—", why=u.detail) for u in report.unmatched[:PROBLEMS_SHOWN]]
    if ok and valid_until is not None:
        text.append(t.t("Press Import to record exactly these payments (valid until {time}).",
                        time=t.datetime(valid_until)))
    else:
        text.append(t.t("No payment to record from this statement."))
    buttons = [Button(action="import_apply", label=t.t("Import"), token=apply_token, style="primary")] if apply_token else []
    return Card(kind=CardKind.IMPORT_CHECK, key=f"import:{check_id}", locale=t.tag, title=t.t("Checked: {name}", name=filename),
                subtitle=kind_label(t, BANK), tone=Tone.INFO if ok else Tone.NEUTRAL, fields=fields, table=table,
                text=text, buttons=buttons, data={"check": str(check_id), "kind": BANK})


def unreadable_card(t: Texts, check_id: int, filename: str, kind: str, reason: str) -> Card:
    return Card(kind=CardKind.IMPORT_CHECK, key=f"import:{check_id}", locale=t.tag, title=t.t("Checked: {name}", name=filename),
                subtitle=kind_label(t, kind), tone=Tone.DANGER, text=[reason, t.t("Nothing was written.")],
                data={"check": str(check_id), "kind": kind})


def kind_question_card(t: Texts, check_id: int, filename: str, choices: Sequence[tuple[str, str]]) -> Card:
    """`choices`: (kind, signed token) for each kind the file could be."""
    return Card(kind=CardKind.IMPORT_KIND, key=f"import:{check_id}", locale=t.tag,
                title=t.t("What is in {name}?", name=filename), tone=Tone.INFO,
                text=[t.t("Its headers fit more than one kind of data. Which is it?")],
                buttons=[Button(action="import_as", label=kind_label(t, kind), token=token) for kind, token in choices])


def applied_card(t: Texts, check_id: int, filename: str, lines: list[str], tone: Tone = Tone.SUCCESS) -> Card:
    return Card(kind=CardKind.IMPORT_DONE, key=f"import:{check_id}", locale=t.tag, title=t.t("Imported: {name}", name=filename)
                if tone == Tone.SUCCESS else t.t("Not imported: {name}", name=filename), tone=tone, text=lines)
