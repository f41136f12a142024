"""The catalogue: every text in the code has a translation, nobody writes zh/en pairs again, and the formats
each locale reads (money, dates, times in the configured zone, counts)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import MissingTranslation, texts
from domain.errors import AlreadyDecided
from tools import i18n_check, i18n_convert


def test_every_msgid_has_a_translation_with_the_same_placeholders():
    assert i18n_check.untranslated() == []


def test_no_pair_style_text_is_written_again():
    assert [str(s) for s in i18n_check.pair_sites()] == []
    assert [str(s) for s in i18n_check.dynamic_sites()] == []


def test_the_guard_sees_each_old_way_of_writing_a_pair(tmp_path):
    f = tmp_path / "new_code.py"
    f.write_text('turn.t("订单", "Order")\n'
                 'x = "已发货" if zh else "Shipped"\n'
                 'raise NotFound(f"找不到 {n}", f"No {n}")\n'
                 'LABELS = {"a": ("草稿", "Draft")}\n'
                 'if locale.startswith("zh"): pass\n'
                 'v.t(f"Order {n}")\n', encoding="utf-8")
    _, pairs, dynamic = i18n_check.scan(f)
    assert sorted(s.line for s in pairs) == [1, 2, 3, 4, 5] and [s.line for s in dynamic] == [3, 6]


def test_the_converter_rewrites_pairs_into_msgids_and_fills_the_catalogue(tmp_path, monkeypatch):
    src = tmp_path / "handler.py"
    src.write_text(
        'def f(turn, order, v):\n'
        '    turn.error(f"第 {order.line} 行：找不到 {order.number}", f"Line {order.line}: no {order.number}", "qty")\n'
        '    raise NotFound(f"找不到订单 {number}", f"No order {number}", number=number)\n'
        "    note = f\"{v.t('合计', 'Total')} {v.money(order.total)}\"\n"
        '    return turn.text(f"已收款 {v.money(order.paid)}", f"Paid {v.money(order.paid)}")\n',
        encoding="utf-8")
    converted, problems = i18n_convert.convert_file(src, write=True)
    code = src.read_text(encoding="utf-8")
    assert problems == []
    assert 'turn.error("Line {line}: no {number}", field="qty", line=order.line, number=order.number)' in code
    assert 'raise NotFound("No order {number}", number=number)' in code
    assert "v.t('Total')" in code  # a call inside an f-string keeps its quote (Python 3.11)
    assert 'turn.text("Paid {paid}", paid=v.money(order.paid))' in code
    compile(code, str(src), "exec")
    assert {(c.msgid, c.msgstr) for c in converted} == {
        ("Line {line}: no {number}", "第 {line} 行：找不到 {number}"), ("No order {number}", "找不到订单 {number}"),
        ("Total", "合计"), ("Paid {paid}", "已收款 {paid}")}
    monkeypatch.setattr(i18n_convert, "PO", tmp_path / "messages.po")
    cat = i18n_convert.load_po()
    assert i18n_convert.add_to_po(cat, converted, "handler.py") == []
    i18n_convert.save_po(cat)
    again = i18n_convert.load_po()
    assert again.get("Paid {paid}").string == "已收款 {paid}"


def test_the_converter_leaves_what_it_cannot_read_and_says_where(tmp_path):
    src = tmp_path / "odd.py"
    src.write_text('turn.t(f"{a} 个", f"{b} items")\nx = "是" if zh else "yes"\n', encoding="utf-8")
    converted, problems = i18n_convert.convert_file(src, write=True)
    assert converted == [] and [p.line for p in problems] == [1, 2]


def test_money_numbers_dates_and_times_per_locale():
    zh, en = texts("zh-CN"), texts("en")
    assert zh.money(Decimal("12800")) == "¥12,800.00" and en.money(Decimal("12800")) == "¥12,800.00"
    assert zh.money(Decimal("-5")) == "-¥5.00"
    at = datetime(2026, 12, 1, 13, 31, tzinfo=UTC)  # 21:31 in Shanghai
    assert zh.datetime(at) == "2026年12月1日 21:31" and en.datetime(at) == "Dec 1, 2026, 9:31\u202fPM"
    assert zh.date(date(2026, 12, 15)) == "2026年12月15日" and en.date(date(2026, 12, 15)) == "Dec 15, 2026"
    assert texts("en", ZoneInfo("Europe/London")).time(at) == "1:31\u202fPM"  # the configured zone, not Shanghai's
    assert en.tn("{n} open task", "{n} open tasks", 1) == "1 open task"
    assert en.tn("{n} open task", "{n} open tasks", 3) == "3 open tasks"
    assert zh.join(["王经理", "李四", "赵六"]) == "王经理、李四和赵六"


def test_a_missing_translation_fails_in_strict_mode(monkeypatch):
    monkeypatch.setenv("ORDERTALK_I18N_STRICT", "1")
    with pytest.raises(MissingTranslation):
        texts("zh-CN").t("A text nobody translated")
    monkeypatch.setenv("ORDERTALK_I18N_STRICT", "0")
    assert texts("zh-CN").t("A text nobody translated") == "A text nobody translated"  # production: English


def test_a_domain_refusal_shows_the_time_in_the_zone_and_format_of_its_reader():
    e = AlreadyDecided("Order {number} was already approved by {by} at {at}", number="SO-1", by="Tom Baker",
                       at=datetime(2026, 12, 1, 13, 31, tzinfo=UTC))
    assert texts("en").render(e.message) == "Order SO-1 was already approved by Tom Baker at Dec 1, 2026, 9:31\u202fPM"
    assert "2026年12月1日 21:31" in texts("zh-CN").render(e.message)
    assert "+00:00" not in texts("en").render(e.message)
