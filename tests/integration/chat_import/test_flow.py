"""Files sent to the bot, through the real core and the sandbox inbox (the platform download is the only stand-in
here; tests/integration/chat_import/test_platforms.py downloads from fake Slack, DingTalk and WeCom servers)."""

from __future__ import annotations

import itertools
from decimal import Decimal

from sqlalchemy import func, select

from bot.ports import FileTooLarge, InboundFile, InboundMessage, ReplyTarget
from bot.records import ImportCheck
from domain.models import AuditEntry, Customer, Payment
from tests.integration.documents.test_imports import CUSTOMERS, sheet
from tests.integration.test_payments_import import FIRST, SECOND, STATEMENT, _paid, _two_shipped_orders
from tests.sandbox import Chat, button, text_of
from tests.world import build_world

_ids = itertools.count(1)


class Files:
    """The platform's file store as the adapter's FileSource sees it."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        ref = f"f{len(self.files) + 1}"
        self.files[ref] = data
        return ref

    def fetch(self, file: InboundFile, max_bytes: int) -> bytes:
        data = self.files[file.ref["id"]]
        if len(data) > max_bytes:
            raise FileTooLarge("too big")
        return data


def send(ot, chat: Chat, store: Files, who: str, name: str, data: bytes, size: int | None = None) -> list[dict]:  # type: ignore[no-untyped-def]
    uid = str(chat.users[who])
    ot.core.handle_message(InboundMessage(platform="console", external_user_id=uid, text="", event_id=f"file{next(_ids)}",
                                          reply_to=ReplyTarget(recipient=uid),
                                          file=InboundFile(name=name, size=size, ref={"id": store.put(data)})))
    ot.core.imports.wait()
    return chat.inbox(who)


def count(ot, model) -> int:  # type: ignore[no-untyped-def]
    with ot.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def setup(ot):  # type: ignore[no-untyped-def]
    build_world(ot.sessions)
    store = Files()
    ot.ctx.file_sources["console"] = store
    return Chat(ot), store


def test_check_card_then_import_exactly_once(ot) -> None:
    chat, store = setup(ot)
    before = count(ot, Customer)
    inbox = send(ot, chat, store, "admin", "客户.xlsx", sheet(CUSTOMERS, template="customers"))
    assert "正在检查 客户.xlsx" in text_of(inbox)
    card = next(i["card"] for i in inbox if i.get("card") and i["card"]["kind"] == "import_check")
    assert card["subtitle"] == "客户" and "新增: 2" in text_of([{"card": card}])
    assert count(ot, Customer) == before  # the check writes nothing
    token = button(card, "import_apply")["token"]
    replies = chat.click("admin", token)
    ot.core.imports.wait()
    assert "正在导入" in text_of(replies)
    assert count(ot, Customer) == before + 2
    with ot.sessions() as s:
        assert s.scalar(select(Customer.name).where(Customer.code == "C101")) == "宁波甬江五金有限公司"
        check = s.scalars(select(ImportCheck)).one()
        assert check.status == "applied" and check.applied_at is not None
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "imported")).one().details["created"] == 2
    done = [i for i in chat.inbox("admin") if i.get("card") and i["card"]["kind"] == "import_done"]
    assert done and not done[-1]["card"]["buttons"]  # the check card is replaced: no Import button left
    again = chat.click("admin", token)  # the same button again
    ot.core.imports.wait()
    assert "已导入" in text_of(again) and count(ot, Customer) == before + 2


def test_bad_rows_give_the_problems_and_nothing_to_press(ot) -> None:
    chat, store = setup(ot)
    rows = [["C201", "", "", "", "", "", "", "", "", "", "Z", "abc", 9999, "nobody", "", ""] for _ in range(12)]
    rows = [[f"C2{i:02d}", *r[1:]] for i, r in enumerate(rows)]
    inbox = send(ot, chat, store, "admin", "customers.xlsx", sheet(rows, template="customers", lang="en"))
    card = next(i["card"] for i in inbox if i.get("card") and i["card"]["kind"] == "import_check")
    assert not [b for b in card["buttons"] if b["action"] == "import_apply"]
    assert card["table"] and len(card["table"]["rows"]) == 10 and "more problems" not in str(card)  # zh reader
    assert card["attachments"] and card["attachments"][0]["filename"] == "customers-problems.xlsx"
    assert count(ot, Customer) == 2
    with ot.sessions() as s:
        assert s.scalars(select(ImportCheck)).one().status == "failed"


def test_non_admin_refused_politely_and_nothing_downloaded(ot) -> None:
    chat, store = setup(ot)
    inbox = send(ot, chat, store, "li", "客户.xlsx", sheet(CUSTOMERS, template="customers"))
    assert "只有管理员可以导入文件" in text_of(inbox)
    assert count(ot, ImportCheck) == 0


def test_size_limit_and_file_type(ot) -> None:
    chat, store = setup(ot)
    ot.ctx.settings.chat_import_max_bytes = 1000
    inbox = send(ot, chat, store, "admin", "big.xlsx", sheet(CUSTOMERS, template="customers"), size=5_000_000)
    assert "5.0 MB" in text_of(inbox) and count(ot, ImportCheck) == 0
    inbox = send(ot, chat, store, "admin", "undeclared.xlsx", sheet(CUSTOMERS, template="customers"))  # no size given
    assert "undeclared.xlsx 大于 1 KB" in text_of(inbox)  # the download stops at the limit
    assert count(ot, ImportCheck) == 0
    inbox = send(ot, chat, store, "admin", "photo.png", b"\x89PNG")
    assert "photo.png" in text_of(inbox) and count(ot, ImportCheck) == 0


def test_expired_check_and_changed_data_refused(ot, clock) -> None:  # type: ignore[no-untyped-def]
    chat, store = setup(ot)
    inbox = send(ot, chat, store, "admin", "c.xlsx", sheet(CUSTOMERS, template="customers"))
    token = button(next(i["card"] for i in inbox if i.get("card") and i["card"]["kind"] == "import_check"),
                   "import_apply")["token"]
    clock.advance(hours=25)
    assert "已过期" in text_of(chat.click("admin", token))
    assert count(ot, Customer) == 2
    clock.advance(hours=-25)
    inbox = send(ot, chat, store, "admin", "c2.xlsx", sheet(CUSTOMERS, template="customers"))
    token = button([i["card"] for i in inbox if i.get("card") and i["card"]["kind"] == "import_check"][-1],
                   "import_apply")["token"]
    with ot.sessions() as s:  # someone adds C101 meanwhile: the check no longer describes what would happen
        s.add(Customer(code="C101", name="别人先建的", province="浙江"))
        s.commit()
    chat.click("admin", token)
    ot.core.imports.wait()
    done = [i["card"] for i in chat.inbox("admin") if i.get("card") and i["card"]["kind"] == "import_done"]
    assert "检查之后文件或数据已有变化，什么都没有写入" in text_of([{"card": done[-1]}])
    with ot.sessions() as s:
        assert s.scalar(select(Customer.name).where(Customer.code == "C101")) == "别人先建的"
        assert s.scalar(select(func.count()).select_from(Customer).where(Customer.code == "C102")) == 0


def test_bank_statement_checked_then_recorded(ot, clock) -> None:  # type: ignore[no-untyped-def]
    chat, store = setup(ot)
    _two_shipped_orders(ot)
    clock.advance(days=7)
    inbox = send(ot, chat, store, "admin", "工行流水.csv", STATEMENT.encode("gbk"))
    card = [i["card"] for i in inbox if i.get("card") and i["card"]["kind"] == "import_check"][-1]
    assert card["subtitle"] == "银行流水" and "待入账回款: 2" in text_of([{"card": card}])
    assert count(ot, Payment) == 0
    chat.click("admin", button(card, "import_apply")["token"])
    ot.core.imports.wait()
    assert _paid(ot) == {FIRST: Decimal("500.00"), SECOND: Decimal("710.00")}
    assert "已入账 2 笔回款" in text_of(chat.inbox("admin"))


def test_kind_from_the_sheet_name_or_the_headers_or_asked(ot) -> None:
    from bot.chat_imports import guess_kind
    from tests.integration.documents.test_imports import CUSTOMERS as rows

    assert guess_kind(sheet(rows, template="customers"), "x.xlsx") == ["customers"]  # the template's sheet name
    headers = [["SKU", "Product name", "List price"], ["SKU-9", "Widget", "1.00"]]
    assert guess_kind(sheet(headers), "Sheet1.xlsx") == ["products"]  # no telling name: the columns
    assert guess_kind(STATEMENT.encode(), "bank.csv") == ["bank"]
    both = guess_kind("code,name\nX1,某某\n".encode(), "list.csv")  # customers and warehouses alike
    assert set(both) == {"customers", "warehouses"}
    assert guess_kind(b"\x00\x01 not a sheet", "a.xlsx") == []

    chat, store = setup(ot)
    inbox = send(ot, chat, store, "admin", "list.csv", "code,name\nW9,北京仓\n".encode())
    [question] = [i["card"] for i in inbox if i.get("card") and i["card"]["kind"] == "import_kind"]
    assert {b["label"] for b in question["buttons"]} == {"客户", "仓库"}
    chat.click("admin", next(b for b in question["buttons"] if b["label"] == "仓库")["token"])
    ot.core.imports.wait()
    card = [i["card"] for i in chat.inbox("admin") if i.get("card") and i["card"]["kind"] == "import_check"][-1]
    assert card["subtitle"] == "仓库" and "新增: 1" in text_of([{"card": card}])
    chat.click("admin", button(card, "import_apply")["token"])
    ot.core.imports.wait()
    from domain.models import Warehouse

    with ot.sessions() as s:
        assert s.scalar(select(Warehouse.name).where(Warehouse.code == "W9")) == "北京仓"


def test_jobs_run_again_after_a_crash_answer_once(ot) -> None:  # type: ignore[no-untyped-def]
    """The check and the import are inbox jobs keyed on their event: run again (a crash after their commit, before
    the inbox marked them done), each finds what it stored and answers nothing twice; one check per file sent."""
    from bot.inbox import InboxEvent

    chat, store = setup(ot)
    before = count(ot, Customer)
    inbox = send(ot, chat, store, "admin", "客户.xlsx", sheet(CUSTOMERS, template="customers"))
    assert len([i for i in inbox if i.get("card") and i["card"]["kind"] == "import_check"]) == 1

    def jobs() -> list[InboxEvent]:
        with ot.inbox.sessions() as s:
            return list(s.scalars(select(InboxEvent).where(InboxEvent.kind == "import").order_by(InboxEvent.id)))

    [check_job] = jobs()
    assert check_job.status == "done" and check_job.conversation != f"console:{chat.users['admin']}"  # its own
    ot.core.imports.run_job(check_job.payload)  # again
    cards = [i["card"] for i in chat.inbox("admin") if i.get("card") and i["card"]["kind"] == "import_check"]
    assert len(cards) == 1 and count(ot, ImportCheck) == 1
    chat.click("admin", button(cards[0], "import_apply")["token"])
    ot.core.imports.wait()
    apply_job = jobs()[-1]
    assert apply_job.payload["op"] == "apply" and apply_job.status == "done"
    ot.core.imports.run_job(apply_job.payload)  # again
    assert count(ot, Customer) == before + 2
    assert len([i for i in chat.inbox("admin") if i.get("card") and i["card"]["kind"] == "import_done"]) == 1
    with ot.sessions() as s:
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.action == "imported")).all()) == 1
