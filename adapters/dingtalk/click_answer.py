"""What we answer a card click with, over HTTP or Stream (dingtalk.md §5.6).

DingTalk applies the answer to the card at once and wants it within 2 seconds. The decided card itself
reaches DingTalk later through the outbox (Delivery.op == "update"), so the answer must never carry data
that could overwrite it if the two arrive out of order:
- the core finished inside the budget → its update is already queued: answer with no change at all;
- the core is still working → mark the card `processing` (templates grey out their buttons); the queued
  update always sends processing="false" (render.card_params), and it cannot be queued before this answer
  leaves because the core has not finished yet.
"""

from __future__ import annotations

from typing import Any

CLICK_BUDGET_SECONDS = 1.5  # leaves half a second of DingTalk's 2-second limit for the network


def click_answer(core_finished: bool) -> dict[str, Any]:
    params = {} if core_finished else {"processing": "true"}
    return {
        "cardUpdateOptions": {"updateCardDataByKey": True, "updatePrivateDataByKey": True},
        "cardData": {"cardParamMap": params},
    }
