"""Bank-statement import: read the file, match incoming lines to open orders, record the matched payments.

Each matched line gets a stable reference (a hash of the bank line and the order), and Payment.reference is
unique, so importing the same statement twice — or a later statement that repeats a line — records nothing twice.
Unmatched lines are reported back, never guessed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from bot.context import BotContext
from bot.documents import match_payments, parse_bank_statement
from bot.documents.model import BankLine, Match, OpenItem, Unmatched
from bot.unit import run_unit
from domain.audit import Actor
from domain.bank_payments import BankPayment, open_by_order, record_bank_payments, recorded_lines
from domain.models import User
from domain.uow import UnitOfWork


@dataclass
class ImportReport:
    recorded: list[Match] = field(default_factory=list)
    already: list[BankLine] = field(default_factory=list)  # lines imported before
    refused: list[tuple[Match, str]] = field(default_factory=list)  # the domain said no (e.g. paid meanwhile)
    unmatched: list[Unmatched] = field(default_factory=list)
    digest: str = ""  # names the lines found and what each would pay (a check's, compared when applying)
    changed: bool = False  # applied with an expected digest that no longer holds: nothing was recorded

    @property
    def total(self) -> Decimal:
        return sum((m.amount for m in self.recorded), Decimal("0.00"))


def open_items(session: Session) -> list[OpenItem]:
    return [OpenItem(n, name, code, amount) for n, name, code, amount in open_by_order(session)]


def _line_keys(lines: list[BankLine]) -> dict[int, str]:
    """Row → a key for the bank line that does not depend on its row, so a re-export with other rows matches;
    identical lines in one file are told apart by their occurrence."""
    seen: Counter[str] = Counter()
    out: dict[int, str] = {}
    for line in lines:
        base = f"{line.txn_date}|{line.amount}|{line.payer.strip()}|{line.memo.strip()}"
        seen[base] += 1
        out[line.row] = hashlib.sha256(f"{base}|{seen[base]}".encode()).hexdigest()[:32]
    return out


def _digest(result_matched: list[Match], keys: dict[int, str], already: list[BankLine], unmatched: list[Unmatched]) -> str:
    h = hashlib.sha256()
    for m in result_matched:
        h.update(f"m|{keys[m.line.row]}|{m.order_number}|{m.amount}\n".encode())
    for line in already:
        h.update(f"a|{keys[line.row]}\n".encode())
    for u in unmatched:
        h.update(f"u|{keys[u.line.row]}\n".encode())
    return h.hexdigest()


def import_bank_statement(sessions: sessionmaker[Session], ctx: BotContext, data: bytes, filename: str,
                          user: User | None, actor: Actor, *, dry_run: bool = False,
                          expected_digest: str | None = None) -> ImportReport:
    """`expected_digest` (from a dry run): record only if the statement still matches exactly as it did then —
    the same lines to the same orders and amounts; otherwise `changed` is set and nothing is recorded."""
    lines = parse_bank_statement(data, filename, ctx.settings.max_amount)
    keys = _line_keys(lines)
    report = ImportReport()
    with sessions() as s:
        items = open_items(s)
        recorded = recorded_lines(s, keys.values())
    fresh: list[BankLine] = []
    for line in lines:
        # Matched once already: skip before matching, since what it paid is no longer open.
        (report.already if keys[line.row] in recorded else fresh).append(line)
    result = match_payments(fresh, items, ctx.settings.order_prefix)
    report.unmatched = list(result.unmatched)
    report.digest = _digest(list(result.matched), keys, report.already, report.unmatched)
    if expected_digest is not None and not dry_run and expected_digest != report.digest:
        report.changed = True
        return report
    if dry_run:
        report.recorded.extend(result.matched)
        return report
    # One unit of work for the whole statement: after a crash nothing of it is recorded, so the same check applies
    # again (recorded line by line, a re-run found the first lines "already" and the statement "changed").
    by_payment = {BankPayment(keys[m.line.row], m.order_number, m.amount, m.line.txn_date): m for m in result.matched}
    texts = ctx.texts(user.locale if user else None)

    def record(uow: UnitOfWork) -> bool:
        for outcome in record_bank_payments(uow, list(by_payment), user, actor):
            m = by_payment[outcome.payment]
            if outcome.status == "recorded":
                report.recorded.append(m)
            elif outcome.status == "already":
                report.already.append(m.line)
            else:
                assert outcome.error is not None
                report.refused.append((m, texts.render(outcome.error.message)))
        return True

    if run_unit(ctx, sessions, record) is None:  # a concurrent import's payments committed first: none of ours
        report.already.extend(m.line for m in report.recorded)
        report.recorded.clear()
    return report
