"""Files sent to the bot to import: an admin sends an XLSX or CSV (customers, products, stock… or a bank statement),
the bot checks it as `ordertalk import … --dry-run` would and answers with the counts and the problems; the card's
Import button applies exactly what was checked.

1. The message (in the core's transaction): only admins, only .xlsx/.csv, within the size limit; then "checking…",
   and an inbox job (kind `import`, keyed on the message's event) in the same transaction.
2. The job, after the commit (right away on a thread of this process — `Inbox.kick` — or by any worker after a
   crash): the file is downloaded with the platform's own API (its adapter's `FileSource`), kept in stored_files under
   the hash of its bytes with its check (`ImportCheck`, keyed on the event: a job run again finds it), its kind
   guessed from its headers (or asked), and checked; the check records the digest of what it would write, and the
   card goes out in the transaction that records which job answered (`summary["job"]`), so a job run again after a
   crash sends no second card.
3. Import (the button, in the core's transaction): an admin, the check valid and unused → status applying, and an
   inbox job keyed on the click; the job imports the stored file — refused unless its bytes still hash as checked —
   with the check's digest expected, and marks the check applied in the import's own transaction. A second press is
   refused. Choosing the kind (`import_as`) is a job the same way.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from datetime import timedelta
from functools import partial
from pathlib import PurePath
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot import files, import_checks
from bot.bank_import import ImportReport, import_bank_statement
from bot.cards.common import error_card
from bot.cards.imports import (
    BANK,
    PROBLEMS_SHOWN,
    applied_card,
    bank_check_card,
    kind_question_card,
    sheet_check_card,
    unreadable_card,
)
from bot.cards.model import Reply, Tone
from bot.context import BotContext
from bot.documents.bank_statement import StatementError, _header_index
from bot.documents.imports import KINDS, ImportResult, problems_file, run_import
from bot.documents.sheets import HEADER_SCAN_ROWS, SheetError, find_header, norm_header, open_sheet
from bot.handlers.base import Turn
from bot.i18n import Texts
from bot.inbox import TRANSIENT, Inbox
from bot.ports import FileTooLarge, FileUnavailable, InboundFile, ReplyTarget
from bot.records import ImportCheck
from bot.tokens import ActionToken
from bot.unit import run_unit
from domain.audit import Actor
from domain.errors import AlreadyDecided, DomainError, NotFound, PermissionDenied, ValidationFailed
from domain.models import User
from domain.permissions import may_import
from domain.uow import UnitOfWork

log = logging.getLogger("ordertalk.imports")

SUFFIXES = (".xlsx", ".xlsm", ".csv", ".txt")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIME = {".xlsx": XLSX, ".xlsm": XLSX, ".csv": "text/csv", ".txt": "text/plain"}
MAX_CHOICES = 4  # kind buttons offered (WeCom cards take at most 6 buttons)
JOB = "import"  # the inbox kind of the work a file, a kind chosen or an Import press leads to


def _dump(target: ReplyTarget | None) -> dict[str, Any] | None:
    return target.model_dump(mode="json") if target is not None else None


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{max(1, round(n / 1000))} KB"


def guess_kind(data: bytes, filename: str) -> list[str]:
    """The kinds the file's headers fit, best first: a sheet named like a template's (客户 / Customers…) decides; else
    the kinds whose required columns are all there, by how many columns they name; a bank statement when its header
    is one. One kind: certain; several equally good: ask."""
    try:
        first = []
        rows = open_sheet(data, filename)
        for item in rows.rows:
            first.append(item)
            if len(first) >= 30:
                break
    except SheetError:
        return []
    sheet = rows.sheet.strip().casefold()
    named = [k for k, kind in KINDS.items() if sheet in {kind.sheet("zh-CN").casefold(), kind.sheet_en.casefold(), k}]
    if len(named) == 1:
        return named
    scores: dict[str, int] = {}
    for name, kind in KINDS.items():
        known = {n: c.key for c in kind.columns for n in c.names()}
        header = find_header(first[:HEADER_SCAN_ROWS], set(known))
        if header is None:
            continue
        keys = {known[norm_header(v)] for v in header.columns.values()}
        if all(c.key in keys for c in kind.columns if c.required):
            scores[name] = len(keys)
    head, cols, _ = _header_index([r for _, r in first])
    if head is not None and cols is not None:
        scores[BANK] = 2 + len(cols.memo) + sum(x is not None for x in (cols.credit, cols.debit, cols.amount, cols.payer,
                                                                       cols.direction))
    best = sorted(scores, key=lambda k: -scores[k])
    if best and (len(best) == 1 or scores[best[0]] > scores[best[1]]):
        return best[:1]
    return best


class ChatImports:
    def __init__(self, sessions: sessionmaker[Session], ctx: BotContext, wake: Callable[[], None],
                 workers: int = 2) -> None:
        self.sessions, self.ctx, self.wake = sessions, ctx, wake
        self.kick: Callable[[int], None] | None = None  # Inbox.kick, set by the composition root
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ordertalk-import")
        self._running: set[Future[None]] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ running after the commit
    def run(self, job: Callable[[], None]) -> None:
        def guarded() -> None:
            try:
                job()
            except Exception:
                log.exception("import job failed")

        future = self._pool.submit(guarded)
        with self._lock:
            self._running.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._running.discard(future)

    def wait(self, timeout: float = 60.0) -> None:
        """Until every job started so far (and any it started) has finished: for tests and an orderly stop."""
        while True:
            with self._lock:
                pending = set(self._running)
            if not pending:
                return
            wait_all(pending, timeout=timeout)

    # ------------------------------------------------------------------ in the core's transaction
    def receive(self, turn: Turn, file: InboundFile, reply_to: ReplyTarget | None) -> list[Reply]:
        if not may_import(turn.user):
            return turn.error("Thank you — but only admins can import files. Please ask an admin to send {name}.",
                              name=file.name)
        if PurePath(file.name).suffix.lower() not in SUFFIXES:
            return turn.error("I can import .xlsx and .csv files (customers, products, stock… or a bank statement); "
                              "{name} is neither.", name=file.name)
        limit = self.ctx.settings.chat_import_max_bytes
        if file.size is not None and file.size > limit:
            return turn.error("{name} is {size}; I take files up to {limit}. Split it, or import it with 'ordertalk "
                              "import' on the server.", name=file.name, size=_mb(file.size), limit=_mb(limit))
        if reply_to is None or turn.platform not in self.ctx.file_sources:
            return turn.error("I cannot download files here; import it with 'ordertalk import' on the server.")
        self._enqueue(turn, "file", file=file.model_dump(mode="json"), reply_to=reply_to.model_dump(mode="json"))
        return turn.text("Checking {name}…", name=file.name)

    def check_as(self, turn: Turn, check_id: int, kind: str) -> list[Reply]:
        check = self._check_for(turn, check_id)
        if kind not in KINDS and kind != BANK:
            raise NotFound("No such kind of data")
        if check.status not in ("received", "checked", "failed"):
            raise AlreadyDecided("{name} was imported already; send it again to import it again", name=check.filename)
        self._enqueue(turn, "check", check=check.id, kind=kind, reply_to=_dump(turn.reply_to))
        return turn.text("Checking {name}…", name=check.filename)

    def apply(self, turn: Turn, check_id: int) -> list[Reply]:
        check = self._check_for(turn, check_id)
        if check.status in ("applying", "applied"):
            raise AlreadyDecided("{name} was imported already; send it again to import it again", name=check.filename)
        if check.status != "checked" or not check.digest:
            raise ValidationFailed("Nothing to import from {name}; fix it and send it again", name=check.filename)
        if check.expires_at is None or check.expires_at < turn.uow.now():
            raise ValidationFailed("This check of {name} has expired; send the file again", name=check.filename)
        if not import_checks.start_applying(turn.uow.session, check.id, turn.user.id):
            raise AlreadyDecided("{name} was imported already; send it again to import it again", name=check.filename)
        self._enqueue(turn, "apply", check=check.id, reply_to=_dump(turn.reply_to))
        return turn.text("Importing {name}…", name=check.filename)

    def _enqueue(self, turn: Turn, op: str, **payload: Any) -> None:
        """The job this turn leads to, in its transaction; after the commit it is kicked off on a thread here."""
        assert turn.event is not None, "an import job is keyed on the event that asked for it"
        row = Inbox.enqueue(turn.uow.session, turn.platform, f"{JOB}:{turn.event}", f"{JOB}:{turn.event}", JOB,
                            {"op": op, "event": turn.event, "platform": turn.platform, "user_id": turn.user.id,
                             **payload}, turn.uow.now())
        if row is not None and self.kick is not None:
            turn.later.append(partial(self.kick, row))

    def run_job(self, payload: dict[str, Any]) -> None:
        """An inbox job (`Inbox.register_raw(JOB, …)`): database trouble propagates (the inbox tries again)."""
        op, platform, job = payload["op"], payload["platform"], f"{JOB}:{payload['event']}"
        reply_to = ReplyTarget.model_validate(payload["reply_to"]) if payload.get("reply_to") else None
        if op == "file":
            assert reply_to is not None
            self._receive(payload["event"], platform, payload["user_id"], InboundFile.model_validate(payload["file"]),
                          reply_to)
        elif op == "check":
            self._check(payload["check"], payload["kind"], platform, reply_to, job)
        elif op == "apply":
            self._apply(payload["check"], platform, payload["user_id"], reply_to, job)
        else:
            raise ValueError(f"unknown import job {op!r}")

    def _check_for(self, turn: Turn, check_id: int) -> ImportCheck:
        if not may_import(turn.user):
            raise PermissionDenied("Only admins can import data")
        check = turn.uow.session.get(ImportCheck, check_id)
        if check is None:
            raise NotFound("No such import; send the file again")
        return check

    # ------------------------------------------------------------------ after the commit
    def _user(self, user_id: int) -> User:
        with self.sessions() as s:
            user = s.get(User, user_id)
            assert user is not None
            s.expunge(user)
        return user

    def _texts(self, user: User) -> Texts:
        return self.ctx.texts(user.locale)

    def _answer(self, platform: str, reply_to: ReplyTarget | None, user: User, replies: list[Reply],
                uow: UnitOfWork | None = None) -> None:
        """Where the message or click came from; a click answered inline (no reply target) gets the answer in the
        person's chat with the bot on that platform."""
        def queue(session: Session) -> None:
            if reply_to is not None:
                self.ctx.outbox.replies(session, platform, reply_to, user.id, replies)
                return
            for p, recipient in self.ctx.outbox.addresses(session, user):
                if p == platform:
                    for r in replies:
                        self.ctx.outbox.add(session, p, recipient, card=r.card, text=r.text, user_id=user.id)

        if uow is not None:
            queue(uow.session)
            return
        run_unit(self.ctx, self.sessions, lambda u: queue(u.session))
        self.wake()

    def _error(self, platform: str, reply_to: ReplyTarget | None, user: User, msgid: str, **params: object) -> None:
        t = self._texts(user)
        self._answer(platform, reply_to, user, [Reply(card=error_card(t, t.t(msgid, **params)))])

    def _receive(self, event: str, platform: str, user_id: int, file: InboundFile, reply_to: ReplyTarget) -> None:
        job = f"{JOB}:{event}"
        user = self._user(user_id)
        check = self._check_of(event)
        if check is None:  # not downloaded yet (a job run again after a crash finds what it stored)
            limit = self.ctx.settings.chat_import_max_bytes
            try:
                data = self.ctx.file_sources[platform].fetch(file, limit)
            except FileTooLarge:
                self._error(platform, reply_to, user, "{name} is larger than {limit}; split it, or import it with "
                            "'ordertalk import' on the server.", name=file.name, limit=_mb(limit))
                return
            except FileUnavailable as e:
                log.warning("could not download %s from %s: %s", file.name, platform, e)
                self._error(platform, reply_to, user, "I could not download {name}; please send it again.",
                            name=file.name)
                return
            check = self._keep(event, platform, user, file, data)
        elif import_checks.answered_by(check, job):
            return  # answered already
        data_kept = self._stored(check)
        if data_kept is None:
            self._error(platform, reply_to, user, "{name} is no longer kept; please send it again.", name=check.filename)
            return
        kinds = guess_kind(data_kept, check.filename)
        if len(kinds) == 1:
            self._check(check.id, kinds[0], platform, reply_to, job)
            return
        t = self._texts(user)
        if kinds:
            choices = [(k, self.ctx.signer.sign(ActionToken("import_as", check.id, 0, k))) for k in kinds[:MAX_CHOICES]]
            reply = Reply(card=kind_question_card(t, check.id, check.filename, choices))
        else:
            suffix = PurePath(check.filename).suffix.lower()
            reply = Reply(card=unreadable_card(t, check.id, check.filename, BANK if suffix == ".txt" else "customers",
                                               t.t("I could not tell what {name} holds: its first rows should be the "
                                                   "headers of one of the templates ('ordertalk import template'), "
                                                   "or of a bank statement.", name=check.filename)))
        def answer(uow: UnitOfWork) -> None:
            if import_checks.answering(uow.session, check.id, job):
                self._answer(platform, reply_to, user, [reply], uow)

        run_unit(self.ctx, self.sessions, answer)
        self.wake()

    def _check_of(self, event: str) -> ImportCheck | None:
        with self.sessions() as s:
            check = import_checks.by_event(s, event)
            if check is not None:
                s.expunge(check)
        return check

    def _keep(self, event: str, platform: str, user: User, file: InboundFile, data: bytes) -> ImportCheck:
        """The file under the hash of its bytes and its check keyed on the event, committed before it is checked."""
        sha = hashlib.sha256(data).hexdigest()
        suffix = PurePath(file.name).suffix.lower()
        def store(uow: UnitOfWork) -> None:
            stored = files.ensure(uow.session, f"import-{sha}",
                                  lambda: files.Rendered(data, MIME.get(suffix, "application/octet-stream"), file.name),
                                  uow.now())
            import_checks.keep(uow.session, user_id=user.id, platform=platform, filename=file.name,
                               file_key=stored.key, sha256=sha, event=event, now=uow.now())

        run_unit(self.ctx, self.sessions, store)  # None: a twin of this job (its lease ran out) stored it first
        check = self._check_of(event)
        assert check is not None
        return check

    def _stored(self, check: ImportCheck) -> bytes | None:
        with self.sessions() as s:
            found = files.get(s, check.file_key)
        if found is None or hashlib.sha256(found[1]).hexdigest() != check.sha256:
            return None
        return found[1]

    def _check(self, check_id: int, kind: str, platform: str, reply_to: ReplyTarget | None, job: str) -> None:
        try:
            self._check_file(check_id, kind, platform, reply_to, job)
        except TRANSIENT:
            raise
        except Exception:
            log.exception("check %s failed", check_id)
            with self.sessions() as s:
                user_id = s.get(ImportCheck, check_id).user_id  # type: ignore[union-attr]
            self._error(platform, reply_to, self._user(user_id),
                        "Something went wrong while checking the file; please send it again.")

    def _check_file(self, check_id: int, kind: str, platform: str, reply_to: ReplyTarget | None, job: str) -> None:
        with self.sessions() as s:
            check = s.get(ImportCheck, check_id)
            assert check is not None
            s.expunge(check)
        if import_checks.answered_by(check, job):
            return  # this job ran before, up to the card
        user = self._user(check.user_id)
        t = self._texts(user)
        data = self._stored(check)
        if data is None:
            self._error(platform, reply_to, user, "{name} is no longer kept; please send it again.", name=check.filename)
            return
        actor = Actor(user.id, platform)
        unreadable: str | None = None
        result: ImportResult | None = None
        report: ImportReport | None = None
        if kind == BANK:
            try:
                report = import_bank_statement(self.sessions, self.ctx, data, check.filename, user, actor, dry_run=True)
            except StatementError as e:
                unreadable = t.render(e.message)
        else:
            result = run_import(self.sessions, kind, data, check.filename, user=user, actor=actor,
                                today=self.ctx.today(), tz=self.ctx.settings.tz, dry_run=True, locale=user.locale,
                                clock=self.ctx.clock)
        def answer(uow: UnitOfWork) -> None:
            row = import_checks.answering(uow.session, check_id, job)
            if row is None:
                return
            now = uow.now()
            valid_until = now + timedelta(hours=self.ctx.settings.chat_import_valid_hours)
            row.kind, row.expires_at = kind, valid_until
            token = self.ctx.signer.sign(ActionToken("import_apply", check_id))
            if unreadable is not None:
                row.status, row.digest, row.summary = "failed", None, {"error": unreadable[:500], "jobs": row.summary["jobs"]}
                card = unreadable_card(t, check_id, check.filename, kind, unreadable)
            elif report is not None:
                doable = bool(report.recorded)
                row.status, row.digest = ("checked" if doable else "failed"), report.digest
                row.summary = {"recorded": len(report.recorded), "already": len(report.already),
                               "unmatched": len(report.unmatched), "total": str(report.total), "jobs": row.summary["jobs"]}
                card = bank_check_card(t, check_id, check.filename, report, token if doable else None, valid_until)
            else:
                assert result is not None
                doable = result.ok and (result.created + result.updated) > 0
                row.status, row.digest = ("checked" if doable else "failed"), result.digest
                row.summary = {"rows": result.rows, "created": result.created, "updated": result.updated,
                               "unchanged": result.unchanged, "problems": len(result.problems), "jobs": row.summary["jobs"]}
                problems: tuple[files.FileInfo | None, str | None] = (None, None)
                if len(result.problems) > PROBLEMS_SHOWN:
                    sheet = problems_file(result.problems, user.locale)
                    name = f"{PurePath(check.filename).stem}-problems.xlsx"
                    info = files.ensure(uow.session, "import-problems-" + hashlib.sha256(sheet).hexdigest()[:40],
                                        lambda: files.Rendered(sheet, XLSX, name), now)
                    problems = (info, self.ctx.file_url(info.key, "xlsx", user.locale))
                card = sheet_check_card(t, check_id, check.filename, result, token if doable else None, valid_until,
                                        problems)
            self._answer(platform, reply_to, user, [Reply(card=card)], uow)

        run_unit(self.ctx, self.sessions, answer)
        self.wake()

    def _apply(self, check_id: int, platform: str, user_id: int, reply_to: ReplyTarget | None, job: str) -> None:
        try:
            self._apply_checked(check_id, platform, user_id, reply_to, job)
        except TRANSIENT:
            raise
        except Exception:
            log.exception("import of check %s failed", check_id)
            run_unit(self.ctx, self.sessions, lambda uow: import_checks.apply_failed(uow.session, check_id))
            user = self._user(user_id)
            self._error(platform, reply_to, user, "Something went wrong while importing; please send the file again.")

    def _apply_checked(self, check_id: int, platform: str, user_id: int, reply_to: ReplyTarget | None,
                       job: str) -> None:
        with self.sessions() as s:
            check = s.get(ImportCheck, check_id)
            assert check is not None and check.kind is not None and check.digest is not None
            s.expunge(check)
        if import_checks.answered_by(check, job):
            return  # this job ran before, up to its answer
        user = self._user(user_id)
        t = self._texts(user)
        actor = Actor(user.id, platform)
        data = self._stored(check)
        lines: list[str]
        ok = False
        if check.status == "applied":  # this job imported it, then stopped before it answered (a crash)
            ok, lines = True, [t.t("{name} was imported already; send it again to import it again", name=check.filename)]
        elif data is None:
            lines = [t.t("{name} is no longer kept as it was checked; nothing was written. Send it again.",
                         name=check.filename)]
        elif check.kind == BANK:
            try:
                report = import_bank_statement(self.sessions, self.ctx, data, check.filename, user, actor,
                                               expected_digest=check.digest)
            except StatementError as e:
                report, lines = None, [t.render(e.message)]
            if report is not None and report.changed:
                lines = [t.t("The statement matches differently now (payments were recorded meanwhile); nothing was "
                             "recorded. Send it again to check it again.")]
            elif report is not None:
                ok = True
                lines = [t.t("Recorded {n} payments, {total} in all; {refused} refused.", n=len(report.recorded),
                             total=t.money(report.total), refused=len(report.refused)),
                         *(t.t("Row {row} ({order}): {why}", row=m.line.row, order=m.order_number, why=why)
                           for m, why in report.refused[:PROBLEMS_SHOWN])]
        else:
            def mark_applied(uow: UnitOfWork) -> None:
                if not import_checks.applied(uow.session, check_id, uow.now()):
                    raise AlreadyDecided("{name} was imported already; send it again to import it again",
                                         name=check.filename)

            try:
                result = run_import(self.sessions, check.kind, data, check.filename, user=user, actor=actor,
                                    today=self.ctx.today(), tz=self.ctx.settings.tz, dry_run=False,
                                    expected_digest=check.digest, locale=user.locale, clock=self.ctx.clock,
                                    on_apply=mark_applied)
            except DomainError as e:
                result, lines = None, [t.render(e.message)]
            if result is not None:
                ok = result.applied
                lines = [result.summary(user.locale),
                         *(p.reason(user.locale) for p in result.problems[:PROBLEMS_SHOWN])]

        def answer(uow: UnitOfWork) -> None:
            row = import_checks.answering(uow.session, check_id, job)
            if row is None:
                return
            if row.status == "applying":  # the sheet import marked it applied itself, in its own transaction
                row.status = "applied" if ok else "failed"
                row.applied_at = uow.now() if ok else None
            card = applied_card(t, check_id, check.filename, lines, Tone.SUCCESS if ok else Tone.DANGER)
            self.ctx.outbox.update_everywhere(uow.session, f"import:{check_id}", lambda _uid: card.model_copy())
            self._answer(platform, reply_to, user, [Reply(text="\n".join(lines))], uow)

        run_unit(self.ctx, self.sessions, answer)
        self.wake()
