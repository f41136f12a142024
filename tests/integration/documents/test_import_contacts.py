"""A customer's whole contact list in the customers workbook (contact 2 … 10 as numbered columns, as chat numbers
them): template → import → export → import round trip, a contact removed in chat stays removed, blank cells remove
a contact, and a bad contact cell is reported with its sheet, row and column — on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import openpyxl
from sqlalchemy import select

from bot.documents.imports import export_kind, template_for
from domain.audit import Actor
from domain.customers import ContactFields, CustomerFields, update_customer
from domain.models import Customer, User
from domain.uow import UnitOfWork
from tests.integration.documents.test_imports import NOW, TZ, imp, sheet
from tests.world import build_world

# The template's columns: 16 of the customer (contact 1 among them), then contact 2 and contact 3 (4 each).
ROW = ["C501", "苏州工业园精密", "", "江苏", "苏州", "星湖街 1 号", "周经理", "13900000501", "zhou@jm.cn", "采购", "A",
       "50000", "30", "li", "", "",
       "王会计", "13900000502", "wang@jm.cn", "财务",
       "吴师傅", "13900000503", "", "收货"]


def contacts(factory, code: str) -> list[tuple[int, str, str, str, str]]:  # type: ignore[no-untyped-def]
    with factory() as s:
        c = s.scalar(select(Customer).where(Customer.code == code))
        return [(k.seq, k.name, k.phone, k.email, k.role) for k in c.contacts]


def exported(factory, lang: str = "zh") -> openpyxl.worksheet.worksheet.Worksheet:  # type: ignore[no-untyped-def]
    with factory() as s:
        data = export_kind(s, "customers", lang, TZ)
    return openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]


def saved(ws) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    ws.parent.save(buf)
    return buf.getvalue()


def test_three_contacts_round_trip_through_template_export_and_import(session_factory):
    build_world(session_factory)
    headers = [c.value for c in openpyxl.load_workbook(io.BytesIO(template_for("customers", "zh"))).worksheets[0][1]]
    assert headers[16:24] == ["联系人2", "联系电话2", "邮箱2", "职务2", "联系人3", "联系电话3", "邮箱3", "职务3"]
    done = imp(session_factory, "customers", sheet([ROW], template="customers"))
    assert done.applied and done.created == 1, done.problems
    assert contacts(session_factory, "C501") == [(1, "周经理", "13900000501", "zhou@jm.cn", "采购"),
                                                 (2, "王会计", "13900000502", "wang@jm.cn", "财务"),
                                                 (3, "吴师傅", "13900000503", "", "收货")]
    ws = exported(session_factory, "en")
    head = [c.value for c in ws[1]]
    assert head[16:] == ["Contact 2", "Phone 2", "E-mail 2", "Contact role 2", "Contact 3", "Phone 3", "E-mail 3",
                         "Contact role 3"]  # as many as the customer with most contacts has
    again = imp(session_factory, "customers", saved(ws))
    assert again.applied and (again.created, again.updated, again.unchanged) == (0, 0, 3), again.changes
    # edited in the sheet: contact 3's phone, contact 2's e-mail cleared
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "C501")
    row[head.index("Phone 3")].value = "13900000999"
    row[head.index("E-mail 2")].value = None
    edited = imp(session_factory, "customers", saved(ws))
    assert (edited.updated, edited.unchanged) == (1, 2)
    assert edited.changes[0].changes == {"contact3_phone": ("13900000503", "13900000999"),
                                         "contact2_email": ("wang@jm.cn", "")}
    assert contacts(session_factory, "C501")[1:] == [(2, "王会计", "13900000502", "", "财务"),
                                                     (3, "吴师傅", "13900000999", "", "收货")]


def test_a_contact_removed_in_chat_stays_removed_and_blank_cells_remove_one(session_factory):
    build_world(session_factory)
    imp(session_factory, "customers", sheet([ROW], template="customers"))
    with session_factory() as s:
        customer_id = s.scalar(select(Customer.id).where(Customer.code == "C501"))
        admin = s.scalar(select(User).where(User.username == "admin"))
        s.expunge(admin)
    uow = UnitOfWork(session_factory, lambda: NOW)
    with uow:  # what 删除联系人=2 does in chat
        update_customer(uow, admin, Actor(admin.id, "test"), customer_id,
                        CustomerFields(contacts={2: ContactFields(name="", phone="", email="", role="")}))
        uow.commit()
    assert [k[0] for k in contacts(session_factory, "C501")] == [1, 3]
    ws = exported(session_factory)
    again = imp(session_factory, "customers", saved(ws))
    assert again.ok and again.updated == 0, again.changes
    assert [k[:2] for k in contacts(session_factory, "C501")] == [(1, "周经理"), (3, "吴师傅")]  # 2 did not come back
    # the first contact removed in the sheet: its four cells blank
    head = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "C501")
    for name in ("联系人", "联系电话", "邮箱", "职务"):
        row[head.index(name)].value = None
    removed = imp(session_factory, "customers", saved(ws))
    assert removed.updated == 1 and removed.changes[0].changes["contact_name"] == ("周经理", "")
    assert [k[:2] for k in contacts(session_factory, "C501")] == [(3, "吴师傅")]
    assert imp(session_factory, "customers", saved(ws)).updated == 0
    # a file without contact 3's columns keeps contact 3 (absent columns keep, as for every field)
    bare = imp(session_factory, "customers", _without_numbered(ROW))
    assert bare.ok and [k[:2] for k in contacts(session_factory, "C501")] == [(1, "周经理"), (3, "吴师傅")]


def _without_numbered(row: list[object]) -> bytes:
    """The first 16 columns only (an older template: one contact)."""
    ws = openpyxl.load_workbook(io.BytesIO(template_for("customers", "zh"))).worksheets[0]
    ws.delete_cols(17, 8)
    ws.append(row[:16])
    return saved(ws)


def test_a_bad_contact_cell_is_reported_with_sheet_row_and_column(session_factory):
    build_world(session_factory)
    bad = ROW[:]
    bad[18] = "wang(at)jm.cn"  # 邮箱2
    long_name = ROW[:]
    long_name[0], long_name[20] = "C502", "吴" * 101  # 联系人3
    result = imp(session_factory, "customers", sheet([bad, long_name], template="customers"))
    assert not result.applied
    with session_factory() as s:
        assert s.scalar(select(Customer).where(Customer.code.in_(["C501", "C502"]))) is None
    found = {(p.sheet, p.row, p.column): p for p in result.problems}
    assert set(found) == {("客户", 3, "S 邮箱2"), ("客户", 4, "U 联系人3")}, found
    assert found[("客户", 3, "S 邮箱2")].value == "wang(at)jm.cn"
    assert "e-mail address" in found[("客户", 3, "S 邮箱2")].reason("en")
    assert "邮箱地址" in found[("客户", 3, "S 邮箱2")].reason("zh-CN")
