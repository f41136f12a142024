"""The WeCom `Deliverer`: turns an outbox `Delivery` into message/send, update_template_card or appchat/send.

RetryLater / PermanentFailure from the client pass straight through: backoff, give-up and admin alerts are the
dispatcher's job. The receipt ref is compact JSON, opaque to the core (see `Ref`).

A card's picture (Delivery.op "image", a report's chart) is uploaded with media/upload?type=image and sent as a
`msgtype: image` message (message/send to a person, appchat/send to a group chat) with its media_id. The media_id is
kept per stored file for a little less than the three days WeCom keeps media, so one chart sent to many people is
uploaded once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import timedelta

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
from bot.files import FileInfo, FileStore
from bot.ports import Delivery, DeliveryReceipt, PermanentFailure

log = logging.getLogger(__name__)

MEDIA_LIFETIME = timedelta(days=3) - timedelta(hours=2)  # media/upload: "该media_id仅三天内有效"; kept a little less


@dataclass(frozen=True)
class Ref:
    """What we need later to update the copy we sent.

    t = "card": interactive template card to `user` under `task_id`. The single-use response_codes that may update
        it travel separately (DeliveryReceipt.ticket from the send answer, then each click's ResponseCode, kept per
        copy in the database by the core); `code` is only read from refs written before that.
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

    def __init__(self, client: WeComClient, files: FileStore | None = None) -> None:
        self._client = client
        self._files = files

    def deliver(self, delivery: Delivery) -> DeliveryReceipt:
        if delivery.op == "home":
            log.info("wecom has no home tab; delivery %s skipped", delivery.id)  # nothing to show it in
            return DeliveryReceipt(ref=None)
        if delivery.op == "image":
            return self._image(delivery)
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
        ref = Ref(t="card", user=d.recipient, task_id=task_id)
        return DeliveryReceipt(ref=ref.dump(), handle=task_id, ticket=answer.get("response_code") or None)

    def _send_group(self, d: Delivery) -> DeliveryReceipt:
        # appchat/send takes no template cards, and messages in an app group chat never reach a self-built app:
        # the markdown carries no commands, only where to act (the 1:1 chat with the app, where cards arrive)
        if d.card is not None:
            self._client.appchat_send(
                d.recipient, "markdown", {"content": render_markdown(d.card, text=d.text, group=True)}
            )
        else:
            self._client.appchat_send(d.recipient, "text", {"content": render_text(d.text or "")})
        return DeliveryReceipt(ref=Ref(t="chat", chatid=d.recipient).dump())

    def _image(self, d: Delivery) -> DeliveryReceipt:
        image = d.attachment
        if image is None or self._files is None:
            raise PermanentFailure(f"wecom delivery {d.id}: no stored file to send as an image")

        def upload(info: FileInfo, data: bytes) -> str:
            return self._client.upload_media("image", info.filename, data, info.mime)

        def send(media_id: str) -> DeliveryReceipt:
            if d.recipient_kind == "group":
                self._client.appchat_send(d.recipient, "image", {"media_id": media_id})
                return DeliveryReceipt(ref=Ref(t="chat", chatid=d.recipient).dump())
            answer = self._client.send_image(d.recipient, media_id)
            return DeliveryReceipt(ref=Ref(t="msg", user=d.recipient, msgid=answer.get("msgid")).dump())

        return self._files.with_media("wecom", image.key, MEDIA_LIFETIME, upload, send)

    # -- update ----------------------------------------------------------------------------------------------

    def _update(self, d: Delivery) -> DeliveryReceipt | None:
        """Update the sent copy in place with its newest unused response_code (a click's, else the send answer's);
        None means "cannot, send the new state as a new message"."""
        ref = Ref.load(d.ref)
        code = d.ticket or (ref.code if ref else None)
        if ref is None or ref.t != "card" or not code or not ref.task_id or d.card is None:
            return None
        user = ref.user or d.recipient
        card: Card = d.card
        try:
            self._client.update_template_card(
                [user], code, template_card=render_update_card(card, ref.task_id)
            )
        except PermanentFailure as exc:
            # wecom.md §5.3: a used/expired response_code has no documented errcode; any non-zero means
            # "can't update, send a new message instead" so the user still sees the outcome
            log.warning("wecom update of delivery %s failed (%s); sending a new message", d.id, exc.reason)
            return None
        # the code is spent (the dispatcher clears it); the next update needs the next click's, or a fresh send
        return DeliveryReceipt(ref=Ref(t="card", user=user, task_id=ref.task_id).dump(), handle=ref.task_id)
