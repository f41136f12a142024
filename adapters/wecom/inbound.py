"""Parse WeCom callback XML: the outer envelope and the decrypted message, into neutral inbound intents.

The outer envelope is parsed *before* its signature can be checked (the signature covers only `Encrypt`), so
all XML goes through defusedxml (no DTDs, no entities) and a size cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from adapters.wecom.files import inbound_file
from adapters.wecom.render import DONE_KEY
from bot.ports import CopyTicket, InboundAction, InboundMessage, ReplyTarget

PLATFORM = "wecom"
MAX_XML_BYTES = 64 * 1024  # a real callback is well under 4 KiB; anything far bigger is not WeCom


class MalformedXml(ValueError):
    """Not XML, forbidden XML constructs, or a required tag is missing."""


@dataclass(frozen=True)
class Envelope:
    to_user: str  # corp id
    encrypt: str
    agent_id: str | None


def _parse(xml: str | bytes) -> Element:
    if len(xml) > MAX_XML_BYTES:
        raise MalformedXml("XML too large")
    try:
        root = fromstring(xml, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedXml(f"unparsable XML: {type(exc).__name__}") from exc
    if root.tag != "xml":
        raise MalformedXml("root element is not <xml>")
    return root


def _text(root: Element, tag: str) -> str | None:
    node = root.find(tag)
    if node is None:
        return None
    return (node.text or "").strip()


def _required(root: Element, tag: str) -> str:
    value = _text(root, tag)
    if not value:
        raise MalformedXml(f"missing <{tag}>")
    return value


def parse_envelope(body: bytes) -> Envelope:
    root = _parse(body)
    return Envelope(
        to_user=_text(root, "ToUserName") or "",
        encrypt=_required(root, "Encrypt"),
        agent_id=_text(root, "AgentID"),
    )


@dataclass(frozen=True)
class Ignored:
    """A valid callback we acknowledge without waking the core (other msg types, enter_agent, subscribe…)."""

    reason: str


Parsed = InboundMessage | InboundAction | Ignored


def parse_message(xml: str) -> tuple[Parsed, str | None]:
    """Decrypted message XML → (intent, AgentID). Raises MalformedXml if it is not a WeCom message at all."""
    root = _parse(xml.encode("utf-8"))
    agent_id = _text(root, "AgentID")
    msg_type = _required(root, "MsgType")
    user = _required(root, "FromUserName")

    if msg_type == "text":
        # MsgId is the platform's id for this message: identical on every redelivery, so the core can dedup
        return (
            InboundMessage(
                platform=PLATFORM,
                external_user_id=user,
                text=_text(root, "Content") or "",
                event_id=f"wecom:msg:{_required(root, 'MsgId')}",
                reply_to=ReplyTarget(recipient=user),
            ),
            agent_id,
        )

    if msg_type == "file" and (file := inbound_file(root)) is not None:
        return (
            InboundMessage(platform=PLATFORM, external_user_id=user, text="", file=file,
                           event_id=f"wecom:msg:{_required(root, 'MsgId')}", reply_to=ReplyTarget(recipient=user)),
            agent_id,
        )

    if msg_type == "event":
        event = _text(root, "Event") or ""
        if event == "template_card_event":
            key = _required(root, "EventKey")
            if key == DONE_KEY:  # the greyed label of a decided card: nothing left to do
                return Ignored(reason="click on a decided card"), agent_id
            task_id = _text(root, "TaskId") or ""
            created = _required(root, "CreateTime")
            # Every click brings a fresh single-use ResponseCode (72 h) for update_template_card on the clicker's
            # copy of card TaskId: the core keeps it with that copy, and the next update of the copy uses it.
            response_code = _text(root, "ResponseCode")
            ticket = CopyTicket(code=response_code, handle=task_id) if response_code and task_id else None
            return (
                InboundAction(
                    platform=PLATFORM,
                    external_user_id=user,
                    token=key,
                    # events have no MsgId; the doc's dedup key is FromUserName + CreateTime, and TaskId +
                    # EventKey keep two different clicks within the same second apart
                    event_id=f"wecom:card:{user}:{created}:{task_id}:{key}",
                    inputs={},
                    reply_to=ReplyTarget(recipient=user),
                    ticket=ticket,
                ),
                agent_id,
            )
        return Ignored(reason=f"event {event or '?'}"), agent_id

    return Ignored(reason=f"msgtype {msg_type}"), agent_id
