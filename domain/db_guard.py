"""Time limits and outage detection for a network database (PostgreSQL).

A database that refuses connections fails fast by itself, but one that silently drops packets leaves a query
waiting for an answer that never comes: PostgreSQL's statement_timeout is enforced by the server, which is not
answering, and TCP keepalives only probe idle connections. So the client keeps its own clock:

- every statement (and the checkout ping) runs under a time limit — short (`interactive`) while a person or a
  platform waits for the answer, long otherwise; a watchdog thread shuts down the socket of a statement past its
  limit, so the driver fails at once with a disconnect and the connection is replaced;
- a ping (SELECT 1 at checkout) past its limit, or a connection that fails, declares an outage: until a probe
  thread reaches the database again, new connections are refused at once (`DatabaseUnavailable`) instead of each
  waiting out connect_timeout, and the web layer answers 503 with Retry-After (platforms retry; nothing is lost).
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event, exc

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database does not answer (refused, or silent past the time limit). Try again in a few seconds."""


@dataclass(frozen=True)
class DbTimeouts:
    connect: int = 2  # seconds to establish a connection (libpq's minimum is 2)
    statement: float = 30.0  # server-side statement_timeout; the watchdog adds `grace` for a silent network
    interactive: float = 1.2  # per statement (and ping) while someone waits: an answer within 2 s either way
    ping: float = 5.0  # the checkout ping outside interactive work
    pool: float = 1.0  # waiting for a free pooled connection
    grace: float = 5.0
    probe_interval: float = 0.5


_limit: contextvars.ContextVar[float | None] = contextvars.ContextVar("ordertalk_db_time_limit", default=None)


@contextmanager
def interactive(seconds: float) -> Iterator[None]:
    """Statements run in this context may take at most `seconds` each (the tighter limit wins when nested)."""
    current = _limit.get()
    token = _limit.set(seconds if current is None else min(current, seconds))
    try:
        yield
    finally:
        _limit.reset(token)


class _Watchdog:
    """Shuts down the socket of any statement still running past its deadline. Statements in flight are few, so
    one thread scans them every `TICK` seconds (and sleeps while there are none)."""

    TICK = 0.1

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._armed: dict[int, tuple[float, int, bool]] = {}  # id(dbapi conn) -> (deadline, fd, is_ping)
        self._killed_pings: set[int] = set()
        self._thread: threading.Thread | None = None
        self.on_ping_killed: list[Any] = []

    def arm(self, conn_id: int, fd: int, seconds: float, ping: bool = False) -> None:
        with self._cv:
            if not self._armed:
                self._cv.notify()
            self._armed[conn_id] = (time.monotonic() + seconds, fd, ping)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                self._thread.start()

    def disarm(self, conn_id: int) -> bool:
        """True when the watchdog cut this connection's ping."""
        with self._cv:
            self._armed.pop(conn_id, None)
            if conn_id in self._killed_pings:
                self._killed_pings.discard(conn_id)
                return True
            return False

    def _run(self) -> None:
        while True:
            cut: list[bool] = []
            with self._cv:
                if not self._armed:
                    self._cv.wait()
                    continue
                now = time.monotonic()
                for conn_id, (deadline, fd, ping) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[conn_id]
                        _shut(fd)  # under the lock: the statement cannot have finished and the connection moved on
                        if ping:
                            self._killed_pings.add(conn_id)
                        cut.append(ping)
            for ping in cut:
                log.warning("database statement past its time limit: connection cut%s", " (ping)" if ping else "")
                if ping:
                    for callback in self.on_ping_killed:
                        callback()
            time.sleep(self.TICK)


def _shut(fd: int) -> None:
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes the driver's poll with EOF; the connection is then replaced
    except OSError:
        pass
    finally:
        sock.close()


class Guard:
    """One per engine: the watchdog's events, the outage switch and the probe that lifts it."""

    def __init__(self, engine: Engine, timeouts: DbTimeouts) -> None:
        self.engine = engine
        self.timeouts = timeouts
        self._watchdog = _Watchdog()
        self._watchdog.on_ping_killed.append(lambda: self.declare_outage("no answer to a ping"))
        self._down_since: float | None = None
        self._lock = threading.Lock()
        self._probing = threading.local()

    # ---------------------------------------------------------------- outage
    @property
    def available(self) -> bool:
        return self._down_since is None

    def check(self) -> None:
        if self._down_since is not None:
            raise DatabaseUnavailable("the database is not answering; try again shortly")

    def declare_outage(self, why: str) -> None:
        with self._lock:
            if self._down_since is not None:
                return
            self._down_since = time.monotonic()
        log.error("database unavailable (%s): refusing new connections until it answers again", why)
        threading.Thread(target=self._probe, name="db-probe", daemon=True).start()

    def _probe(self) -> None:
        self._probing.active = True
        while True:
            time.sleep(self.timeouts.probe_interval)
            try:
                with interactive(self.timeouts.ping):
                    conn = self.engine.raw_connection()  # a fresh connection: the pool was invalidated
                    try:
                        cur = conn.cursor()
                        cur.execute("SELECT 1")
                        cur.close()
                    finally:
                        conn.close()
            except Exception as e:  # noqa: BLE001 - still down; keep probing
                log.debug("database probe failed: %s", e)
                continue
            with self._lock:
                down = time.monotonic() - (self._down_since or time.monotonic())
                self._down_since = None
            log.warning("database answers again after %.1f s", down)
            return

    # ---------------------------------------------------------------- limits
    def _seconds(self, ping: bool) -> float:
        limit = _limit.get()
        if limit is not None:
            return limit
        return self.timeouts.ping if ping else self.timeouts.statement + self.timeouts.grace

    def arm(self, dbapi_conn: Any, ping: bool = False) -> None:
        fd = _fd(dbapi_conn) if dbapi_conn is not None else None
        if fd is not None:
            self._watchdog.arm(id(dbapi_conn), fd, self._seconds(ping), ping)

    def disarm(self, dbapi_conn: Any) -> bool:
        return dbapi_conn is not None and self._watchdog.disarm(id(dbapi_conn))

    def _forget(self, dbapi_conn: Any, *_: Any) -> None:
        if dbapi_conn is not None:
            self.disarm(dbapi_conn)

    def install(self) -> None:
        engine, pool = self.engine, self.engine.pool

        @event.listens_for(engine, "do_connect")
        def refuse_while_down(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]) -> None:
            if self._down_since is not None and not getattr(self._probing, "active", False):
                raise DatabaseUnavailable("the database is not answering; try again shortly")

        @event.listens_for(engine, "before_cursor_execute")
        def before(conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: bool) -> None:
            self.arm(_raw(conn))

        @event.listens_for(engine, "after_cursor_execute")
        def after(conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: bool) -> None:
            self.disarm(_raw(conn))

        @event.listens_for(engine, "commit")
        def commit(conn: Any) -> None:  # COMMIT waits for the server too
            self.arm(_raw(conn))

        @event.listens_for(engine, "rollback")
        def rollback(conn: Any) -> None:  # also on a connection invalidated meanwhile: then nothing to time
            self.arm(_raw(conn))

        @event.listens_for(engine, "begin")
        def begin(conn: Any) -> None:
            self.disarm(_raw(conn))

        @event.listens_for(engine, "handle_error")
        def failed(ctx: Any) -> None:
            if ctx.connection is None:  # connecting failed: refused, reset, timed out, or no such host
                if not getattr(self._probing, "active", False):
                    self.declare_outage(f"cannot connect ({type(ctx.original_exception).__name__})")
                return
            fairy = getattr(ctx.connection, "_dbapi_connection", None)  # not .connection: that would reconnect
            if fairy is not None and self.disarm(fairy.dbapi_connection):
                self.declare_outage("no answer to a ping")

        @event.listens_for(pool, "checkout")
        def ping(dbapi_conn: Any, record: Any, proxy: Any) -> None:
            # Instead of pool_pre_ping, whose SELECT 1 no event can time: a pooled connection that does not answer
            # within the limit is cut, the pool invalidated, and (the outage declared) no reconnect is waited for.
            self.arm(dbapi_conn, ping=True)
            try:
                cur = dbapi_conn.cursor()
                cur.execute("SELECT 1")
                cur.close()
            except Exception as e:
                if self.disarm(dbapi_conn):
                    self.declare_outage("no answer to a ping")
                raise exc.InvalidatePoolError() from e  # stale or cut: replace it (and every older one)
            self.disarm(dbapi_conn)

        @event.listens_for(pool, "reset")
        def reset(dbapi_conn: Any, record: Any, state: Any = None) -> None:
            self.arm(dbapi_conn)  # the rollback on return waits for the server too

        # Disarmed before a connection's socket is closed, so a cut never reaches a file descriptor reused since.
        for name in ("checkin", "invalidate", "soft_invalidate", "close", "close_detached", "detach"):
            event.listen(pool, name, self._forget)

        _guards[engine] = self


def _raw(conn: Any) -> Any:
    """The DBAPI connection under a SQLAlchemy Connection, or None once that was invalidated or closed. Never
    `conn.connection`: on an invalidated connection it tries to reconnect, and inside the transaction it raises
    PendingRollbackError — from the rollback listener, that would replace the error being rolled back for."""
    try:
        fairy = conn._dbapi_connection
        return fairy.dbapi_connection if fairy is not None else None
    except Exception:  # noqa: BLE001 - a listener must never raise: no connection, nothing to time
        return None


def _fd(dbapi_conn: Any) -> int | None:
    pgconn = getattr(dbapi_conn, "pgconn", None)  # psycopg 3
    try:
        fd = pgconn.socket if pgconn is not None else None
    except Exception:  # noqa: BLE001 - a closed connection has no socket
        return None
    return fd if isinstance(fd, int) and fd >= 0 else None


_guards: weakref.WeakKeyDictionary[Engine, Guard] = weakref.WeakKeyDictionary()


def guard_of(engine: Engine) -> Guard | None:
    return _guards.get(engine)
