"""The fields of the customer and product forms, and the one-message form: `新建客户 名称=华兴 信用额度=5万`.

A field is named in a message the way the Excel template heads its column (bot.documents.imports.spec), in either
language, or by one of its aliases: what the form shows, the sheet's header and the message's key are one word.
`read_pairs` splits a message into the text before the first key (a customer or product to edit, or the new one's
name) and the (field, value) pairs; values are left as typed, to be read by the same reader as the form's inputs.
Keys are found before a `=` (or `:`), so a value may hold spaces, and a Chinese key may touch the value before it
(`名称=华兴电子信用额度=5万`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.documents.imports.spec import CUSTOMERS, PRODUCTS, Kind
from bot.documents.sheets import norm_header
from bot.i18n import tr
from domain.messages import N_, Message


@dataclass(frozen=True)
class FormField:
    name: str  # the input's name and the record field
    label: str  # msgid: the form's label and, in either language, the key in a message
    aliases: str = ""  # "|"-separated, beyond the import column's
    n: int | None = None  # a numbered field's number (contact 3's phone: 3), filled into its label

    @property
    def message(self) -> Message:
        """The label to show, with its number."""
        return Message(self.label, self._params)

    @property
    def _params(self) -> dict[str, Any]:
        return {"n": self.n} if self.n is not None else {}

    def keys(self) -> tuple[str, ...]:
        """The ways to name it in a message: its label in either language, its name, its aliases."""
        return (tr("en", self.label, **self._params), tr("zh-CN", self.label, **self._params), self.name,
                *self.aliases.split("|"))


def _from(kind: Kind, extra: dict[str, str], *more: FormField) -> tuple[FormField, ...]:
    out = [FormField(c.key, c.en, "|".join(x for x in (c.aliases, extra.get(c.key, "")) if x), c.n) for c in kind.columns]
    return tuple(out) + more


# A customer's contacts 2 … CONTACT_SLOTS are the import sheet's numbered columns (spec.CONTACT_PARTS), each part
# named with its number — 联系人3=…, phone 3=… — as the customer card numbers them.
CUSTOMER_FIELDS = _from(
    CUSTOMERS, {"name": "客户名称", "contact_phone": "mobile", "credit_limit": "credit", "tier": "级别",
                "payment_terms_days": "terms|账期天数", "sales": "owner|负责人"},
    FormField("remove_contact", N_("Remove contact"), "删除联系人|remove contact|delete contact"),
)
PRODUCT_FIELDS = _from(PRODUCTS, {"list_price": "单价|list", "price_A": "A价|price a|a price",
                                  "price_B": "B价|price b|b price", "price_C": "C价|price c|c price",
                                  "active": "on sale|在售"})


@lru_cache(maxsize=4)
def _names(which: str) -> dict[str, str]:
    """Every way to write a field's key (compared after norm_header) → the field."""
    table = CUSTOMER_FIELDS if which == "customer" else PRODUCT_FIELDS
    out: dict[str, str] = {}
    for f in table:
        for n in f.keys():
            if n and (key := norm_header(n)):
                out.setdefault(key, f.name)
    return out


class UnknownField(ValueError):
    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


class RepeatedField(ValueError):
    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


_SEP = re.compile(r"[=:]")
_LONGEST_KEY = 24


def _cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def _key_before(text: str, names: dict[str, str]) -> tuple[str, int] | None:
    """The longest known key that ends `text` and starts at a word boundary (a Chinese key may touch what is
    before it): (field, where the key starts)."""
    best = None
    for k in range(1, min(len(text), _LONGEST_KEY) + 1):
        start = len(text) - k
        cand = text[start:]
        if cand[0].isspace() or not (start == 0 or text[start - 1].isspace() or _cjk(cand[0])):
            continue
        found = names.get(norm_header(cand))
        if found is not None:
            best = (found, start)
    return best


def read_pairs(text: str, which: str) -> tuple[str, list[tuple[str, str]]]:
    """(head, [(field, value)…]) for `which` = "customer" | "product"; UnknownField for `word=` that names no field,
    RepeatedField for a field given twice."""
    names = _names(which)
    pairs: list[tuple[str, str]] = []
    head: str | None = None
    key: str | None = None
    start = 0  # where the current value (or the head) begins
    for m in _SEP.finditer(text):
        before = text[start:m.start()].rstrip()
        found = _key_before(before, names)
        if found is None:
            if m.group() == "=":
                word = before.split()[-1] if before.split() else "="
                raise UnknownField(word)
            continue  # "10:30" in a value
        field, at = found
        value = before[:at].strip()
        if key is None:
            head = value
        else:
            pairs.append((key, value))
        key, start = field, m.end()
    if key is None:
        return text.strip(), []
    pairs.append((key, text[start:].strip()))
    seen: set[str] = set()
    for f, _ in pairs:
        if f in seen:
            raise RepeatedField(f)
        seen.add(f)
    return head or "", pairs


def label_of(which: str, name: str) -> Message:
    table = CUSTOMER_FIELDS if which == "customer" else PRODUCT_FIELDS
    return next(f.message for f in table if f.name == name)
