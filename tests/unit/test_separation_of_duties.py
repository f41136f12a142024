"""Separation of duties in the domain: the creator and the sales owner of an order never decide its approval — not
directly, not as a delegate, not by escalation — and a delegate must qualify in their own right. Steps nobody else
may decide escalate (the next manager up, then an admin). When truly nobody may (admins told, the scheduler handing
the step on later) and the same refusals through the chat: tests/integration/test_separation_of_duties.py."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from domain import approvals, presence
from domain.audit import Actor, record_refusal
from domain.errors import DomainError, PermissionDenied, ValidationFailed
from domain.events import ApprovalRequested
from domain.models import ApprovalAssignment, AuditEntry, Role, StepStatus, User
from domain.orders import LineRequest, OrderRequest, Policy, create_order, get_order
from domain.rules import parse_rules
from domain.uow import UnitOfWork
from tests.i18n import en, zh
from tests.world import build_world, place, policy

TODAY = date(2026, 11, 23)


def rules(users: str) -> Policy:
    """One step whose only approvers are the named users."""
    text = (f"rules:\n - name: named\n   title: {{zh: 指定审批人, en: Named approvers}}\n"
            f"   step: {{name: {{zh: 指定审批, en: Named}}, approvers: {{users: [{users}]}}, mode: any}}\n")
    return Policy(parse_rules(text), "SO", TODAY)


def create(session_factory, clock, w, by: str, pol: Policy, for_sales: str | None = None):  # type: ignore[no-untyped-def]
    uow = UnitOfWork(session_factory, clock)
    with uow:
        creator = uow.session.get(User, w[by])
        req = OrderRequest(w["c1"], [LineRequest(w["p2"], 1)], sales_user_id=w[for_sales] if for_sales else None)
        order = create_order(uow, creator, req, pol, Actor(creator.id, "test"))
        events = list(uow.events)
        uow.commit()
        return order.number, events


def assigned(session_factory, number: str) -> dict[int, tuple[int | None, str | None]]:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        step = get_order(s, number).steps[0]
        return {a.user_id: (a.on_behalf_of_id, a.via) for a in step.assignments}


def decide(session_factory, clock, number: str, user_id: int, approve: bool = True) -> None:  # type: ignore[no-untyped-def]
    uow = UnitOfWork(session_factory, clock)
    with uow:
        step = get_order(uow.session, number).steps[0]
        user = uow.session.get(User, user_id)
        try:
            approvals.decide(uow, step.id, user, approve, Actor(user_id, "test"), None if approve else "不行")
        except DomainError as refused:  # what a caller's error path does: the refusal is audited on its own
            uow.rollback()
            record_refusal(uow, refused)
            uow.commit()
            raise
        uow.commit()


def refusals(session_factory) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == "refused")))


# ---------------------------------------------------------------- at step creation


def test_a_manager_placing_an_order_is_not_its_approver(session_factory, clock):
    w = build_world(session_factory)
    number, _ = create(session_factory, clock, w, "boss", policy())  # wang (sales manager) orders for 华兴
    assert assigned(session_factory, number) == {w["boss2"]: (None, "rule")}  # zhao only; wang is creator and owner
    with pytest.raises(PermissionDenied) as refused:  # and wang cannot decide it by any path
        decide(session_factory, clock, number, w["boss"])
    assert "您创建并负责这张订单" in zh(refused.value) and "nobody approves their own order" in en(refused.value)
    assert [r.details["why"] for r in refusals(session_factory)] == [en(refused.value).split(": ", 1)[1]]
    with session_factory() as s:
        assert get_order(s, number).status == "pending_approval"


def test_an_order_placed_for_someone_else_excludes_both_creator_and_owner(session_factory, clock):
    w = build_world(session_factory)
    pol = rules("wang, li, zhao")
    number, _ = create(session_factory, clock, w, "boss", pol, for_sales="sales")  # wang places it for li
    assert set(assigned(session_factory, number)) == {w["boss2"]}
    for who in ("boss", "sales"):
        with pytest.raises(PermissionDenied):
            decide(session_factory, clock, number, w[who])


def test_a_step_whose_only_approver_is_the_creator_escalates_to_their_manager(session_factory, clock):
    w = build_world(session_factory)
    number, events = create(session_factory, clock, w, "boss", rules("wang"))
    # wang's manager is the admin: the step goes one level up instead of back to wang or nowhere
    assert assigned(session_factory, number) == {w["admin"]: (None, "escalation")}
    assert [e.approver_ids for e in events if isinstance(e, ApprovalRequested)] == [(w["admin"],)]
    decide(session_factory, clock, number, w["admin"])
    with session_factory() as s:
        assert get_order(s, number).status == "approved"


def test_without_a_manager_the_step_escalates_to_an_admin(session_factory, clock):
    w = build_world(session_factory)
    number, _ = create(session_factory, clock, w, "boss2", rules("zhao"))  # zhao has no manager
    assert assigned(session_factory, number) == {w["admin"]: (None, "escalation")}


# ---------------------------------------------------------------- delegation


def _away(session_factory, clock, w, who: str, delegate: str) -> None:  # type: ignore[no-untyped-def]
    uow = UnitOfWork(session_factory, clock)
    with uow:
        user, d = uow.session.get(User, w[who]), uow.session.get(User, w[delegate])
        presence.set_away(uow, user, date(2026, 12, 5), d, TODAY, Actor(user.id, "test"), policy().rules)
        uow.commit()


@pytest.mark.parametrize(("who", "delegate", "steps", "eligible"), [
    ("boss", "sales", "「销售经理审批」", "赵经理"),  # 外出 至 12-05 转交 李四, from a manager
    ("boss", "fin", "「销售经理审批」", "赵经理"),  # finance cannot stand in for a sales manager
    ("boss", "admin", "「销售经理审批」", "赵经理"),
    ("fin", "boss", "「财务审批」", None),  # nobody else is finance
])
def test_an_ineligible_delegate_is_refused_naming_who_would_be(session_factory, clock, who, delegate, steps, eligible):
    w = build_world(session_factory)
    with pytest.raises(ValidationFailed) as refused:
        _away(session_factory, clock, w, who, delegate)
    assert steps in zh(refused.value) and "须能以自己的身份审批" in zh(refused.value)
    if eligible:
        assert zh(refused.value).endswith(f"可以转交给：{eligible}") and en(refused.value).endswith(f"Eligible: {eligible}")
    else:
        assert "目前没有其他人" in zh(refused.value) and "Nobody else" in en(refused.value)
    with session_factory() as s:
        assert s.get(User, w[who]).delegate_id is None  # nothing changed


def test_an_eligible_delegate_takes_over_new_steps(session_factory, clock):
    w = build_world(session_factory)
    _away(session_factory, clock, w, "boss", "boss2")
    number = place(session_factory, clock, w, "c1", [("p2", 1)])
    assert assigned(session_factory, number) == {w["boss2"]: (w["boss"], "delegate")}  # zhao, for the away wang
    rules_with_named = Policy(parse_rules(
        "rules:\n - name: board\n   title: {zh: 董事会, en: Board}\n"
        "   step: {name: 会签, approvers: {users: [wang, zhao]}, mode: all}\n"), "SO", TODAY)
    number, _ = create(session_factory, clock, w, "sales", rules_with_named)
    assert assigned(session_factory, number) == {w["boss2"]: (w["boss"], "delegate")}  # 会签: zhao decides for both


def test_a_delegate_who_created_the_order_never_gets_it(session_factory, clock):
    w = build_world(session_factory)
    _away(session_factory, clock, w, "boss", "boss2")
    number, _ = create(session_factory, clock, w, "boss2", policy())  # zhao, wang's delegate, places an order
    assert assigned(session_factory, number) == {w["boss"]: (None, "rule")}  # wang keeps it although away
    with pytest.raises(PermissionDenied):
        decide(session_factory, clock, number, w["boss2"])


def test_a_delegation_set_before_the_rule_existed_does_not_let_a_sales_person_approve_their_order(session_factory, clock):
    """The reported case: wang away with 李四 as delegate (stored before delegates were checked), 李四's order."""
    w = build_world(session_factory)
    with session_factory() as s:
        boss = s.get(User, w["boss"])
        boss.away_until, boss.delegate_id = date(2026, 12, 5), w["sales"]
        s.commit()
    number = place(session_factory, clock, w, "c1", [("p2", 1)])  # li's order, li's customer
    assert set(assigned(session_factory, number)) == {w["boss"], w["boss2"]}  # li is no delegate for it
    with session_factory() as s:  # ... and an assignment written for li before the fix carries no decision
        step = get_order(s, number).steps[0]
        s.add(ApprovalAssignment(step_id=step.id, user_id=w["sales"], on_behalf_of_id=w["boss"],
                                 status=StepStatus.PENDING.value, via=None))
        s.commit()
    with pytest.raises(PermissionDenied) as refused:
        decide(session_factory, clock, number, w["sales"])
    assert "您创建并负责这张订单" in zh(refused.value)
    with session_factory() as s:
        assert get_order(s, number).status == "pending_approval"


def test_a_rule_approver_who_lost_the_role_cannot_decide(session_factory, clock):
    w = build_world(session_factory)
    number = place(session_factory, clock, w, "c1", [("p2", 1)])
    with session_factory() as s:
        s.get(User, w["boss2"]).roles = {Role.SALES}
        s.commit()
    with pytest.raises(PermissionDenied) as refused:
        decide(session_factory, clock, number, w["boss2"])
    assert "不具备" in zh(refused.value) and "in your own right" in en(refused.value)
    decide(session_factory, clock, number, w["boss"])  # wang still can


# ---------------------------------------------------------------- escalation over time


def test_time_escalation_skips_a_manager_who_created_the_order(session_factory, clock):
    w = build_world(session_factory)
    with session_factory() as s:  # zhao reports to wang, wang to the admin
        s.get(User, w["boss2"]).manager_id = w["boss"]
        s.commit()
    number, _ = create(session_factory, clock, w, "boss", policy(), for_sales="sales")  # wang creates it for li
    assert set(assigned(session_factory, number)) == {w["boss2"]}
    uow = UnitOfWork(session_factory, clock)
    with uow:
        step = get_order(uow.session, number).steps[0]
        added = approvals.escalate(uow, step, Actor(None), TODAY)
        uow.commit()
    assert added == (w["admin"],)  # zhao's manager is wang, the creator: one further up
    assert assigned(session_factory, number)[w["admin"]] == (None, "escalation")
