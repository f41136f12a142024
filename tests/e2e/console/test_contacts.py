"""A customer's whole contact list in chat (issue 17): every contact shown on the card and in the form, contacts
added, edited and removed — by the form, and in one message in either language (联系人3=…, 删除联系人=2 / contact 3=…,
remove contact=2) — each change audited as the other fields are and shown in the card's history. Through the sandbox
API on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from domain.customers import CONTACT_SLOTS
from domain.models import AuditEntry, Contact, Customer, User
from tests.sandbox import Chat, button, text_of
from tests.world import build_world


def _contacts(ot, code: str) -> list[tuple[int, str, str, str, str]]:  # type: ignore[no-untyped-def]
    with ot.sessions() as s:
        c = s.scalars(select(Customer).where(Customer.code == code)).one()
        return [(k.seq, k.name, k.phone, k.email, k.role) for k in c.contacts]


def _changes(ot, code: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    with ot.sessions() as s:
        cid = s.scalar(select(Customer.id).where(Customer.code == code))
        return [e.details for e in s.scalars(select(AuditEntry).where(AuditEntry.subject == f"customer:{cid}",
                                                                      AuditEntry.action == "customer_updated")
                                              .order_by(AuditEntry.id))]


def _form(card: dict) -> tuple[str, dict[str, str]]:  # type: ignore[type-arg]
    return button(card, card["buttons"][0]["action"])["token"], {i["name"]: i.get("initial") or "" for i in card["inputs"]}


def test_contacts_added_edited_and_removed_in_one_message_chinese(ot) -> None:
    build_world(ot.sessions)
    chat = Chat(ot)
    assert _contacts(ot, "C001") == [(1, "陈先生", "13800000001", "", "")]
    said = chat.say("li", "修改客户 华兴 联系人2=王会计 职务2=财务 联系人3=赵工 电话3=13900000003 邮箱3=zhao@hx.cn")
    assert "已保存客户" in said[0]["text"]
    assert _contacts(ot, "C001") == [(1, "陈先生", "13800000001", "", ""), (2, "王会计", "", "", "财务"),
                                     (3, "赵工", "13900000003", "zhao@hx.cn", "")]
    card = "\n".join(said[0]["card"]["text"])
    assert "1. 陈先生 · 13800000001" in card and "2. 王会计 · 财务" in card and "3. 赵工 · 13900000003 · zhao@hx.cn" in card
    assert "联系人3 — → 赵工" in card and "联系电话3 — → 13900000003" in card  # the history names each field
    assert _changes(ot, "C001")[-1] == {"contact2_name": " → 王会计", "contact2_role": " → 财务",
                                        "contact3_name": " → 赵工", "contact3_phone": " → 13900000003",
                                        "contact3_email": " → zhao@hx.cn"}

    chat.say("li", "修改客户 华兴 电话3=13900000033")  # one part of one contact; the rest stays
    assert _contacts(ot, "C001")[2] == (3, "赵工", "13900000033", "zhao@hx.cn", "")
    removed = chat.say("li", "修改客户 华兴 删除联系人=王会计")  # by name; the others keep their numbers
    assert "已保存客户" in removed[0]["text"]
    assert [k[0] for k in _contacts(ot, "C001")] == [1, 3]
    assert _changes(ot, "C001")[-1] == {"contact2_name": "王会计 → ", "contact2_role": "财务 → "}
    assert "联系人2 王会计 → —" in "\n".join(removed[0]["card"]["text"])

    chat.say("li", "修改客户 华兴 删除联系人=3")  # by number
    assert _contacts(ot, "C001") == [(1, "陈先生", "13800000001", "", "")]
    before = len(_changes(ot, "C001"))
    refused = text_of(chat.say("li", "修改客户 华兴 删除联系人=7"))
    assert "没有联系人7" in refused and len(_changes(ot, "C001")) == before  # refused, nothing written
    assert "“not-an-address”不是有效的邮箱地址" in text_of(chat.say("li", "修改客户 华兴 联系人4=孙 邮箱4=not-an-address"))
    assert len(_contacts(ot, "C001")) == 1  # a bad field: nothing written
    over = text_of(chat.say("li", f"修改客户 华兴 联系人{CONTACT_SLOTS + 1}=钱"))
    assert f"“联系人{CONTACT_SLOTS + 1}”不是可填字段" in over and len(_contacts(ot, "C001")) == 1  # beyond the list: not a field


def test_contacts_in_english_and_a_new_customer_with_several(ot) -> None:
    build_world(ot.sessions)
    chat = Chat(ot)
    made = chat.say("amy", "new customer name=Nova Tech contact=Lee phone=13800000009 contact 2=Kim role 2=buyer "
                           "contact 3=Park email 3=park@nova.example")
    assert "Nova Tech" in made[0]["text"]
    code = made[0]["card"]["title"].rsplit("(", 1)[1].rstrip(")")
    assert _contacts(ot, code) == [(1, "Lee", "13800000009", "", ""), (2, "Kim", "", "", "buyer"),
                                   (3, "Park", "", "park@nova.example", "")]
    edited = chat.say("amy", f"edit customer {code} phone 2=13700000002 remove contact=3")
    assert _contacts(ot, code) == [(1, "Lee", "13800000009", "", ""), (2, "Kim", "13700000002", "", "buyer")]
    history = "\n".join(edited[0]["card"]["text"])
    assert "Phone 2 — → 13700000002" in history and "Contact 3 Park → —" in history
    assert "2. Kim · buyer · 13700000002" in history
    refused = text_of(chat.say("amy", f"edit customer {code} contact 2=Kim Jr remove contact=2"))
    assert "both changed and removed" in refused and _contacts(ot, code)[1][1] == "Kim"
    assert "no contacts to remove" in text_of(chat.say("amy", "new customer name=Orion remove contact=1"))


def test_the_form_shows_every_contact_and_a_blank_one_to_add(ot) -> None:
    build_world(ot.sessions)
    chat = Chat(ot)
    with ot.sessions() as s:  # a customer with four contacts, one number left free in between
        cid = s.scalar(select(Customer.id).where(Customer.code == "C001"))
        s.add_all([Contact(customer_id=cid, seq=n, name=f"联系人{n}号", phone="", email="", role="") for n in (2, 3, 5)])
        s.commit()
    form = chat.say("wang", "修改客户 C001")[0]["card"]
    names = [i["name"] for i in form["inputs"] if i["name"].endswith("_name") and i["name"].startswith("contact")]
    assert names == ["contact_name", "contact2_name", "contact3_name", "contact4_name", "contact5_name"]  # 4: blank
    labels = {i["name"]: i["label"] for i in form["inputs"]}
    assert labels["contact5_phone"] == "联系电话5" and labels["contact4_role"] == "职务4"
    token, inputs = _form(form)
    # edit one, clear another entirely (removed), fill the blank one (added)
    saved = chat.click("wang", token, {**inputs, "contact2_phone": "13600000002", "contact3_name": "",
                                       "contact4_name": "新人", "contact4_email": "new@hx.cn"})
    assert "已保存客户" in saved[0]["text"]
    assert [(k[0], k[1], k[2], k[3]) for k in _contacts(ot, "C001")] == [
        (1, "陈先生", "13800000001", ""), (2, "联系人2号", "13600000002", ""), (4, "新人", "", "new@hx.cn"),
        (5, "联系人5号", "", "")]
    assert _changes(ot, "C001")[-1] == {"contact2_phone": " → 13600000002", "contact3_name": "联系人3号 → ",
                                        "contact4_name": " → 新人", "contact4_email": " → new@hx.cn"}
    with ot.sessions() as s:  # the same form, read in English
        s.scalars(select(User).where(User.username == "zhao")).one().locale = "en"
        s.commit()
    english = chat.say("zhao", "edit customer C001")[0]["card"]
    labels = {i["name"]: i["label"] for i in english["inputs"]}
    assert labels["contact4_name"] == "Contact 4" and labels["contact_name"] == "Contact"
    assert "contact3_name" in labels  # the free number is offered again
