"""Unit of work: one transaction, the events it produced, commit or roll back as a context manager."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, tzinfo
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from domain.events import Event
from domain.types import utcnow


class UnitOfWork:
    """`clock` says what time it is (UTC); `tz` is the zone people read dates and times in (Settings.timezone)."""

    def __init__(self, session_factory: sessionmaker[Session], clock: Callable[[], datetime] = utcnow,
                 tz: tzinfo = UTC) -> None:
        self._factory = session_factory
        self.clock = clock
        self.tz = tz
        self.events: list[Event] = []
        self.session: Session
        self._held: list[object] = []

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        self.events = []
        self._held = []
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is not None:
                self.session.rollback()
        finally:
            self.session.close()
            self._held = []

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    @contextmanager
    def batched(self) -> Iterator[None]:
        """What is changed so far is flushed once; what is added inside (an event's answers and notifications: outbox
        rows and card copies) waits for the commit's flush, instead of a flush before every query that runs meanwhile
        (queries inside do not see those rows: a caller that needs them looks in the session's new objects)."""
        self.session.flush()
        with self.session.no_autoflush:
            yield

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def hold(self, *objects: object) -> None:
        """Keep objects made here in memory until the unit of work ends. The session holds what it loaded or wrote
        only weakly, so a row that nothing referenced any more (a new shipping task, once `create_tasks` returned)
        was read back from the database by the handler of the event naming it."""
        self._held.extend(objects)

    def now(self) -> datetime:
        return self.clock()

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    def local_today(self) -> date:
        return self.local(self.clock()).date()
