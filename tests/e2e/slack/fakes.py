"""A recording BotCorePort and sample cards of every kind the core produces."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from bot.cards.model import Button, Card, Field, Input, LineTable, Option, Reply, Tone
from bot.ports import InboundAction, InboundMessage
from bot.tokens import ActionToken, TokenSigner

# The signer the tests install the adapter with: the adapter checks a modal-opening button's token with it, so the
# tokens of the sample buttons that open a modal are signed by it (the plain ones reach the recording core as they are).
SIGNER = TokenSigner(b"slack-test-secret-key-0123456789abcdef")
REJECT_TOKEN = SIGNER.sign(ActionToken("reject", 1))
SHIP_TOKEN = SIGNER.sign(ActionToken("ship", 1))


class RecordingCore:
    """Implements bot.ports.BotCorePort; records calls and answers with canned replies."""

    def __init__(self) -> None:
        self.messages: list[tuple[InboundMessage, bool]] = []
        self.actions: list[tuple[InboundAction, bool]] = []
        self.suggests: list[tuple[str, str, str, str]] = []
        self.homes: list[tuple[str, str]] = []
        self.message_replies: Callable[[InboundMessage], list[Reply]] = lambda m: [Reply(text="ok")]
        self.action_replies: Callable[[InboundAction], list[Reply]] = lambda a: [Reply(text="done")]
        self.home_cards: list[Card] = [order_card()]
        self.options = [Option(value="C001", label="华东五金 Huadong Hardware")]
        self._cond = threading.Condition()

    def handle_message(self, msg: InboundMessage, *, deliver_replies: bool = True) -> list[Reply]:
        with self._cond:
            self.messages.append((msg, deliver_replies))
            self._cond.notify_all()
        return self.message_replies(msg)

    def handle_action(self, action: InboundAction, *, deliver_replies: bool = True) -> list[Reply]:
        with self._cond:
            self.actions.append((action, deliver_replies))
            self._cond.notify_all()
        return self.action_replies(action)

    def suggest(self, platform: str, external_user_id: str, source: str, query: str) -> list[Option]:
        self.suggests.append((platform, external_user_id, source, query))
        return self.options

    def home(self, platform: str, external_user_id: str) -> list[Card]:
        with self._cond:
            self.homes.append((platform, external_user_id))
            self._cond.notify_all()
        return self.home_cards

    def wait(self, what: str, count: int = 1, timeout: float = 3.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(getattr(self, what)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"core.{what}: expected {count}, got {len(getattr(self, what))}")
                self._cond.wait(left)
            return list(getattr(self, what))


# --- sample cards ----------------------------------------------------------------------------------------

REASON = Input(name="reason", label="驳回理由", kind="text", multiline=True)
CARRIERS = [Option(value=v, label=v) for v in ("顺丰", "中通", "圆通", "京东物流", "德邦")]


def order_card(lines: int = 3, locale: str = "zh-CN", kind: str = "order_status") -> Card:
    return Card(
        kind=kind,
        key="order:SO-20261122-0007",
        locale=locale,
        title="订单 SO-20261122-0007 <待审批> & more",
        tone=Tone.INFO,
        subtitle="客户 华东五金 <Huadong & Co>",
        fields=[Field(label="客户", value="华东五金"), Field(label="总金额", value="¥12,800.00"),
                Field(label="状态", value="待审批")],
        table=LineTable(
            columns=["商品", "数量", "单价", "小计"],
            rows=[[f"SKU-{i:04d} 螺丝 M{i % 12 + 2} <不锈钢>", str(i + 1), "¥1.20", f"¥{1.2 * (i + 1):.2f}"]
                  for i in range(lines)],
            note="合计 ¥12,800.00",
        ),
        context="SO-20261122-0007 · 王经理 · 14:03",
    )


def approval_card(lines: int = 3) -> Card:
    card = order_card(lines, kind="approval_request")
    card.buttons = [
        Button(action="approve", label="同意", token="tok-approve-1", style="primary"),
        Button(action="reject", label="驳回", token=REJECT_TOKEN, style="danger",
               confirm="确定驳回该订单？", inputs=[REASON]),
    ]
    return card


def shipping_card() -> Card:
    card = order_card(2, kind="shipping_task")
    card.title = "发货任务 SO-20261122-0007"
    card.buttons = [
        Button(action="claim", label="领取", token="tok-claim-1"),
        Button(action="ship", label="确认发货", token=SHIP_TOKEN, style="primary", inputs=[
            Input(name="carrier", label="快递公司", kind="select", options=CARRIERS),
            Input(name="tracking", label="物流单号", kind="text"),
            Input(name="qty:SKU-0000", label="SKU-0000 发货数量", kind="number", initial="1"),
            Input(name="qty:SKU-0001", label="SKU-0001 发货数量", kind="number", initial="2"),
            Input(name="ship_on", label="发货日期", kind="date", required=False, initial="2026-11-23"),
        ]),
    ]
    card.link = "https://erp.example/notes/SO-20261122-0007.pdf"
    return card


def form_card() -> Card:
    return Card(
        kind="form",
        title="新建订单",
        text=["填写客户和商品后提交。"],
        inputs=[
            Input(name="customer", label="客户", kind="select", source="customers"),
            Input(name="product", label="商品", kind="select", source="products"),
            Input(name="qty", label="数量", kind="number"),
            Input(name="note", label="备注", kind="text", required=False, multiline=True),
        ],
        buttons=[Button(action="submit_order", label="提交订单", token="tok-new-order")],
    )


def all_cards() -> list[Card]:
    decided = approval_card()
    decided.kind, decided.tone, decided.buttons = "approval_decided", Tone.SUCCESS, []
    decided.context = "已同意 · 王经理 · 14:05"
    return [
        order_card(),
        approval_card(),
        decided,
        shipping_card(),
        Card(kind="reminder_digest", title="逾期应收 3 笔", tone=Tone.WARNING,
             fields=[Field(label=f"客户 {i}", value=f"¥{i},000.00 逾期 {i * 7} 天") for i in range(14)],
             buttons=[Button(action="promise", label="承诺付款日", token=SIGNER.sign(ActionToken("promise", 1)),
                             inputs=[Input(name="date", label="承诺付款日", kind="date")]),
                      Button(action="snooze", label="稍后提醒", token="tok-s")]),
        Card(kind="help", locale="en", title="OrderTalk help",
             text=["status SO-… — order status", "new — place an order", "x" * 7000]),
        Card(kind="error", title="出错了", tone=Tone.DANGER, text=["数量必须大于 0"], field_error="qty"),
        Card(kind="info", title="提示", text=["已发送 <ok> & done"]),
        form_card(),
        Card(kind="list", title="我的订单", text=[f"SO-2026112{i}-000{i}" for i in range(9)],
             buttons=[Button(action=f"open{i}", label=f"打开 {i}", token=f"tok-{i}") for i in range(30)]),
        order_card(300),
        order_card(300, locale="en"),
    ]
