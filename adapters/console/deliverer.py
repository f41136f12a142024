"""Delivers outbox rows into the sandbox inbox (recipient = user id); updates replace the stored copy. A card's picture
needs no message of its own: the sandbox shows it inside the card (its signed link)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from adapters.console.models import InboxItem
from bot.ports import Delivery, DeliveryReceipt, PermanentFailure
from domain.types import utcnow


class ConsoleDeliverer:
    platform = "console"

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def deliver(self, delivery: Delivery) -> DeliveryReceipt:
        if not delivery.recipient.isdigit():
            raise PermanentFailure(f"sandbox recipient must be a user id, got {delivery.recipient!r}")
        if delivery.op == "image":
            return DeliveryReceipt(ref=None)  # the sandbox shows a card's pictures inline, from the card itself
        payload = {"text": delivery.text, "card": delivery.card.model_dump(mode="json") if delivery.card else None,
                   "op": delivery.op}
        with self.sessions() as s:
            if delivery.op == "update" and delivery.ref and delivery.ref.isdigit():
                item = s.get(InboxItem, int(delivery.ref))
                if item is not None:
                    item.payload = payload
                    item.updated_at = utcnow()
                    s.commit()
                    return DeliveryReceipt(ref=str(item.id))
            item = InboxItem(user_id=int(delivery.recipient), payload=payload, delivered_at=utcnow())
            s.add(item)
            s.commit()
            return DeliveryReceipt(ref=str(item.id))
