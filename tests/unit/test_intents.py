"""Table-driven tests for the chat-command parser (bot.intents)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.intents import (
    Approve,
    Away,
    Back,
    Cancel,
    Claim,
    Greeting,
    Help,
    Intent,
    Invalid,
    LowStock,
    MyApprovals,
    MyOrders,
    MyTasks,
    NewOrderForm,
    Nudge,
    Overdue,
    Partial,
    Payment,
    QuickOrder,
    Reject,
    Report,
    Ship,
    ShowCustomer,
    ShowOrder,
    ShowStock,
    Statement,
    Unknown,
    normalize,
    parse,
)
from tests.i18n import en, zh

TODAY = date(2026, 11, 22)
NO = "SO-20261122-0007"


def p(text: str) -> Intent:
    return parse(text, today=TODAY)


CASES: list[tuple[str, Intent]] = [
    # show order: bare number, keywords, full-width, mentions, case, spacing
    (NO, ShowOrder(NO)),
    ("so-20261122-0007", ShowOrder(NO)),
    ("ＳＯ－２０２６１１２２－０００７", ShowOrder(NO)),
    ("SO20261122 0007", ShowOrder(NO)),
    ("订单SO-20261122-0007", ShowOrder(NO)),
    ("订单 so-20261122-0007", ShowOrder(NO)),
    ("订单　ＳＯ－２０２６１１２２－０００７", ShowOrder(NO)),
    ("查 SO-20261122-0007", ShowOrder(NO)),
    ("查询SO-20261122-0007", ShowOrder(NO)),
    ("status SO-20261122-0007", ShowOrder(NO)),
    ("STATUS   so-20261122-0007", ShowOrder(NO)),
    ("where is SO-20261122-0007?", ShowOrder(NO)),
    ("Where Is SO-20261122-0007？", ShowOrder(NO)),
    ("SO-20261122-0007 状态", ShowOrder(NO)),
    ("@订单助手 订单 SO-20261122-0007", ShowOrder(NO)),
    ("@订单助手\u2005SO-20261122-0007", ShowOrder(NO)),
    ("<@U123ABC> status SO-20261122-0007", ShowOrder(NO)),
    ("<@U123ABC|ordertalk>   where is  SO-20261122-0007", ShowOrder(NO)),
    ("\u200bSO-20261122-0007\u200b", ShowOrder(NO)),
    # lists
    ("my orders", MyOrders()),
    ("My Orders", MyOrders()),
    ("我的订单", MyOrders()),
    ("@订单助手 我的订单", MyOrders()),
    ("pending", MyApprovals()),
    ("my approvals", MyApprovals()),
    ("待审批", MyApprovals()),
    ("我的审批", MyApprovals()),
    ("tasks", MyTasks()),
    ("My  Tasks", MyTasks()),
    ("我的任务", MyTasks()),
    ("发货任务", MyTasks()),
    # lookups
    ("customer 华兴", ShowCustomer("华兴")),
    ("客户 华兴", ShowCustomer("华兴")),
    ("客户华兴", ShowCustomer("华兴")),
    ("cust C001", ShowCustomer("C001")),
    ("CUSTOMER Acme Corp", ShowCustomer("Acme Corp")),
    ("stock SKU-001", ShowStock("SKU-001")),
    ("库存 SKU-001", ShowStock("SKU-001")),
    ("库存 螺丝", ShowStock("螺丝")),
    ("ＳＴＯＣＫ　ＳＫＵ－００１", ShowStock("SKU-001")),
    # new order form
    ("new order", NewOrderForm()),
    ("New Order", NewOrderForm()),
    ("下单", NewOrderForm()),
    ("新订单", NewOrderForm()),
    ("@订单助手 下单", NewOrderForm()),
    # quick order
    ("下单 华兴 SKU-001 x10 SKU-007 x5", QuickOrder("华兴", (("SKU-001", 10), ("SKU-007", 5)))),
    ("order ACME SKU-001 x 10, SKU-007*5", QuickOrder("ACME", (("SKU-001", 10), ("SKU-007", 5)))),
    ("下单 华兴 SKU-001 10件", QuickOrder("华兴", (("SKU-001", 10),))),
    ("下单 华兴 SKU-001 10 件，SKU-007 3个", QuickOrder("华兴", (("SKU-001", 10), ("SKU-007", 3)))),
    ("下单 华兴 螺丝 x10", QuickOrder("华兴", (("螺丝", 10),))),
    ("下单 华兴 螺丝10个 垫片×20", QuickOrder("华兴", (("螺丝", 10), ("垫片", 20)))),
    ("下单华兴 SKU-001×10", QuickOrder("华兴", (("SKU-001", 10),))),
    ("order acme sku-001 X10 sku-002 20 pcs", QuickOrder("acme", (("sku-001", 10), ("sku-002", 20)))),
    ("ORDER ACME SKU-001 x1,000", QuickOrder("ACME", (("SKU-001", 1000),))),
    ("order ACME iPhone 15 x2", QuickOrder("ACME", (("iPhone 15", 2),))),
    ("下单 华兴 SKU-X10 x3", QuickOrder("华兴", (("SKU-X10", 3),))),
    ("ｏｒｄｅｒ　ＡＣＭＥ　ＳＫＵ－００１　ｘ１０", QuickOrder("ACME", (("SKU-001", 10),))),
    # approvals
    ("催办 SO-20261122-0007", Nudge(NO)),
    ("remind SO-20261122-0007", Nudge(NO)),
    ("Nudge so-20261122-0007", Nudge(NO)),
    ("同意 SO-20261122-0007", Approve(NO)),
    ("同意SO-20261122-0007", Approve(NO)),
    ("approve SO-20261122-0007", Approve(NO)),
    ("批准 SO-20261122-0007", Approve(NO)),
    ("驳回 SO-20261122-0007 价格太低", Reject(NO, "价格太低")),
    ("驳回 SO-20261122-0007，价格太低", Reject(NO, "价格太低")),
    ("reject SO-20261122-0007 price too low", Reject(NO, "price too low")),
    ("REJECT so-20261122-0007 reason: price too low", Reject(NO, "price too low")),
    ("拒绝 SO-20261122-0007", Reject(NO, None)),
    ("取消 SO-20261122-0007 客户撤单", Cancel(NO, "客户撤单")),
    ("取消订单 SO-20261122-0007", Cancel(NO, None)),
    ("cancel SO-20261122-0007", Cancel(NO, None)),
    # away / back (today is 2026-11-22)
    ("外出 至 12-01 转交 李四", Away(date(2026, 12, 1), "李四")),
    ("外出至2026-12-01转交李四", Away(date(2026, 12, 1), "李四")),
    ("休假 到 12月1日 转交 李四", Away(date(2026, 12, 1), "李四")),
    ("休假到2026年12月1日", Away(date(2026, 12, 1), None)),
    ("away until 2026-12-01 delegate Li", Away(date(2026, 12, 1), "Li")),
    ("away until 2026/12/01", Away(date(2026, 12, 1), None)),
    ("ooo until 12/01 delegate Li Si", Away(date(2026, 12, 1), "Li Si")),
    ("OOO until 12/01 delegate to @Li", Away(date(2026, 12, 1), "Li")),
    ("away until dec 1", Away(date(2026, 12, 1), None)),
    ("away until 1 Dec", Away(date(2026, 12, 1), None)),
    ("away until December 1st", Away(date(2026, 12, 1), None)),
    ("外出 至 11-22", Away(date(2026, 11, 22), None)),
    ("回来了", Back()),
    ("我回来了", Back()),
    ("back", Back()),
    ("I'm back", Back()),
    ("i’m back!", Back()),
    # shipping
    ("发货 T-12 顺丰 SF1234567890", Ship("T-12", "顺丰", "SF1234567890", None)),
    ("发货 T-12 顺丰SF1234567890", Ship("T-12", "顺丰", "SF1234567890", None)),
    ("确认发货 t12 京东物流 JD0001234", Ship("T-12", "京东物流", "JD0001234", None)),
    ("ship T-12 SF Express SF1234567890", Ship("T-12", "顺丰", "SF1234567890", None)),
    ("ship T-178 SF SF55555 SKU-002 x2", Ship("T-178", "顺丰", "SF55555", {"SKU-002": 2})),
    ("ship T-178 sf SF55555 SKU-002=2 sku-abc x 3", Ship("T-178", "顺丰", "SF55555", {"SKU-002": 2, "SKU-ABC": 3})),
    ("发货 T-9 中通快递 ZT998877 SKU-001×1 SKU-003*2", Ship("T-9", "中通", "ZT998877", {"SKU-001": 1, "SKU-003": 2})),
    ("ship T-9 J&T JT0001", Ship("T-9", "极兔", "JT0001", None)),
    ("ship T-9 China Post 1234", Ship("T-9", "邮政", "1234", None)),
    ('ship T-9 "Acme Freight" AF-0042 SKU-001 x1', Ship("T-9", "Acme Freight", "AF-0042", {"SKU-001": 1})),
    ("发货 T-9 「安能物流」 AN12345", Ship("T-9", "安能物流", "AN12345", None)),
    (
        "发货 T-12 中通 7312345 SKU-001=5 SKU-002 = 3",
        Ship("T-12", "中通", "7312345", {"SKU-001": 5, "SKU-002": 3}),
    ),
    ("领取 T-12", Claim("T-12")),
    ("认领T-12", Claim("T-12")),
    ("claim T-12", Claim("T-12")),
    # payments
    ("收款 SO-20261122-0007 12000", Payment(NO, Decimal("12000"), None, None)),
    (
        "收款 SO-20261122-0007 ¥12,000.50 2026-11-20 转账",
        Payment(NO, Decimal("12000.50"), date(2026, 11, 20), "转账"),
    ),
    ("收款 SO-20261122-0007 ￥12,000.5", Payment(NO, Decimal("12000.5"), None, None)),
    ("回款 SO-20261122-0007 CNY 800 11-20", Payment(NO, Decimal("800"), date(2026, 11, 20), None)),
    (
        "paid SO-20261122-0007 12000 on 2026-11-20 by transfer",
        Payment(NO, Decimal("12000"), date(2026, 11, 20), "transfer"),
    ),
    ("收款 SO-20261122-0007 １２０００元 现金", Payment(NO, Decimal("12000"), None, "现金")),
    # statements
    ("对账单 华兴", Statement("华兴", None, None)),
    ("对账单 华兴 2026-10-01 2026-10-31", Statement("华兴", date(2026, 10, 1), date(2026, 10, 31))),
    ("statement ACME 2026-10-01 2026-10-31", Statement("ACME", date(2026, 10, 1), date(2026, 10, 31))),
    ("statement ACME Corp 10-01 to 10-31", Statement("ACME Corp", date(2026, 10, 1), date(2026, 10, 31))),
    ("对账单 华兴 10月1日~10月31日", Statement("华兴", date(2026, 10, 1), date(2026, 10, 31))),
    ("对账单 华兴 2026-10-01", Statement("华兴", date(2026, 10, 1), None)),
    # reports
    ("报表", Report("summary")),
    ("report", Report("summary")),
    ("销售趋势", Report("trend")),
    ("Sales  Trend", Report("trend")),
    ("销量排行", Report("products")),
    ("product ranking", Report("products")),
    ("业绩排行", Report("leaderboard")),
    ("leaderboard", Report("leaderboard")),
    ("客户分布", Report("regions")),
    ("region", Report("regions")),
    # help
    ("help", Help()),
    ("HELP", Help()),
    ("帮助", Help()),
    ("?", Help()),
    ("？", Help()),
    ("菜单", Help()),
    ("menu", Help()),
    ("@订单助手", Help()),
    ("<@U123>", Help()),
    ("", Help()),
    # greetings
    ("你好", Greeting()),
    ("您好！", Greeting()),
    ("hi", Greeting()),
    ("Hello there", Greeting()),
    ("@订单助手 你好", Greeting()),
    # on-demand lists
    ("任务", MyTasks()),
    ("低库存", LowStock()),
    ("库存预警", LowStock()),
    ("low stock", LowStock()),
    ("Low-Stock", LowStock()),
    ("逾期", Overdue()),
    ("逾期应收", Overdue()),
    ("overdue", Overdue()),
    ("overdue receivables", Overdue()),
    # the phrasings of issue 13: other ways to place an order
    ("新建订单 华兴 SKU-001 x10", QuickOrder("华兴", (("SKU-001", 10),))),
    ("给华兴下单 SKU-001 10个", QuickOrder("华兴", (("SKU-001", 10),))),
    ("帮华兴下个单 SKU-001 x3", QuickOrder("华兴", (("SKU-001", 3),))),
    ("order for ACME: SKU-003 x5", QuickOrder("ACME", (("SKU-003", 5),))),
    ("order for ACME Trading: SKU-003 x5", QuickOrder("ACME Trading", (("SKU-003", 5),))),
    ("new order for ACME SKU-003 x5", QuickOrder("ACME", (("SKU-003", 5),))),
    ("下单 华兴：SKU-001 x10", QuickOrder("华兴", (("SKU-001", 10),))),
    # quantities without x, before or after the product, with units
    ("下单 华兴 SKU-001 10", QuickOrder("华兴", (("SKU-001", 10),))),
    ("下单 华兴 SKU-001 10箱", QuickOrder("华兴", (("SKU-001", 10),), ("箱",))),
    ("下单 华兴 SKU-001 10 箱 SKU-002 5", QuickOrder("华兴", (("SKU-001", 10), ("SKU-002", 5)), ("箱", ""))),
    ("下单 华兴 10 SKU-001", QuickOrder("华兴", (("SKU-001", 10),))),
    ("order ACME 5 pcs SKU-003", QuickOrder("ACME", (("SKU-003", 5),))),
    ("order ACME 5 pcs SKU-003 2 SKU-001", QuickOrder("ACME", (("SKU-003", 5), ("SKU-001", 2)))),
    ("下单 华兴 SKU-001 10 SKU-002 x5", QuickOrder("华兴", (("SKU-001", 10), ("SKU-002", 5)))),
    ("下单 华兴 工业轴承 6204 10", QuickOrder("华兴", (("工业轴承 6204", 10),))),
    ("order ACME SKU-001 3 boxes", QuickOrder("ACME", (("SKU-001", 3),), ("boxes",))),
    # requested date with the lines (today is 2026-11-22)
    ("下单 华兴 SKU-001 x10 交期 12-10", QuickOrder("华兴", (("SKU-001", 10),), (), date(2026, 12, 10))),
    ("下单 华兴 SKU-001 x10 交期12月10日", QuickOrder("华兴", (("SKU-001", 10),), (), date(2026, 12, 10))),
    ("order ACME SKU-001 x10 deliver by Dec 10", QuickOrder("ACME", (("SKU-001", 10),), (), date(2026, 12, 10))),
    # statements by period
    ("对账单 华兴 2026-11", Statement("华兴", date(2026, 11, 1), date(2026, 11, 22))),
    ("对账单 华兴 2026-10", Statement("华兴", date(2026, 10, 1), date(2026, 10, 31))),
    ("对账单 华兴 上月", Statement("华兴", date(2026, 10, 1), date(2026, 10, 31))),
    ("对账单 华兴上月", Statement("华兴", date(2026, 10, 1), date(2026, 10, 31))),
    ("statement ACME last month", Statement("ACME", date(2026, 10, 1), date(2026, 10, 31))),
    ("statement for ACME Corp last month", Statement("ACME Corp", date(2026, 10, 1), date(2026, 10, 31))),
    ("statement ACME 2026Q3", Statement("ACME", date(2026, 7, 1), date(2026, 9, 30))),
    # unknown
    ("hello world", Unknown("hello world")),
    ("今天天气不错", Unknown("今天天气不错")),
    ("SO-20261122-00071", Unknown("SO-20261122-00071")),
    ("PO-20261122-0007", Unknown("PO-20261122-0007")),
    ("statements", Unknown("statements")),
    ("ordering", Unknown("ordering")),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_parse(text: str, expected: Intent) -> None:
    assert p(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("外出 至 12-01", date(2026, 12, 1)),
        ("外出 至 01-05", date(2027, 1, 5)),
        ("外出 至 1月5日", date(2027, 1, 5)),
        ("away until jan 5", date(2027, 1, 5)),
        ("away until 11/22", date(2026, 11, 22)),
    ],
)
def test_year_rollover_for_dates_without_year(text: str, expected: date) -> None:
    intent = p(text)
    assert isinstance(intent, Away)
    assert intent.until == expected


def test_a_past_date_is_refused_not_moved_to_next_year() -> None:
    """Yesterday's date is yesterday, not next year's: refused, with the full date to write if next year was meant."""
    intent = p("away until 11/21")
    assert isinstance(intent, Invalid)
    # The date read is shown in the reader's format; the date to write instead is one the parser reads.
    assert "Nov 21, 2026" in en(intent) and "2027-11-21" in en(intent)
    assert "2026年11月21日" in zh(intent) and "2027-11-21" in zh(intent)


def test_year_rollover_at_year_end() -> None:
    assert parse("外出 至 01-02", today=date(2026, 12, 31)) == Away(date(2027, 1, 2), None)
    assert parse("外出 至 12-31", today=date(2026, 12, 31)) == Away(date(2026, 12, 31), None)


def test_dates_in_the_past_look_back() -> None:
    """Payment and statement dates are history: without a year they mean the latest such date."""
    pay = parse(f"收款 {NO} 100 12-20", today=date(2027, 1, 3))
    assert isinstance(pay, Payment) and pay.on == date(2026, 12, 20)
    stmt = parse("对账单 华兴 12-01 01-31", today=date(2027, 2, 5))
    assert stmt == Statement("华兴", date(2026, 12, 1), date(2027, 1, 31))


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        (f"收款 {NO} 12000", Decimal("12000")),
        (f"收款 {NO} ¥12,000.50", Decimal("12000.50")),
        (f"收款 {NO} ￥1,234,567.89", Decimal("1234567.89")),
        (f"paid {NO} CNY 0.01", Decimal("0.01")),
        (f"paid {NO} 0.1", Decimal("0.1")),
    ],
)
def test_amounts_are_decimal(text: str, amount: Decimal) -> None:
    intent = p(text)
    assert isinstance(intent, Payment)
    assert type(intent.amount) is Decimal
    assert intent.amount == amount


@pytest.mark.parametrize(
    "text",
    [
        # quantities
        "下单 华兴 SKU-001 x0",
        "下单 华兴 SKU-001 x-3",
        "下单 华兴 SKU-001 x2.5",
        "下单 华兴 SKU-001 x 十",
        "下单 华兴 SKU-001 x9999999999",
        "发货 T-12 顺丰 SF1 SKU-001=0",
        "发货 T-12 顺丰 SF1 SKU-001=abc",
        "发货 T-12 顺丰 SF1 SKU-001=1 SKU-001=2",
        "ship T-178 SF SF55555 SKU-002 x2 now",  # a word left over: nothing ships
        "ship T-178 SF SF55555 SKU-002",  # a line without a quantity
        "ship T-178 SF SF55555 SKU-002 x2.5",
        "ship T-178 FedEx 123456",  # not a known carrier and not quoted
        "ship T-178 SF55555 SF",  # tracking number before the carrier
        "ship T-178 SF SF 55555",  # the tracking number has no digit
        'ship T-178 "Acme Freight AF-0042',  # unclosed quote
        "ship T-178 SF SF5555#5",
        # amounts
        f"收款 {NO} 0",
        f"收款 {NO} 0.00",
        f"收款 {NO} -5",
        f"收款 {NO} 12000.505",
        f"收款 {NO} 1,2,3",
        f"收款 {NO} abc",
        f"收款 {NO} 1e5",
        # dates
        "外出 至 2026-11-21",
        "away until 2025-12-01",
        "外出 至 02-30",
        "外出 至 02-29",
        "外出 至 13-01",
        "away until someday",
        "外出 至 12-01 转交",
        f"收款 {NO} 100 2026-12-01",
        f"paid {NO} 100 on someday",
        f"收款 {NO} 100 2026-13-45",
        "对账单 华兴 2026-10-31 2026-10-01",
        # a command with its argument in the wrong shape
        "对账单 华兴 2026-13",
        "下单 华兴 SKU-001 x10 交期 11-01",
        "发货 T-12",
        "ship T-12 SF1234567890",
        "ship T-12 顺丰 ???",
        f"同意 {NO} SO-20261122-0008",
    ],
)
def test_invalid(text: str) -> None:
    intent = p(text)
    assert isinstance(intent, Invalid), intent
    assert zh(intent) and en(intent)
    assert zh(intent) != en(intent)


@pytest.mark.parametrize(
    ("text", "understood", "missing", "example"),
    [
        ("下单 华兴", "华兴", "商品和数量", "下单 华兴 SKU-001 x10"),
        ("下单 华兴 SKU-001", "SKU-001", "数量", "下单 华兴 SKU-001 x10"),
        ("下单 华兴 x10", "x10", "商品", "下单 华兴 SKU-001 x10"),
        ("order ACME SKU-001 x10, SKU-007", "SKU-001 x10", "SKU-007", "下单 ACME SKU-001 x10 SKU-007 x10"),
        ("给华兴下单", "华兴", "商品和数量", "下单 华兴 SKU-001 x10"),
        (f"收款 {NO}", NO, "金额", f"收款 {NO} 12000"),
        ("收款", "收款", "订单号和金额", f"收款 {NO} 12000"),
        ("statement 2026-10-01", "2026-10-01", "客户", "对账单 华兴 上月"),
        ("对账单", "对账单", "客户", "对账单 华兴 上月"),
        ("同意", "同意", "订单号", f"同意 {NO}"),
        ("approve foo", "同意", "「foo」不是订单号", f"同意 {NO}"),
        ("驳回", "驳回", "订单号和理由", f"驳回 {NO} 价格低于底价"),
        ("催办 SO-123", "催办", "「SO-123」不是订单号", f"催办 {NO}"),
        ("取消", "取消", "订单号", f"取消 {NO} 客户撤单"),
        ("领取", "领取", "任务编号", "领取 T-12"),
        ("claim foo", "领取", "任务编号", "领取 T-12"),
        ("外出", "外出", "返回日期", "外出 至 12-01 转交 赵经理"),
        ("客户", "客户", "客户名称或编码", "客户 华兴"),
        ("stock", "库存", "商品编码或名称", "库存 SKU-001"),
        ("查询 abc", "订单", "订单号", f"查询 {NO}"),
        ("开票 SO-20261122-0007", NO, "要做什么", f"催办 {NO}"),
        ("invoice for T-12", "T-12", "要做什么", "领取 T-12"),
        ("华兴 SKU-001 x10", "SKU-001 x10", "下单", "下单 华兴 SKU-001 x10"),
    ],
)
def test_half_understood_says_what_was_read_what_is_missing_and_an_example(text: str, understood: str, missing: str,
                                                                            example: str) -> None:
    intent = p(text)
    assert isinstance(intent, Partial), intent
    assert understood in zh(intent.understood) and missing in zh(intent.missing) and example in zh(intent.example)
    assert en(intent.understood) and en(intent.missing) and en(intent.example) != zh(intent.example)
    # the example given would itself be understood, in both languages
    for shown in (zh(intent.example).split("、")[-1], en(intent.example).split(", ")[-1]):
        assert not isinstance(p(shown), Partial | Invalid | Unknown), shown


def test_a_past_requested_date_is_refused_with_the_full_date_to_write() -> None:
    intent = parse("下单 华兴 SKU-001 x10 交期 11-01", today=date(2026, 12, 2))
    assert isinstance(intent, Invalid)
    assert "2026年11月1日" in zh(intent) and "2027-11-01" in zh(intent) and "2027-11-01" in en(intent)


def test_a_product_unit_is_a_quantity_unit() -> None:
    """Units the products are sold by (passed in by the core) mark a quantity: `SKU-005 3桶`, `2 卷 SKU-026`."""
    assert parse("下单 华兴 SKU-026 2卷", today=TODAY, units=("卷",)) == QuickOrder("华兴", (("SKU-026", 2),), ("卷",))
    assert parse("下单 华兴 3 吨 SKU-026", today=TODAY, units=("吨",)) == QuickOrder("华兴", (("SKU-026", 3),), ("吨",))


def test_invalid_reasons_are_bilingual_and_specific() -> None:
    intent = p("下单 华兴 SKU-001 x0")
    assert isinstance(intent, Invalid)
    assert zh(intent) == "数量「0」无效：必须大于 0" and en(intent) == "invalid quantity '0': must be above 0"
    amount = p(f"收款 {NO} 12000.505")
    assert isinstance(amount, Invalid) and "12000.505" in zh(amount) and "12000.505" in en(amount)


def test_order_prefix_is_configurable() -> None:
    assert parse("status po-20261122-0001", today=TODAY, order_prefix="PO") == ShowOrder("PO-20261122-0001")
    assert parse("同意 XS-20261122-0001", today=TODAY, order_prefix="xs") == Approve("XS-20261122-0001")
    assert isinstance(parse(NO, today=TODAY, order_prefix="PO"), Unknown)
    usage = parse("同意", today=TODAY, order_prefix="PO")
    assert isinstance(usage, Partial) and "PO-" in en(usage.example)


def test_normalize() -> None:
    assert normalize("@订单助手　　查  ＳＯ－２０２６，x") == "查 SO-2026,x"
    assert normalize("<@U1> <@U2|bot> help") == "help"
    assert normalize("?") == "?"


def test_intents_are_frozen() -> None:
    intent = p(NO)
    with pytest.raises(AttributeError):
        intent.number = "x"  # type: ignore[misc]


_WORDS = [
    "SO-20261122-0007", "so20261122０００７", "T-12", "下单", "order", "x10", "×", "*", "件", "pcs", "=", "5",
    "同意", "驳回", "取消", "催办", "外出", "至", "转交", "away", "until", "delegate", "12-01", "02-30",
    "2026-13-45", "dec", "1", "收款", "paid", "¥", "12,000.50", "1,2", "on", "by", "对账单", "statement",
    "发货", "ship", "顺丰", "客户", "库存", "stock", "@bot", "<@U1>", "?", ",", "、", "报表", "月", "日",
]


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_parse_never_raises_on_arbitrary_text(text: str) -> None:
    assert isinstance(parse(text, today=TODAY), Intent)


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=6)), max_size=10).map(" ".join),
    st.dates(),
    st.sampled_from(["SO", "so", "PO", "", "A.B"]),
)
def test_parse_never_raises_on_command_like_text(text: str, today: date, prefix: str) -> None:
    assert isinstance(parse(text, today=today, order_prefix=prefix), Intent)
