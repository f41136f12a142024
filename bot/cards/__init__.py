"""Platform-neutral cards: what the bot shows, before any platform renders it."""

from bot.cards.model import Button, Card, Field, Input, LineTable, Option, Reply, Tone

__all__ = ["Button", "Card", "Field", "Input", "LineTable", "Option", "Reply", "Tone"]
