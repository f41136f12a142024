"""The `ordertalk` command: database, demo data, users, rules, the server, the worker, platform connections."""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
import time
from pathlib import Path
from typing import Any

import click

from bot.settings import Settings


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as e:  # a bad setting stops the start with its name, not a traceback
        raise click.ClickException("; ".join(f"ORDERTALK_{'_'.join(str(p) for p in err['loc']).upper()}: "
                                             f"{err['msg'].removeprefix('Value error, ')}" for err in e.errors())) from e


def _build(settings: Settings):
    from bot.bootstrap import build
    from bot.secret_key import SecretKeyError

    try:
        return build(settings)
    except SecretKeyError as e:
        raise click.ClickException(str(e)) from e


class _Main(click.Group):
    """The core's commands, and each installed platform's own (its descriptor's `commands`, adapters/platform.py),
    read when the command line is parsed."""

    def _platform_commands(self) -> dict[str, click.Command]:
        from adapters.platform import Cli
        from bot import platforms

        hooks = Cli(settings=_settings, build=_build, start=_start)
        return {c.name or "": c for p in platforms.installed() if p.commands is not None for c in p.commands(hooks)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._platform_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._platform_commands().get(cmd_name)


def _linkable() -> list[str]:
    from bot import platforms

    return [p.name for p in platforms.installed() if p.links_people]


def _with_directory() -> list[str]:
    from bot import platforms

    return [p.name for p in platforms.installed() if p.directory is not None]


class _Choice(click.Choice):
    """A choice of installed platforms, read when the command runs (the list is bot/platforms.py's)."""

    def __init__(self, names: Any) -> None:
        self._names = names
        super().__init__([])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        self.choices = self._names()
        return super().convert(value, param, ctx)

    def get_metavar(self, param: click.Parameter, *args: Any, **kwargs: Any) -> str | None:
        self.choices = self._names()
        return super().get_metavar(param, *args, **kwargs)


@click.group(cls=_Main)
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def main(verbose: bool) -> None:
    """OrderTalk: customer orders in DingTalk, WeCom and Slack."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot import redaction

    redaction.install()  # -v shows what libraries send; never a secret in it (the configured values join at build)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations (and, on a SQLite file, prepare the inbox's own file beside it)."""
    from bot.inbox import prepare_store
    from domain.db import inbox_url, make_engine
    from domain.migrate import upgrade

    s = _settings()
    upgrade(s.database_url, revision)
    click.echo(f"database at {revision}: {s.database_url.split('@')[-1]}")
    if (own_file := inbox_url(s.database_url)) is not None:
        engine = make_engine(own_file)
        try:
            prepare_store(engine)
        finally:
            engine.dispose()
        click.echo(f"inbox at its schema: {own_file}")


@main.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def demo_data(if_empty: bool) -> None:
    """Load the demo company through the import path (users, 20 customers, 30 products, 2 warehouses, stock, opening
    balances, earlier orders), then ~200 live orders through the services."""
    from bot.demo import load_demo
    from domain.db import make_engine, make_session_factory

    s = _settings()
    engine = make_engine(s.database_url)
    bars: list = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(click.progressbar(length=total, label="demo orders", file=sys.stderr))
        bars[0].update(done - bars[0].pos)

    summary = load_demo(make_session_factory(engine), s, only_if_empty=if_empty, progress=progress)
    if bars:
        bars[0].render_finish()
    click.echo(summary)


@main.group()
def users() -> None:
    """Users and their platform identities."""


@users.command("add")
@click.argument("username")
@click.argument("display_name")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["sales", "sales_manager", "finance", "warehouse", "admin"]))
@click.option("--manager", default=None, help="Username of the manager (escalation).")
@click.option("--warehouse", default=None, help="Warehouse code, for warehouse staff.")
@click.option("--locale", default="zh-CN", type=click.Choice(["zh-CN", "en"]))
@click.option("--email", default=None)
def users_add(username: str, display_name: str, roles: tuple[str, ...], manager: str | None, warehouse: str | None,
              locale: str, email: str | None) -> None:
    """Add a user (checked as a row of the users sheet is, and audited)."""
    from bot.i18n import texts
    from domain.audit import Actor
    from domain.errors import DomainError
    from domain.models import Role
    from domain.people import add_user
    from domain.uow import UnitOfWork

    with UnitOfWork(_sessions()) as uow:
        try:
            u = add_user(uow, None, Actor(None, "cli"), username, display_name, frozenset(Role(r) for r in roles),
                         manager=manager, warehouse=warehouse, locale=locale, email=email)
        except DomainError as e:
            raise click.ClickException(texts("en").render(e.message)) from e
        uow.commit()
        click.echo(f"added {username} (id {u.id})")


@users.command("list")
def users_list() -> None:
    """List users with roles and linked platforms."""
    from sqlalchemy import select

    from domain.models import User

    with _session() as s:
        for u in s.scalars(select(User).order_by(User.id)):
            links = ", ".join(f"{i.platform}:{i.external_id}" for i in u.identities)
            click.echo(f"{u.id:>4}  {u.username:<12} {u.display_name:<12} {','.join(sorted(r.value for r in u.roles)):<24} {links}")


@users.command("link")
@click.argument("username")
@click.argument("platform", type=_Choice(_linkable))
@click.argument("external_id")
def users_link(username: str, platform: str, external_id: str) -> None:
    """Link USERNAME to their id on PLATFORM (refused when the account or the user is linked elsewhere; audited)."""
    from bot.i18n import texts
    from domain.audit import Actor
    from domain.errors import DomainError
    from domain.linking import link_username
    from domain.uow import UnitOfWork

    with UnitOfWork(_sessions()) as uow:
        try:
            link_username(uow, None, Actor(None, "cli"), username, platform, external_id, linkable=_linkable())
        except DomainError as e:
            raise click.ClickException(texts("en").render(e.message)) from e
        uow.commit()
    click.echo(f"linked {username} ↔ {platform}:{external_id}")


@users.command("sync")
@click.argument("platform", type=_Choice(_with_directory))
@click.option("--dry-run", is_flag=True, help="Show what would be linked; link nothing.")
def users_sync(platform: str, dry_run: bool) -> None:
    """Read PLATFORM's directory and link users by e-mail, mobile or exact name; list what could not be matched.
    Nobody is linked on a guess: several candidates, or one person wanted by several accounts, are only listed."""
    from adapters.platform import DirectoryError
    from bot import platforms
    from bot.i18n import texts
    from domain.audit import Actor
    from domain.db import make_engine, make_session_factory
    from domain.errors import DomainError
    from domain.linking import apply_sync, plan_sync
    from domain.uow import UnitOfWork

    s = _settings()
    p = platforms.get(platform)
    own = s.own(p.settings)
    if not own.enabled or p.directory is None:
        raise click.ClickException(f"{platform} is not configured (see adapters/{platform}/README.md)")
    try:
        entries = p.directory(own)
    except DirectoryError as e:
        raise click.ClickException(f"cannot read the {platform} directory: {e}") from e
    uow = UnitOfWork(make_session_factory(make_engine(s.database_url)))
    with uow:
        plan = plan_sync(uow.session, platform, entries)
        verb = "would link" if dry_run else "linked"
        try:
            if not dry_run:
                apply_sync(uow, plan, None, Actor(None, "cli"))
                uow.commit()
        except DomainError as e:
            raise click.ClickException(texts("en").render(e.message)) from e

        def who(entry: Any) -> str:
            return " ".join(x for x in (entry.external_id, entry.name, entry.email, entry.mobile) if x)

        for m in plan.link:
            click.echo(f"{verb:>12}  {m.user.username:<12} ↔ {who(m.entry)}  (by {m.by})")
        for x in plan.ambiguous:
            users = ", ".join(u.username for u in x.users)
            why = "several users match" if x.reason == "ambiguous" else "several accounts match this user"
            click.echo(f"{'ambiguous':>12}  {who(x.entry)}  — {why} by {x.by}: {users}; link by hand")
        for x in plan.conflicts:
            why = (f"already linked to {x.users[0].username}" if x.reason == "id_linked"
                   else f"matches {x.users[0].username} (by {x.by}), who is linked to another {platform} account")
            click.echo(f"{'conflict':>12}  {who(x.entry)}  — {why}")
        for left in plan.unmatched:
            click.echo(f"{'unmatched':>12}  {who(left)}")
        click.echo(f"{len(plan.link)} {verb}, {len(plan.already)} already linked, {len(plan.ambiguous)} ambiguous, "
                   f"{len(plan.conflicts)} conflicts, {len(plan.unmatched)} unmatched ({len(entries)} in the directory)")


@main.group()
def rules() -> None:
    """Approval rules."""


@rules.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def rules_check(file: Path) -> None:
    """Validate a rules file and print the steps it defines."""
    from domain.errors import RulesError
    from domain.rules import load_rules

    try:
        rs = load_rules(file)
    except RulesError as e:
        click.echo(str(e), err=True)
        sys.exit(1)
    for r in rs.rules:
        when = r.when.model_dump(exclude_none=True) if r.when else "always"
        who = ",".join([*(x.value for x in r.step.approvers.roles), *r.step.approvers.users])
        step = r.step.title
        click.echo(f"ok  {r.name:<24} when {when} → {step.zh} / {step.en} [{r.step.mode}] {who}\n"
                   f"    {r.title.zh} / {r.title.en}")


@main.group()
def payments() -> None:
    """Record customer payments (finance)."""


def _finance_user(s, username: str | None):
    from sqlalchemy import select

    from domain.models import User

    if username is None:
        return None
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    return user


@payments.command("record")
@click.argument("order_number")
@click.argument("amount")
@click.option("--date", "paid_on", default=None, help="YYYY-MM-DD (or 昨天 / yesterday); default today in the configured time zone.")
@click.option("--method", default="transfer", show_default=True)
@click.option("--as", "username", default=None, help="Record as this user (must have the finance role).")
def payments_record(order_number: str, amount: str, paid_on: str | None, method: str, username: str | None) -> None:
    """Record a payment against an order (or an opening balance's reference); refuses more than the open amount."""
    from bot.notifications import publish
    from domain import fulfilment, parsing
    from domain.audit import Actor
    from domain.errors import DomainError
    from domain.messages import N_
    from domain.opening import opening_balance
    from domain.orders import get_order

    ot = _build(_settings())
    try:  # the same bounded reader as chat and forms: `12.000,50` is refused, never read as 12.00
        value = parsing.amount(amount, maximum=ot.settings.max_amount)
        day = parsing.calendar_date(paid_on, today=ot.ctx.today(), latest=ot.ctx.today(),
                                    what=N_("the payment date")) if paid_on else None
    except parsing.InputRefused as e:
        raise click.ClickException(ot.ctx.texts().render(e.message)) from e
    uow = ot.ctx.unit_of_work(ot.sessions)
    with uow:
        user = _finance_user(uow.session, username)
        actor = Actor(user.id if user else None, "cli")
        try:
            balance = opening_balance(uow.session, order_number)  # an old invoice moved in, paid now
            if balance is not None:
                fulfilment.pay_opening_balance(uow, balance, value, day or ot.ctx.today(), method, user, actor)
                uow.commit()
                click.echo(f"recorded {value:,.2f} for {balance.label}; still open {balance.open_amount:,.2f}")
                return
            order = get_order(uow.session, order_number)
            fulfilment.record_payment(uow, order, value, day or ot.ctx.today(), method, user, actor)
            publish(uow, ot.ctx)
            uow.commit()
        except DomainError as e:
            raise click.ClickException(ot.ctx.texts().render(e.message)) from e
        click.echo(f"recorded {value:,.2f} for {order.number}; still open {fulfilment.open_amount(uow.session, order.id):,.2f}")


@payments.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show the matches without recording anything.")
@click.option("--as", "username", default=None, help="Record as this user (must have the finance role).")
def payments_import(file: Path, dry_run: bool, username: str | None) -> None:
    """Import a bank statement (CSV or XLSX): matched by order number in the memo, else customer + exact amount."""
    from bot.bank_import import import_bank_statement
    from bot.documents.bank_statement import StatementError
    from bot.i18n import texts
    from domain.audit import Actor

    ot = _build(_settings())
    with ot.sessions() as s:
        user = _finance_user(s, username)
        if user is not None:
            s.expunge(user)
    try:
        report = import_bank_statement(ot.sessions, ot.ctx, file.read_bytes(), file.name, user,
                                       Actor(user.id if user else None, "import"), dry_run=dry_run)
    except StatementError as e:
        t = texts(user.locale if user is not None else ot.ctx.settings.default_locale)
        raise click.ClickException(t.t("cannot read {name}: {reason}", name=file.name, reason=e.message)) from e
    verb = "would record" if dry_run else "recorded"
    for m in report.recorded:
        click.echo(f"{verb:>12}  row {m.line.row:>4}  {m.order_number}  {m.amount:>14,.2f}  ({m.method})")
    for line in report.already:
        click.echo(f"{'already':>12}  row {line.row:>4}  {line.amount:>14,.2f}  {line.payer} {line.memo}")
    for m, why in report.refused:
        click.echo(f"{'refused':>12}  row {m.line.row:>4}  {m.order_number}  {m.amount:>14,.2f}  {why}")
    for u in report.unmatched:
        click.echo(f"{'unmatched':>12}  row {u.line.row:>4}  {u.line.amount:>14,.2f}  {u.line.payer} {u.line.memo}  — {u.detail}")
    click.echo(f"{len(report.recorded)} {verb} ({report.total:,.2f}), {len(report.already)} already imported, "
               f"{len(report.refused)} refused, {len(report.unmatched)} unmatched")


KIND_NAMES = ("customers", "products", "warehouses", "stock", "users", "receivables", "orders")
LANG = click.Choice(["zh", "en"])


@main.group("import")
def import_group() -> None:
    """Move data in from XLSX or CSV (UTF-8 or GBK): all or nothing, checked first with --dry-run."""


@import_group.command("template")
@click.argument("kind", type=click.Choice(KIND_NAMES))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", type=LANG, default="zh", show_default=True, help="Language of the headers and notes.")
def import_template(kind: str, file: Path, lang: str) -> None:
    """Write the template for KIND: headers, an example row, drop-downs, a sheet of notes."""
    from bot.documents.imports import template_for

    file.write_bytes(template_for(kind, lang))
    click.echo(f"template for {kind} written to {file}")


def _import_command(kind: str) -> click.Command:
    @click.command(kind, help=f"Import {kind} from FILE (.xlsx or .csv); nothing is written unless every row is right.")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
    @click.option("--as", "username", default=None, help="Import as this user (must be an admin).")
    @click.option("--lang", type=LANG, default=None, help="Language of the report (default: the configured one).")
    @click.option("--errors", "errors_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Also write the problems to this XLSX file.")
    def command(file: Path, dry_run: bool, username: str | None, lang: str | None, errors_file: Path | None) -> None:
        _run_import(kind, file, dry_run, username, lang, errors_file)

    return command


for _kind in KIND_NAMES:
    import_group.add_command(_import_command(_kind))


def _run_import(kind: str, file: Path, dry_run: bool, username: str | None, lang: str | None,
                errors_file: Path | None) -> None:
    from datetime import UTC, datetime

    from bot.documents.imports import problems_file, run_import
    from bot.i18n import texts
    from domain.audit import Actor
    from domain.db import make_engine, make_session_factory

    s = _settings()
    locale = {"zh": "zh-CN", "en": "en"}.get(lang or "", s.default_locale)
    sessions = make_session_factory(make_engine(s.database_url))
    with sessions() as session:
        user = _finance_user(session, username)  # any named user; the import itself checks the admin role
        if user is not None:
            session.expunge(user)
    bar: list = []

    def progress(done: int, total: int | None) -> None:
        if not bar and total and total > 2000:
            bar.append(click.progressbar(length=total, label=f"{kind}", file=sys.stderr))
            bar[0].__enter__()
        if bar:
            bar[0].update(max(0, min(done, bar[0].length) - bar[0].pos))

    result = run_import(sessions, kind, file, file.name, user=user, actor=Actor(user.id if user else None, "import"),
                        today=datetime.now(UTC).astimezone(s.tz).date(), tz=s.tz, dry_run=dry_run, progress=progress,
                        locale=locale)
    if bar:
        bar[0].__exit__(None, None, None)
    t = texts(locale)
    for p in result.problems:
        where = t.t("{sheet} row {row}", sheet=p.sheet, row=p.row) if p.row else p.sheet
        shown = t.t("'{value}'", value=p.value) if p.value else ""
        click.echo("  ".join(x for x in (where, p.column, shown, p.reason(locale)) if x), err=True)
    for o in result.changes[:20] if result.ok else []:
        what = ", ".join(f"{k}: {a or '—'} → {b or '—'}" for k, (a, b) in o.changes.items())
        click.echo("  " + t.t("update {key}: {changes}", key=o.key, changes=what))
    click.echo(result.summary(locale))
    if not result.ok:
        if errors_file is not None:
            errors_file.write_bytes(problems_file(result.problems, locale))
            click.echo(t.t("problems written to {file}", file=str(errors_file)))
        sys.exit(1)


@main.command("export")
@click.argument("kind", type=click.Choice(KIND_NAMES))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", type=LANG, default="zh", show_default=True, help="Language of the headers.")
def export_command(kind: str, file: Path, lang: str) -> None:
    """Write KIND to FILE.xlsx with the template's columns (edit it and import it back)."""
    from bot.documents.imports import export_kind

    s = _settings()
    with _session() as session:
        file.write_bytes(export_kind(session, kind, lang, s.tz))
    click.echo(f"{kind} exported to {file}")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(a[4][0]).is_loopback for a in socket.getaddrinfo(host, None))
        except OSError:
            return False


@main.command()
@click.option("--host", default=None, help="Default: ORDERTALK_HOST (127.0.0.1).")
@click.option("--port", default=None, type=int, help="Default: ORDERTALK_PORT (8000).")
def serve(host: str | None, port: int | None) -> None:
    """Run the web server (platform callbacks, the sandbox when enabled) with the dispatcher and scheduler."""
    from werkzeug.serving import run_simple


    s = _settings()
    host, port = host or s.host, port or s.port
    if s.sandbox and not _loopback(host):
        raise click.ClickException("the sandbox lets anyone act as anyone: it only listens on a loopback address "
                                   f"(got {host}); unset ORDERTALK_SANDBOX to serve publicly")
    s = s.model_copy(update={"host": host, "port": port})  # document links follow the address served on
    ot = _started(s)
    from bot import platforms

    if not s.public_url and any(s.own(p.settings).enabled for p in platforms.installed() if not p.is_sandbox):
        click.echo(f"note: ORDERTALK_PUBLIC_URL is unset, so document links point at {s.link_base()}; set it to the "
                   "address people reach this server on (behind a proxy, on a platform)")
    if s.sandbox:
        click.echo(f"sandbox: http://{host}:{port}/sandbox")
    try:
        run_simple(host, port, ot.flask, threaded=True, use_reloader=False)
    finally:
        ot.stop_background()


@main.command()
def worker() -> None:
    """Run the outbox dispatcher and the scheduler without the web server (production)."""

    s = _settings()
    ot = _started(s)
    click.echo(f"worker {ot.dispatcher.owner} running")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        ot.stop_background()


def _start(ot):
    """Refuse to run with a callback mode the deployment does not receive with, then start the background work."""
    from bot.receivers import ReceiverMismatch

    try:
        ot.check_receivers()
    except ReceiverMismatch as e:
        raise click.ClickException(str(e)) from e
    ot.start_background()
    return ot


def _started(s: Settings):

    return _start(_build(s))


def _sessions() -> Any:
    from domain.db import make_engine, make_session_factory

    return make_session_factory(make_engine(_settings().database_url))


def _session() -> Any:
    return _sessions()()


if __name__ == "__main__":
    main()
