"""DingTalkDeliverer: the outbox's Deliverer for platform "dingtalk".

Receipt refs (opaque to the core, read back here on op == "update"):
- an interactive card: its outTrackId, `ot-<delivery id>-<hash>` (never contains ":");
- a markdown/text robot message: `md:<processQueryKey>` — such a copy cannot be edited, so its update is
  sent as a new message.
- a card's picture (Delivery.op "image", a report's chart): `img:<processQueryKey>`.
RetryLater / PermanentFailure from the client propagate untouched: the dispatcher backs off or alerts.

A picture is uploaded with the old API's media/upload (type image) and sent as the robot's `sampleImageMsg` with the
media_id as `photoURL`, to the person (oToMessages/batchSend) or the group (groupMessages/send) the card went to.
DingTalk keeps media without a time limit; the media_id is kept per stored file for as long as the file itself.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Literal

from adapters.dingtalk.settings import DingTalkSettings
from bot import files as stored
from bot.cards.model import Card
from bot.files import FileInfo, FileStore
from bot.ports import Delivery, DeliveryReceipt, PermanentFailure

from .client import DingTalkClient
from .render import Markdown, NotRenderable, card_markdown, card_params, preview, template_for, text_markdown

log = logging.getLogger(__name__)

MARKDOWN_REF_PREFIX = "md:"
IMAGE_REF_PREFIX = "img:"


def out_track_id(delivery: Delivery) -> str:
    """Deterministic per outbox row and target: a retried create reuses it, so DingTalk never makes a
    second card (§6.4). The hash keeps ids from another database (same row id) from colliding."""
    card_kind = delivery.card.kind.value if delivery.card else ""
    seed = "|".join([delivery.platform, delivery.recipient_kind, delivery.recipient,
                     delivery.card_key or "", card_kind])
    return f"ot-{delivery.id}-{hashlib.sha256(seed.encode()).hexdigest()[:24]}"


class DingTalkDeliverer:
    platform = "dingtalk"

    def __init__(self, settings: DingTalkSettings, client: DingTalkClient | None = None, *,
                 receiver_mode: Callable[[], str | None] | None = None, files: FileStore | None = None) -> None:
        self._settings = settings
        self._client = client or DingTalkClient(settings)
        self._files = files
        self._receiver_mode = receiver_mode or (lambda: None)
        self._warned = False

    def callback_type(self) -> Literal["STREAM", "HTTP"]:
        """How a new card's clicks come back: the way this deployment receives them (recorded by the receiving
        process), not this process's own setting; a mismatch is refused at start, and logged here if it appears
        while running (someone switched the receiver)."""
        recorded = self._receiver_mode()
        mode = recorded or self._settings.dingtalk_mode
        if recorded and recorded != self._settings.dingtalk_mode and not self._warned:
            self._warned = True
            log.error("ORDERTALK_DINGTALK_MODE=%s, but card clicks are received over %s: new cards use %s",
                      self._settings.dingtalk_mode, recorded, recorded)
        return "STREAM" if mode == "stream" else "HTTP"

    def deliver(self, delivery: Delivery) -> DeliveryReceipt:
        if not delivery.recipient:
            raise PermanentFailure(f"delivery {delivery.id} has no DingTalk recipient")
        if delivery.op == "home":
            # DingTalk robots have no home tab; the same information is one "帮助"/"help" message away.
            log.debug("delivery %s: DingTalk has no home tab, nothing to do", delivery.id)
            return DeliveryReceipt(ref=None)
        if delivery.op == "image":
            return self._image(delivery)
        if delivery.op == "update" and delivery.ref and not delivery.ref.startswith(MARKDOWN_REF_PREFIX):
            receipt = self._update_card(delivery, delivery.ref)
            if receipt is not None:
                return receipt
        # op == "send", or an update whose earlier copy was markdown (cannot be edited): post a new message.
        return self._send(delivery)

    # ------------------------------------------------------------------ internals

    def _send(self, delivery: Delivery) -> DeliveryReceipt:
        card = delivery.card
        if card is not None:
            template = template_for(card, self._settings)
            if template:
                try:
                    params = card_params(card, intro=delivery.text)
                except NotRenderable as exc:
                    log.warning("delivery %s: card does not fit template (%s); sending markdown", delivery.id, exc)
                else:
                    ot_id = out_track_id(delivery)
                    self._client.create_and_deliver_card(
                        template_id=template, out_track_id=ot_id, params=params,
                        recipient=delivery.recipient, recipient_kind=delivery.recipient_kind,
                        callback_type=self.callback_type(), preview=preview(card),
                    )
                    return DeliveryReceipt(ref=ot_id)
            return self._send_markdown(delivery, card_markdown(card, intro=delivery.text,
                                                               group=delivery.recipient_kind == "group"))
        if delivery.text:
            return self._send_markdown(delivery, text_markdown(delivery.text, self._settings.default_locale))
        raise PermanentFailure(f"delivery {delivery.id} has neither card nor text")

    def _image(self, delivery: Delivery) -> DeliveryReceipt:
        image = delivery.attachment
        if image is None or self._files is None:
            raise PermanentFailure(f"delivery {delivery.id}: no stored file to send as an image")

        def upload(info: FileInfo, data: bytes) -> str:
            return self._client.upload_media("image", info.filename, data, info.mime)

        def send(media_id: str) -> DeliveryReceipt:
            param = {"photoURL": media_id}
            if delivery.recipient_kind == "group":
                key = self._client.group_send(delivery.recipient, "sampleImageMsg", param)
            else:
                key = self._client.send_to_user(delivery.recipient, "sampleImageMsg", param)
            return DeliveryReceipt(ref=IMAGE_REF_PREFIX + key)

        return self._files.with_media("dingtalk", image.key, stored.KEEP, upload, send)

    def _send_markdown(self, delivery: Delivery, md: Markdown) -> DeliveryReceipt:
        if delivery.recipient_kind == "group":
            key = self._client.group_send(delivery.recipient, "sampleMarkdown", md.msg_param())
        else:
            key = self._client.send_to_user(delivery.recipient, "sampleMarkdown", md.msg_param())
        return DeliveryReceipt(ref=MARKDOWN_REF_PREFIX + key)

    def _update_card(self, delivery: Delivery, ot_id: str) -> DeliveryReceipt | None:
        """Update the interactive card in place; None when the new state cannot be a card (then resend)."""
        card: Card | None = delivery.card
        if card is None or not template_for(card, self._settings):
            return None
        try:
            params = card_params(card, intro=delivery.text)
        except NotRenderable as exc:
            log.warning("delivery %s: updated card does not fit template (%s); sending markdown",
                        delivery.id, exc)
            return None
        self._client.update_card(ot_id, params)
        return DeliveryReceipt(ref=ot_id)
