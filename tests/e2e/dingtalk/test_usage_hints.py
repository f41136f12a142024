"""Every chat command the DingTalk README shows, typed as shown (placeholders filled in): each is understood and
does what it says — approve, reject with a reason, claim by @-mention in the warehouse group, ship."""

from __future__ import annotations

from sqlalchemy import select

from domain.models import ShippingTask
from tests.usage_hints import fill, readme_commands, understood

from .harness import WAREHOUSE_GROUP, DingTalkDriver, robot_headers


def test_every_command_in_the_readme_is_understood(dt: DingTalkDriver) -> None:
    commands = readme_commands("dingtalk", r"(?:在群里 @我 并发送)?(?:同意|驳回|领取|发货) .+")
    verbs = [c.split()[0] for c in commands]
    assert verbs == ["同意", "驳回", "发货", "领取"], commands
    dt.say("li", "下单 华兴 SKU-001 x10")
    dt.say("li", "下单 华兴 SKU-002 x1")
    first, second = (o[0] for o in dt.snapshot().orders)
    by_verb = dict(zip(verbs, commands, strict=True))

    dt.say("wang", fill(by_verb["同意"], first))
    dt.say("wang", fill(by_verb["驳回"], second))
    dt.drain()
    with dt.ot.sessions() as s:
        ref = s.scalars(select(ShippingTask)).one().ref
    body = dt.message_body("sun", "@订单助手 " + fill(by_verb["领取"], first, ref), group=True)
    assert dt.post("/dingtalk/callback", body | {"conversationId": WAREHOUSE_GROUP}, robot_headers()).status_code == 200
    dt.say("sun", fill(by_verb["发货"], first, ref))
    dt.drain()
    answers = dt.texts_to("wang") + dt.texts_in(WAREHOUSE_GROUP) + dt.texts_to("sun")
    assert all(understood(a) for a in answers)
    assert any(f"已同意订单 {first}" in a for a in dt.texts_to("wang"))
    assert any(f"已驳回订单 {second}" in a for a in dt.texts_to("wang"))
    assert any(f"已领取发货任务 {ref}" in a for a in dt.texts_in(WAREHOUSE_GROUP))
    assert any("已确认发货" in a and "SF20261123001" in a for a in dt.texts_to("sun"))
    assert (dt.order(first).status, dt.order(second).status) == ("shipped", "rejected")
