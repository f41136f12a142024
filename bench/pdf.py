"""PDF times: a delivery note and a 200-line statement, first (a fresh process) and warm (issue 13).

    .venv/bin/python -m bench.pdf [--runs 10] [--lines 200]

- first: a new Python process imports bot.documents and renders one document (what the first click on a link
  costs after a server start: imports, finding the CJK font, parsing it once);
- warm: the median of --runs renders in one process (every later click);
- beside them, in the same run: the same documents with the font parsed for every document (how it was before:
  fpdf2's add_font per document), and the floor — one A4 page with a line of text in a core font, no CJK font.

Targets (issue 13): delivery note under 0.5 s, 200-line statement under 1.5 s. Results: bench/results/pdf.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def documents(lines: int):  # type: ignore[no-untyped-def]
    from bot.documents.model import (
        Customer,
        DeliveryLine,
        DeliveryNote,
        OpenReceivable,
        Statement,
        StatementEntry,
    )

    c = Customer(name="杭州华兴电子有限公司", code="C001", address="浙江 杭州 文三路 1 号", contact="陈先生", phone="13800000001")
    note = DeliveryNote(company_name="华东五金贸易有限公司", note_number="DN-000123", order_number="SO-20261123-0001",
                        customer=c, warehouse="WH-SH 上海仓", ship_date=date(2026, 11, 23), carrier="顺丰",
                        tracking_number="SF1234567890",
                        lines=tuple(DeliveryLine(f"SKU-{i:03d}", name, spec, unit, Decimal(q)) for i, (name, spec, unit, q) in
                                    enumerate([("不锈钢螺丝 M6", "M6x20 304", "盒", "10"), ("工业轴承 6204", "6204-2RS", "个", "20"),
                                               ("液压油 46#", "18L", "桶", "2"), ("同步带 HTD 5M", "5M-1000-25", "条", "5"),
                                               ("伺服电机 750W", "带编码器", "台", "1")], start=1)),
                        remarks="易碎品，轻拿轻放。")
    entries = tuple(
        StatementEntry(date(2026, 6, 1) + timedelta(days=i // 2), "shipment" if i % 3 else "payment", f"SO-202606{i % 28 + 1:02d}-{i:04d}",
                       debit=Decimal("1277.50") if i % 3 else Decimal(0), credit=Decimal(0) if i % 3 else Decimal("800.00"),
                       memo="顺丰 SF1234567890" if i % 3 else "银行转账")
        for i in range(lines))
    opened = tuple(OpenReceivable(f"SO-202611{i + 1:02d}-0001", date(2026, 12, i + 1), Decimal("1277.50"),
                                  issue_date=date(2026, 11, i + 1)) for i in range(10))
    stmt = Statement(company_name="华东五金贸易有限公司", customer=c, period_start=date(2026, 6, 1), period_end=date(2026, 11, 30),
                     opening_balance=Decimal("5000.00"), entries=entries, open_items=opened, currency_symbol="¥")
    return note, stmt


def _median(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


_FIRST = """
import sys, time
t = time.perf_counter()
from bench.pdf import documents
from bot.documents import render_delivery_note_pdf, render_statement_pdf
note, stmt = documents({lines})
{call}
print(time.perf_counter() - t)
"""


def first(kind: str, lines: int, cache: str | None = None) -> float:
    call = 'render_delivery_note_pdf(note, "zh-CN")' if kind == "note" else 'render_statement_pdf(stmt, "zh-CN")'
    env = dict(os.environ, **({"XDG_CACHE_HOME": cache} if cache else {}))
    out = subprocess.run([sys.executable, "-c", _FIRST.format(lines=lines, call=call)], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parent.parent, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def floor() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "Delivery note DN-000123")
    return bytes(pdf.output())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--lines", type=int, default=200)
    args = ap.parse_args()

    from bot.documents import fonts, render_delivery_note_pdf, render_statement_pdf

    note, stmt = documents(args.lines)
    render = {"note": lambda: render_delivery_note_pdf(note, "zh-CN"), "statement": lambda: render_statement_pdf(stmt, "zh-CN")}
    render["note"]()  # parse the font once, as a running server has
    rows = {}
    for kind, fn in render.items():
        warm = _median(fn, args.runs)

        def per_document(fn: Callable[[], object] = fn) -> None:
            fonts._parsed.cache_clear()  # the old way: the full font parsed for each document …
            fonts._repertoire.cache_clear()
            real = fonts._repertoire
            fonts._repertoire = lambda: frozenset()  # type: ignore[assignment]  # … and subset from the full font
            try:
                fn()
            finally:
                fonts._repertoire = real  # type: ignore[assignment]

        before = _median(per_document, max(3, args.runs // 2))
        with tempfile.TemporaryDirectory() as empty:
            never = first(kind, args.lines, empty)  # the first document ever on a machine: builds the base font
        rows[kind] = {"first_ever_s": round(never, 3), "first_s": round(first(kind, args.lines), 3), "warm_s": round(warm, 3),
                      "font_per_document_s": round(before, 3), "bytes": len(fn())}  # type: ignore[arg-type]
    rows["floor"] = {"warm_s": round(_median(floor, args.runs), 4)}
    load = os.getloadavg()
    print(f"PDF times (median of {args.runs}; statement of {args.lines} lines; load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f}, {os.cpu_count()} CPUs)")
    print(f"{'document':<11}{'first ever':>12}{'first':>9}{'warm':>9}{'font per doc (before)':>23}{'size':>8}{'target':>8}")
    for kind, target in (("note", 0.5), ("statement", 1.5)):
        r = rows[kind]
        print(f"{kind:<11}{r['first_ever_s']:>11.3f}s{r['first_s']:>8.3f}s{r['warm_s']:>8.3f}s{r['font_per_document_s']:>22.3f}s"
              f"{r['bytes'] / 1024:>6.0f}KB{target:>7.1f}s")
    print(f"{'floor (core font, one line of text)':<41}{rows['floor']['warm_s']:>8.4f}s")
    print("first ever = a new process on a machine without the cached base font; first = a new process; "
          "warm = a running server; before = the font parsed for each document (fpdf2's add_font)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pdf.json").write_text(json.dumps({"loadavg": load, "cpus": os.cpu_count(), "python": platform.python_version(),
                                                  "runs": args.runs, "lines": args.lines, "results": rows}, indent=2))


if __name__ == "__main__":
    main()
