"""A customer's contacts as chat, the import sheet and the export number them: the rules both paths apply (kept
apart from domain.customers, which the bulk import in domain.masterdata cannot import: it imports masterdata)."""

from __future__ import annotations

import re
from typing import NamedTuple

# A customer's contacts, numbered 1 … CONTACT_SLOTS (Contact.seq): the first is the import template's and the export's
# main contact; all of them are shown, added, edited and removed in chat (a Slack modal holds ten of them easily), and
# each has its numbered columns in the customers sheet.
CONTACT_SLOTS = 10
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class ContactFields(NamedTuple):
    """One contact slot; a field that is None stays as it is. (A NamedTuple: an import makes one per contact per row.)"""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    role: str | None = None


def valid_email(text: str) -> bool:
    """Looks like an e-mail address (an @, a dot after it, no spaces): what a contact's e-mail must be."""
    return _EMAIL.fullmatch(text) is not None


def contact_field(slot: int, part: str) -> str:
    """The field of contact `slot`'s `part` (name, phone, email, role): contact_name, contact2_phone…"""
    return f"contact_{part}" if slot == 1 else f"contact{slot}_{part}"
