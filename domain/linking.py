"""Linking people to their platform accounts: match a platform's directory against the users, and the one command
that links a user to an account (audited, refused on any conflict).

Matching is by e-mail, then mobile, then exact name — the first of these that finds anyone decides, and it must find
exactly one person, who is matched by nobody else in the directory. Anything less certain is listed, never linked.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.audit import Actor, record
from domain.directory import check_linkable
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.models import PlatformIdentity, User
from domain.permissions import may_link_people
from domain.uow import UnitOfWork

BY_EMAIL, BY_MOBILE, BY_NAME = "email", "mobile", "name"


@dataclass(frozen=True)
class DirectoryEntry:
    """One person in a platform's directory, as the platform describes them."""

    external_id: str
    names: tuple[str, ...] = ()  # display name, real name… (any may match a user's name exactly)
    email: str = ""
    mobile: str = ""
    locale: str = ""

    @property
    def name(self) -> str:
        return next((n for n in self.names if n), "")


@dataclass(frozen=True)
class Match:
    entry: DirectoryEntry
    user: User
    by: str  # BY_EMAIL / BY_MOBILE / BY_NAME


@dataclass(frozen=True)
class Unlinkable:
    entry: DirectoryEntry
    users: tuple[User, ...]  # the candidates (several: ambiguous) or the user in the way (conflict)
    by: str
    reason: str  # "ambiguous" | "shared" (one user matched by several entries) | "user_linked" | "id_linked"


@dataclass
class SyncPlan:
    platform: str
    link: list[Match] = field(default_factory=list)
    already: list[Match] = field(default_factory=list)  # linked before, to this very person
    unmatched: list[DirectoryEntry] = field(default_factory=list)
    ambiguous: list[Unlinkable] = field(default_factory=list)  # several candidates, or a user wanted twice
    conflicts: list[Unlinkable] = field(default_factory=list)  # the user or the account is linked elsewhere


def norm_email(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().casefold()


def norm_mobile(value: str) -> str:
    """'+86 138-0000-0001' / '86-13800000001' / '13800000001' → '13800000001'; '' when it holds too few digits."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", value or ""))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if len(digits) >= 6 else ""


def norm_name(value: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value or "")).strip().casefold()


def _index(users: Iterable[User]) -> dict[str, dict[str, list[User]]]:
    idx: dict[str, dict[str, list[User]]] = {BY_EMAIL: defaultdict(list), BY_MOBILE: defaultdict(list),
                                             BY_NAME: defaultdict(list)}
    for u in users:
        for by, key in ((BY_EMAIL, norm_email(u.email or "")), (BY_MOBILE, norm_mobile(u.mobile or "")),
                        (BY_NAME, norm_name(u.display_name))):
            if key:
                idx[by][key].append(u)
    return idx


def _candidates(idx: dict[str, dict[str, list[User]]], entry: DirectoryEntry) -> tuple[str, list[User]]:
    keys = ((BY_EMAIL, [norm_email(entry.email)]), (BY_MOBILE, [norm_mobile(entry.mobile)]),
            (BY_NAME, [norm_name(n) for n in entry.names]))
    for by, values in keys:
        found: dict[int, User] = {}
        for v in values:
            for u in idx[by].get(v, []) if v else []:
                found[u.id] = u
        if found:
            return by, list(found.values())
    return "", []


def plan_sync(session: Session, platform: str, entries: Sequence[DirectoryEntry]) -> SyncPlan:
    """What linking this directory would do (the caller reads an installed platform's); nothing is changed."""
    users = list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)))
    by_id = {u.id: u for u in users}
    idents = list(session.scalars(select(PlatformIdentity).where(PlatformIdentity.platform == platform)))
    owner_of = {i.external_id: i.user_id for i in idents}
    account_of = {i.user_id: i.external_id for i in idents}
    idx = _index(users)
    plan = SyncPlan(platform)
    wanted: dict[int, list[Match]] = defaultdict(list)
    seen: set[str] = set()
    for entry in entries:
        if not entry.external_id or entry.external_id in seen:
            continue
        seen.add(entry.external_id)
        by, found = _candidates(idx, entry)
        owner = owner_of.get(entry.external_id)
        if owner is not None:
            owner_user = by_id.get(owner) or session.get(User, owner)
            assert owner_user is not None
            if not found or owner in {u.id for u in found}:
                plan.already.append(Match(entry, owner_user, by or "linked"))
            else:
                plan.conflicts.append(Unlinkable(entry, (owner_user,), by, "id_linked"))
            continue
        if not found:
            plan.unmatched.append(entry)
        elif len(found) > 1:
            plan.ambiguous.append(Unlinkable(entry, tuple(found), by, "ambiguous"))
        elif found[0].id in account_of:
            plan.conflicts.append(Unlinkable(entry, (found[0],), by, "user_linked"))
        else:
            wanted[found[0].id].append(Match(entry, found[0], by))
    for matches in wanted.values():
        if len(matches) == 1:
            plan.link.append(matches[0])
        else:  # two accounts claim one person: neither is certain
            plan.ambiguous.extend(Unlinkable(m.entry, (m.user,), m.by, "shared") for m in matches)
    plan.link.sort(key=lambda m: m.user.username)
    return plan


def admins(session: Session) -> list[User]:
    """Active admins: who is asked to link a stranger, or to look at a file sent in."""
    return [u for u in session.scalars(select(User).where(User.active.is_(True)).order_by(User.id))
            if may_link_people(u)]


def unlinked_users(session: Session, platform: str, name: str | None = None) -> list[User]:
    """Active users with no account on `platform` yet — the people a new account could be — those whose name is
    `name` first."""
    taken = select(PlatformIdentity.user_id).where(PlatformIdentity.platform == platform)
    users = list(session.scalars(select(User).where(User.active.is_(True), User.id.not_in(taken))
                                 .order_by(User.display_name, User.id)))
    wanted = norm_name(name or "")
    return sorted(users, key=lambda u: 0 if wanted and norm_name(u.display_name) == wanted else 1)


def link_identity(uow: UnitOfWork, by: User | None, actor: Actor, user_id: int, platform: str, external_id: str,
                  *, linkable: Collection[str], how: str = "manual") -> PlatformIdentity:
    """Link `user_id` to `external_id` on `platform`. `by` None is the operator at the command line. Refused when the
    account belongs to someone else or the user has another account on the platform; never commits."""
    if by is not None and not may_link_people(by):
        raise PermissionDenied("Only admins can link people to their accounts")
    check_linkable(platform, linkable)
    s = uow.session
    user = s.get(User, user_id)
    if user is None or not user.active:
        raise NotFound("No such user")
    taken = s.scalar(select(PlatformIdentity).where(PlatformIdentity.platform == platform,
                                                    PlatformIdentity.external_id == external_id))
    if taken is not None:
        if taken.user_id == user.id:
            return taken
        other = s.get(User, taken.user_id)
        raise ValidationFailed("This account is already linked to {name}", name=other.display_name if other else "?")
    mine = s.scalar(select(PlatformIdentity).where(PlatformIdentity.platform == platform,
                                                   PlatformIdentity.user_id == user.id))
    if mine is not None:
        raise ValidationFailed("{name} is already linked to another account on this platform ({external_id})",
                               name=user.display_name, external_id=mine.external_id)
    ident = PlatformIdentity(platform=platform, external_id=external_id, user_id=user.id)
    s.add(ident)
    s.flush()
    record(uow, None, actor, "linked", subject=f"user:{user.id}", platform=platform, external_id=external_id, how=how)
    return ident


def apply_sync(uow: UnitOfWork, plan: SyncPlan, by: User | None, actor: Actor) -> int:
    """Link every certain match of the plan; returns how many. Never commits."""
    for m in plan.link:
        # the plan was read from this platform's directory: an installed platform's
        link_identity(uow, by, actor, m.user.id, plan.platform, m.entry.external_id, linkable=(plan.platform,),
                      how=f"sync:{m.by}")
    return len(plan.link)


def link_username(uow: UnitOfWork, by: User | None, actor: Actor, username: str, platform: str, external_id: str,
                  *, linkable: Collection[str]) -> PlatformIdentity:
    """`link_identity` for the user named `username` (the command line's `ordertalk users link`)."""
    user_id = uow.session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise NotFound("No user {username}", username=username)
    return link_identity(uow, by, actor, user_id, platform, external_id, linkable=linkable, how="cli")
