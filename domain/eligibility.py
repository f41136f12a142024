"""Who may decide an approval step: separation of duties, and eligibility in one's own right.

One rule, asked everywhere (step creation, delegation, escalation, decision): nobody decides a step of an order they
created (`orders.created_by_id`) or own as its sales person (`orders.sales_user_id`) — not directly, not as a delegate,
not by escalation. Beyond that, an approver must be able to decide the step in their own right: hold one of the
step's roles or be named in its rule. A delegate stands in for an away approver only when they qualify themselves;
escalation (the next level up, then an admin) is how someone outside the rule gets a step nobody else can decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.messages import Message, Name
from domain.models import ApprovalStep, Order, Role, User
from domain.rules import RuleSet


@dataclass(frozen=True)
class ApproverSpec:
    """The rule's choice of approvers for one step."""

    roles: frozenset[Role]
    users: frozenset[str]  # usernames

    def admits(self, user: User) -> bool:
        """`user` may decide the step in their own right (active, and one of its roles or named)."""
        return user.active and (bool(user.roles & self.roles) or user.username in self.users)

    @property
    def roles_csv(self) -> str:
        return ",".join(sorted(r.value for r in self.roles))

    @property
    def users_csv(self) -> str:
        return ",".join(sorted(self.users))

    @classmethod
    def of(cls, roles: Iterable[Role | str], users: Iterable[str]) -> ApproverSpec:
        return cls(frozenset(Role(r) for r in roles), frozenset(users))

    @classmethod
    def of_step(cls, step: ApprovalStep) -> ApproverSpec | None:
        """None for a step opened before the spec was stored (only separation of duties applies to it)."""
        if step.approver_roles is None and step.approver_users is None:
            return None
        return cls.of((r for r in (step.approver_roles or "").split(",") if r),
                      (u for u in (step.approver_users or "").split(",") if u))


def conflicted(order: Order, user: User) -> bool:
    """Separation of duties: the order's creator and its sales owner never decide its approval."""
    return user.id in (order.created_by_id, order.sales_user_id)


def may_act(order: Order, user: User) -> bool:
    return user.active and not conflicted(order, user)


def conflict_reason(order: Order, user: User) -> Message:
    if user.id == order.created_by_id and user.id == order.sales_user_id:
        return Message("you created and own this order")
    if user.id == order.created_by_id:
        return Message("you created this order")
    return Message("you are this order's sales owner")


def active_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)))


def escalation_targets(session: Session, order: Order, starting_from: Sequence[User], exclude: set[int]) -> list[User]:
    """The next level for a step nobody (else) can decide: for each of `starting_from`, the first manager up their
    chain who may act on this order; when the chain yields nobody, the active admins who may act."""
    found: dict[int, User] = {}
    for person in starting_from:
        seen = {person.id}
        boss = person.manager
        while boss is not None and boss.id not in seen:
            seen.add(boss.id)
            if may_act(order, boss) and boss.id not in exclude:
                found.setdefault(boss.id, boss)
                break
            boss = boss.manager
    if found:
        return list(found.values())
    return [u for u in active_users(session) if u.has_role(Role.ADMIN) and may_act(order, u) and u.id not in exclude]


def specs_for(rules: RuleSet, user: User) -> list[tuple[Name, ApproverSpec]]:
    """The steps of these rules that `user` could be asked to decide in their own right: (step name, spec)."""
    merged: dict[str, tuple[Name, set[Role], set[str]]] = {}
    for rule in rules.rules:
        title = rule.step.title
        _, roles, users = merged.setdefault(title.zh, (Name(title.zh, title.en), set(), set()))  # as plan_steps merges
        roles.update(rule.step.approvers.roles)
        users.update(rule.step.approvers.users)
    specs = [(name, ApproverSpec.of(roles, users)) for name, roles, users in merged.values()]
    return [(name, spec) for name, spec in specs if spec.admits(user)]


def eligible_delegates(session: Session, rules: RuleSet, user: User) -> tuple[list[Name], list[User]]:
    """(the steps `user` approves, the active people other than `user` who could decide every one of them)."""
    steps = specs_for(rules, user)
    people = [u for u in active_users(session) if u.id != user.id and all(spec.admits(u) for _, spec in steps)]
    return [name for name, _ in steps], people
