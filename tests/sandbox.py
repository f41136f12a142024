"""A small driver for the sandbox JSON API: how the tests (and a person) talk to the bot."""

from __future__ import annotations

import itertools
from typing import Any

from bot.bootstrap import OrderTalk

_ids = itertools.count(1)


class Chat:
    def __init__(self, ot: OrderTalk) -> None:
        self.ot = ot
        self.client = ot.flask.test_client()
        self.users = {u["username"]: u["id"] for u in self.client.get("/sandbox/api/users").get_json()}

    def say(self, who: str, text: str, event_id: str | None = None) -> list[dict[str, Any]]:
        r = self.client.post("/sandbox/api/messages", json={"user": self.users[who], "text": text,
                                                            "event_id": event_id or f"m{next(_ids)}"})
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.get_json()["replies"]

    def click(self, who: str, token: str, inputs: dict[str, str] | None = None, event_id: str | None = None) -> list[dict[str, Any]]:
        r = self.client.post("/sandbox/api/actions", json={"user": self.users[who], "token": token, "inputs": inputs or {},
                                                           "event_id": event_id or f"a{next(_ids)}"})
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.get_json()["replies"]

    def inbox(self, who: str) -> list[dict[str, Any]]:
        self.ot.dispatcher.drain()
        return self.client.get(f"/sandbox/api/inbox?user={self.users[who]}").get_json()

    def cards(self, who: str, kind: str) -> list[dict[str, Any]]:
        return [i["card"] for i in self.inbox(who) if i.get("card") and i["card"]["kind"] == kind]


def text_of(replies: list[dict[str, Any]]) -> str:
    out = []
    for r in replies:
        if r.get("text"):
            out.append(r["text"])
        card = r.get("card")
        if card:
            out += [card["title"], card.get("subtitle") or ""] + [f"{f['label']}: {f['value']}" for f in card["fields"]] + card["text"]
            if card.get("table"):
                out += [" | ".join(row) for row in card["table"]["rows"]]
    return "\n".join(out)


def button(card: dict[str, Any], action: str) -> dict[str, Any]:
    return next(b for b in card["buttons"] if b["action"] == action)
