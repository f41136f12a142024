"""Run an import: read the sheet row by row, check every row, and write all of it or nothing.

`run_import(..., dry_run=True)` is the check; its result carries a digest of everything it found. Applying with
`expected_digest` set imports only if the file still means exactly that (a chat front end shows the check, then
its "Import" button applies what was checked — if anything changed in between, nothing is written and the check
must be repeated). Rows are checked and written in batches in one transaction; any problem anywhere rolls it all
back, and every problem is reported with its sheet, row, column, value and reason.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot.documents.imports.cells import Place, Problem, RowReader
from bot.documents.imports.kinds import PLANS, HistoricalOrder, KindPlan, Setting
from bot.documents.imports.workbook import EXAMPLE_MARKS
from bot.documents.sheets import (
    HEADER_SCAN_ROWS,
    Rows,
    SheetError,
    column_letter,
    find_header,
    norm_header,
    open_sheet,
)
from bot.i18n import texts
from domain.audit import Actor, record
from domain.bulk import Action, Batch, Digest, Outcome
from domain.errors import DomainError
from domain.messages import Message
from domain.models import OrderStatus, User
from domain.parsing import cell_text
from domain.uow import UnitOfWork

BATCH = 1000
_EXAMPLE_STARTS = frozenset("eE" + "".join(m[0] for m in EXAMPLE_MARKS))  # an ASCII first cell starting otherwise is data
CHANGES_KEPT = 200  # updated rows listed in the result (the counts cover all)
Progress = Callable[[int, int | None], None]


@dataclass
class ImportResult:
    kind: str
    sheet: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    changes: list[Outcome] = field(default_factory=list)  # the first updated rows, with what changed
    digest: str = ""
    applied: bool = False
    dry_run: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self, locale: str) -> str:
        t = texts(locale)
        counts = dict(rows=self.rows, created=self.created, updated=self.updated, unchanged=self.unchanged)
        if self.applied:
            return t.t("Imported: {rows} rows — {created} created, {updated} updated, {unchanged} unchanged", **counts)
        if self.ok:
            return t.t("Checked, ready to import: {rows} rows — {created} created, {updated} updated, {unchanged} unchanged",
                       **counts)
        return t.t("Not imported: {rows} rows — {created} created, {updated} updated, {unchanged} unchanged; "
                   "{problems} problems, nothing was written", problems=len(self.problems), **counts)


def run_import(sessions: sessionmaker[Session], kind: str, source: bytes | Path, filename: str, *, user: User | None,
               actor: Actor, today: date, tz: ZoneInfo, dry_run: bool, expected_digest: str | None = None,
               clock: Callable[[], Any] | None = None, progress: Progress | None = None, batch_size: int = BATCH,
               locale: str = "zh-CN", on_apply: Callable[[UnitOfWork], None] | None = None) -> ImportResult:
    """`on_apply` runs in the import's transaction just before it commits (a chat front end marks its check used
    there, so the check is spent exactly when the rows are written); a DomainError from it writes nothing."""
    plan = PLANS[kind]
    result = ImportResult(kind, dry_run=dry_run)
    try:
        rows = open_sheet(source, filename, (plan.kind.sheet("zh-CN"), plan.kind.sheet_en, kind))
    except SheetError as e:
        result.problems.append(Problem(filename, 0, "", "", e.message))
        return result
    result.sheet = rows.sheet
    uow = UnitOfWork(sessions, clock) if clock is not None else UnitOfWork(sessions)
    with uow:
        if uow.session.get_bind().dialect.name == "postgresql":
            # The import fills a table its statistics think is empty; the per-batch lookups by code would turn into
            # sequential scans of everything inserted so far (100,000 customers: 150 s instead of 25 s).
            uow.session.execute(text("SET LOCAL enable_seqscan = off"))
        try:
            _run(uow, plan, rows, result, user, actor, Setting(today, tz, f"import:{Path(filename).name}"[:64]),
                 dry_run, progress, batch_size)
        except SheetError as e:
            result.problems.append(Problem(rows.sheet, result.rows, "", "", e.message))
        except DomainError as e:  # not allowed, for one
            result.problems.append(Problem(rows.sheet, 0, "", "", e.message))
        if not dry_run and result.ok and expected_digest is not None and expected_digest != result.digest:
            result.problems.append(Problem(rows.sheet, 0, "", "", Message(
                "The file or the data changed since the check; nothing was written. Check again, then import")))
        if dry_run or not result.ok:
            uow.rollback()
            return result
        record(uow, None, actor, "imported", subject=f"import:{kind}", file=Path(filename).name[:100], rows=result.rows,
               created=result.created, updated=result.updated, unchanged=result.unchanged, digest=result.digest)
        if on_apply is not None:
            try:
                on_apply(uow)
            except DomainError as e:
                uow.rollback()
                result.problems.append(Problem(rows.sheet, 0, "", "", e.message))
                return result
        uow.commit()
        result.applied = True
    return result


def _run(uow: UnitOfWork, plan: KindPlan, rows: Rows, result: ImportResult, user: User | None, actor: Actor,
         setting: Setting, dry_run: bool, progress: Progress | None, batch_size: int) -> None:
    importer = plan.importer(uow, user, actor, setting)
    kind = plan.kind
    known = {name: col.key for col in kind.columns for name in col.names()}
    first = []
    for item in rows.rows:
        first.append(item)
        if len(first) >= HEADER_SCAN_ROWS:
            break
    header = find_header(first, set(known))
    if header is None:
        result.problems.append(Problem(rows.sheet, 1, "", "", Message(
            "No header row: the first row names the columns, e.g. {columns}",
            {"columns": [Message(c.en) for c in kind.columns[:3]]})))
        return
    places: dict[str, Place] = {}
    index: dict[str, int] = {}
    for j, shown in sorted(header.columns.items()):
        key = known[norm_header(shown)]
        if key in places:
            result.problems.append(Problem(rows.sheet, header.row, f"{column_letter(j)} {shown}", shown, Message(
                "the same column as {letter}", {"letter": places[key].letter})))
            continue
        places[key], index[key] = Place(column_letter(j), shown), j
    missing = [c for c in kind.columns if c.required and c.key not in places]
    if missing:
        result.problems.append(Problem(rows.sheet, header.row, "", "", Message(
            "Missing required columns: {columns}", {"columns": [Message(c.en) for c in missing]})))
        return
    batcher = _Batcher(importer, plan, rows.sheet, places, result, dry_run, batch_size)
    seen: set[str] = set()
    group: _Group | None = None
    done_groups: set[str] = set()

    def records() -> Iterator[tuple[int, list[object]]]:
        yield from (item for item in first if item[0] > header.row)
        yield from rows.rows

    keys = tuple(index)
    pick = itemgetter(*index.values()) if len(index) > 1 else lambda cells: (cells[index[keys[0]]],)
    width = max(index.values()) + 1
    first_key = kind.columns[0].key
    read = plan.read
    reader = RowReader(kind, rows.sheet, 0, {}, places, setting.today)
    for n, cells in records():
        if len(cells) < width:
            cells = [*cells, *([""] * (width - len(cells)))]
        values = dict(zip(keys, pick(cells), strict=True))
        for v in values.values():
            if v.strip() if type(v) is str else v is not None:  # a number, date or bool always shows something
                break
        else:
            continue  # blank rows (and the empty tail Excel keeps) are not data
        lead = values.get(first_key, "")
        if type(lead) is not str or not lead.isascii() or lead.lstrip()[:1] in _EXAMPLE_STARTS:  # else: not an example
            lead = cell_text(lead)
            first_cell = (lead if lead.isascii() else unicodedata.normalize("NFKC", lead)).strip().casefold()
            if first_cell.startswith(EXAMPLE_MARKS):
                continue  # the template's example row, left in
        result.rows += 1
        if progress is not None and result.rows % 500 == 0:
            progress(result.rows, rows.estimated_rows)
        rec = read(reader.at(n, values), setting)
        if reader.problems:
            result.problems += reader.problems
        if plan.grouped:
            if rec is None:
                continue
            head, line = rec
            if group is not None and group.head["number"] != head["number"]:
                batcher.add(group.done(), group.head["number"])
                done_groups.add(group.head["number"])
                group = None
            if group is None:
                if head["number"] in done_groups:
                    result.problems.append(Problem(rows.sheet, n, f"{places['number'].letter} {places['number'].header}",
                                                   head["number"], Message(
                                                       "the rows of one order must be together (sort by order number)")))
                    continue
                group = _Group(n, head)
            before = len(reader.problems)
            group.add(reader, head, line, places)
            result.problems += reader.problems[before:]
            continue
        if rec is None:
            continue
        key = plan.key(rec)
        if key.casefold() in seen:
            col = next(iter(places.values()))
            result.problems.append(Problem(rows.sheet, n, f"{col.letter} {col.header}", key, Message("repeats an earlier row")))
            continue
        seen.add(key.casefold())
        batcher.add(rec, key)
    if group is not None:
        batcher.add(group.done(), group.head["number"])
    batcher.flush()
    result.problems.sort(key=lambda p: p.row)
    result.digest = batcher.digest.hexdigest()
    if progress is not None:
        progress(result.rows, result.rows)


class _Group:
    """The rows of one historical order; its fields must agree across its rows."""

    def __init__(self, row: int, head: dict[str, Any]) -> None:
        self.row, self.head = row, head
        self.lines: list[Any] = []

    def add(self, reader: RowReader, head: dict[str, Any], line: Any, places: dict[str, Place]) -> None:
        for k in ("order_date", "customer", "status"):
            if head[k] != self.head[k] and k in places:
                reader.problem(k, "differs from the order's first row (row {row})", row=self.row)
        self.lines.append(line)

    def done(self) -> HistoricalOrder:
        h = self.head
        return HistoricalOrder(self.row, h["number"], h["order_date"], h["customer"], tuple(self.lines), h["sales"],
                               h["status"] or OrderStatus.COMPLETED, h["notes"])


class _Batcher:
    def __init__(self, importer: Any, plan: KindPlan, sheet: str, places: dict[str, Place], result: ImportResult,
                 dry_run: bool, size: int) -> None:
        self.importer, self.plan, self.sheet, self.places, self.result = importer, plan, sheet, places, result
        self.dry_run, self.size = dry_run, size
        self.pending: list[Any] = []
        self.digest = Digest()

    def add(self, rec: Any, key: str) -> None:
        self.pending.append(rec)
        if not self.plan.whole_file and len(self.pending) >= self.size:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        # Once anything is wrong nothing will be written, but the rest is still checked so every problem is listed.
        batch: Batch = self.importer.batch(self.pending, apply=not self.dry_run and self.result.ok)
        self.pending = []
        r = self.result
        self.digest.add_all(batch.outcomes)
        for o in batch.outcomes:
            if o.action == Action.CREATED:
                r.created += 1
            elif o.action == Action.UPDATED:
                r.updated += 1
                if len(r.changes) < CHANGES_KEPT:
                    r.changes.append(o)
            else:
                r.unchanged += 1
        kind = self.plan.kind
        for p in batch.problems:
            place = self.places.get(p.column) or self.places.get(p.column.split("_")[0])
            column = f"{place.letter} {place.header}" if place else next(
                (c.en for c in kind.columns if c.key == p.column), p.column)
            r.problems.append(Problem(self.sheet, p.row, column, p.value[:60], p.message))
