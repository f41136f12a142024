"""Domain errors. Each carries a bilingual message a person can read, plus structured details."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, zh: str, en: str, **details: Any) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en
        self.details = details

    def message(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en


class NotFound(DomainError):
    code = "not_found"


class PermissionDenied(DomainError):
    code = "permission_denied"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class InsufficientStock(DomainError):
    code = "insufficient_stock"


class AlreadyDecided(DomainError):
    code = "already_decided"


class ValidationFailed(DomainError):
    code = "invalid"


class StaleVersion(DomainError):
    code = "stale"


class RulesError(Exception):
    """A broken approval-rules file: names the rule and the field."""
