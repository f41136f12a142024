"""Callback bodies shaped like dingtalk.md §1.1 and §5.6 (values invented)."""

from __future__ import annotations

import json
from typing import Any


def robot_message(text: str = " 查订单 SO-20261122-0007", *, group: bool = True, msg_id: str = "msgQk3r9bT1xHn2Yd0aLq==",
                  staff_id: str = "sales0107", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "msgtype": "text", "text": {"content": text}, "msgId": msg_id, "createAt": 1723372800123,
        "conversationType": "2" if group else "1",
        "conversationId": "cidSales7yZ0kQ2vX9==" if group else "cidSingle01==",
        "senderId": "$:LWCP_v1:$A1b2C3d4E5==", "senderNick": "王五", "senderStaffId": staff_id,
        "senderCorpId": "dingcorp0001", "chatbotCorpId": "dingcorp0001",
        "chatbotUserId": "$:LWCP_v1:$RoBoT000==", "robotCode": "dingorderbot01",
        "isAdmin": False, "isInAtList": group, "atUsers": [{"dingtalkId": "$:LWCP_v1:$RoBoT000=="}],
        "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=5f2c",
        "sessionWebhookExpiredTime": 1723378200123,
    }
    if group:
        body["conversationTitle"] = "华东销售群"
    body.update(extra)
    return body


def card_click(token: str = "tok-approve-0007", *, out_track_id: str = "ot-7-abc", user_id: str = "mgr0003",
               extra_params: dict[str, Any] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"token": token, **(extra_params or {})}
    content = json.dumps({"cardPrivateData": {"actionIds": ["btn1"], "params": params}})
    return {"type": "actionCallback", "outTrackId": out_track_id, "corpId": "dingcorp0001", "userId": user_id,
            "userIdType": 1, "spaceType": "im", "spaceId": "cid01==", "extension": "{}",
            "content": content, "value": content}
