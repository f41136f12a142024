"""People in bulk (moving in from a staff list): users keyed by username, with roles, manager, warehouse and the
ids that link them to DingTalk, WeCom and Slack. A staff list is small, so it is checked in one batch: a manager
may be a person further down the same sheet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from domain.audit import Actor, record
from domain.bulk import Action, Batch, check_importer, diff
from domain.errors import ValidationFailed
from domain.models import PlatformIdentity, Role, User, Warehouse
from domain.uow import UnitOfWork

LOCALES = ("zh-CN", "en")


@dataclass(frozen=True)
class UserRecord:
    row: int
    username: str
    display_name: str | None = None
    roles: frozenset[Role] | None = None
    manager: str | None = None  # username; "" = none
    warehouse: str | None = None  # warehouse code; "" = none
    locale: str | None = None
    email: str | None = None
    mobile: str | None = None
    identities: dict[str, str] | None = None  # platform → external id (only the given ones)


class UserImport:
    def __init__(self, uow: UnitOfWork, user: User | None, actor: Actor) -> None:
        check_importer(user)
        self.uow, self.actor = uow, actor

    def batch(self, records: Sequence[UserRecord], apply: bool) -> Batch:
        out = Batch()
        s = self.uow.session
        users = {u.username: u for u in s.scalars(select(User))}
        warehouses = {w.code.casefold(): w.id for w in s.scalars(select(Warehouse))}
        linked = {(i.platform, i.external_id): i.user_id for i in s.scalars(select(PlatformIdentity))}
        in_file = {r.username for r in records}
        plans: list[tuple[UserRecord, dict[str, Any], User | None]] = []
        for rec in records:
            current = users.get(rec.username)
            wanted: dict[str, Any] = {k: v for k, v in (("display_name", rec.display_name), ("locale", rec.locale),
                                                         ("email", rec.email), ("mobile", rec.mobile)) if v is not None}
            for k in ("email", "mobile"):
                if k in wanted:
                    wanted[k] = wanted[k] or None
            ok = True
            if rec.roles is not None:
                if not rec.roles:
                    out.problem(rec.row, "roles", "", "at least one role is needed")
                    ok = False
                wanted["roles_csv"] = ",".join(sorted(r.value for r in rec.roles))
            if current is None and (not rec.display_name or not rec.roles):
                out.problem(rec.row, "display_name" if not rec.display_name else "roles", "",
                            "a new user needs a name and a role")
                ok = False
            if rec.locale is not None and rec.locale not in LOCALES:
                out.problem(rec.row, "locale", rec.locale, "the language is zh-CN or en")
                ok = False
            if rec.manager:
                if rec.manager == rec.username:
                    out.problem(rec.row, "manager", rec.manager, "nobody is their own manager")
                    ok = False
                elif rec.manager not in users and rec.manager not in in_file:
                    out.problem(rec.row, "manager", rec.manager, "no such user (write the manager's username)")
                    ok = False
            if rec.warehouse:
                if rec.warehouse.casefold() not in warehouses:
                    out.problem(rec.row, "warehouse", rec.warehouse, "no warehouse with this code")
                    ok = False
                else:
                    wanted["warehouse_id"] = warehouses[rec.warehouse.casefold()]
            elif rec.warehouse == "":
                wanted["warehouse_id"] = None
            roles = rec.roles if rec.roles is not None else (current.roles if current else frozenset())
            has_wh = wanted["warehouse_id"] if "warehouse_id" in wanted else (current.warehouse_id if current else None)
            if Role.WAREHOUSE in roles and has_wh is None:
                out.problem(rec.row, "warehouse", rec.warehouse or "", "warehouse staff need their warehouse")
                ok = False
            for platform, ext in (rec.identities or {}).items():
                owner = linked.get((platform, ext))
                if owner is not None and (current is None or owner != current.id):
                    out.problem(rec.row, platform, ext, "this platform account is linked to another user")
                    ok = False
            if ok:
                plans.append((rec, wanted, current))
        have_ids = {(i.platform, i.user_id): i.external_id for i in s.scalars(select(PlatformIdentity))}
        ids = {u.id: u.username for u in users.values()}
        for rec, wanted, current in plans:
            if current is None:
                out.done(rec.row, rec.username, Action.CREATED)
                continue
            now = {"display_name": current.display_name, "locale": current.locale, "email": current.email,
                   "mobile": current.mobile, "roles_csv": current.roles_csv, "warehouse_id": current.warehouse_id}
            changes = diff(now, wanted)
            if rec.manager is not None and (ids.get(current.manager_id) if current.manager_id else "") != rec.manager:
                changes["manager"] = (ids.get(current.manager_id, "") if current.manager_id else "", rec.manager)
            for platform, ext in (rec.identities or {}).items():
                if have_ids.get((platform, current.id)) != ext:
                    changes[platform] = (have_ids.get((platform, current.id), ""), ext)
            out.done(rec.row, rec.username, Action.UPDATED if changes else Action.UNCHANGED, changes)
        if apply and not out.problems:
            self._write(plans, users, out)
        return out

    def _write(self, plans: list[tuple[UserRecord, dict[str, Any], User | None]], users: dict[str, User], out: Batch) -> None:
        s = self.uow.session
        actions = {o.key: o for o in out.outcomes}
        new = [(rec, wanted) for rec, wanted, current in plans if current is None]
        ids = {u.username: u.id for u in users.values()}
        if new:
            made = s.scalars(insert(User).returning(User.id, sort_by_parameter_order=True),
                             [{"username": rec.username, "locale": "zh-CN", "active": True, **wanted} for rec, wanted in new]).all()
            ids |= {rec.username: uid for (rec, _), uid in zip(new, made, strict=True)}
        changed = [(rec, wanted, current) for rec, wanted, current in plans
                   if current is not None and actions[rec.username].action == Action.UPDATED]
        if changed:
            s.execute(update(User), [{"id": current.id, **wanted} for _, wanted, current in changed if wanted])
        managers = [{"id": ids[rec.username], "manager_id": ids[rec.manager] if rec.manager else None}
                    for rec, _, _ in plans if rec.manager is not None]
        if managers:
            s.execute(update(User), managers)
        for rec, _, _ in plans:
            for platform, ext in (rec.identities or {}).items():
                ident = s.scalar(select(PlatformIdentity).where(PlatformIdentity.platform == platform,
                                                                PlatformIdentity.user_id == ids[rec.username]))
                if ident is None:
                    s.add(PlatformIdentity(platform=platform, external_id=ext, user_id=ids[rec.username]))
                else:
                    ident.external_id = ext
        s.flush()
        for rec, _, current in changed:
            assert current is not None
            record(self.uow, None, self.actor, "imported_update", subject=f"user:{current.id}",
                   **{f: f"{a} → {b}" for f, (a, b) in actions[rec.username].changes.items()})


def add_user(uow: UnitOfWork, by: User | None, actor: Actor, username: str, display_name: str, roles: frozenset[Role],
             *, manager: str | None = None, warehouse: str | None = None, locale: str = "zh-CN",
             email: str | None = None) -> User:
    """One new user, checked exactly as a row of the staff list is (roles, manager, warehouse, language) and
    audited; refused when the username is taken. `by` None is the operator at the command line."""
    rec = UserRecord(0, username.strip(), display_name.strip(), roles, manager or None, warehouse or None, locale,
                     email or None)
    if not rec.username:
        raise ValidationFailed("The username is empty", field="username")
    if uow.session.scalar(select(User.id).where(User.username == rec.username)) is not None:
        raise ValidationFailed("User {username} exists already", username=rec.username, field="username")
    out = UserImport(uow, by, actor).batch([rec], apply=True)
    if out.problems:
        p = out.problems[0]
        raise ValidationFailed("{column} {value}: {reason}", column=p.column, value=p.value, reason=p.message,
                               field=p.column)
    user = uow.session.scalars(select(User).where(User.username == rec.username)).one()
    record(uow, None, actor, "user_added", subject=f"user:{user.id}", username=user.username,
           roles=",".join(sorted(r.value for r in roles)))
    return user
