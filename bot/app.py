"""The Flask app: health check, domain errors mapped to HTTP, and the adapters' blueprints (mounted by bootstrap).

A database outage is a 503 with Retry-After everywhere (platforms retry a callback they did not get a 2xx for, so
a message is delayed, never lost), with a sentence a person can read for the sandbox, and /healthz says so within
2 seconds whether the database refuses or silently drops packets.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Flask, g, jsonify, request
from pydantic import ValidationError
from sqlalchemy import Engine, text
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from bot.i18n import texts
from bot.inbox import INBOX_SCHEMA, store_schema
from bot.settings import Settings
from domain.db_guard import DatabaseUnavailable, guard_of, interactive
from domain.errors import DomainError, NotFound, PermissionDenied
from domain.messages import N_

RETRY_AFTER_SECONDS = 10
HEALTH_BUDGET_SECONDS = 1.5
UNAVAILABLE = N_("The database is not answering right now; nothing you sent is lost. Please try again in a moment.")


def create_app(settings: Settings, engine: Engine, inbox_engine: Engine | None = None) -> Flask:
    """`inbox_engine`: the inbox's own database (a SQLite file of its own, bot.inbox), reported beside the main one."""
    app = Flask("ordertalk")
    app.config["MAX_CONTENT_LENGTH"] = 1 * 1024 * 1024  # no callback of ours is near 1 MiB; refuse bigger bodies early
    guard = guard_of(engine)
    health = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")

    @app.before_request
    def time_limits() -> Any:
        if request.path == "/healthz":
            return None
        if guard is not None and not guard.available:
            raise DatabaseUnavailable("outage")  # fail fast: no request waits for a database known to be down
        if not request.path.startswith("/documents/"):  # documents may render for longer; they keep the default
            g.db_limit = interactive(settings.db_interactive_timeout)
            g.db_limit.__enter__()
        return None

    @app.teardown_request
    def end_time_limits(_exc: BaseException | None) -> None:
        limit = g.pop("db_limit", None)
        if limit is not None:
            limit.__exit__(None, None, None)

    def probe() -> tuple[str | None, dict[str, Any] | None]:
        with interactive(HEALTH_BUDGET_SECONDS), engine.connect() as c:
            c.execute(text("SELECT 1"))
            version = c.execute(text("SELECT version_num FROM alembic_version")).scalar()
        if inbox_engine is None:
            return version, None
        inbox: dict[str, Any] = {"database": inbox_engine.dialect.name}
        try:
            inbox["schema"] = store_schema(inbox_engine)
        except SQLAlchemyError as e:  # the main database answered: say which of the two did not
            inbox["error"] = type(e).__name__
        return version, inbox

    @app.get("/healthz")
    def healthz():
        name = engine.dialect.name
        if guard is not None and not guard.available:
            return _unavailable({"status": "error", "database": name, "error": "unavailable"})
        future = health.submit(probe)  # a connect that hangs must not hold the answer past the budget
        try:
            version, inbox = future.result(timeout=HEALTH_BUDGET_SECONDS)
        except FutureTimeout:
            return _unavailable({"status": "error", "database": name, "error": "timeout"})
        except (SQLAlchemyError, DatabaseUnavailable) as e:
            return _unavailable({"status": "error", "database": name, "error": type(e).__name__})
        if inbox is None:
            return jsonify({"status": "ok", "database": name, "schema": version})
        if inbox.get("schema") != INBOX_SCHEMA:  # unreachable, missing (never upgraded) or older than this code
            return _unavailable({"status": "error", "database": name, "schema": version, "inbox": inbox,
                                 "error": "inbox " + inbox.get("error", "schema")})
        return jsonify({"status": "ok", "database": name, "schema": version, "inbox": inbox})

    @app.errorhandler(DatabaseUnavailable)
    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def database_down(e: Exception):
        # `error` is what the sandbox page shows: both languages, as nobody is identified yet
        zh, en = texts("zh-CN").t(UNAVAILABLE), texts("en").t(UNAVAILABLE)
        return _unavailable({"error": f"{zh} {en}", "error_zh": zh, "error_en": en, "code": "database_unavailable"})

    @app.errorhandler(DomainError)
    def domain_error(e: DomainError):
        status = 404 if isinstance(e, NotFound) else 403 if isinstance(e, PermissionDenied) else 400
        return jsonify({"error": texts("en").render(e.message), "error_zh": texts("zh-CN").render(e.message),
                        "code": e.code}), status

    @app.errorhandler(ValidationError)
    def malformed(e: ValidationError):
        # An adapter parsed a callback into a port model that refused it: the caller sent something malformed.
        where = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()[:3])
        return jsonify({"error": f"malformed event ({where})", "code": "malformed"}), 400

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        return jsonify({"error": e.description, "code": e.name}), e.code or 500

    return app


def _unavailable(body: dict[str, Any]) -> Any:
    resp = jsonify(body)
    resp.status_code = 503
    resp.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return resp
