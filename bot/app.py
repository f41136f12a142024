"""The Flask app: health check, domain errors mapped to HTTP, and the adapters' blueprints (mounted by bootstrap)."""

from __future__ import annotations

from flask import Flask, jsonify
from pydantic import ValidationError
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from bot.i18n import texts
from bot.settings import Settings
from domain.errors import DomainError, NotFound, PermissionDenied


def create_app(settings: Settings, engine: Engine) -> Flask:
    app = Flask("ordertalk")
    app.config["MAX_CONTENT_LENGTH"] = 1 * 1024 * 1024  # no callback of ours is near 1 MiB; refuse bigger bodies early

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        try:
            with engine.connect() as c:
                c.execute(text("SELECT 1"))
                version = c.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return jsonify({"status": "ok", "database": engine.dialect.name, "schema": version})
        except SQLAlchemyError as e:
            return jsonify({"status": "error", "database": engine.dialect.name, "error": type(e).__name__}), 503

    @app.errorhandler(DomainError)
    def domain_error(e: DomainError):  # type: ignore[no-untyped-def]
        status = 404 if isinstance(e, NotFound) else 403 if isinstance(e, PermissionDenied) else 400
        return jsonify({"error": texts("en").render(e.message), "error_zh": texts("zh-CN").render(e.message),
                        "code": e.code}), status

    @app.errorhandler(ValidationError)
    def malformed(e: ValidationError):  # type: ignore[no-untyped-def]
        # An adapter parsed a callback into a port model that refused it: the caller sent something malformed.
        where = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()[:3])
        return jsonify({"error": f"malformed event ({where})", "code": "malformed"}), 400

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):  # type: ignore[no-untyped-def]
        return jsonify({"error": e.description, "code": e.name}), e.code or 500

    return app
