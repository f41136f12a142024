"""Chat-command parser: one chat message in, one typed intent out.

`parse(text, today=..., order_prefix="SO")` is pure (no database, no I/O, nothing platform-specific) and
never raises: text it cannot read is `Unknown`; a recognised command with bad arguments is `Invalid`, which
carries a Chinese and an English reason ready to show to the user.

The grammar is the `_RULES` table: (pattern, builder) pairs tried in order against the normalised text
(NFKC, leading @mention removed, whitespace collapsed); the first pattern that matches the whole text wins.
A builder raises `_Bad` for bad arguments, which `parse` turns into `Invalid`.
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

from domain import carriers, parsing
from domain.messages import N_, Message

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ShowOrder:
    number: str


@dataclass(frozen=True, slots=True)
class MyOrders:
    pass


@dataclass(frozen=True, slots=True)
class MyApprovals:
    pass


@dataclass(frozen=True, slots=True)
class MyTasks:
    pass


@dataclass(frozen=True, slots=True)
class ShowCustomer:
    query: str


@dataclass(frozen=True, slots=True)
class ShowStock:
    query: str


@dataclass(frozen=True, slots=True)
class NewOrderForm:
    pass


@dataclass(frozen=True, slots=True)
class QuickOrder:
    customer_query: str
    lines: tuple[tuple[str, int], ...]  # (product query, quantity), in the order typed


@dataclass(frozen=True, slots=True)
class Nudge:
    number: str


@dataclass(frozen=True, slots=True)
class Approve:
    number: str


@dataclass(frozen=True, slots=True)
class Reject:
    number: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Cancel:
    number: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Away:
    until: date
    delegate_query: str | None


@dataclass(frozen=True, slots=True)
class Back:
    pass


@dataclass(frozen=True, slots=True)
class Ship:
    task_ref: str  # "T-12"
    carrier: str
    tracking: str
    quantities: dict[str, int] | None  # per-line quantities for a partial shipment; None = everything


@dataclass(frozen=True, slots=True)
class Claim:
    task_ref: str


@dataclass(frozen=True, slots=True)
class Payment:
    number: str
    amount: Decimal
    on: date | None
    method: str | None


@dataclass(frozen=True, slots=True)
class Statement:
    customer_query: str
    start: date | None
    end: date | None


@dataclass(frozen=True, slots=True)
class Report:
    kind: str  # "summary" | "trend" | "products" | "sales" | "regions"


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Unknown:
    text: str  # the normalised text


@dataclass(frozen=True, slots=True)
class Invalid:
    reason: Message  # translated for the reader by the bot (bot.i18n)


Intent = (
    ShowOrder | MyOrders | MyApprovals | MyTasks | ShowCustomer | ShowStock | NewOrderForm | QuickOrder
    | Nudge | Approve | Reject | Cancel | Away | Back | Ship | Claim | Payment | Statement | Report | Help
    | Unknown | Invalid
)


class _Bad(Exception):
    def __init__(self, msgid: str, /, **params: Any) -> None:
        self.message = Message(msgid, params)
        super().__init__(str(self.message))


@dataclass(frozen=True, slots=True)
class _Ctx:
    today: date
    prefix: str


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


def _qty(text: str) -> int:
    return _read(parsing.quantity, text)


def _amount(text: str) -> Decimal:
    return _read(parsing.amount, text)


# ---------------------------------------------------------------- builders

def _num(m: re.Match[str], c: _Ctx) -> str:
    return f"{c.prefix}-{m['d8']}-{m['d4']}"


def _task(m: re.Match[str]) -> str:
    return "T-" + re.sub(r"\D", "", m["task"])


def _reason(m: re.Match[str]) -> str | None:
    return (m["reason"] or "").strip() or None


_UNIT = r"(?:件|个|pcs|pc)"
_QTY_TOKENS = [re.compile(p, re.I) for p in (
    r"[x×*](?P<q>[-+]?\d[\d.,]*)",  # x10   ×10   *10
    rf"(?P<q>[-+]?\d[\d.,]*){_UNIT}",  # 10件   10pcs
    r"(?P<p>.+?)(?:\*|×|(?<=[\d\u3400-\u9fff])x)(?P<q>[-+]?\d[\d.,]*)",  # SKU-007*5   螺丝x10
    rf"(?P<p>.*[^\x00-\x7f])(?P<q>\d[\d.,]*){_UNIT}",  # 螺丝10个
)]
_ORDER_USAGE = N_("name products and quantities, e.g. order ACME SKU-001 x10 SKU-007 x5")


def _quick_order(m: re.Match[str], c: _Ctx) -> Intent:
    text = re.sub(r"(?<!\S)([x×*])\s+", r"\1", m["lines"] or "", flags=re.I)  # "x 10" -> "x10"
    text = re.sub(rf"(\d)\s+({_UNIT})(?![a-z])", r"\1\2", text, flags=re.I)  # "10 件" -> "10件"
    lines: list[tuple[str, int]] = []
    for segment in re.split(r"[;、]|,(?!\d{3}(?!\d))", text):
        words: list[str] = []
        for token in segment.split():
            qm = next((qm for rx in _QTY_TOKENS if (qm := rx.fullmatch(token))), None)
            if qm is None:
                words.append(token)
                continue
            if qm.groupdict().get("p"):
                words.append(qm["p"])
            if not words:
                raise _Bad("quantity '{token}' has no product; {usage}", token=token, usage=Message(_ORDER_USAGE))
            lines.append((" ".join(words), _qty(qm["q"])))
            words = []
        if words:
            item = " ".join(words)
            raise _Bad("'{item}' has no quantity; {usage}", item=item, usage=Message(_ORDER_USAGE))
    if not lines:
        raise _Bad(_ORDER_USAGE)
    return QuickOrder(m["customer"], tuple(lines))


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
    return Ship(_task(m), carrier, tracking, _ship_lines(tail) or None)


def _ship_lines(text: str) -> dict[str, int]:
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
        quantities[sku] = _qty(pair["q"])
    return quantities


def ship_quantities(text: str, *, field: str | None = None) -> dict[str, int]:
    """The same per-line quantities typed into a form box (one or several per line); refused as a whole."""
    try:
        return _ship_lines(re.sub(r"[,;，；、]", " ", unicodedata.normalize("NFKC", text)))
    except _Bad as bad:
        raise parsing.InputRefused(bad.message.msgid, field=field, **bad.message.params) from None


def _away(m: re.Match[str], c: _Ctx) -> Intent:
    until = _date(m["date"], c, earliest=c.today, what=N_("the return date"))
    if m["who"] is not None and not m["who"].strip(" @"):
        raise _Bad("name the delegate, e.g. away until 12-01 delegate Li")
    return Away(until, m["who"].strip().lstrip("@") if m["who"] else None)


_PAY_REST = re.compile(
    rf"(?:¥|cny|rmb)?\s*(?P<amt>\S+?)\s*(?:元|cny|rmb)?(?:\s+(?:on\s+|于\s*)?(?P<on>{_DATE}))?"
    r"(?:\s+(?:(?:by|via|通过)\s+)?(?P<method>.+))?", re.I)


def _payment(m: re.Match[str], c: _Ctx) -> Intent:
    rest = _PAY_REST.fullmatch(m["rest"] or "")
    if rest is None:
        raise _Bad("usage: paid SO-20261122-0007 12000 [on 2026-11-20] [by transfer]")
    amount, method = _amount(rest["amt"]), rest["method"]
    if method and re.match(r"on\s|于|\d", method, re.I):
        _date(method.split()[0], c)  # a date in the wrong place: say why it cannot be read
        raise _Bad("cannot read '{method}'", method=method)
    on = _date(rest["on"], c, latest=c.today, what=N_("the payment date")) if rest["on"] else None
    return Payment(_num(m, c), amount, on, method)


_STATEMENT_REST = re.compile(
    rf"(?P<cust>.+?)(?:\s+(?P<start>{_DATE})(?:(?:\s*(?:~|-|to|至|到)\s*|\s+)(?P<end>{_DATE}))?)?", re.I)


def _statement(m: re.Match[str], c: _Ctx) -> Intent:
    rest = _STATEMENT_REST.fullmatch(m["rest"] or "")
    if rest is None or re.fullmatch(_DATE, rest["cust"], re.I):
        raise _Bad("usage: statement ACME [2026-10-01 2026-10-31]")
    start = _date(rest["start"], c) if rest["start"] else None
    end = _date(rest["end"], c, earliest=start, what=N_("the end date")) if rest["end"] and start else None
    return Statement(rest["cust"], start, end)


_REPORTS = {
    "报表": "summary", "report": "summary", "summary": "summary",
    "销售趋势": "trend", "销售额趋势": "trend", "sales trend": "trend", "trend": "trend",
    "销量排行": "products", "product ranking": "products", "top products": "products",
    "业绩排行": "sales", "leaderboard": "sales", "sales leaderboard": "sales",
    "客户分布": "regions", "客户区域分布": "regions", "region": "regions", "regions": "regions",
}
_REPORT_RX = "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in sorted(_REPORTS, key=len, reverse=True))

# ---------------------------------------------------------------- the grammar
# %NUM% = an order number (groups d8, d4), %TASK% = a task reference, %REASON% = optional free text.
# Chinese keywords may touch their argument ("订单SO-…"); English ones need a word boundary.

_Builder = Callable[[re.Match[str], _Ctx], Intent]
_REASON = r"(?:\s*[,:;]?\s*(?:(?:理由|原因|reason)\s*:)?\s*(?P<reason>.+))?"
_RULES: list[tuple[str, _Builder]] = [
    (r"help|帮助|菜单|menu|\?+", lambda m, c: Help()),
    (r"my\s*orders?|我的订单", lambda m, c: MyOrders()),
    (r"pending|my\s*approvals?|待审批|我的审批", lambda m, c: MyApprovals()),
    (r"(?:my\s*)?tasks?|我的任务|发货任务", lambda m, c: MyTasks()),
    (r"我?回来了|(?:i[’']?m\s*|i\s+am\s+)?back", lambda m, c: Back()),
    (r"new\s*order|new|order|下单|新订单|新建订单", lambda m, c: NewOrderForm()),  # "new": /order new
    (_REPORT_RX, lambda m, c: Report(_REPORTS[" ".join(m[0].lower().split())])),
    (r"(?:(?:订单|查询|查看|查)\s*|(?:status(?:\s+of)?|where\s+is|show|order|check)\s+)?%NUM%"
     r"(?:\s*(?:状态|进度|status))?\s*\??", lambda m, c: ShowOrder(_num(m, c))),
    (r"(?:催办|催|remind|nudge)\s*%NUM%", lambda m, c: Nudge(_num(m, c))),
    (r"(?:同意|批准|approve)\s*%NUM%", lambda m, c: Approve(_num(m, c))),
    (r"(?:驳回|拒绝|reject)\s*%NUM%" + _REASON, lambda m, c: Reject(_num(m, c), _reason(m))),
    (r"(?:取消(?:订单)?|cancel(?:\s+order)?)\s*%NUM%" + _REASON, lambda m, c: Cancel(_num(m, c), _reason(m))),
    (r"(?:收款|回款|到账|paid|payment|received)\s*%NUM%(?:\s*(?P<rest>.+))?", _payment),
    (r"(?:领取|认领|claim)\s*%TASK%", lambda m, c: Claim(_task(m))),
    (r"(?:确认发货|发货|ship)\s*%TASK%(?:\s*(?P<rest>.+))?", _ship),
    (r"(?:外出|休假|请假|away\b|ooo\b|out\s+of\s+office\b)\s*(?:至|到|直到|until\b|till\b)?\s*(?P<date>.+?)"
     r"(?:\s*(?:转交给?|交给|delegate(?:\s+to)?\b)\s*(?P<who>.*))?", _away),
    (r"(?:对账单|对账(?!单)|statement\b)\s*(?P<rest>.+)", _statement),
    (r"(?:客户|customer\b|cust\b)\s*(?P<q>.+)", lambda m, c: ShowCustomer(m["q"])),
    (r"(?:库存|stock\b|inventory\b)\s*(?P<q>.+)", lambda m, c: ShowStock(m["q"])),
    (r"(?:下单|新订单|new\s+order\b|order\b)\s*(?P<customer>[^\s,;、]+)[\s,;、]*(?P<lines>.*)", _quick_order),
]
# A recognised command word alone or followed by arguments nothing above accepted: show its usage.
# The usage is a msgid: the reader sees the command in their own language ({example} is an order number).
_USAGE: list[tuple[str, str]] = [
    (r"催办|催|remind|nudge", N_("nudge {example}")),
    (r"同意|批准|approve", N_("approve {example}")),
    (r"驳回|拒绝|reject", N_("reject {example} [reason]")),
    (r"取消|cancel", N_("cancel {example} [reason]")),
    (r"收款|回款|paid|payment", N_("paid {example} 12000 [on 2026-11-20] [by transfer]")),
    (r"领取|认领|claim", N_("claim T-12")),
    (r"确认发货|发货|ship", N_("ship T-12 SF SF1234567890 [SKU-001=5]")),
    (r"外出|休假|away|ooo", N_("away until 12-01 delegate Li")),
    (r"对账单|statement", N_("statement ACME [2026-10-01 2026-10-31]")),
    (r"客户|customer|cust", N_("customer ACME")),
    (r"库存|stock", N_("stock SKU-001")),
    (r"status|查询|查", N_("status {example}")),
]


@lru_cache(maxsize=8)
def _compiled(prefix: str) -> tuple[list[tuple[re.Pattern[str], _Builder]], list[tuple[re.Pattern[str], Message]]]:
    dash = r"[-‐‑‒–—―]?"
    num = rf"(?<![A-Za-z0-9]){re.escape(prefix)}\s*{dash}\s*(?P<d8>\d{{8}})\s*{dash}\s*(?P<d4>\d{{4}})(?!\d)"
    task = r"(?<![A-Za-z0-9])(?P<task>T\s*-?\s*\d{1,9})(?!\d)"
    rules = [(re.compile(p.replace("%NUM%", num).replace("%TASK%", task), re.I), b) for p, b in _RULES]
    example = f"{prefix}-20261122-0007"
    usage = [(re.compile(rf"(?:{kw})(?:\s.*)?", re.I | re.S), Message(msgid, {"example": example}))
             for kw, msgid in _USAGE]
    return rules, usage


def parse(text: str, *, today: date, order_prefix: str = "SO") -> Intent:
    """Turn one chat message into one intent. Never raises."""
    s = normalize(text)
    if not s:
        return Help()  # a bare @mention of the bot
    ctx = _Ctx(today, order_prefix.strip().upper())
    rules, usage = _compiled(ctx.prefix)
    for pattern, build in rules:
        if m := pattern.fullmatch(s):
            try:
                return build(m, ctx)
            except _Bad as bad:
                return Invalid(bad.message)
    for pattern, example in usage:
        if pattern.fullmatch(s):
            return Invalid(Message(N_("Not understood. Usage: {usage}"), {"usage": example}))
    return Unknown(s)
