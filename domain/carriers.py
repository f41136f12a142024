"""The carriers (快递公司) people name when they ship: one canonical name each (what is stored), its English name,
and what else people call it.

The shipping form offers the canonical names; a chat message may use any alias (Chinese name, English name or code,
any case). An unlisted carrier is typed in quotes and kept as written.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from domain.messages import Name

MAX_NAME = 50  # shipments.carrier


@dataclass(frozen=True)
class Carrier:
    name: str  # canonical: stored on shipments, offered by the form
    en: str  # what an English reader sees
    aliases: str = ""  # what else people call it, "|"-separated


KNOWN: tuple[Carrier, ...] = (
    Carrier(name="顺丰", en="SF Express", aliases="顺丰速运|顺丰快递|SF|SFExpress"),
    Carrier(name="中通", en="ZTO Express", aliases="中通快递|ZTO"),
    Carrier(name="圆通", en="YTO Express", aliases="圆通速递|圆通快递|YTO"),
    Carrier(name="韵达", en="Yunda Express", aliases="韵达快递|韵达速递|Yunda|YD"),
    Carrier(name="申通", en="STO Express", aliases="申通快递|STO"),
    Carrier(name="京东物流", en="JD Logistics", aliases="京东|京东快递|JD|JDL"),
    Carrier(name="德邦", en="Deppon", aliases="德邦快递|德邦物流|DBL"),
    Carrier(name="EMS", en="EMS", aliases="邮政EMS|中国邮政EMS"),
    Carrier(name="邮政", en="China Post", aliases="中国邮政|邮政快递"),
    Carrier(name="极兔", en="J&T Express", aliases="极兔速递|J&T|JT"),
)
CANONICAL: list[str] = [c.name for c in KNOWN]


def _key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


_ALIASES: dict[str, Carrier] = {_key(a): c for c in KNOWN for a in (c.name, c.en, *c.aliases.split("|"))}
# longest first, so "SF Express" wins over "SF" and "京东物流" over "京东"
ALIASES_LONGEST_FIRST: list[str] = sorted(_ALIASES, key=len, reverse=True)


def canonical(name: str) -> str | None:
    """The canonical name for any alias (case and width do not matter), or None when the carrier is not listed."""
    found = _ALIASES.get(_key(name))
    return found.name if found else None


def english(name: str) -> str | None:
    """The English name of a stored carrier, or None for one typed in quotes."""
    found = _ALIASES.get(_key(name))
    return found.en if found else None


def names() -> list[Name]:
    """The known carriers as a person reads them in a message (each in the reader's language)."""
    return [Name(c.name, c.en) for c in KNOWN]
