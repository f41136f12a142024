"""Report cards: a report's view (title, period in words, two-line summary, table, chart) and the card that carries it.

The chart (PNG) and the numbers (XLSX) are stored files (bot.files) under a key that is a digest of what they show:
the same report, period, scope, language and figures give the same key, so a chart is drawn once and every copy of
the card — every recipient, every platform — points at the one stored file. The card itself holds the summary and
the table as text, so it reads completely where no file can be shown.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from bot import files
from bot.cards.context import Viewer
from bot.cards.model import Attachment, Button, Card, CardKind, LineTable, Tone
from bot.documents.charts import STYLE_VERSION, Chart, render_png
from bot.documents.report_sheet import XLSX, Cell, Kind, Table, render_xlsx
from bot.i18n import Texts
from domain.reports.scope import ReportKind, Scope, ScopeKind

PNG = "image/png"
CARD_ROWS = 10


@dataclass(frozen=True)
class ReportView:
    kind: ReportKind
    title: str  # "销售额趋势" / "Sales trend"
    subtitle: str  # the period in words and dates, and what it is compared with
    summary: tuple[str, str]  # two lines: the headline figure, then the comparison or the detail
    table: Table  # every row (the spreadsheet); the card shows the first CARD_ROWS
    chart: Chart
    slug: str  # file name base: "sales-trend-2026-11-01-2026-11-23"
    notes: tuple[str, ...] = field(default=())
    card_rows: tuple[tuple[Cell, ...], ...] | None = None  # what the card lists, when not the table's first rows


def slug(name: str, start: date, end: date | None = None) -> str:
    return f"{name}-{start.isoformat()}" + (f"-{end.isoformat()}" if end and end != start else "")


def cell_text(t: Texts, value: Cell, kind: Kind) -> str:
    """How one cell reads on a card (the spreadsheet keeps the number)."""
    if value is None:
        return "—"
    if kind == "money" and isinstance(value, Decimal):
        return t.money(value)
    if kind in ("count", "quantity") and isinstance(value, int | Decimal):
        return t.number(value)
    if kind == "hours" and isinstance(value, Decimal):
        return t.t("{hours} h", hours=t.number(value))
    if kind == "days" and isinstance(value, Decimal):
        return t.t("{days} d", days=t.number(value))
    if kind == "percent" and isinstance(value, Decimal):
        return f"{t.number(value)}%"
    if kind == "date" and isinstance(value, date):
        return t.date(value)
    return str(value)


def signed_percent(t: Texts, p: Decimal) -> str:
    """'+12.5%' / '−3.0%'."""
    return ("+" if p > 0 else "−" if p < 0 else "±") + f"{t.number(abs(p))}%"


def _digest(*parts: Any) -> str:
    def default(o: Any) -> Any:
        if isinstance(o, Decimal | date | datetime):
            return str(o)
        raise TypeError(type(o))

    body = json.dumps([STYLE_VERSION, *parts], default=default, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:40]


def chart_key(view: ReportView) -> str:
    """Names the chart by what it shows (report, period, scope through its figures, language): never per copy."""
    return "chart-" + _digest(view.kind.value, asdict(view.chart))


def sheet_key(view: ReportView) -> str:
    table = view.table  # rows are tuples of plain values: digested as they are (asdict would copy thousands of rows)
    return "xlsx-" + _digest(view.kind.value, view.title, view.subtitle, [(c.label, c.kind) for c in table.columns],
                             table.rows, list(view.notes))


def scope_line(t: Texts, scope: Scope, warehouse: str | None = None) -> str:
    if scope.kind == ScopeKind.ALL:
        return t.t("Figures: everyone")
    if scope.kind == ScopeKind.TEAM:
        return t.tn("Figures: your team ({n} person)", "Figures: your team ({n} people)", len(scope.user_ids))
    if scope.kind == ScopeKind.OWN:
        return t.t("Figures: yours")
    return t.t("Figures: {warehouse}, without amounts", warehouse=warehouse or "—")


def report_card(session: Session, view: ReportView, v: Viewer, now: datetime, url: Callable[[str, str], str],
                context: str) -> Card:
    """The card for a view, its chart and spreadsheet stored once under their content keys. `url(key, ext)` is the
    signed link to a stored file."""
    t = v.texts
    png_key, xlsx_key = chart_key(view), sheet_key(view)

    def draw() -> files.Rendered:
        data, width, height = render_png(view.chart)
        return files.Rendered(data, PNG, view.slug + ".png", width, height)

    def sheet() -> files.Rendered:
        return files.Rendered(render_xlsx(view.title, view.subtitle, view.table, view.title, view.notes), XLSX,
                              view.slug + ".xlsx")

    png = files.ensure(session, png_key, draw, now)
    xlsx = files.ensure(session, xlsx_key, sheet, now)
    png_url, xlsx_url = url(png.key, "png"), url(xlsx.key, "xlsx")
    listed = view.table.rows if view.card_rows is None else view.card_rows
    shown = listed[:CARD_ROWS]
    more = len(listed) - len(shown)
    table = LineTable(
        columns=[c.label for c in view.table.columns],
        rows=[[cell_text(t, value, c.kind) for value, c in zip(row, view.table.columns, strict=True)] for row in shown],
        note=t.tn("…and {n} more row in the spreadsheet", "…and {n} more rows in the spreadsheet", more) if more else None,
    ) if shown else None
    chart_title = t.t("Chart: {title}", title=view.title)
    return Card(
        kind=CardKind.REPORT, key=f"report:{png_key}", locale=v.locale, title=view.title, subtitle=view.subtitle,
        tone=Tone.INFO, text=list(view.summary), table=table, context=context,
        attachments=[
            Attachment(key=png.key, kind="image", filename=png.filename, mime=png.mime, title=chart_title, size=png.size,
                       url=png_url, width=png.width, height=png.height, summary=list(view.summary)),
            Attachment(key=xlsx.key, kind="file", filename=xlsx.filename, mime=xlsx.mime,
                       title=t.t("Numbers: {title} (XLSX)", title=view.title), size=xlsx.size, url=xlsx_url),
        ],
        buttons=[Button(action="chart", label=t.t("Chart"), token="", url=png_url),
                 Button(action="sheet", label=t.t("Spreadsheet (XLSX)"), token="", url=xlsx_url)],
        data={"report": view.kind.value, "chart": png.key, "sheet": xlsx.key},
    )
