"""WeCom end to end with the real bot core: encrypted, signed callbacks over real HTTP into the whole app, the real
domain on SQLite (and PostgreSQL), and the outbox delivering to the fake WeCom API on localhost."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from adapters.wecom.crypto import WeComCrypto
from bot.records import CardCopy
from tests.e2e.wecom.conftest import AES_KEY, TOKEN
from tests.e2e.wecom.fake_api import CORP_ID
from tests.e2e.wecom.harness import WAREHOUSE_CHAT, SentCard, WeComDriver, running
from tests.e2e.wecom.test_crypto import A_ECHO
from tests.world import Clock

FIRST = "SO-20261123-0001"  # the first order number of the test clock's day


def money(amount: object) -> str:
    return f"¥{amount:,.2f}"


def submitted(wx: WeComDriver) -> tuple[SentCard, SentCard]:
    """li orders by chat; both sales managers (或签) get an approval card. Returns wang's and zhao's copy."""
    wx.say("li", "下单 华兴 SKU-001 x10")
    wx.drain()
    [wang], [zhao] = wx.cards("wang", FIRST), wx.cards("zhao", FIRST)
    return wang, zhao


# ---------------------------------------------------------------- 1. URL verification


def test_url_verification_through_the_real_app(wx: WeComDriver) -> None:
    before = wx.snapshot()
    # the official vector A (same Token / EncodingAESKey / corp id as our settings), query encoded as WeCom does
    q = urllib.parse.urlencode({"msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
                                "timestamp": "1476416373", "nonce": "47744683", "echostr": A_ECHO})
    assert "%2B" in q and "%2F" in q and "%3D" in q
    r = wx.http.get(f"{wx.url}/wecom/callback?{q}", timeout=10)
    assert r.status_code == 200 and r.content == b"1288432023552776189"  # exactly the plaintext, no newline

    # a fresh echostr of our own
    echo = wx.crypto.encrypt("5927782489442352469")
    r = wx.http.get(f"{wx.url}/wecom/callback?{wx.query(echo)}&echostr={urllib.parse.quote(echo, safe='')}")
    assert r.status_code == 200 and r.text == "5927782489442352469"

    # signed with another Token, or encrypted for another company: refused, plaintext not revealed
    forged = wx.query(echo, sig=WeComCrypto("otherToken", AES_KEY, CORP_ID).sign("1795000000", "1372623149", echo))
    r = wx.http.get(f"{wx.url}/wecom/callback?{forged}&echostr={urllib.parse.quote(echo, safe='')}")
    assert r.status_code == 403 and "5927782489442352469" not in r.text
    stranger = WeComCrypto(TOKEN, AES_KEY, "ww9999999999999999").encrypt("42")
    r = wx.http.get(f"{wx.url}/wecom/callback?{wx.query(stranger)}&echostr={urllib.parse.quote(stranger, safe='')}")
    assert r.status_code == 403 and "-40005" in r.text
    assert wx.snapshot() == before and not wx.fake.calls  # verification touches neither the database nor the API


# ---------------------------------------------------------------- 2. status questions in chat


def test_encrypted_text_message_gets_the_order_status(wx: WeComDriver) -> None:
    wx.say("li", "下单 华兴 SKU-001 x10")
    wx.drain()
    total = money(wx.order_total(FIRST))
    [created] = wx.texts_to("li")
    assert FIRST in created and total in created and "已提交审批" in created

    for question in (f"订单 {FIRST}", f"where is {FIRST}"):
        before = len(wx.fake.sends)
        wx.say("li", question)
        wx.drain()
        [answer] = wx.fake.sends[before:]  # one answer, to the asker only
        assert answer["touser"] == "lisi" and answer["msgtype"] == "template_card"
        card = answer["template_card"]
        assert card["main_title"]["title"] == f"订单 {FIRST}" and card["main_title"]["desc"] == "待审批"
        rows = {r["keyname"]: r["value"] for r in card["horizontal_content_list"]}
        assert rows["金额"] == total and rows["状态"] == "待审批"
        assert "王经理" in card["sub_title_text"]  # who it waits for

    # an English-speaking salesperson asks in English and is answered in English
    wx.say("amy", "order ACME SKU-002 x1")
    wx.say("amy", "where is SO-20261123-0002")
    wx.drain()
    [status] = wx.cards("amy", "SO-20261123-0002")
    assert status.card["main_title"]["desc"] == "Pending approval"


def test_someone_not_linked_is_told_their_userid(wx: WeComDriver) -> None:
    wx.fake.users.add("stranger01")  # in the app's visible range, not yet linked to an OrderTalk user
    before = wx.snapshot()
    wx.say("stranger01", f"订单 {FIRST}")
    wx.drain()
    [told] = wx.texts_to("stranger01")
    assert "wecom / stranger01" in told and "管理员" in told
    after = wx.snapshot()
    assert after.orders == before.orders and after.audit == before.audit


# ---------------------------------------------------------------- 3. approval card: sent, clicked, decided, updated


def test_approval_card_clicked_decided_and_updated_for_every_approver(wx: WeComDriver) -> None:
    wang, zhao = submitted(wx)
    assert wang.task_id != zhao.task_id  # one card per approver, each with its own task_id and response_code
    assert wx.cards("qian") == [] and wx.cards("sun") == []
    total = money(wx.order_total(FIRST))
    assert total in wang.text and "同意" in wang.text

    wx.click("wang", wang, wang.key("approve"))
    order = wx.order(FIRST)
    assert order.status == "approved"
    assert order.steps[0].status == "approved" and order.steps[0].decided_by.username == "wang"
    [entry] = wx.audit("approve")
    assert entry.platform == "wecom" and entry.actor_id == wx.world["boss"]

    wx.drain()
    # every copy is replaced in place, same task_id: wang's with the fresh ResponseCode his click brought, zhao's
    # (nobody clicked it) with the one the send answer returned for that very copy (single-use; the fake refuses
    # reuse and codes of other cards)
    for card, code in ((wang, wx.click_codes[0]), (zhao, wx.send_code(zhao))):
        [update] = wx.updates_of(card)
        assert update["userids"] == [card.touser] and update["response_code"] == code
        assert update["template_card"]["replace_text"].startswith("已同意 · 王经理")
        assert update["template_card"]["button_list"][0]["key"] == "ordertalk-done"
    assert wx.fake.codes[wx.click_codes[0]].used and wx.fake.codes[wx.send_code(zhao)].used
    assert not wx.fake.codes[wx.send_code(wang)].used  # still good for one more change of wang's copy
    assert len(wx.cards("wang")) == len(wx.cards("zhao")) == 1  # no second card instead of the update
    assert any(f"订单 {FIRST} 已审批通过" in t for t in wx.texts_to("li"))
    assert [t for t in wx.texts_to("wang") if "已同意订单" in t] == [f"已同意订单 {FIRST}（{total}）"]

    # zhao's click raced the update: told who decided, nothing changes, no update without a code
    updates = len(wx.fake.updates)
    wx.click("zhao", zhao, zhao.key("approve"))
    wx.drain()
    assert len(wx.audit("approve")) == 1 and wx.order(FIRST).version == order.version
    assert any("已由 王经理" in t for t in wx.texts_to("zhao")) and len(wx.fake.updates) == updates


def test_card_decided_after_its_response_code_expired_gets_the_outcome_as_a_new_message(wx: WeComDriver) -> None:
    wang, zhao = submitted(wx)
    issued = time.time()
    wx.fake.now = lambda: issued + 73 * 3600  # response_code lives 72 h (wecom.md §5.3); the approver took longer
    wx.click("wang", wang, wang.key("approve"))
    wx.drain()
    assert wx.order(FIRST).status == "approved"
    # wang's click brought a fresh code: his copy is updated in place; zhao's only code is past its 72 h
    [update] = wx.fake.updates
    assert update["response_code"] == wx.click_codes[0] and update["template_card"]["task_id"] == wang.task_id
    assert wx.fake.calls.count(("message/update_template_card", 42022)) == 1
    assert any("已同意 · 王经理" in t for t in wx.texts_to("zhao"))  # zhao still sees who decided, as a new message
    assert wx.outbox("failed") == [] and wx.outbox("pending") == []


def test_rejection_by_preset_and_by_typed_reason(wx: WeComDriver) -> None:
    wang, zhao = submitted(wx)
    # "其他原因…": WeCom cards take no free text, so the bot asks and the next chat message is the reason
    wx.click("zhao", zhao, zhao.key("reject", "other"))
    wx.drain()
    assert wx.order(FIRST).status == "pending_approval"
    assert any("请直接回复" in t for t in wx.texts_to("zhao"))
    wx.say("zhao", "客户信用有问题")
    wx.drain()
    assert wx.order(FIRST).status == "pending_approval"  # the reason is echoed back first, with 确认驳回 / 取消
    [confirm] = wx.cards("zhao", "客户信用有问题")
    wx.click("zhao", confirm, confirm.key("confirm_reject"))
    order = wx.order(FIRST)
    assert order.status == "rejected" and order.steps[0].reason == "客户信用有问题"
    wx.drain()
    for card in (wang, zhao):
        [update] = wx.updates_of(card)
        assert update["template_card"]["replace_text"].startswith("已驳回 · 赵经理")
    assert any("客户信用有问题" in t for t in wx.texts_to("li"))

    # a second order, rejected with one tap on a preset reason
    wx.say("li", "下单 华兴 SKU-002 x1")
    wx.drain()
    [second] = wx.cards("wang", "SO-20261123-0002")
    wx.click("wang", second, second.key("reject", "price"))
    rejected = wx.order("SO-20261123-0002")
    assert rejected.status == "rejected" and rejected.steps[0].reason == "价格过低"


# ---------------------------------------------------------------- 4. the shipping task reaches the warehouse


def test_shipping_task_reaches_the_warehouse_after_approval(wx: WeComDriver) -> None:
    wang, _ = submitted(wx)
    assert wx.cards("sun") == [] and wx.fake.chat_sends == []  # nothing for the warehouse before approval
    wx.click("wang", wang, wang.key("approve"))
    wx.drain()
    [task] = wx.tasks()
    [card] = wx.cards("sun")  # warehouse staff of the order's warehouse (上海仓): a clickable card
    assert task.ref in card.text and FIRST in card.text and "¥" not in card.text  # no prices for the warehouse
    [group] = wx.fake.chat_sends  # and the warehouse app group chat: markdown, groups cannot click
    assert group["chatid"] == WAREHOUSE_CHAT and group["msgtype"] == "markdown"
    assert task.ref in group["markdown"]["content"] and "¥" not in group["markdown"]["content"]

    # the group is told where to act (their 1:1 chat), never a command a group message cannot deliver
    assert "请发送" not in group["markdown"]["content"] and "单聊" in group["markdown"]["content"]

    # sun claims on the card: claimed in the database, sun's copy updated in place, the group told anew
    wx.click("sun", card, card.key("claim"))
    assert wx.tasks()[0].claimed_by_id == wx.world["wh"]
    wx.drain()
    [update] = wx.updates_of(card)
    assert update["response_code"] == wx.click_codes[-1] and "孙仓管 已领取" in json.dumps(update, ensure_ascii=False)
    assert len(wx.fake.chat_sends) == 2 and "孙仓管 已领取" in wx.fake.chat_sends[1]["markdown"]["content"]

    # shipping needs a carrier and a tracking number: on WeCom that is the text command the card shows
    assert f"发货 {task.ref}" in json.dumps(update, ensure_ascii=False)
    wx.say("sun", f"发货 {task.ref} 顺丰 SF1234567890")
    wx.drain()
    assert wx.order(FIRST).status == "shipped"
    assert any("SF1234567890" in t for t in wx.texts_to("li"))
    # the same card again, in place, with the copy's remaining code (the send answer's): no new message
    claimed, shipped = wx.updates_of(card)
    assert shipped["response_code"] == wx.send_code(card) and shipped["template_card"]["task_id"] == card.task_id
    assert shipped["template_card"]["replace_text"] == "已发货"
    assert len(wx.cards("sun")) == 1 and not any("已发货" in t for t in wx.texts_to("sun"))
    assert wx.outbox("failed") == []


# ---------------------------------------------------------------- 5. token expiry and rate limits


@pytest.mark.parametrize(("how", "errcode"), [("expire", 42001), ("revoke", 40014)])
def test_rejected_token_is_refreshed_and_the_message_delivered_once(wx: WeComDriver, how: str, errcode: int) -> None:
    wx.say("li", "帮助")
    wx.drain()
    assert wx.fake.token_calls == 1
    wx.fake.expire_all_tokens() if how == "expire" else wx.fake.revoke_all_tokens()
    calls = len(wx.fake.calls)

    wx.say("li", "下单 华兴 SKU-001 x10")
    wx.drain()
    # the first call is refused for the token, a fresh token is fetched once, the same call succeeds; sends beside it
    # (the manager's approval card) that also went out with the old token are refused once each, and use the same one
    after = wx.fake.calls[calls:]
    assert after[0] == ("message/send", errcode) and set(after) == {("message/send", errcode), ("message/send", 0)}
    assert after.count(("message/send", errcode)) <= after.count(("message/send", 0))
    assert wx.fake.token_calls == 2
    assert sum(FIRST in t and "已创建" in t for t in wx.texts_to("li")) == 1
    row = next(r for r in wx.outbox() if r.recipient == "lisi" and r.card_key is None and "已创建" in str(r.payload))
    assert row.status == "delivered" and row.attempts == 1  # refreshed within the attempt, not a retry


@pytest.mark.parametrize(("errcode", "window"), [(45009, 60.0), (45033, 10.0), (-1, 0.0)])
def test_rate_limit_is_retried_later_by_the_dispatcher_and_delivered_once(
    wx: WeComDriver, clock: Clock, errcode: int, window: float
) -> None:
    wx.say("li", "帮助")
    wx.drain()
    wx.fake.faults_to["lisi"] = [errcode]  # li's answer (the manager's approval card goes out beside it)
    wx.say("li", "下单 华兴 SKU-001 x10")
    wx.say("li", f"订单 {FIRST}")  # queued behind it in the same conversation
    wx.drain()
    [waiting, behind] = wx.outbox("pending")
    assert waiting.recipient == behind.recipient == "lisi"
    assert str(errcode) in (waiting.last_error or "") and behind.attempts == 0  # order kept: nothing overtakes
    assert not any("已创建" in t for t in wx.texts_to("li"))
    if window:  # the frequency block is honoured: nothing is even tried before it ends
        calls = len(wx.fake.calls)
        clock.advance(seconds=window - 1)
        assert wx.drain() == 0 and len(wx.fake.calls) == calls

    clock.advance(seconds=window * 0.25 + 2)
    wx.drain()
    assert sum(FIRST in t and "已创建" in t for t in wx.texts_to("li")) == 1
    assert len(wx.cards("li", FIRST)) == 1  # the status answer followed, in order
    assert wx.outbox("pending") == [] and wx.outbox("failed") == []
    clock.advance(hours=1)
    assert wx.drain() == 0 and sum("已创建" in t for t in wx.texts_to("li")) == 1  # and never again


@pytest.fixture
def limited(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> Iterator[WeComDriver]:
    """`wx` with the client-side rate limits on (the test suite turns them off)."""
    with running(engine, db_url, clock, tmp_path, rate_limits=True) as driver:
        yield driver


def test_the_frequency_limit_holds_every_message_of_the_method_until_it_ends(limited: WeComDriver,
                                                                              clock: Clock) -> None:
    """45009 is the app's frequency limit for message/send, not one member's: once it is refused, the answers queued
    for other people wait out the minute (postponed, no try counted) instead of each being sent into the refusal;
    then each is delivered once."""
    wx = limited
    wx.say("li", "帮助")
    wx.drain()
    wx.fake.faults_to["lisi"] = [45009]
    wx.say("li", "帮助")
    wx.drain()
    [refused] = wx.outbox("pending")
    assert "45009" in (refused.last_error or "") and refused.attempts == 1
    calls = len(wx.fake.calls)
    for who in ("amy", "wang", "zhao"):
        wx.say(who, "帮助")
    wx.drain()
    assert not [c for c in wx.fake.calls[calls:] if c[0] == "message/send"]  # nothing sent into the refusal
    waiting = [r for r in wx.outbox("pending") if r.recipient != "lisi"]
    assert len(waiting) == 3 and all(r.attempts == 0 for r in waiting)

    clock.advance(seconds=61)
    wx.drain()
    assert wx.outbox("pending") == [] and wx.outbox("failed") == []
    sent = [c for c in wx.fake.calls[calls:] if c[0] == "message/send"]
    assert sent == [("message/send", 0)] * 4  # li's answer and the three others, once each


def test_two_approval_steps_claim_and_ship_each_update_the_same_card_in_place_with_the_clicks_code(
        wx: WeComDriver) -> None:
    """Over ACME's credit limit: sales manager, then finance; then the warehouse claims and ships. Every change lands on
    the card its person already has (update_template_card with the code of their click, or the copy's unused send
    code), never as a second card; the web process stores each click's code, the dispatcher uses it."""
    number = "SO-20261123-0001"
    wx.say("amy", "order ACME SKU-001 x100")  # 100 × 120.00 = 12,000 > the 10,000 credit limit
    wx.drain()
    [step1] = wx.cards("wang", number)
    assert wx.cards("qian") == []  # finance waits for the first step

    wx.click("wang", step1, step1.key("approve"))
    wx.drain()
    [decided] = wx.updates_of(step1)
    assert decided["response_code"] == wx.click_codes[-1] and "已同意 · 王经理" in decided["template_card"]["replace_text"]
    [step2] = wx.cards("qian", number)  # the second step's card, to finance
    assert "2/2" in step2.text

    wx.click("qian", step2, step2.key("approve"))
    wx.drain()
    [decided2] = wx.updates_of(step2)
    assert decided2["response_code"] == wx.click_codes[-1] and "已同意 · 钱会计" in decided2["template_card"]["replace_text"]
    assert wx.order(number).status == "approved"

    [task_card] = wx.cards("sun")  # 上海仓 holds the reserved screws
    wx.click("sun", task_card, task_card.key("claim"))
    wx.drain()
    ref = wx.tasks()[0].ref
    wx.say("sun", f"ship {ref} SF SF2026112301 SKU-001 x40")  # partial: what went and what is left is said
    wx.drain()
    claimed, partly = wx.updates_of(task_card)
    assert claimed["response_code"] == wx.click_codes[-1]
    assert partly["response_code"] == wx.send_code(task_card) and "部分发货" in json.dumps(partly, ensure_ascii=False)
    assert any("已部分发货" in t and "还剩：SKU-001×60" in t for t in wx.texts_to("sun"))

    # one card each: every change was an in-place update, and each code was used once
    assert len(wx.cards("wang")) == len(wx.cards("qian")) == len(wx.cards("sun")) == 1
    used = [u["response_code"] for u in wx.fake.updates]
    assert len(used) == len(set(used)) and all(wx.fake.codes[c].used for c in used)
    with wx.ot.sessions() as s:  # the codes live with the copies in the database, spent ones cleared
        tickets = {t for (t,) in s.execute(select(CardCopy.ticket)) if t}
    assert not tickets & set(used)
