"""The sandbox inbox: what the console adapter 'delivered' to each persona."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from domain.models import Base
from domain.types import UTCDateTime, utcnow


class InboxItem(Base):
    __tablename__ = "sandbox_inbox"
    __table_args__ = (Index("ix_sandbox_inbox_user", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
