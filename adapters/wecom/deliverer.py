"""The WeCom `Deliverer`: turns an outbox `Delivery` into message/send, update_template_card or appchat/send.

RetryLater / PermanentFailure from the client pass straight through: backoff, give-up and admin alerts are the
dispatcher's job. The receipt ref is compact JSON, opaque to the core (see `Ref`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

from adapters.wecom.client import WeComClient
from adapters.wecom.render import (
    RenderError,
    new_task_id,
    render_markdown,
    render_template_card,
    render_text,
    render_update_card,
)
from bot.cards.model import Card
from bot.ports import Delivery, DeliveryReceipt, PermanentFailure

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ref:
    """What we need later to update the copy we sent.

    t = "card": interactive template card to `user`, `task_id` + the single-use `code` (response_code) from the
        send answer; code is None once an update has used it.
    t = "msg":  markdown/text to `user` (`msgid`); cannot be updated, an update sends a fresh message.
    t = "chat": app group chat `chatid`; cannot be updated either.
    """

    t: str
    user: str | None = None
    task_id: str | None = None
    code: str | None = None
    msgid: str | None = None
    chatid: str | None = None

    def dump(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, separators=(",", ":"))

    @classmethod
    def load(cls, raw: str | None) -> Ref | None:
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return cls(**{k: data.get(k) for k in ("t", "user", "task_id", "code", "msgid", "chatid")})
        except (ValueError, TypeError, AttributeError):  # not JSON, or not an object
            log.warning("wecom: unreadable delivery ref ignored")
            return None


class WeComDeliverer:
    platform = "wecom"

    def __init__(self, client: WeComClient) -> None:
        self._client = client

    def deliver(self, delivery: Delivery) -> DeliveryReceipt:
        if delivery.op == "home":
            log.info("wecom has no home tab; delivery %s skipped", delivery.id)  # nothing to show it in
            return DeliveryReceipt(ref=None)
        if delivery.card is None and not delivery.text:
            raise PermanentFailure(f"delivery {delivery.id} has neither card nor text")
        try:
            if delivery.op == "update":
                receipt = self._update(delivery)
                if receipt is not None:
                    return receipt
            return self._send(delivery)
        except RenderError as exc:
            raise PermanentFailure(f"wecom render: {exc}") from exc

    # -- send ------------------------------------------------------------------------------------------------

    def _send(self, d: Delivery) -> DeliveryReceipt:
        if d.recipient_kind == "group":
            return self._send_group(d)
        if d.card is None:
            answer = self._client.send_text(d.recipient, render_text(d.text or ""))
            return DeliveryReceipt(ref=Ref(t="msg", user=d.recipient, msgid=answer.get("msgid")).dump())
        task_id = new_task_id(d.id, d.attempt)
        payload = render_template_card(d.card, task_id, text=d.text)
        if payload is None:  # nothing clickable: markdown reads better than a card without buttons
            answer = self._client.send_markdown(d.recipient, render_markdown(d.card, text=d.text))
            return DeliveryReceipt(ref=Ref(t="msg", user=d.recipient, msgid=answer.get("msgid")).dump())
        answer = self._client.send_template_card(d.recipient, payload)
        ref = Ref(t="card", user=d.recipient, task_id=task_id, code=answer.get("response_code") or None)
        return DeliveryReceipt(ref=ref.dump())

    def _send_group(self, d: Delivery) -> DeliveryReceipt:
        # appchat/send takes no template cards and groups cannot click anyway: markdown lists the text commands
        if d.card is not None:
            self._client.appchat_send(
                d.recipient, "markdown", {"content": render_markdown(d.card, text=d.text)}
            )
        else:
            self._client.appchat_send(d.recipient, "text", {"content": render_text(d.text or "")})
        return DeliveryReceipt(ref=Ref(t="chat", chatid=d.recipient).dump())

    # -- update ----------------------------------------------------------------------------------------------

    def _update(self, d: Delivery) -> DeliveryReceipt | None:
        """Update the sent copy in place; None means "cannot, send the decided card as a new message"."""
        ref = Ref.load(d.ref)
        if ref is None or ref.t != "card" or not ref.code or not ref.task_id or d.card is None:
            return None
        user = ref.user or d.recipient
        card: Card = d.card
        try:
            self._client.update_template_card(
                [user], ref.code, template_card=render_update_card(card, ref.task_id)
            )
        except PermanentFailure as exc:
            # wecom.md §5.3: a used/expired response_code has no documented errcode; any non-zero means
            # "can't update, send a new message instead" so the user still sees the outcome
            log.warning("wecom update of delivery %s failed (%s); sending a new message", d.id, exc.reason)
            return None
        # the response_code is single-use: a later update of this copy must fall back to a fresh send
        return DeliveryReceipt(ref=Ref(t="card", user=user, task_id=ref.task_id, code=None).dump())
