"""DingTalk callback JSON → the core's neutral InboundMessage / InboundAction (dingtalk.md §1.1, §5.6).

Pure functions on decoded dicts: the HTTP blueprint and the Stream handlers share them, so both transports
produce the same event ids and a redelivery over either is recognised by the core.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from pydantic import ValidationError

from adapters.dingtalk.files import inbound_file
from bot.ports import InboundAction, InboundMessage, ReplyTarget
from bot.tokens import BadToken, TokenSigner

log = logging.getLogger(__name__)

PLATFORM = "dingtalk"
TOKEN_PARAM = "token"  # the callback parameter our card templates put Button.token in (templates/*.json)

# A markdown card's button (no card template configured): a dtmd:// link that sends "<label> (#<token>)" as the
# user's own message. The token is one we signed (action@target@version@arg@signature), so the message is that click.
_CLICK = re.compile(r"\(#([a-z_]{1,20}@\d{1,12}@\d{1,12}@[A-Za-z0-9_-]{0,40}@[A-Za-z0-9_-]{1,40})\)\s*$")

# Leading @mentions left in a group message (DingTalk usually removes the robot's own one already).
_LEADING_MENTIONS = re.compile(r"^(?:\s*@\S+)+\s*")


class MalformedPayload(ValueError):
    """The JSON is not a DingTalk callback we understand; the transport answers 400 / a 400 ack."""


class UnsupportedMessage(MalformedPayload):
    """A genuine message of a kind the bot cannot read (picture, file…). Acknowledge, do not forward."""


# JSON can carry what no database stores: NUL (PostgreSQL refuses it) and lone surrogates (not encodable as UTF-8).
# DingTalk never sends them, so ids holding them are refused and free text loses them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NOT_IN_ID = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
MAX_ID_CHARS = 128  # real ids are far shorter; the outbox keeps a recipient id in 128 characters


def _str(d: dict[str, Any], key: str) -> str:
    value = d.get(key)
    return _clean(value.strip()) if isinstance(value, str) else ""


def _clean(text: str) -> str:
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))


def _id(d: dict[str, Any], key: str) -> str:
    """An id field, or "" when absent; MalformedPayload when it cannot be a DingTalk id."""
    value = d.get(key)
    if not isinstance(value, str):
        return ""
    value = value.strip()
    if len(value) > MAX_ID_CHARS or _NOT_IN_ID.search(value):
        raise MalformedPayload(f"{key} is not a valid id")
    return value


def _message_text(body: dict[str, Any]) -> str:
    msgtype = body.get("msgtype")
    if msgtype == "text":
        text = body.get("text")
        if not isinstance(text, dict) or not isinstance(text.get("content"), str):
            raise MalformedPayload("text message without text.content")
        return text["content"]
    content = body.get("content") if isinstance(body.get("content"), dict) else {}
    if msgtype == "richText":
        parts = content.get("richText")
        if isinstance(parts, list):
            return "".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))
    if msgtype == "audio" and isinstance(content.get("recognition"), str):
        return content["recognition"]  # speech-to-text: sales may ask by voice
    raise UnsupportedMessage(f"unsupported msgtype {msgtype!r}")


def parse_robot_message(body: Any) -> InboundMessage:
    """A robot message (HTTP body, or the decoded `data` of a Stream frame) → InboundMessage."""
    if not isinstance(body, dict):
        raise MalformedPayload("robot message is not a JSON object")
    msg_id = _id(body, "msgId")
    if not msg_id:
        raise MalformedPayload("robot message without msgId")
    conversation_type = str(body.get("conversationType", "1"))  # documented as the strings "1" / "2"
    is_group = conversation_type == "2"
    file = inbound_file(body)  # a file message: no text, the file to fetch
    text = "" if file is not None else _clean(_message_text(body)).strip()
    if is_group:
        text = _LEADING_MENTIONS.sub("", text)

    # senderStaffId is the org userId the send APIs accept. It is empty for external users and (per the docs)
    # before the robot is published; then we fall back to the encrypted senderId so the core can still answer
    # in the group — it will not map to an employee, so the core treats the sender as unknown.
    user_id = _id(body, "senderStaffId")
    if not user_id:
        user_id = _id(body, "senderId")
        if not user_id:
            raise MalformedPayload("robot message without senderStaffId / senderId")
        log.info("dingtalk message %s has no senderStaffId; using senderId", msg_id)

    extra: dict[str, str] = {}
    if _str(body, "sessionWebhook"):
        extra["sessionWebhook"] = _str(body, "sessionWebhook")
        if body.get("sessionWebhookExpiredTime") is not None:
            extra["sessionWebhookExpiredTime"] = _clean(str(body["sessionWebhookExpiredTime"]))
    if is_group:
        conversation_id = _id(body, "conversationId")
        if not conversation_id:
            raise MalformedPayload("group message without conversationId")
        reply_to = ReplyTarget(recipient=conversation_id, kind="group", extra=extra)
    else:
        reply_to = ReplyTarget(recipient=user_id, kind="user", extra=extra)

    return InboundMessage(
        platform=PLATFORM,
        external_user_id=user_id,
        text=text,
        event_id=f"dingtalk:msg:{msg_id}",
        reply_to=reply_to,
        display_name=_str(body, "senderNick") or None,
        file=file,
    )


def _json_field(body: dict[str, Any], key: str) -> dict[str, Any]:
    raw = body.get(key)
    if isinstance(raw, dict):  # tolerate an already-decoded object
        return raw
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise MalformedPayload(f"card callback {key} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedPayload(f"card callback {key} is not a JSON object")
    return value


def _flatten_inputs(params: dict[str, Any]) -> dict[str, str]:
    """Form values arrive in `params`, either flat or grouped under an object such as `form_data`."""
    inputs: dict[str, str] = {}
    for name, value in params.items():
        if name == TOKEN_PARAM:
            continue
        if isinstance(value, dict):
            inputs.update({k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                           for k, v in value.items()})
        elif isinstance(value, str):
            inputs[name] = value
        elif value is not None:
            inputs[name] = json.dumps(value, ensure_ascii=False)
    return {_clean(k): _clean(v) for k, v in inputs.items()}


def card_event_id(out_track_id: str, user_id: str, token: str, inputs: dict[str, str]) -> str:
    """One click, one key. A card callback carries no click id of its own, and one card takes many clicks: a
    colleague's on the same group card, a second partial shipment from the same task card. So the key covers the
    card, who clicked, which button (the token names action, target and version) and what the form held. A
    redelivery of one click repeats all of these, whichever transport and Stream messageId it comes under (DingTalk
    re-pushes an unacknowledged frame, not always under the same messageId), and so does a double tap."""
    click = json.dumps([out_track_id, user_id, token, sorted(inputs.items())])  # ASCII: even a lone surrogate encodes
    return "dingtalk:card:" + hashlib.sha256(click.encode()).hexdigest()[:40]


def parse_card_callback(body: Any) -> InboundAction:
    """A card button/form callback (HTTP body or decoded Stream `data`) → InboundAction."""
    if not isinstance(body, dict):
        raise MalformedPayload("card callback is not a JSON object")
    out_track_id = _id(body, "outTrackId")
    user_id = _id(body, "userId")
    if not out_track_id or not user_id:
        raise MalformedPayload("card callback without outTrackId / userId")
    # `content` and its twin `value` are JSON strings (§5.6); read whichever is present.
    content = _json_field(body, "content") or _json_field(body, "value")
    private = content.get("cardPrivateData")
    params = private.get("params") if isinstance(private, dict) else None
    if not isinstance(params, dict):
        raise MalformedPayload("card callback without cardPrivateData.params")
    token = params.get(TOKEN_PARAM)
    if not isinstance(token, str) or not token:
        raise MalformedPayload("card callback without a token parameter")
    inputs = _flatten_inputs(params)
    try:
        return InboundAction(
            platform=PLATFORM,
            external_user_id=user_id,
            token=token,
            inputs=inputs,
            event_id=card_event_id(out_track_id, user_id, token, inputs),
            reply_to=ReplyTarget(recipient=user_id, kind="user"),
        )
    except ValidationError as e:  # e.g. an overlong token, more or longer form inputs than any card of ours has
        err = e.errors()[0]
        raise MalformedPayload(f"card callback {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None


def verify_action_token(action: InboundAction, signer: TokenSigner) -> None:
    """Raise MalformedPayload unless the click carries a token we signed.

    DingTalk's request signature proves who sent the request, not that the params are ours: a tampered, invented or
    old-key token is refused here with a 4xx, before the core records or answers anything.
    """
    try:
        signer.verify(action.token)
    except BadToken:
        raise MalformedPayload("unknown or tampered action token") from None


def click_text(label: str, token: str) -> str:
    """What a markdown card's button sends as the user's message: its label (what the chat shows), then its token."""
    return f"{label} (#{token})"


def message_click(msg: InboundMessage, signer: TokenSigner) -> InboundAction | None:
    """The click a message stands for when it is a markdown card's button pressed (see `click_text`), else None.

    Only in a 1:1 chat (the robot hears a group message only when it @-mentions it, so group cards never carry such
    links); only a token we signed — any other text, or a token we did not sign, stays a message. DingTalk signs the
    callback and names the sender, so the click is that person's, exactly like a card callback."""
    if msg.file is not None or msg.reply_to is None or msg.reply_to.kind != "user":
        return None
    m = _CLICK.search(msg.text)
    if m is None:
        return None
    try:
        signer.verify(m.group(1))
    except BadToken:
        return None
    return InboundAction(platform=PLATFORM, external_user_id=msg.external_user_id, token=m.group(1), inputs={},
                         event_id=msg.event_id.replace(":msg:", ":msgclick:", 1), reply_to=msg.reply_to)
