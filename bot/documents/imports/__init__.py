"""Moving in from spreadsheets: templates, imports (check, then all or nothing) and exports, for every kind of data
a company brings — customers, products, warehouses, stock, users, opening balances, historical orders.

A front end (the CLI today, a chat file upload later) calls `run_import` twice: with `dry_run=True` to show the
problems or the counts, then with `expected_digest` from that check to apply exactly what was checked.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.documents.imports.cells import Problem
from bot.documents.imports.kinds import PLANS, Setting
from bot.documents.imports.runner import ImportResult, run_import
from bot.documents.imports.spec import KINDS
from bot.documents.imports.workbook import export, problems_file, template


def export_kind(session: Session, kind: str, lang: str, tz: ZoneInfo) -> bytes:
    from datetime import date

    plan = PLANS[kind]
    columns = plan.kind.up_to(plan.numbered(session)) if plan.numbered is not None else None
    return export(plan.kind, plan.export(session, lang, Setting(date.today(), tz)), lang, columns)


def template_for(kind: str, lang: str) -> bytes:
    return template(KINDS[kind], lang)


__all__ = ["KINDS", "ImportResult", "Problem", "export_kind", "problems_file", "run_import", "template_for"]
