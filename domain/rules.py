"""Approval rules from YAML: structured conditions (never eval) → a sequence of approval steps."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from domain.errors import RulesError
from domain.models import Role


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total_above: Decimal | None = None
    discount_above: Decimal | None = None
    over_credit_limit: bool | None = None
    customer_tier: list[str] | None = None
    first_order: bool | None = None


class Approvers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[Role] = []
    users: list[str] = []

    @model_validator(mode="after")
    def _someone(self) -> Approvers:
        if not self.roles and not self.users:
            raise ValueError("needs at least one role or user")
        return self


class Title(BaseModel):
    """A text people read, in both languages."""

    model_config = ConfigDict(extra="forbid")

    zh: str
    en: str

    @model_validator(mode="after")
    def _filled(self) -> Title:
        if not self.zh.strip() or not self.en.strip():
            raise ValueError("needs both zh and en")
        return self


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Title | str  # a plain string is used in both languages
    approvers: Approvers
    mode: Literal["any", "all"] = "any"

    @property
    def title(self) -> Title:
        return self.name if isinstance(self.name, Title) else Title(zh=self.name, en=self.name)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str  # the rule's id: audit trail and `rules check`; never shown on a card
    title: Title  # what a person reads: why this order needs this step
    when: Condition | None = None
    step: StepSpec


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule]


@dataclass(frozen=True)
class OrderFacts:
    """What the conditions look at, computed by the order service."""

    total: Decimal
    max_discount: Decimal
    open_receivables: Decimal
    credit_limit: Decimal
    customer_tier: str
    first_order: bool

    @property
    def over_credit_limit(self) -> bool:
        return self.open_receivables + self.total > self.credit_limit


@dataclass(frozen=True)
class PlannedStep:
    name: str
    mode: str
    roles: tuple[Role, ...]
    users: tuple[str, ...]
    reasons: tuple[str, ...]  # rule ids
    name_en: str | None = None
    reason_titles: tuple[Title, ...] = ()


def matches(cond: Condition | None, f: OrderFacts) -> bool:
    if cond is None:
        return True
    checks = [
        cond.total_above is None or f.total > cond.total_above,
        cond.discount_above is None or f.max_discount > cond.discount_above,
        cond.over_credit_limit is None or f.over_credit_limit == cond.over_credit_limit,
        cond.customer_tier is None or f.customer_tier in cond.customer_tier,
        cond.first_order is None or f.first_order == cond.first_order,
    ]
    return all(checks)


def plan_steps(rules: RuleSet, facts: OrderFacts) -> list[PlannedStep]:
    steps: dict[str, PlannedStep] = {}
    for rule in rules.rules:
        if not matches(rule.when, facts):
            continue
        s = rule.step
        key = s.title.zh
        if key in steps:
            prev = steps[key]
            steps[key] = PlannedStep(
                prev.name,
                prev.mode,
                tuple(dict.fromkeys(prev.roles + tuple(s.approvers.roles))),
                tuple(dict.fromkeys(prev.users + tuple(s.approvers.users))),
                prev.reasons + (rule.name,),
                prev.name_en,
                prev.reason_titles + (rule.title,),
            )
        else:
            steps[key] = PlannedStep(
                s.title.zh, s.mode, tuple(s.approvers.roles), tuple(s.approvers.users), (rule.name,), s.title.en,
                (rule.title,),
            )
    return list(steps.values())


def parse_rules(text: str, source: str = "<rules>") -> RuleSet:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise RulesError(f"{source}: not valid YAML: {e}") from e
    try:
        return RuleSet.model_validate(data)
    except ValidationError as e:
        raise RulesError(_explain(source, data, e)) from e


def load_rules(path: Path) -> RuleSet:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RulesError(f"{path}: cannot read the rules file: {e.strerror}") from e
    return parse_rules(text, str(path))


def _explain(source: str, data: object, err: ValidationError) -> str:
    """Name the rule (by its `name`, else its position) and the field for every problem."""
    lines = []
    for problem in err.errors():
        loc = list(problem["loc"])
        where = ".".join(str(p) for p in loc)
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            idx = loc[1]
            name = None
            if isinstance(data, dict) and isinstance(data.get("rules"), list) and idx < len(data["rules"]):
                item = data["rules"][idx]
                name = item.get("name") if isinstance(item, dict) else None
            rule = f"rule '{name}'" if name else f"rule #{idx + 1}"
            field = ".".join(str(p) for p in loc[2:]) or "(whole rule)"
            lines.append(f"{source}: {rule}, field '{field}': {problem['msg']}")
        else:
            lines.append(f"{source}: field '{where or '(top level)'}': {problem['msg']}")
    return "\n".join(lines)
