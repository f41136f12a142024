"""Fake platform directories on 127.0.0.1, answering in each platform's own response shapes and paging the way the
platforms page: Slack `users.list` (cursor in `response_metadata.next_cursor`, pages smaller than `limit` allowed),
DingTalk `topapi/v2/department/listsub` + `topapi/v2/user/list` (`has_more` / `next_cursor`, size ≤ 100), WeCom
`department/simplelist` + `user/list`. Every call needs the token the fake issued."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

SLACK_TOKEN = "xoxb-test-directory"
DINGTALK_KEY, DINGTALK_SECRET = "dingdirectory", "dingtalk-directory-secret"
WECOM_CORP, WECOM_SECRET = "wwdirectory", "wecom-directory-secret"


class Served:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()


def slack(members: list[dict[str, Any]], page: int = 3) -> Served:
    app = Flask("fake_slack_directory")
    served = Served.__new__(Served)

    @app.route("/api/users.list", methods=["GET", "POST"])
    def users_list() -> Any:
        args = {**request.args.to_dict(), **request.form.to_dict()}
        served.calls.append(("users.list", args))
        if request.headers.get("Authorization") != f"Bearer {SLACK_TOKEN}":
            return jsonify({"ok": False, "error": "invalid_auth"})
        start = int(args.get("cursor") or 0)
        size = min(page, int(args.get("limit") or 1000))
        chunk = members[start:start + size]
        if args.get("include_locale") not in ("1", "true", "True"):
            chunk = [{k: v for k, v in m.items() if k != "locale"} for m in chunk]
        nxt = str(start + size) if start + size < len(members) else ""
        return jsonify({"ok": True, "members": chunk, "cache_ts": 1712345678, "response_metadata": {"next_cursor": nxt}})

    Served.__init__(served, app)
    return served


def dingtalk(departments: dict[int, list[int]], users: dict[int, list[dict[str, Any]]], page: int = 2) -> Served:
    app = Flask("fake_dingtalk_directory")
    served = Served.__new__(Served)
    tokens: set[str] = set()

    @app.post("/v1.0/oauth2/accessToken")
    def token() -> Any:
        body = request.get_json(silent=True) or {}
        if body.get("appKey") != DINGTALK_KEY or body.get("appSecret") != DINGTALK_SECRET:
            return jsonify({"code": "invalidClientIdOrSecret", "message": "bad"}), 400
        tokens.add(tok := f"dt{len(tokens) + 1}")
        return jsonify({"accessToken": tok, "expireIn": 7200})

    def guard() -> Any:
        if request.args.get("access_token") not in tokens:
            return jsonify({"errcode": 40014, "errmsg": "不合法的access_token"})
        return None

    @app.post("/topapi/v2/department/listsub")
    def listsub() -> Any:
        if (e := guard()) is not None:
            return e
        body = request.get_json()
        served.calls.append(("listsub", body))
        dept = int(body.get("dept_id") or 1)
        if dept not in departments and dept not in users:
            return jsonify({"errcode": 60003, "errmsg": "部门不存在"})
        return jsonify({"errcode": 0, "errmsg": "ok", "request_id": "r1", "result": [
            {"dept_id": d, "name": f"部门{d}", "parent_id": dept, "create_dept_group": False, "auto_add_user": False}
            for d in departments.get(dept, [])]})

    @app.post("/topapi/v2/user/list")
    def user_list() -> Any:
        if (e := guard()) is not None:
            return e
        body = request.get_json()
        served.calls.append(("user/list", body))
        if not isinstance(body.get("size"), int) or not 1 <= body["size"] <= 100:
            return jsonify({"errcode": 40035, "errmsg": "不合法的参数 size"})
        people = users.get(int(body["dept_id"]), [])
        start, size = int(body.get("cursor") or 0), min(page, body["size"])
        chunk = people[start:start + size]
        more = start + size < len(people)
        result: dict[str, Any] = {"has_more": more, "list": [{"dept_id_list": [int(body["dept_id"])], "active": True,
                                                              "admin": False, "leader": False, **u} for u in chunk]}
        if more:
            result["next_cursor"] = start + size
        return jsonify({"errcode": 0, "errmsg": "ok", "request_id": "r2", "result": result})

    Served.__init__(served, app)
    return served


def wecom(departments: list[int], users: dict[int, list[dict[str, Any]]]) -> Served:
    app = Flask("fake_wecom_directory")
    served = Served.__new__(Served)
    tokens: set[str] = set()

    @app.get("/cgi-bin/gettoken")
    def gettoken() -> Any:
        if request.args.get("corpid") != WECOM_CORP or request.args.get("corpsecret") != WECOM_SECRET:
            return jsonify({"errcode": 40001, "errmsg": "invalid credential"})
        tokens.add(tok := f"wc{len(tokens) + 1}")
        return jsonify({"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": 7200})

    @app.get("/cgi-bin/department/simplelist")
    def simplelist() -> Any:
        if request.args.get("access_token") not in tokens:
            return jsonify({"errcode": 40014, "errmsg": "invalid access_token"})
        served.calls.append(("simplelist", request.args.to_dict()))
        return jsonify({"errcode": 0, "errmsg": "ok", "department_id": [
            {"id": d, "parentid": 0 if d == 1 else 1, "order": 100000000 - d} for d in departments]})

    @app.get("/cgi-bin/user/list")
    def user_list() -> Any:
        if request.args.get("access_token") not in tokens:
            return jsonify({"errcode": 40014, "errmsg": "invalid access_token"})
        served.calls.append(("user/list", request.args.to_dict()))
        dept = int(request.args.get("department_id", "0"))
        if dept not in departments:
            return jsonify({"errcode": 60123, "errmsg": "invalid party id"})
        return jsonify({"errcode": 0, "errmsg": "ok", "userlist": [
            {"department": [dept], "order": [0], "position": "", "gender": "0", "status": 1, **u} for u in users.get(dept, [])]})

    Served.__init__(served, app)
    return served
