"""Engine and session factory for SQLite (embedded default) and PostgreSQL.

SQLite: WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE for every transaction, so writers queue
for the lock up front instead of failing half-way on a lock upgrade. PostgreSQL: READ COMMITTED; the
services take row locks where two writers could race; connect, statement and pool timeouts, and a guard
(domain.db_guard) that cuts statements a silent server never answers and fails fast during an outage.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from domain.db_guard import DbTimeouts, Guard


def make_engine(url: str, *, timeouts: DbTimeouts | None = None, **kwargs: Any) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _sqlite_setup(engine, u.database)
        return engine
    t = timeouts or DbTimeouts()
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_timeout", t.pool)
    # Server side: statement_timeout. Client side (a database that stops answering): connect_timeout, TCP
    # keepalives and tcp_user_timeout for idle and unacknowledged connections, and db_guard's watchdog for
    # statements waiting on a silent server. No pool_pre_ping: db_guard pings at checkout, under its time limit.
    given = u.query.get("options")
    options = " ".join(o for o in (given if isinstance(given, str) else "", f"-c statement_timeout={int(t.statement * 1000)}") if o)
    connect_args = {"connect_timeout": t.connect, "options": options, "keepalives": 1, "keepalives_idle": 30,
                    "keepalives_interval": 10, "keepalives_count": 3,
                    "tcp_user_timeout": int((t.statement + t.grace) * 1000), **kwargs.pop("connect_args", {})}
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    Guard(engine, t).install()
    return engine


def inbox_url(url: str) -> str | None:
    """The durable inbox's own database file beside a SQLite file (var/ordertalk.db → var/ordertalk-inbox.db), or None
    where the inbox stays in the main database (PostgreSQL, in-memory SQLite). Every SQLite transaction holds its
    file's one writer lock from BEGIN to COMMIT: in the main file an acknowledgement's one-row store waited behind
    the workers' decisions (bench.sqlite_lanes); in a file of its own it meets only the inbox's own short writes."""
    u = make_url(url)
    db = u.database
    if u.get_backend_name() != "sqlite" or not db or db == ":memory:" or db.startswith("file:") or u.query.get("mode"):
        return None
    path = Path(db)
    return u.set(database=str(path.with_name(f"{path.stem}-inbox{path.suffix or '.db'}"))).render_as_string(
        hide_password=False)


URGENT = "ordertalk_urgent"  # execution option: a transaction someone is waiting on right now (an acknowledgement)


class _WriterQueue:
    """SQLite writers of our processes queue here, blocked in the kernel, instead of in SQLite's busy handler.

    The busy handler retries with growing sleeps (up to 100 ms), so a writer that has waited long keeps losing to
    newcomers: with 2 gunicorn workers × 8 threads, clicks waited up to 4 s (bench/interactive.py p99) and a bare
    2 × 8-thread test of 15 ms transactions up to 15 s. One lock per process plus flock on a file beside the
    database give every writer its turn; SQLite's own locking stays underneath (other programs still honour it).

    Two lanes, because every SQLite transaction holds the lock from BEGIN to COMMIT: an urgent one (a callback's
    one-row store, which the platform waits on) goes before the others. In a process, the others wait while an urgent
    one is waiting; across processes an urgent writer holds a shared lock on a third file while it waits, and the
    others — one at a time, through a second file — wait for that file to be free (at most URGENT_YIELD, so a
    stream of acknowledgements cannot stall the decisions) before they queue. One lane for all, an acknowledgement
    waited behind every decision's transaction queued before it: p99 1.3 s at 64 clients (bench.interactive).
    """

    def __init__(self, db_path: str, timeout: float) -> None:
        self._paths = (db_path + ".lock", db_path + ".lock-queue", db_path + ".lock-urgent")
        self._timeout = timeout
        self._cond = threading.Condition()
        self._held = False
        self._urgent_waiting = 0
        self._queued = False  # the holder took the others' file too
        self._fds: tuple[int, ...] = ()
        self._pid = 0

    def acquire(self, urgent: bool = False) -> None:
        with self._cond:
            self._urgent_waiting += urgent
            try:
                free = self._cond.wait_for(lambda: not self._held and (urgent or not self._urgent_waiting),
                                           self._timeout)
            finally:
                self._urgent_waiting -= urgent
            if not free:
                raise sqlite3.OperationalError("database is locked")  # what the busy handler says after its timeout
            self._held = True
        try:
            if self._pid != os.getpid():  # a forked worker needs its own open files: flock is per open file
                self._fds = tuple(os.open(p, os.O_RDWR | os.O_CREAT, 0o600) for p in self._paths)
                self._pid = os.getpid()
            database, others, waiting = self._fds
            if urgent:
                fcntl.flock(waiting, fcntl.LOCK_SH)  # "an urgent writer is waiting", for the other processes
                try:
                    fcntl.flock(database, fcntl.LOCK_EX)
                finally:
                    fcntl.flock(waiting, fcntl.LOCK_UN)
                return
            fcntl.flock(others, fcntl.LOCK_EX)
            self._queued = True
            _after_urgent(waiting)
            fcntl.flock(database, fcntl.LOCK_EX)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        try:
            if self._fds and self._pid == os.getpid():
                fcntl.flock(self._fds[0], fcntl.LOCK_UN)
                if self._queued:
                    fcntl.flock(self._fds[1], fcntl.LOCK_UN)
        finally:
            self._queued = False
            with self._cond:
                self._held = False
                self._cond.notify_all()


URGENT_YIELD = 0.05  # seconds a transaction that is not urgent lets waiting urgent ones go first, at most


def _after_urgent(waiting: int) -> None:
    """Until no urgent writer of another process waits (its shared lock on `waiting` gone), or URGENT_YIELD."""
    deadline = time.monotonic() + URGENT_YIELD
    while True:
        try:
            fcntl.flock(waiting, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return
            time.sleep(0.0005)
            continue
        fcntl.flock(waiting, fcntl.LOCK_UN)
        return


_HOLDS = "ordertalk_writer_queue"  # set in the pool record's info while its connection holds the queue


def _sqlite_setup(engine: Engine, database: str | None) -> None:
    queue = _WriterQueue(database, 30) if database and database != ":memory:" else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
        dbapi_conn.create_function("ot_local_date", 2, _local_date, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if queue is not None and not conn.info.get(_HOLDS):
            queue.acquire(bool(conn.get_execution_options().get(URGENT)))
            conn.info[_HOLDS] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _done(conn.info)
            raise

    def _done(info: dict[str, Any]) -> None:
        if queue is not None and info.pop(_HOLDS, False):
            queue.release()

    # Released just before SQLite's COMMIT / ROLLBACK runs (there is no engine event after it): the next writer
    # then meets SQLite's lock for the last moment of that commit (the busy handler's first sleeps are 1–2 ms).
    event.listen(engine, "commit", lambda conn: _done(conn.info))
    event.listen(engine, "rollback", lambda conn: _done(conn.info))
    for pool_event in ("checkin", "invalidate", "close"):  # the safety net, before a record forgets its info
        event.listen(engine.pool, pool_event, lambda _dbapi_conn, record, *_: _done(record.info))


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local_date(stored: str | None, zone: str) -> str | None:
    """SQLite has no time zones: the local date of a stored UTC timestamp (naive ISO text), for reports
    (domain.reports.sql.local_date)."""
    if stored is None:
        return None
    return datetime.fromisoformat(stored).replace(tzinfo=UTC).astimezone(_zone(zone)).date().isoformat()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
