"""One DingTalk card takes many clicks: each distinct click is one event, a redelivered click is none more.

A card callback has no click id, so the event key is built from the card, the clicker, the button and the form
(adapters/dingtalk/inbound.card_event_id). Keyed on outTrackId + token alone, a second partial shipment from the
same task card and a colleague's click on the same card answered 200 and did nothing."""

from __future__ import annotations

import time

from sqlalchemy import select

from adapters.dingtalk.inbound import parse_card_callback
from domain.models import Shipment

from .harness import CARD_PATH, WAREHOUSE_GROUP, DingTalkDriver, card_headers
from .payloads import card_click


def _approved(dt: DingTalkDriver) -> None:
    assert dt.say("li", "下单 华兴 SKU-001 x10").status_code == 200
    dt.drain()
    card = dt.cards("approval_request", to="wang")[0]
    assert dt.click("wang", card, "approve").status_code == 200
    dt.drain()


def _shipments(dt: DingTalkDriver) -> list[tuple[str, int]]:
    with dt.ot.sessions() as s:
        return [(sh.tracking_no, sum(ln.quantity for ln in sh.lines)) for sh in s.scalars(select(Shipment).order_by(Shipment.id))]


def _qty_input(dt: DingTalkDriver) -> str:
    from domain.models import OrderLine

    with dt.ot.sessions() as s:
        return f"qty_{s.scalars(select(OrderLine.id)).one()}"


def test_two_partial_shipments_from_one_task_card_are_two_shipments(dt: DingTalkDriver) -> None:
    _approved(dt)
    [task] = dt.cards("shipping_task", group=WAREHOUSE_GROUP)
    qty = _qty_input(dt)
    first = dt.click("sun", task, "ship", {"carrier": "顺丰", "tracking": "SF100", qty: "4"})
    assert first.status_code == 200, first.text
    dt.drain()
    [task] = dt.cards("shipping_task", group=WAREHOUSE_GROUP)  # the same card (outTrackId), updated
    second = dt.click("sun", task, "ship", {"carrier": "顺丰", "tracking": "SF200", qty: "6"})
    assert second.status_code == 200, second.text
    assert _shipments(dt) == [("SF100", 4), ("SF200", 6)]


def test_a_redelivered_click_has_one_effect(dt: DingTalkDriver) -> None:
    _approved(dt)
    [task] = dt.cards("shipping_task", group=WAREHOUSE_GROUP)
    body = dt.click_body("sun", task, task.token("ship"), {"carrier": "顺丰", "tracking": "SF100", _qty_input(dt): "4"})
    for _ in range(3):  # DingTalk's retries, and a double tap, carry the same body
        assert dt.post(CARD_PATH, body, card_headers()).status_code == 200
        time.sleep(0.01)
    assert _shipments(dt) == [("SF100", 4)]


def test_a_colleagues_click_on_the_same_card_is_answered(dt: DingTalkDriver) -> None:
    assert dt.say("li", "下单 华兴 SKU-001 x10").status_code == 200
    dt.drain()
    card = dt.cards("approval_request", to="wang")[0]
    token = card.token("approve")
    assert dt.click("wang", card, "approve").status_code == 200
    before = dt.snapshot()
    # zhao's click on the very same card copy (a group card shows one card to all): a second event, which the core
    # answers (already decided), not a duplicate of wang's
    resp = dt.post(CARD_PATH, card_click(token, out_track_id=card.out_track_id, user_id="mgr0004"), card_headers())
    assert resp.status_code == 200
    assert dt.snapshot().inbound == before.inbound + 1
    dt.drain()
    assert any("已由 王经理" in t for t in dt.texts_to("zhao"))


def test_keys_distinguish_clicker_button_and_form_but_not_the_transport() -> None:
    def key(**kw: object) -> str:
        base: dict[str, object] = {"token": "ship@1@0@@sig", "out_track_id": "task-1", "user_id": "wh0006",
                                   "extra_params": {"tracking": "SF1"}}
        base.update(kw)
        return parse_card_callback(card_click(**base)).event_id  # type: ignore[arg-type]

    assert key() == key()
    assert key(user_id="wh0007") != key()
    assert key(token="claim@1@0@@sig") != key()
    assert key(extra_params={"tracking": "SF2"}) != key()
    assert key(out_track_id="task-2") != key()
    assert key(extra_params={"tracking": "SF1", "qty_1": "2"}) != key(extra_params={"tracking": "SF1", "qty_1": "3"})


def test_an_absurd_quantity_in_a_signed_card_form_is_refused_at_once(dt: DingTalkDriver) -> None:
    _approved(dt)
    [task] = dt.cards("shipping_task", group=WAREHOUSE_GROUP)
    started = time.perf_counter()
    resp = dt.click("sun", task, "ship", {"carrier": "顺丰", "tracking": "SF100", _qty_input(dt): "1e600000"})
    assert resp.status_code == 200 and time.perf_counter() - started < 2  # int(Decimal(...)) froze a worker 25 s
    dt.drain()
    assert _shipments(dt) == [] and any("1e600000" in t for t in dt.texts_to("sun"))
