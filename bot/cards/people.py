"""Cards about people: the admins' card for someone who wrote in from an account no user is linked to."""

from __future__ import annotations

from bot.cards.model import Button, Card, CardKind, Field, Input, Option, Preset, Tone
from bot.i18n import Texts
from bot.tokens import ActionToken, TokenSigner
from domain.models import UnknownPerson, User

PRESETS = 5  # ready-made "this is …" choices, for platforms without a select (WeCom)
OPTIONS = 40  # choices in the select (Slack takes 100; a DingTalk card variable holds 1 KB)


def _fields(t: Texts, p: UnknownPerson) -> list[Field]:
    out = [Field(label=t.t("Platform"), value=p.platform), Field(label=t.t("Account"), value=p.external_id)]
    if p.display_name:
        out.insert(0, Field(label=t.t("Name"), value=p.display_name))
    if p.first_text:
        out.append(Field(label=t.t("First message"), value=p.first_text))
    return out


def unknown_person_card(t: Texts, signer: TokenSigner, p: UnknownPerson, candidates: list[User]) -> Card:
    link = signer.sign(ActionToken("link_person", p.id))
    return Card(
        kind=CardKind.UNKNOWN_PERSON, key=f"unknown:{p.id}", locale=t.tag, tone=Tone.INFO,
        title=t.t("Someone new is writing to OrderTalk"),
        subtitle=t.t("Which user is this? Link the account, or ignore it."),
        fields=_fields(t, p),
        buttons=[
            Button(action="link_person", label=t.t("Link to a user"), token=link, style="primary",
                   inputs=[Input(name="user", label=t.t("User"), kind="select",
                                 options=[Option(value=u.username, label=f"{u.display_name} ({u.username})")
                                          for u in candidates[:OPTIONS]])],
                   presets=[Preset(label=u.display_name, token=signer.sign(ActionToken("link_person", p.id, 0, str(u.id))))
                            for u in candidates[:PRESETS]]),
            Button(action="ignore_person", label=t.t("Ignore"), token=signer.sign(ActionToken("ignore_person", p.id))),
        ],
        data={"unknown": str(p.id)},
    )


def decided_card(t: Texts, p: UnknownPerson, line: str) -> Card:
    return Card(kind=CardKind.UNKNOWN_PERSON, key=f"unknown:{p.id}", locale=t.tag,
                tone=Tone.SUCCESS if p.status == "linked" else Tone.NEUTRAL,
                title=t.t("Someone new is writing to OrderTalk"), fields=_fields(t, p), text=[line],
                data={"unknown": str(p.id)})
