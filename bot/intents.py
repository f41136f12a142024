"""Chat-command parser: one chat message in, one typed intent out.

`parse(text, today=..., order_prefix="SO", units=...)` is pure (no database, no I/O, nothing platform-specific)
and never raises: text it cannot read is `Unknown`; a recognised command with bad arguments is `Invalid`, whose
reason is a Message the bot translates for the reader; a command that is recognised but incomplete (or an order
number, task or order line without a command) is `Partial`: what was understood, what is missing, and an example
that would work. The intents themselves are in bot.intent_types.

The grammar is the `_RULES` table: (pattern, builder) pairs tried in order against the normalised text
(NFKC, leading @mention removed, whitespace collapsed); the first pattern that matches the whole text wins.
A builder raises `_Bad` for bad arguments (→ `Invalid`) and `_Half` for missing ones (→ `Partial`). Numbers,
dates and periods are read by domain.parsing; order lines by bot.order_lines.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from bot import field_pairs, order_lines
from bot.intent_types import (  # noqa: F401  (re-exported: callers use bot.intents.X)
    Approve,
    Away,
    Back,
    Cancel,
    Claim,
    Count,
    CustomerForm,
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
    ProductForm,
    QuickOrder,
    ReceiptForm,
    Receive,
    Reject,
    Report,
    SaveCustomer,
    SaveProduct,
    SearchOrders,
    Ship,
    ShowCustomer,
    ShowOrder,
    ShowStock,
    Statement,
    Subscribe,
    Subscriptions,
    Transfer,
    Unknown,
)
from domain import carriers, parsing
from domain.messages import N_, Message

_T = TypeVar("_T")


class _Bad(Exception):
    def __init__(self, msgid: str, /, **params: Any) -> None:
        self.message = Message(msgid, params)
        super().__init__(str(self.message))


class _Half(Exception):
    """Raised by a builder when the command is recognised but incomplete; becomes `Partial`."""

    def __init__(self, understood: Message, missing: Message, example: Message) -> None:
        super().__init__(str(missing))
        self.partial = Partial(understood, missing, example)


@dataclass(frozen=True, slots=True)
class _Ctx:
    today: date
    prefix: str
    units: tuple[str, ...] = ()
    limits: parsing.Limits = parsing.DEFAULT_LIMITS


# ---------------------------------------------------------------- normalisation

_MENTION = re.compile(r"(?:<@[^>\s]*>|@\S+)\s*")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def normalize(text: str) -> str:
    """NFKC, drop zero-width characters and leading @mentions, collapse whitespace, trim end punctuation."""
    s = " ".join(unicodedata.normalize("NFKC", text).translate(_INVISIBLE).split())
    while m := _MENTION.match(s):
        s = s[m.end():]
    return re.sub(r"[\s。.!！?？]+$", "", s) or s  # a lone "?" stays: it asks for help


# ---------------------------------------------------------------- dates, numbers, quantities
# Read by domain.parsing, the one bounded reader every caller shares; its refusals become Invalid here.

_DATE = parsing.DATE_PATTERN  # no groups


def _read(reader: Callable[..., _T], text: str, **kw: Any) -> _T:
    try:
        return reader(text, **kw)
    except parsing.InputRefused as e:
        raise _Bad(e.message.msgid, **e.message.params) from None


def _date(text: str, c: _Ctx, *, earliest: date | None = None, latest: date | None = None,
          what: str = N_("the date")) -> date:
    """A date as typed: without a year, this year's; outside the bounds, refused with the year to write."""
    return _read(parsing.calendar_date, text, today=c.today, earliest=earliest, latest=latest, what=what)


def _qty(text: str, limits: parsing.Limits) -> int:
    return _read(parsing.quantity, text, maximum=limits.max_quantity)


def _amount(text: str, c: _Ctx) -> Decimal:
    return _read(parsing.amount, text, maximum=c.limits.max_amount)


# ---------------------------------------------------------------- builders

def _num(m: re.Match[str], c: _Ctx) -> str:
    return f"{c.prefix}-{m['d8']}-{m['d4']}"


def _task(m: re.Match[str]) -> str:
    return "T-" + re.sub(r"\D", "", m["task"])


def _reason(m: re.Match[str]) -> str | None:
    return (m["reason"] or "").strip() or None


_DUE = re.compile(rf"(?<!\S)(?:要求交期|交期|交货日期|交货|到货日期|到货|deliver(?:y)?(?:\s+by)?|due(?:\s+date)?|needed\s+by|by)"
                  rf"\s*:?\s*(?P<d>{_DATE})(?=$|[\s,;、])", re.I)


def _quick_order(m: re.Match[str], c: _Ctx) -> Intent:
    customer = (m.groupdict().get("cc") or m["customer"]).strip()
    text = m["lines"] or ""
    requested = None
    if due := _DUE.search(text):  # "交期 12-10" anywhere among the lines
        requested = _date(due["d"], c, earliest=c.today, what=N_("the requested date"))
        text = (text[:due.start()] + " " + text[due.end():]).strip()
    try:
        read = order_lines.read_lines(text, c.units, maximum=c.limits.max_quantity)
    except parsing.InputRefused as e:
        raise _Bad(e.message.msgid, **e.message.params) from None
    except order_lines.MissingPart as gap:
        raise _Half(*_order_gap(customer, gap)) from None
    units = tuple(x.unit for x in read) if any(x.unit for x in read) else ()
    return QuickOrder(customer, tuple((x.query, x.quantity) for x in read), units, requested)


def _order_gap(customer: str, gap: order_lines.MissingPart) -> tuple[Message, Message, Message]:
    done = " ".join(order_lines.line_text(x) for x in gap.read)
    head = " ".join(x for x in (customer, done) if x)
    params = {"customer": customer, "lines": done, "near": gap.near}
    if gap.what == "quantity":
        seen = (N_("customer '{customer}', lines {lines}, product '{near}'") if done
                else N_("customer '{customer}', product '{near}'"))
        missing, tail = Message(N_("the quantity of '{near}'"), {"near": gap.near}), f"{gap.near} x10"
    elif gap.what == "product":
        seen = (N_("customer '{customer}', lines {lines}, quantity '{near}'") if done
                else N_("customer '{customer}', quantity '{near}'"))
        missing, tail = Message(N_("the product for the quantity '{near}'"), {"near": gap.near}), f"SKU-001 {gap.near}"
    else:
        seen, missing, tail = N_("customer '{customer}'"), Message(N_("products and quantities")), "SKU-001 x10"
    return Message(seen, params), missing, Message(N_("order {head} {tail}"), {"head": head, "tail": tail})


def quick_order_text(q: QuickOrder) -> str:
    """The order as a command again (used when a choice replaces a name by its code)."""
    units = q.units or ("",) * len(q.lines)
    parts = ["下单", q.customer_query] + [order_lines.line_text(order_lines.TypedLine(p, n, u))
                                          for (p, n), u in zip(q.lines, units, strict=True)]
    if q.requested:
        parts.append(f"交期 {q.requested.isoformat()}")
    return " ".join(parts)


_SHIP_USAGE = N_("usage: ship T-12 SF SF1234567890 [SKU-001 x5 SKU-002=3]")
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』"}
_TRACKING = re.compile(r"[A-Za-z0-9-]{1,64}")
_SHIP_PAIR = re.compile(r"(?P<sku>[^\s=×*]+?)(?:=|×|\*|(?<=\d)x)(?P<q>\S+)", re.I)  # SKU-002=2  SKU-002×2  SKU-002x2


def _ship_carrier(rest: str) -> tuple[str, str]:
    """(carrier, what follows it): a known carrier by any of its names, or one written in quotes."""
    usage = Message(_SHIP_USAGE)
    if rest[:1] in _QUOTES:
        close = rest.find(_QUOTES[rest[0]], 1)
        name = rest[1:close].strip() if close > 0 else ""
        if not name or len(name) > carriers.MAX_NAME:
            raise _Bad("write the carrier inside a pair of quotes (at most {max} characters); {usage}",
                       max=carriers.MAX_NAME, usage=usage)
        return carriers.canonical(name) or name, rest[close + 1:].strip()
    folded = rest.casefold()
    for alias in carriers.ALIASES_LONGEST_FIRST:
        after = folded[len(alias):len(alias) + 1]
        # "顺丰SF123" is clear; "SFSF123" or "JD0001234" is not: a latin name needs a space after it
        if folded.startswith(alias) and (after in ("", " ") or not alias.isascii()):
            return carriers.canonical(alias) or alias, rest[len(alias):].strip()
    first = rest.split(" ", 1)[0]
    if any(ch.isdigit() for ch in first):
        raise _Bad("name the carrier before the tracking number (known: {known}); {usage}", known=carriers.names(),
                   usage=usage)
    raise _Bad("unknown carrier '{word}'. Known: {known}; put any other in quotes, e.g. ship T-12 \"Acme Freight\" AB123",
               word=first, known=carriers.names())


def _ship(m: re.Match[str], c: _Ctx) -> Intent:
    """发货 T-12 <carrier> <tracking number> [per-line quantities]: every word accounted for, or nothing ships."""
    rest = (m["rest"] or "").strip()
    if not rest:
        raise _Bad(_SHIP_USAGE)
    carrier, rest = _ship_carrier(rest)
    tracking, _, tail = rest.partition(" ")
    if not tracking:
        raise _Bad("the tracking number is missing; {usage}", usage=Message(_SHIP_USAGE))
    if not _TRACKING.fullmatch(tracking) or not any(ch.isdigit() for ch in tracking):
        raise _Bad("tracking number '{tracking}' is not valid: letters, digits and dashes (at most 64), with a digit",
                   tracking=tracking)
    return Ship(_task(m), carrier, tracking, _ship_lines(tail, c.limits) or None)


def _ship_lines(text: str, limits: parsing.Limits) -> dict[str, int]:
    """Per-line quantities, SKU upper-cased: "SKU-001 x5 SKU-002=3"; every word must be one, or _Bad."""
    text = re.sub(r"\s*([=×*])\s*", r"\1", text)  # "SKU-002 = 2", "SKU-002 × 2" → one word per line
    text = re.sub(r"(?<=\S) x\s*(?=[-+]?\d)", "×", text, flags=re.I)  # "SKU-002 x2", "SKU-002 x 2"
    quantities: dict[str, int] = {}
    for word in text.split():
        pair = _SHIP_PAIR.fullmatch(word)
        if pair is None:
            raise _Bad("'{word}' is not understood; nothing was shipped. Write quantities as SKU-001 x5 or SKU-001=5; "
                       "{usage}", word=word, usage=Message(_SHIP_USAGE))
        sku = pair["sku"].upper()
        if sku in quantities:
            raise _Bad("{sku} has two quantities; nothing was shipped", sku=sku)
        quantities[sku] = _qty(pair["q"], limits)
    return quantities


def ship_quantities(text: str, *, field: str | None = None,
                    limits: parsing.Limits = parsing.DEFAULT_LIMITS) -> dict[str, int]:
    """The same per-line quantities typed into a form box (one or several per line); refused as a whole."""
    try:
        return _ship_lines(re.sub(r"[,;，；、]", " ", unicodedata.normalize("NFKC", text)), limits)
    except _Bad as bad:
        raise parsing.InputRefused(bad.message.msgid, field=field, **bad.message.params) from None


def _away(m: re.Match[str], c: _Ctx) -> Intent:
    until = _date(m["date"], c, earliest=c.today, what=N_("the return date"))
    if m["who"] is not None and not m["who"].strip(" @"):
        raise _Bad("name the delegate, e.g. away until 12-01 delegate Tom")
    return Away(until, m["who"].strip().lstrip("@") if m["who"] else None)


_PAY_REST = re.compile(
    rf"(?:¥|cny|rmb)?\s*(?P<amt>\S+?)\s*(?:元|cny|rmb)?(?:\s+(?:on\s+|于\s*)?(?P<on>{_DATE}))?"
    r"(?:\s+(?:(?:by|via|通过)\s+)?(?P<method>.+))?", re.I)


def _payment(m: re.Match[str], c: _Ctx) -> Intent:
    if not m["rest"]:
        raise _Half(Message(N_("a payment for {number}"), {"number": _num(m, c)}), Message(N_("the amount")),
                    Message(N_("paid {example} 12000"), {"example": _num(m, c)}))
    rest = _PAY_REST.fullmatch(m["rest"])
    if rest is None:
        raise _Bad("usage: paid SO-20261122-0007 12000 [on 2026-11-20] [by transfer]")
    amount, method = _amount(rest["amt"], c), rest["method"]
    if method and re.match(r"on\s|于|\d", method, re.I):
        _date(method.split()[0], c)  # a date in the wrong place: say why it cannot be read
        raise _Bad("cannot read '{method}'", method=method)
    on = _date(rest["on"], c, latest=c.today, what=N_("the payment date")) if rest["on"] else None
    return Payment(_num(m, c), amount, on, method)


_STATEMENT_REST = re.compile(
    rf"(?P<cust>.+?)(?:\s+(?P<start>{_DATE})(?:(?:\s*(?:~|-|to|至|到)\s*|\s+)(?P<end>{_DATE}))?)?", re.I)
_PERIODISH = re.compile(r"[\dqQ][\d\s\-/.年月日号季度qQ~至到]*")  # a trailing token that can only be a period
_STATEMENT_EX = Message(N_("statement ACME last month"))


def _statement(m: re.Match[str], c: _Ctx) -> Intent:
    rest = m["rest"].strip()
    explicit = _STATEMENT_REST.fullmatch(rest)
    if explicit is not None and explicit["start"]:  # "华兴 2026-10-01 2026-10-31": from, and optionally to
        cust = explicit["cust"]
        start: date | None = _date(explicit["start"], c)
        end: date | None = _date(explicit["end"], c, earliest=start, what=N_("the end date")) if explicit["end"] else None
    else:
        cust, span = _period_split(rest, c)
        start, end = (span.start, min(span.end, c.today)) if span else (None, None)
        if start is not None and start > c.today:
            raise _Bad("the period starting {start} has not begun", start=start)
    if not cust or _PERIODISH.fullmatch(cust) or re.fullmatch(_DATE, cust, re.I):
        seen = (Message(N_("a statement for {start} – {end}"), {"start": start, "end": end or c.today}) if start
                else Message(N_("a statement for {period}"), {"period": cust}))
        raise _Half(seen, Message(N_("the customer")), _STATEMENT_EX)
    return Statement(cust, start, end)


def _period_split(rest: str, c: _Ctx) -> tuple[str, parsing.Period | None]:
    """Customer, then a period (`上月`, `2026-11`, `last month`, `11-01 至 11-15`); the longest period wins."""
    words = rest.split()
    for i in range(1, len(words)):
        try:
            return " ".join(words[:i]), parsing.period(" ".join(words[i:]), today=c.today)
        except parsing.InputRefused as e:
            if i == len(words) - 1 and _PERIODISH.fullmatch(words[i]):
                raise _Bad(e.message.msgid, **e.message.params) from None  # "对账单 华兴 2026-13": the period is wrong
    for word in sorted((w for w in parsing.PERIOD_WORDS if not w.isascii()), key=len, reverse=True):
        if rest.endswith(word) and len(rest) > len(word):  # "华兴上月"
            return rest[: -len(word)].strip(), parsing.period(word, today=c.today)
    return rest, None


def _stock_qty(text: str, zero: bool = False) -> int:
    return _read(parsing.quantity, text, allow_zero=zero)


def _rest(m: re.Match[str]) -> str | None:
    return (m["rest"] or "").strip() or None


_REPORTS = {
    "报表": "summary", "报告": "summary", "report": "summary", "reports": "summary", "summary": "summary",
    "销售趋势": "trend", "销售额趋势": "trend", "趋势": "trend", "sales trend": "trend", "trend": "trend",
    "销量排行": "products", "商品排行": "products", "产品排行": "products", "product ranking": "products",
    "top products": "products", "products": "products",
    "客户分布": "regions", "客户区域分布": "regions", "区域分布": "regions", "地区分布": "regions", "region": "regions",
    "regions": "regions", "region distribution": "regions", "customer regions": "regions",
    "业绩排行": "leaderboard", "销售排行": "leaderboard", "业绩": "leaderboard", "leaderboard": "leaderboard",
    "sales leaderboard": "leaderboard", "sales ranking": "leaderboard",
    "客户排行": "customers", "大客户": "customers", "top customers": "customers", "customer ranking": "customers",
    "账龄": "ageing", "应收账龄": "ageing", "账龄分析": "ageing", "ageing": "ageing", "aging": "ageing",
    "receivables ageing": "ageing", "receivables aging": "ageing",
    "审批时效": "approvals", "审批周期": "approvals", "审批耗时": "approvals", "approval time": "approvals",
    "approval cycle": "approvals", "approval cycle time": "approvals",
    "发货时效": "fulfilment", "发货周期": "fulfilment", "交付周期": "fulfilment", "lead time": "fulfilment",
    "fulfilment lead time": "fulfilment", "fulfillment lead time": "fulfilment", "shipping time": "fulfilment",
}
_REPORT_RX = "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in sorted(_REPORTS, key=len, reverse=True))
_REPORT_OPTIONS = {
    "按数量": "quantity", "按销量": "quantity", "by quantity": "quantity", "by qty": "quantity",
    "按金额": "amount", "by amount": "amount",
    "按回款": "collected", "按收款": "collected", "by collected": "collected", "by collection": "collected",
    "by collections": "collected", "by amount collected": "collected",
    "按单数": "orders", "按订单数": "orders", "by orders": "orders", "by order count": "orders",
    "按销售": "sales", "按业务员": "sales", "按销售员": "sales", "by sales person": "sales", "by salesperson": "sales",
    "by sales": "sales", "按客户": "customer", "by customer": "customer",
    "按日": "day", "按天": "day", "by day": "day", "daily": "day", "按周": "week", "by week": "week", "weekly": "week",
    "按月": "month", "by month": "month", "monthly": "month",
}
_OPTIONS_OF = {"summary": ("day", "week", "month"), "trend": ("day", "week", "month"), "products": ("amount", "quantity"),
               "leaderboard": ("amount", "collected", "orders"), "ageing": ("customer", "sales")}
_OPTION_RX = re.compile("|".join(re.escape(k).replace(r"\ ", r"\s+") + ("" if k[0] > "~" else r"(?![a-z])")
                                 for k in sorted(_REPORT_OPTIONS, key=len, reverse=True)), re.I)


def _report(m: re.Match[str], c: _Ctx) -> Intent:
    kind = _REPORTS[" ".join(m["kw"].lower().split())]
    rest = (m["rest"] or "").strip()
    option = None
    if found := _OPTION_RX.search(rest):
        option = _REPORT_OPTIONS[" ".join(found[0].lower().split())]
        if option not in _OPTIONS_OF.get(kind, ()):
            raise _Bad("'{option}' does not apply to this report", option=found[0])
        rest = (rest[:found.start()] + " " + rest[found.end():]).strip()
    if not rest:
        return Report(kind, None, option)
    if kind == "ageing":
        raise _Bad("ageing is always as of today; leave out '{text}'", text=rest)
    return Report(kind, _read(parsing.period, rest, today=c.today), option)


_DIGESTS = {"日报": "daily", "每日简报": "daily", "每日": "daily", "每天": "daily", "daily": "daily",
            "daily digest": "daily", "daily report": "daily", "周报": "weekly", "每周简报": "weekly", "每周": "weekly",
            "weekly": "weekly", "weekly digest": "weekly", "weekly report": "weekly"}
_SUBSCRIBES = {"订阅": True, "subscribe": True, "退订": False, "取消订阅": False, "unsubscribe": False}


def _subscribe(m: re.Match[str], c: _Ctx) -> Intent:
    what = " ".join(m["what"].lower().split())
    if what not in _DIGESTS:
        raise _Bad("there is a daily and a weekly digest; '{what}' is neither. Try: subscribe daily", what=m["what"])
    return Subscribe(_DIGESTS[what], _SUBSCRIBES[m["verb"].lower()])


# Order search: the words for statuses (Chinese ones may touch a name), amounts compared, and a period.
_STATUS_WORDS = {
    "草稿": "draft", "待审批": "pending_approval", "审批中": "pending_approval", "已审批": "approved",
    "已通过": "approved", "部分发货": "partially_shipped", "已发货": "shipped", "已完成": "completed",
    "已驳回": "rejected", "被驳回": "rejected", "已拒绝": "rejected", "已取消": "cancelled",
    "drafts": "draft", "draft": "draft", "pending approval": "pending_approval", "pending": "pending_approval",
    "approved": "approved", "partially shipped": "partially_shipped", "shipped": "shipped", "completed": "completed",
    "rejected": "rejected", "cancelled": "cancelled", "canceled": "cancelled",
}
_STATUS_RX = re.compile("|".join((re.escape(k) if k[0] > "~" else r"\b" + re.escape(k).replace(r"\ ", r"\s+") + r"\b")
                                 for k in sorted(_STATUS_WORDS, key=len, reverse=True)), re.I)
_CMP_WORDS = {
    ">": ">", "大于": ">", "超过": ">", "高于": ">", "多于": ">", "over": ">", "above": ">", "more than": ">",
    ">=": ">=", "≥": ">=", "不少于": ">=", "不低于": ">=", "at least": ">=", "以上": ">=", "起": ">=",
    "<": "<", "小于": "<", "低于": "<", "少于": "<", "under": "<", "below": "<", "less than": "<",
    "<=": "<=", "≤": "<=", "不超过": "<=", "不高于": "<=", "at most": "<=", "以下": "<=",
}
_AMT = r"[¥$]?\s*\d[\d,.]*\s*(?:万|元|块|cny|rmb)?"
_PREFIX_CMP = "|".join(re.escape(k).replace(r"\ ", r"\s+") + ("" if k[0] > "~" or not k[0].isalpha() else r"\b")
                       for k in sorted(_CMP_WORDS, key=len, reverse=True) if k not in ("以上", "以下", "起"))
# amt2 starts only where a run of digits starts: tried at every digit of "9999…", the run is read again from each one
_AMOUNT_RX = re.compile(rf"(?:(?<![a-z])(?P<op>{_PREFIX_CMP})\s*(?P<amt>{_AMT})"
                        rf"|(?<![\d,.¥$])(?P<amt2>{_AMT})\s*(?P<op2>以上|以下|起))", re.I)
# A customer, a status, two amounts and a period: more is no search anyone types, and every extra word multiplies the
# periods tried below (2,000 words took 50 s).
_SEARCH_WORDS_MAX = 12
_SEARCH_AMOUNTS_MAX = 2
_ZH_PERIOD_WORDS = sorted((w for w in parsing.PERIOD_WORDS if w[0] > "~"), key=len, reverse=True)


def _search(m: re.Match[str], c: _Ctx) -> Intent:
    rest = " ".join((m["q"] or "").split())  # one space between words: the amount pattern's \s* never meets a long run
    amounts: list[tuple[str, Decimal]] = []
    for found in _AMOUNT_RX.finditer(rest):
        if len(amounts) == _SEARCH_AMOUNTS_MAX:
            raise _Bad("a search compares at most two amounts, e.g. over 10000 under 50000")
        op = _CMP_WORDS[" ".join((found["op"] or found["op2"]).lower().split())]
        amounts.append((op, _amount(re.sub(r"\s+", "", found["amt"] or found["amt2"]), c)))
    rest = _AMOUNT_RX.sub(" ", rest)
    statuses: list[str] = []
    shipped = False
    for found in _STATUS_RX.finditer(rest):
        status = _STATUS_WORDS[" ".join(found[0].lower().split())]
        if status == "shipped":
            shipped = True
        elif status not in statuses:
            statuses.append(status)
    words = _STATUS_RX.sub(" ", rest).split()
    if len(words) > _SEARCH_WORDS_MAX:
        raise _Bad("a search takes at most {n} words besides statuses and amounts: the customer's name and a period",
                   n=_SEARCH_WORDS_MAX)
    tokens: list[str] = []
    for token in words:  # a Chinese period word may touch a name: 华兴本月
        word = next((w for w in _ZH_PERIOD_WORDS if token != w and (token.endswith(w) or token.startswith(w))), None)
        if word is None:
            tokens.append(token)
        elif token.endswith(word):
            tokens += [token[: -len(word)], word]
        else:
            tokens += [word, token[len(word):]]
    period = None
    spans = sorted(((i, j) for i in range(len(tokens)) for j in range(i + 1, len(tokens) + 1)), key=lambda s: s[0] - s[1])
    for i, j in spans:
        try:
            period = parsing.period(" ".join(tokens[i:j]), today=c.today)
        except parsing.InputRefused:
            continue
        tokens = tokens[:i] + tokens[j:]
        break
    for token in tokens:
        if re.fullmatch(r"\d{1,4}\s*[-/.年月qQ].*", token):
            _read(parsing.period, token, today=c.today)  # a period that could not be read: say why
    text = " ".join(tokens)
    return SearchOrders(text, tuple(statuses), shipped, tuple(amounts), period)


def _master(which: str, new: bool) -> Callable[[re.Match[str], _Ctx], Intent]:
    """新建客户 / 修改客户 C001 [field=value …] and the same for products: without fields, the form."""
    form, save = (CustomerForm, SaveCustomer) if which == "customer" else (ProductForm, SaveProduct)
    example = (N_("new customer name=ACME contact=Chen phone=13800000001 credit limit=50000 terms=30") if which == "customer"
               else N_("new product SKU=SKU-100 name=Hex bolt M8 unit=box list price=25 safety stock=50"))

    def build(m: re.Match[str], c: _Ctx) -> Intent:
        rest = (m["rest"] or "").strip()
        try:
            head, pairs = field_pairs.read_pairs(rest, which)
        except field_pairs.UnknownField as e:
            raise _Bad("'{word}' is not a field; {usage}", word=e.word, usage=Message(example)) from None
        except field_pairs.RepeatedField as e:
            raise _Bad("{field} is given twice", field=field_pairs.label_of(which, e.word)) from None
        if new:
            return save(None, tuple(pairs), head) if pairs else (form(None) if not head else save(None, (), head))
        if not head:
            raise _Half(Message(N_("an edit")), Message(N_("which one (its code)")),
                        Message(N_("edit customer C001 credit limit=80000") if which == "customer"
                                else N_("edit product SKU-001 list price=130")))
        return save(head, tuple(pairs)) if pairs else form(head)

    return build


# ---------------------------------------------------------------- the grammar
# %NUM% = an order number (groups d8, d4), %TASK% = a task reference, %REASON% = optional free text.
# Chinese keywords may touch their argument ("订单SO-…"); English ones need a word boundary.

_Builder = Callable[[re.Match[str], _Ctx], Intent]
_REASON = r"(?:\s*[,:;]?\s*(?:(?:理由|原因|reason)\s*:)?\s*(?P<reason>.+))?"
_GREETING = (r"(?:你好|您好|hi|hello|hey|hallo|嗨|哈喽|早上好|上午好|下午好|晚上好|早安|早|good\s+(?:morning|afternoon|evening)"
             r"|在吗|在么|在不在)(?:\s*(?:呀|啊|哇|there|all|team|everyone))?")
_RULES: list[tuple[str, _Builder]] = [
    (r"help|帮助|菜单|menu|\?+", lambda m, c: Help()),
    (_GREETING, lambda m, c: Greeting()),
    (r"my\s*orders?|我的订单", lambda m, c: MyOrders()),
    (r"pending|my\s*approvals?|待审批|我的审批", lambda m, c: MyApprovals()),
    (r"(?:my\s*)?tasks?|我的任务|发货任务|任务", lambda m, c: MyTasks()),
    (r"我?回来了|(?:i[’']?m\s*|i\s+am\s+)?back", lambda m, c: Back()),
    # 新建客户 [名称=… 信用额度=…] / 修改客户 C001 [账期=45] / 新建商品 … / 修改商品 SKU-001 [单价=130]
    (r"(?:(?:新建|新增|添加|创建)客户|(?:new|add|create)\s+customer\b)(?:\s*(?P<rest>.+))?", _master("customer", True)),
    (r"(?:(?:修改|编辑|更新)客户(?:资料|信息)?|(?:edit|update|change)\s+customer\b)(?:\s*(?P<rest>.+))?",
     _master("customer", False)),
    (r"(?:(?:新建|新增|添加|创建)(?:商品|产品)|(?:new|add|create)\s+product\b)(?:\s*(?P<rest>.+))?", _master("product", True)),
    (r"(?:(?:修改|编辑|更新)(?:商品|产品)(?:资料|信息)?|(?:edit|update|change)\s+product\b)(?:\s*(?P<rest>.+))?",
     _master("product", False)),
    (r"new\s*order|new|order|下单|新订单|新建订单|创建订单|开单", lambda m, c: NewOrderForm()),  # "new": /order new
    (r"低库存|库存预警|库存不足|缺货|low[\s-]*stock|low[\s-]*inventory|stock\s+alerts?", lambda m, c: LowStock()),
    (r"逾期|逾期应收款?|逾期账款|逾期款|超期应收|overdue(?:\s+(?:receivables|payments|invoices|list))?",
     lambda m, c: Overdue()),
    (rf"(?P<kw>{_REPORT_RX})(?![a-z])(?:\s*(?P<rest>.+))?", _report),
    (r"我的订阅|订阅列表|订阅|(?:my\s+)?subscriptions|(?:my\s+)?digests|subscribe", lambda m, c: Subscriptions()),
    (r"(?P<verb>取消订阅|退订|订阅|unsubscribe\b|subscribe\b)(?:\s*(?:to|from)\b)?\s*(?:the\s+)?(?P<what>.+)", _subscribe),
    (r"(?:(?:订单|查询|查看|查)\s*|(?:status(?:\s+of)?|where\s+is|show|order|check)\s+)?%NUM%"
     r"(?:\s*(?:状态|进度|status))?\s*\??", lambda m, c: ShowOrder(_num(m, c))),
    (r"(?:订单|查订单|找订单|orders\b|search\s+orders?\b|find\s+orders?\b)(?!.*%NUM%)\s*(?P<q>.*)", _search),
    (r"(?:催办|催|remind|nudge)\s*%NUM%", lambda m, c: Nudge(_num(m, c))),
    (r"(?:同意|批准|approve)\s*%NUM%", lambda m, c: Approve(_num(m, c))),
    (r"(?:驳回|拒绝|reject)\s*%NUM%" + _REASON, lambda m, c: Reject(_num(m, c), _reason(m))),
    (r"(?:取消(?:订单)?|cancel(?:\s+order)?)\s*%NUM%" + _REASON, lambda m, c: Cancel(_num(m, c), _reason(m))),
    (r"(?:收款|回款|到账|paid|payment|received)\s*%NUM%(?:\s*(?P<rest>.+))?", _payment),
    (r"(?:领取|认领|claim)\s*%TASK%", lambda m, c: Claim(_task(m))),
    (r"(?:确认发货|发货|ship)\s*%TASK%(?:\s*(?P<rest>.+))?", _ship),
    (r"(?:外出|休假|请假|away\b|ooo\b|out\s+of\s+office\b)\s*(?:至|到|直到|until\b|till\b)?\s*(?P<date>.+?)"
     r"(?:\s*(?:转交给?|交给|delegate(?:\s+to)?\b)\s*(?P<who>.*))?", _away),
    (r"(?:对账单|对账(?!单)|statement\b)(?:\s+(?:for|of)\b)?\s*(?P<rest>.+)", _statement),
    (r"(?:客户|customer\b|cust\b)\s*(?P<q>.+)", lambda m, c: ShowCustomer(m["q"])),
    (r"(?:库存|stock\b|inventory\b)\s*(?P<q>.+)", lambda m, c: ShowStock(m["q"])),
    # 入库 SKU-001 100 [上海仓] [备注] / 盘点 SKU-001 95 / 调拨 SKU-001 20 上海仓 广州仓 (入库 alone: the receipt form)
    (r"入库单?|receipt|receive|goods\s+in", lambda m, c: ReceiptForm()),
    (r"(?:入库|receive\b)\s*(?P<sku>\S+)\s+(?P<qty>\S+)(?:\s+(?P<rest>.+))?",
     lambda m, c: Receive(m["sku"], _stock_qty(m["qty"]), _rest(m))),
    (r"(?:盘点|count\b)\s*(?P<sku>\S+)\s+(?P<qty>\S+)(?:\s+(?P<rest>.+))?",
     lambda m, c: Count(m["sku"], _stock_qty(m["qty"], zero=True), _rest(m))),
    (r"(?:调拨|transfer\b)\s*(?P<sku>\S+)\s+(?P<qty>\S+)\s+(?:(?:从|from)\s*)?(?P<src>\S+?)\s*(?:\s(?:到|至|to)\s+|→|->|\s)"
     r"\s*(?P<dst>\S+)(?:\s+(?P<rest>.+))?",
     lambda m, c: Transfer(m["sku"], _stock_qty(m["qty"]), m["src"], m["dst"], _rest(m))),
    # 给华兴下单 SKU-001 10个 / 帮华兴下个单 …
    (r"(?:给|帮|为|替)\s*(?P<customer>[^\s,;、:]+?)\s*下个?单[\s,;、:]*(?P<lines>.*)", _quick_order),
    # 下单 华兴 SKU-001 x10 / 新建订单 华兴 … / order for ACME Trading: SKU-003 x5 (a name with spaces needs the colon)
    (r"(?:下单|新订单|新建订单|创建订单|开单|new\s+order\b|order\b)(?:\s+for\b)?\s*"
     r"(?:(?P<cc>[^:\s\d][^:\d]*?)\s*:\s*|(?P<customer>[^\s,;、:]+)[\s,;、:]*)(?P<lines>.*)", _quick_order),
]
# A recognised command word alone, or with arguments nothing above accepted: say what is missing, with an example.
# (keywords, what it does, what it needs: "order" | "task" | "", what is missing, an example); msgids, so the reader
# sees them in their language ({example} is an order number).
_USAGE: list[tuple[str, str, str, str, str]] = [
    (r"催办|催|remind|nudge", N_("a nudge"), "order", N_("the order number"), N_("nudge {example}")),
    (r"同意|批准|approve", N_("an approval"), "order", N_("the order number"), N_("approve {example}")),
    (r"驳回|拒绝|reject", N_("a rejection"), "order", N_("the order number and a reason"),
     N_("reject {example} price below the floor")),
    (r"取消|cancel", N_("a cancellation"), "order", N_("the order number"), N_("cancel {example} customer withdrew")),
    (r"收款|回款|paid|payment", N_("a payment"), "order", N_("the order number and the amount"), N_("paid {example} 12000")),
    (r"领取|认领|claim", N_("claiming a task"), "task", N_("the task number"), N_("claim T-12")),
    (r"确认发货|发货|ship", N_("a shipment"), "task", N_("the task number, carrier and tracking number"),
     N_("ship T-12 SF SF1234567890")),
    (r"外出|休假|away|ooo", N_("being away"), "", N_("the return date and a delegate"), N_("away until 12-01 delegate Tom")),
    (r"对账单|statement", N_("a statement"), "", N_("the customer"), N_("statement ACME last month")),
    (r"客户|customer|cust", N_("a customer lookup"), "", N_("the customer's name or code"), N_("customer ACME")),
    (r"库存|stock", N_("a stock lookup"), "", N_("the product code or name"), N_("stock SKU-001")),
    (r"入库|receive", N_("a goods receipt"), "", N_("the product and the quantity"), N_("receive SKU-001 100 WH-SH")),
    (r"盘点|count", N_("a stock count"), "", N_("the product and the counted quantity"), N_("count SKU-001 95")),
    (r"调拨|transfer", N_("a transfer"), "", N_("the product, the quantity and both warehouses"),
     N_("transfer SKU-001 20 WH-SH WH-GZ")),
    (r"取消订阅|退订|unsubscribe", N_("unsubscribing"), "", N_("which digest: daily or weekly"), N_("unsubscribe weekly")),
    (r"status|查询|查", N_("an order lookup"), "order", N_("the order number"), N_("status {example}")),
]


@dataclass(frozen=True)
class _Grammar:
    rules: list[tuple[re.Pattern[str], _Builder]]
    usage: list[tuple[re.Pattern[str], str, str, str, Message]]
    number: re.Pattern[str]
    task: re.Pattern[str]
    prefix: str


@lru_cache(maxsize=8)
def _compiled(prefix: str) -> _Grammar:
    dash = r"[-‐‑‒–—―]?"
    num = rf"(?<![A-Za-z0-9]){re.escape(prefix)}\s*{dash}\s*(?P<d8>\d{{8}})\s*{dash}\s*(?P<d4>\d{{4}})(?!\d)"
    task = r"(?<![A-Za-z0-9])(?P<task>T\s*-?\s*\d{1,9})(?!\d)"
    rules = [(re.compile(p.replace("%NUM%", num).replace("%TASK%", task), re.I), b) for p, b in _RULES]
    example = f"{prefix}-20261122-0007"
    usage = [(re.compile(rf"(?P<kw>{kw})(?:\s+(?P<rest>.*))?", re.I | re.S), does, needs, missing,
              Message(ex, {"example": example} if "{example}" in ex else {}))
             for kw, does, needs, missing, ex in _USAGE]
    return _Grammar(rules, usage, re.compile(num, re.I), re.compile(task, re.I), prefix)


def parse(text: str, *, today: date, order_prefix: str = "SO", units: tuple[str, ...] = (),
          limits: parsing.Limits = parsing.DEFAULT_LIMITS) -> Intent:
    """Turn one chat message into one intent. Never raises. `units`: the products' units (箱, 桶, …), which a
    quantity may carry (`SKU-001 10箱`) besides the common ones; `limits`: the deployment's maximum quantity and
    amount."""
    s = normalize(text)
    if not s:
        return Help()  # a bare @mention of the bot
    ctx = _Ctx(today, order_prefix.strip().upper(), units, limits)
    g = _compiled(ctx.prefix)
    for pattern, build in g.rules:
        if m := pattern.fullmatch(s):
            try:
                return build(m, ctx)
            except _Bad as bad:
                return Invalid(bad.message)
            except _Half as half:
                return half.partial
    for pattern, does, needs, missing, example in g.usage:
        if m := pattern.fullmatch(s):
            rest = (m["rest"] or "").strip()
            found = {"order": g.number, "task": g.task}.get(needs)
            if rest and (found is None or found.search(rest)):  # present but garbled
                return Invalid(Message(N_("Not understood. Usage: {usage}"), {"usage": example}))
            gap = Message(missing)
            if rest:
                gap = Message(N_("{missing} ('{rest}' is not one)"), {"missing": gap, "rest": rest})
            return Partial(Message(does), gap, example)
    return _something_seen(s, g) or Unknown(s)


def _something_seen(s: str, g: _Grammar) -> Partial | None:
    """No command, but an order number, a task or an order line in the text: say so, with what would work."""
    what = Message(N_("what to do with it"))
    if n := g.number.search(s):
        no = {"number": f"{g.prefix}-{n['d8']}-{n['d4']}"}
        return Partial(Message(N_("order {number}"), no), what,
                       Message(N_("{number} (status), nudge {number}, approve {number}"), no))
    if t := g.task.search(s):
        ref = {"ref": "T-" + re.sub(r"\D", "", t["task"])}
        return Partial(Message(N_("shipping task {ref}"), ref), what,
                       Message(N_("claim {ref}, ship {ref} SF SF1234567890"), ref))
    try:
        read = order_lines.read_lines(s)
    except (order_lines.MissingPart, parsing.InputRefused):
        return None
    if not any(re.search(r"[x×*]\d|\d\s*(?:件|个|箱|pcs)", x.query + " " + s, re.I) for x in read):
        return None  # bare numbers alone ("今天 3 点") are no order line
    first = read[0].query.split()
    if len(first) > 1:  # "华兴 SKU-001 x10": the first word is most likely the customer
        read[0] = order_lines.TypedLine(" ".join(first[1:]), read[0].quantity, read[0].unit)
        lines = " ".join(order_lines.line_text(x) for x in read)
        return Partial(Message(N_("customer '{customer}', order lines {lines}"), {"customer": first[0], "lines": lines}),
                       Message(N_("'order' at the start")),
                       Message(N_("order {head} {tail}"), {"head": first[0], "tail": lines}))
    lines = " ".join(order_lines.line_text(x) for x in read)
    return Partial(Message(N_("order lines {lines}"), {"lines": lines}), Message(N_("'order' and the customer")),
                   Message(N_("order {head} {tail}"), {"head": "ACME", "tail": lines}))
