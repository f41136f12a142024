"""The audit trail: append-only entries, and an order's timeline read back in order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, event, insert, select
from sqlalchemy.orm import Session

from domain.errors import DomainError, Refusal
from domain.models import AuditEntry, Order, OrderStatus

if TYPE_CHECKING:
    from domain.uow import UnitOfWork


@dataclass(frozen=True)
class Actor:
    """Who did it and through which platform ("system" for the scheduler)."""

    user_id: int | None
    platform: str = "system"


SYSTEM = Actor(None, "system")


def record(
    uow: UnitOfWork,
    order: Order | None,
    actor: Actor,
    action: str,
    from_status: OrderStatus | None = None,
    to_status: OrderStatus | None = None,
    /,
    *,
    subject: str | None = None,
    **details: Any,
) -> AuditEntry:
    """`subject` names a business object other than an order ("customer:17", "stock:3", "import:customers").

    Entries wait in the session and are written together, in the order they were made, by one INSERT just before
    the transaction commits (or before the trail is read back in it): a command's five or six entries are one round
    trip, and an entry never forces a flush of its own."""
    entry = AuditEntry(
        order_id=order.id if order is not None else None,
        subject=subject,
        actor_id=actor.user_id,
        platform=actor.platform,
        at=uow.now(),
        action=action,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        details={k: (str(v) if not isinstance(v, str | int | bool | None) else v) for k, v in details.items()},
    )
    _pending(uow.session).append((order, entry))
    return entry


def _pending(session: Session) -> list[tuple[Order | None, AuditEntry]]:
    found: list[tuple[Order | None, AuditEntry]] = session.info.setdefault(_PENDING, [])
    return found


def write_pending(session: Session) -> None:
    """Write the entries recorded in this transaction so far (an order made in it gets its id from the flush)."""
    waiting = session.info.pop(_PENDING, None)
    if not waiting:
        return
    if any(order is not None and order.id is None for order, _ in waiting):
        session.flush()
    session.execute(insert(cast(Table, AuditEntry.__table__)), [  # Core: one executemany whatever columns are empty
        {"order_id": order.id if order is not None else e.order_id, "subject": e.subject, "actor_id": e.actor_id,
         "platform": e.platform, "at": e.at, "action": e.action, "from_status": e.from_status,
         "to_status": e.to_status, "details": e.details} for order, e in waiting])


def _forget_pending(session: Session, *_: Any) -> None:
    session.info.pop(_PENDING, None)


_PENDING = "ordertalk.audit.pending"
event.listen(Session, "before_commit", write_pending)
event.listen(Session, "after_soft_rollback", _forget_pending)


def refused(error: DomainError, order: Order | None, actor: Actor, **details: Any) -> DomainError:
    """Mark `error` as a refusal the audit trail keeps ("refused", with what was tried and why); the caller's error
    path records it after the rollback (`record_refusal`). Returns the error, to be raised."""
    error.refusal = Refusal(actor.user_id, actor.platform, order.id if order is not None else None,
                            {k: (str(v) if not isinstance(v, str | int | bool | None) else v) for k, v in details.items()})
    return error


def record_refusal(uow: UnitOfWork, error: DomainError) -> AuditEntry | None:
    """The audit entry of a refused command, in the caller's own (new) transaction; None when nothing is audited."""
    r = error.refusal
    if r is None:
        return None
    entry = AuditEntry(order_id=r.order_id, actor_id=r.actor_id, platform=r.platform, at=uow.now(), action="refused",
                       details=dict(r.details))
    uow.session.add(entry)
    return entry


def timeline(session: Session, order_id: int) -> list[AuditEntry]:
    write_pending(session)
    return list(
        session.scalars(select(AuditEntry).where(AuditEntry.order_id == order_id).order_by(AuditEntry.id))
    )


def history(session: Session, subject: str, limit: int = 50) -> list[AuditEntry]:
    """A master-data object's changes, newest last."""
    write_pending(session)
    rows = session.scalars(select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.id.desc()).limit(limit))
    return list(reversed(list(rows)))
