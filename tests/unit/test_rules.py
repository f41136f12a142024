from __future__ import annotations

from decimal import Decimal

import pytest

from bot.settings import DEFAULT_RULES
from domain.errors import RulesError
from domain.rules import OrderFacts, load_rules, parse_rules, plan_steps


def facts(**kw: object) -> OrderFacts:
    base = dict(total=Decimal("1000"), max_discount=Decimal("0"), open_receivables=Decimal("0"),
                credit_limit=Decimal("100000"), customer_tier="B", first_order=False)
    base.update(kw)
    return OrderFacts(**base)  # type: ignore[arg-type]


def names(steps):
    return [(s.name, s.mode, s.reasons) for s in steps]


def test_default_rules():
    rules = load_rules(DEFAULT_RULES)
    assert names(plan_steps(rules, facts())) == [("销售经理审批", "any", ("sales_manager_review",))]
    big = plan_steps(rules, facts(total=Decimal("50000.01")))
    assert [s.reasons for s in big] == [("sales_manager_review",), ("large_order",)]
    # What people read comes from the file in both languages: the step's name and why it is there (no rule ids).
    assert (big[1].name, big[1].name_en) == ("财务审批", "Finance approval")
    assert [(t.zh, t.en) for t in big[1].reason_titles] == [("订单金额超过 5 万元", "Order total above 50,000")]
    assert len(plan_steps(rules, facts(total=Decimal("50000")))) == 1  # "above", not "at least"
    over = plan_steps(rules, facts(open_receivables=Decimal("99500"), total=Decimal("600")))
    assert over[1].reasons == ("over_credit_limit",)
    both = plan_steps(rules, facts(total=Decimal("60000"), credit_limit=Decimal("10")))
    assert len(both) == 2 and both[1].reasons == ("large_order", "over_credit_limit")  # merged, not doubled


@pytest.mark.parametrize(
    "cond, hit, miss",
    [
        ("{discount_above: 10}", {"max_discount": Decimal("10.01")}, {"max_discount": Decimal("10")}),
        ("{customer_tier: [C, D]}", {"customer_tier": "C"}, {"customer_tier": "A"}),
        ("{first_order: true}", {"first_order": True}, {"first_order": False}),
        ("{total_above: 5000, customer_tier: [A]}", {"total": Decimal("6000"), "customer_tier": "A"},
         {"total": Decimal("6000"), "customer_tier": "B"}),
    ],
)
def test_conditions(cond, hit, miss):
    rules = parse_rules(f"rules:\n - name: r\n   when: {cond}\n   title: {{zh: 规则, en: Rule}}\n   step: {{name: S, approvers: {{users: [wang]}}, mode: all}}\n")
    assert names(plan_steps(rules, facts(**hit))) == [("S", "all", ("r",))]
    assert plan_steps(rules, facts(**miss)) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("rules:\n - name: big\n   when: {total_over: 5}\n   title: {zh: 规则, en: Rule}\n   step: {name: S, approvers: {roles: [finance]}}\n",
         "rule 'big', field 'when.total_over'"),
        ("rules:\n - name: who\n   title: {zh: 规则, en: Rule}\n   step: {name: S, approvers: {roles: [boss]}}\n", "rule 'who', field 'step.approvers.roles.0'"),
        ("rules:\n - name: none\n   title: {zh: 规则, en: Rule}\n   step: {name: S, approvers: {}}\n", "rule 'none', field 'step.approvers'"),
        ("rules:\n - step: {name: S, approvers: {roles: [finance]}, mode: some}\n", "rule #1, field 'name'"),
        ("rules: [\n", "not valid YAML"),
    ],
)
def test_broken_rules_name_rule_and_field(text, expected):
    with pytest.raises(RulesError) as err:
        parse_rules(text, "rules.yaml")
    assert expected in str(err.value)


def test_conditions_are_data_not_code():
    with pytest.raises(RulesError):
        parse_rules("rules:\n - name: x\n   when: \"__import__('os').system('true')\"\n   title: {zh: 规则, en: Rule}\n   step: {name: S, approvers: {roles: [finance]}}\n")


def test_a_rule_needs_a_title_in_both_languages():
    with pytest.raises(RulesError) as e:
        parse_rules("rules:\n - name: nameless\n   step: {name: S, approvers: {roles: [finance]}}\n")
    assert "rule 'nameless', field 'title'" in str(e.value)
    with pytest.raises(RulesError) as e:
        parse_rules("rules:\n - name: half\n   title: {zh: 规则, en: ' '}\n   step: {name: S, approvers: {roles: [finance]}}\n")
    assert "rule 'half', field 'title'" in str(e.value)
