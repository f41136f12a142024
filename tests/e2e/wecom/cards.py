"""Sample neutral cards as the bot core would build them."""

from __future__ import annotations

from bot.cards.model import Button, Card, Field, Input, LineTable, Preset, Tone


def approval_request(n_fields: int = 4) -> Card:
    return Card(
        kind="approval_request",
        key="approval:SO-20240518-0042:1",
        title="订单 SO-20240518-0042 待审批，折扣超出销售权限需要经理确认后才能继续",
        tone=Tone.INFO,
        subtitle="客户 华东贸易有限公司 · 金额 ¥128,000.00",
        fields=[
            Field(label=lbl, value=val)
            for lbl, val in [
                ("销售", "李四"),
                ("折扣", "18%"),
                ("账期", "60 天"),
                ("信用额度", "¥500,000.00"),
                ("客户编码", "C-0042"),
                ("地区", "上海"),
                ("仓库", "华东一仓"),
            ][:n_fields]
        ],
        table=LineTable(
            columns=["商品", "数量", "小计"], rows=[["A4 纸", "100", "¥2,000.00"]], note="合计 ¥128,000.00"
        ),
        context="SO-20240518-0042 · 李四 · 14:03",
        buttons=[
            Button(action="approve", label="同意", token="tA.approve", style="primary"),
            Button(
                action="reject",
                label="驳回",
                token="tA.reject",
                style="danger",
                presets=[
                    Preset(label="价格过低", token="tA.rej.price"),
                    Preset(label="信用不足", token="tA.rej.credit"),
                    Preset(label="其他原因", token="tA.rej.other"),
                ],
            ),
        ],
    )


def approval_decided() -> Card:
    return Card(
        kind="approval_decided",
        key="approval:SO-20240518-0042:1",
        title="订单 SO-20240518-0042 审批",
        tone=Tone.SUCCESS,
        subtitle="已同意 · 王经理 · 14:03",
        fields=[Field(label="审批人", value="王经理")],
        context="已同意 · 王经理 · 14:03",
        data={"status": "approved"}, verdict="已同意 · 王经理 · 14:03",
    )


def shipping_task() -> Card:
    return Card(
        kind="shipping_task",
        key="task:T-12",
        title="发货任务 T-12",
        tone=Tone.INFO,
        fields=[Field(label="订单", value="SO-20240518-0042")],
        buttons=[
            Button(action="claim", label="领取", token="tS.claim", style="primary"),
            Button(
                action="ship",
                label="确认发货",
                token="tS.ship",
                command="发货 T-12 顺丰 SF123",
                inputs=[Input(name="carrier", label="快递公司"), Input(name="tracking", label="物流单号")],
            ),
        ],
    )


def order_status(lines: int = 3) -> Card:
    return Card(
        kind="order_status",
        title="订单 SO-20240518-0042",
        tone=Tone.SUCCESS,
        subtitle="已发货",
        fields=[Field(label="客户", value='华东贸易 <font color="warning">[x](http://evil)</font>')],
        table=LineTable(columns=["商品", "数量"], rows=[[f"商品 {i}", str(i)] for i in range(lines)]),
        link="https://erp.example/so/42",
    )
