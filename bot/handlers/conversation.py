"""Talk that is not a command yet: a greeting, and a message understood only in part."""

from __future__ import annotations

from bot import intents as it
from bot.cards.common import help_card
from bot.cards.model import Card, CardKind, Field, Reply, Tone
from bot.handlers.base import Turn


def greeting(turn: Turn) -> list[Reply]:
    return [Reply(text=turn.t("Hello, {name}! I am the order assistant; here is what I can do for you.",
                              name=turn.user.display_name),
                  card=help_card(turn.user, turn.texts, turn.ctx.today()))]


def partial(turn: Turn, p: it.Partial) -> list[Reply]:
    """Say what was understood and what is missing, with a command that would work."""
    x = turn.texts
    card = Card(kind=CardKind.PARTIAL, locale=turn.locale, tone=Tone.WARNING, title=turn.t("Almost there"),
                fields=[Field(label=turn.t("Understood"), value=x.render(p.understood)),
                        Field(label=turn.t("Missing"), value=x.render(p.missing))],
                text=[turn.t("For example: {example}", example=p.example)])
    return [Reply(card=card, ephemeral=True)]
