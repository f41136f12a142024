"""HTTP routes for the documents linked from cards: delivery notes (PDF), statements (PDF, XLSX), and stored files
(a report's chart PNG and numbers XLSX, bot.files).

The link's signature is the permission (see bot.links); the handler that produced it checked the viewer's role.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from sqlalchemy.orm import Session, sessionmaker

from bot import document_sources, files
from bot.context import BotContext
from bot.documents import render_delivery_note_pdf, render_statement_pdf, render_statement_xlsx
from bot.links import BadLink
from domain import parsing
from domain.customers import customer_by_code
from domain.messages import N_

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def documents_blueprint(ctx: BotContext, sessions: sessionmaker[Session]) -> Blueprint:
    bp = Blueprint("documents", __name__, url_prefix="/documents")

    def check(path: str) -> str:
        assert ctx.links is not None
        try:
            ctx.links.verify(path, request.args.to_dict())
        except BadLink as e:
            abort(403, description=f"invalid or expired document link ({e}); ask the bot for a new one")
        lang = request.args.get("lang", ctx.settings.default_locale)
        return lang if lang in ("zh-CN", "en") else ctx.settings.default_locale

    def send(data: bytes, mime: str, filename: str) -> Response:
        resp = Response(data, mimetype=mime)
        resp.headers["Content-Disposition"] = f"inline; filename={filename}"
        resp.headers["Cache-Control"] = "private, no-store"
        return resp

    @bp.get("/delivery-note/<int:shipment_id>.pdf")
    def delivery_note(shipment_id: int) -> Response:
        lang = check(f"/documents/delivery-note/{shipment_id}")
        with sessions() as s:
            note = document_sources.delivery_note(s, shipment_id, ctx.settings.company_name, ctx.settings.tz)
        return send(render_delivery_note_pdf(note, lang), PDF, f"{note.note_number}.pdf")

    @bp.get("/statement/<code>.<fmt>")
    def statement(code: str, fmt: str) -> Response:
        if fmt not in ("pdf", "xlsx"):
            abort(404)
        lang = check(f"/documents/statement/{code}")
        if "start" not in request.args or "end" not in request.args:
            abort(400, description="start and end are required (YYYY-MM-DD)")
        # Signed by us, but read as strictly as anything typed: years 2000–2099, the end not before the start.
        # A refusal is a ValidationFailed, which the app answers with 400 and the reason.
        start = parsing.calendar_date(request.args["start"], today=ctx.today(), field="start")
        end = parsing.calendar_date(request.args["end"], today=ctx.today(), earliest=start, field="end",
                                    what=N_("the end date"))
        with sessions() as s:
            customer = customer_by_code(s, code)
            if customer is None:
                abort(404, description=f"no customer {code}")
            stmt = document_sources.statement(s, customer, start, end, ctx.settings.company_name, ctx.settings.tz,
                                              ctx.settings.currency)
        name = f"statement-{code}-{start}-{end}"
        if fmt == "pdf":
            return send(render_statement_pdf(stmt, lang), PDF, name + ".pdf")
        return send(render_statement_xlsx(stmt, lang), XLSX, name + ".xlsx")

    @bp.get("/files/<key>.<ext>")
    def stored_file(key: str, ext: str) -> Response:
        check(f"/documents/files/{key}")
        with sessions() as s:
            found = files.get(s, key)
        if found is None or not found[0].filename.endswith("." + ext):
            abort(404, description="this file is no longer kept; ask the bot for the report again")
        meta, data = found
        resp = send(data, meta.mime, meta.filename)
        resp.headers["Cache-Control"] = "private, max-age=86400, immutable"  # a key never changes its content
        return resp

    return bp
