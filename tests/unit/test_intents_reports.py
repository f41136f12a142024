"""The chat grammar for reports and order search: every report name with a period and an option, and the order search
phrasings, read into typed intents; what does not fit is refused with the reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.intents import (
    Intent,
    Invalid,
    QuickOrder,
    Report,
    SearchOrders,
    ShowCustomer,
    ShowOrder,
    Unknown,
    parse,
)
from domain.parsing import Period
from tests.i18n import en, zh

TODAY = date(2026, 11, 23)
THIS_MONTH = Period(date(2026, 11, 1), TODAY, "month")
LAST_MONTH = Period(date(2026, 10, 1), date(2026, 10, 31), "month")
LAST_WEEK = Period(date(2026, 11, 16), date(2026, 11, 22), "week")
THIS_WEEK = Period(TODAY, TODAY, "week")


@pytest.mark.parametrize("text, intent", [
    ("报表", Report("summary")),
    ("report last month", Report("summary", LAST_MONTH)),
    ("销售趋势 上月", Report("trend", LAST_MONTH)),
    ("销售趋势上月 按周", Report("trend", LAST_MONTH, "week")),
    ("sales trend this month by day", Report("trend", THIS_MONTH, "day")),
    ("销量排行 本月 按数量", Report("products", THIS_MONTH, "quantity")),
    ("product ranking by quantity last month", Report("products", LAST_MONTH, "quantity")),
    ("top products 2026-10", Report("products", LAST_MONTH)),
    ("客户区域分布 近30天", Report("regions", Period(date(2026, 10, 25), TODAY, "days"))),
    ("regions", Report("regions")),
    ("业绩排行 上周 按回款", Report("leaderboard", LAST_WEEK, "collected")),
    ("leaderboard last week by orders", Report("leaderboard", LAST_WEEK, "orders")),
    ("客户排行 2026Q3", Report("customers", Period(date(2026, 7, 1), date(2026, 9, 30), "quarter"))),
    ("top customers this month", Report("customers", THIS_MONTH)),
    ("账龄", Report("ageing")),
    ("账龄 按销售", Report("ageing", None, "sales")),
    ("receivables ageing by customer", Report("ageing", None, "customer")),
    ("审批时效 上月", Report("approvals", LAST_MONTH)),
    ("approval cycle time", Report("approvals")),
    ("发货时效 11-01 至 11-15", Report("fulfilment", Period(date(2026, 11, 1), date(2026, 11, 15), "days"))),
    ("fulfilment lead time last month", Report("fulfilment", LAST_MONTH)),
])
def test_reports_read(text: str, intent: Intent) -> None:
    assert parse(text, today=TODAY) == intent


@pytest.mark.parametrize("text, says_en, says_zh", [
    ("销量排行 按回款", "does not apply", "不适用"),
    ("ageing by quantity", "does not apply", "不适用"),
    ("账龄 上月", "as of today", "按今天"),
    ("销售趋势 明年", "cannot read the period", "无法识别时间段"),
    ("leaderboard someday", "cannot read the period", "无法识别时间段"),
])
def test_reports_that_do_not_fit_are_refused_with_the_reason(text: str, says_en: str, says_zh: str) -> None:
    got = parse(text, today=TODAY)
    assert isinstance(got, Invalid) and says_en in en(got) and says_zh in zh(got)


@pytest.mark.parametrize("text, intent", [
    ("订单 华兴 本月", SearchOrders("华兴", period=THIS_MONTH)),
    ("订单华兴本月", SearchOrders("华兴", period=THIS_MONTH)),
    ("订单 待审批", SearchOrders("", ("pending_approval",))),
    ("订单 李四 上周", SearchOrders("李四", period=LAST_WEEK)),
    ("订单 > 50000", SearchOrders("", amounts=((">", Decimal("50000.00")),))),
    ("订单 5万以上", SearchOrders("", amounts=((">=", Decimal("50000.00")),))),
    ("订单 大于 1万 小于 5万", SearchOrders("", amounts=((">", Decimal("10000.00")), ("<", Decimal("50000.00"))))),
    ("orders ACME last month", SearchOrders("ACME", period=LAST_MONTH)),
    ("orders shipped this week", SearchOrders("", shipped=True, period=THIS_WEEK)),
    ("orders over 50,000 this month", SearchOrders("", amounts=((">", Decimal("50000.00")),), period=THIS_MONTH)),
    ("orders ACME Trading rejected 11-01 to 11-15",
     SearchOrders("ACME Trading", ("rejected",), period=Period(date(2026, 11, 1), date(2026, 11, 15), "days"))),
    ("订单 已驳回 已取消", SearchOrders("", ("rejected", "cancelled"))),
    ("订单", SearchOrders("")),
    ("orders", SearchOrders("")),
])
def test_order_search_phrasings_read(text: str, intent: Intent) -> None:
    assert parse(text, today=TODAY) == intent


def test_search_words_do_not_take_other_commands() -> None:
    assert parse("订单 SO-20261122-0007", today=TODAY) == ShowOrder("SO-20261122-0007")
    assert parse("order ACME SKU-001 x10", today=TODAY) == QuickOrder("ACME", (("SKU-001", 10),))
    assert parse("客户 华兴", today=TODAY) == ShowCustomer("华兴")
    assert isinstance(parse("trending", today=TODAY), Unknown)
    refused = parse("订单 华兴 2026-13", today=TODAY)  # a period that cannot be read is not taken for a name
    assert isinstance(refused, Invalid) and "2026-13" in en(refused)
    assert isinstance(parse("订单 > 12,5", today=TODAY), Invalid)  # ambiguous money, refused by the one reader


_WORDS = ["订单", "orders", "报表", "销售趋势", "销量排行", "账龄", "按数量", "按回款", "by", "week", "本月", "上周", "last",
          "month", ">", "5万", "以上", "over", "shipped", "待审批", "11-01", "至", "2026Q3", "ACME", "华兴", "x10"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=5)), max_size=8).map(" ".join))
def test_report_and_search_phrases_never_raise(text: str) -> None:
    assert isinstance(parse(text, today=TODAY), Intent)


@pytest.mark.parametrize("text, says_en, says_zh", [
    ("订单 " + "> " * 1990, "at most 12 words", "最多 12 个词"),  # took 50 s: every span of 2,000 words tried as a period
    ("orders " + "a " * 13, "at most 12 words", "最多 12 个词"),
    ("订单 > 1 > 2 > 3", "at most two amounts", "最多比较两个金额"),
])
def test_searches_no_one_types_are_refused_with_the_reason(text: str, says_en: str, says_zh: str) -> None:
    got = parse(text, today=TODAY)
    assert isinstance(got, Invalid) and says_en in en(got) and says_zh in zh(got)


def test_a_long_run_of_digits_is_read_once_not_from_every_digit() -> None:
    from bot.intents import _AMOUNT_RX

    assert [m["amt2"] for m in _AMOUNT_RX.finditer("华兴 12,000以上")] == [" 12,000"]
    # the pattern may only start where a run starts: one attempt for the whole run, not 3,990 (1.8 s per message)
    run = "9" * 3990
    starts = [i for i in range(len(run)) if _AMOUNT_RX.match(run + "以上", i)]
    assert starts == [0]
    assert parse("订单 " + "12 " * 12, today=TODAY) == SearchOrders(" ".join(["12"] * 12))
