"""Imports from the templates' own files, on SQLite and PostgreSQL: good rows, every kind of bad row (each with its
row and column, nothing written), a second import (unchanged), export → edit → import, CSV in UTF-8 and GBK, and the
habits of Excel (numbers as text, serial dates, thousands separators, full-width characters, merged headers)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy import func, select

from bot.documents.imports import export_kind, run_import, template_for
from domain.audit import Actor
from domain.models import (
    AuditEntry,
    Customer,
    Order,
    PlatformIdentity,
    Product,
    Receivable,
    Stock,
    StockMovement,
    TierPrice,
    User,
    Warehouse,
)
from tests.world import build_world

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CLI = Actor(None, "test")


def sheet(rows: list[list[object]], template: str | None = None, lang: str = "zh") -> bytes:
    """A workbook as a person fills it: the template (headers, example row kept) with `rows` below, or bare rows."""
    if template is not None:
        wb = openpyxl.load_workbook(io.BytesIO(template_for(template, lang)))
        ws = wb.worksheets[0]
    else:
        wb = openpyxl.Workbook()
        ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def imp(factory, kind: str, data: bytes, *, dry_run: bool = False, name: str = "f.xlsx", **kw):  # type: ignore[no-untyped-def]
    return run_import(factory, kind, data, name, user=kw.pop("user", None), actor=CLI, today=TODAY, tz=TZ, dry_run=dry_run,
                      clock=lambda: NOW, **kw)


def count(factory, model) -> int:  # type: ignore[no-untyped-def]
    with factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


CUSTOMERS = [
    ["C101", "宁波甬江五金有限公司", "Ningbo Yongjiang", "浙江", "宁波", "江北区 8 号", "周经理", "13900000101", "zhou@yj.cn", "采购",
     "A", "150,000.00 ", 45, "li", "宁波甬江五金有限公司", "91330200MA2X0001"],
    ["C102", "深圳南山电子", "", "广东", "深圳", "", "", "", "", "", "B", 80000, 30, "Amy Chen", "", ""],
]


def test_customers_good_rows_checked_imported_then_unchanged(session_factory):
    build_world(session_factory)
    data = sheet(CUSTOMERS, template="customers")
    check = imp(session_factory, "customers", data, dry_run=True)
    assert check.ok and (check.rows, check.created, check.updated, check.unchanged) == (2, 2, 0, 0)
    assert count(session_factory, Customer) == 2  # the check wrote nothing (the world has C001, C002)
    done = imp(session_factory, "customers", data, expected_digest=check.digest)
    assert done.applied and done.created == 2
    with session_factory() as s:
        c = s.scalar(select(Customer).where(Customer.code == "C101"))
        assert (c.name_en, c.tier, c.credit_limit, c.payment_terms_days, c.tax_id) == (
            "Ningbo Yongjiang", "A", Decimal("150000.00"), 45, "91330200MA2X0001")
        assert c.sales_user.username == "li"
        assert [(k.name, k.phone, k.email, k.role) for k in c.contacts] == [("周经理", "13900000101", "zhou@yj.cn", "采购")]
        c2 = s.scalar(select(Customer).where(Customer.code == "C102"))
        assert c2.sales_user.username == "amy" and c2.contacts == [] and c2.name_en is None  # by name; no empty contact
    again = imp(session_factory, "customers", data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    edited = [row[:] for row in CUSTOMERS]
    edited[0][11] = "200000"
    edited[0][7] = "13900000999"
    third = imp(session_factory, "customers", sheet(edited, template="customers"))
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    assert third.changes[0].changes == {"credit_limit": ("150000.00", "200000.00"), "contact_phone": ("13900000101", "13900000999")}
    with session_factory() as s:
        history = s.scalars(select(AuditEntry).where(AuditEntry.subject.like("customer:%"))).all()
        assert len(history) == 1 and history[0].details["credit_limit"] == "150000.00 → 200000.00"


def test_every_kind_of_bad_row_is_listed_and_nothing_is_written(session_factory):
    build_world(session_factory)
    rows = [
        ["C201", "好客户", "", "", "", "", "", "", "", "", "A", "1000", "30", "li", "", ""],  # good, but not written
        ["", "无编码客户", "", "", "", "", "", "", "", "", "A", "", "", "", "", ""],  # 3: no code
        ["C203", "", "", "", "", "", "", "", "", "", "A", "", "", "", "", ""],  # 4: no name
        ["C204", "等级错", "", "", "", "", "", "", "", "", "D", "", "", "", "", ""],  # 5: tier
        ["C205", "额度错", "", "", "", "", "", "", "", "", "A", "12.000,50", "", "", "", ""],  # 6: ambiguous amount
        ["C206", "账期错", "", "", "", "", "", "", "", "", "A", "", "1.5", "", "", ""],  # 7: days not whole
        ["C207", "销售错", "", "", "", "", "", "", "", "", "A", "", "", "nobody", "", ""],  # 8: unknown salesperson
        ["C208", "仓管当销售", "", "", "", "", "", "", "", "", "A", "", "", "sun", "", ""],  # 9: not in sales
        ["C201", "重复", "", "", "", "", "", "", "", "", "A", "", "", "", "", ""],  # 10: repeats row 2... (row 3 in Excel)
        ["C 210", "编码有空格", "", "", "", "", "", "", "", "", "A", "", "", "", "", ""],  # 11
        ["C211", "x" * 201, "", "", "", "", "", "", "", "", "A", "", "", "", "", ""],  # 12: name too long
        ["C212", "账期太长", "", "", "", "", "", "", "", "", "A", "", "400", "", "", ""],  # 13
    ]
    result = imp(session_factory, "customers", sheet(rows, template="customers"))
    assert not result.applied and count(session_factory, Customer) == 2
    where = {(p.row, p.column.split()[0]) for p in result.problems}
    # Excel rows: header 1, example 2, data from 3.
    assert where == {(4, "A"), (5, "B"), (6, "K"), (7, "L"), (8, "M"), (9, "N"), (10, "N"), (11, "A"), (12, "A"),
                     (13, "B"), (14, "M")}
    by_row = {p.row: p for p in result.problems}
    assert by_row[7].value == "12.000,50" and "ambiguous" in by_row[7].reason("en") and "歧义" in by_row[7].reason("zh-CN")
    assert by_row[6].column == "K 客户等级" and by_row[6].value == "D"
    assert by_row[11].reason("en") == "repeats an earlier row"
    assert "nothing was written" in result.summary("en") and "什么都没有写入" in result.summary("zh-CN")


def test_products_with_tier_prices_and_excel_habits(session_factory):
    build_world(session_factory)
    rows = [
        ["SKU-101 ", "六角螺母 M8", "Hex nut M8", "M8 304", "包", "1,280.50", "１２００", "", "", " 30 ", "是"],
        ["SKU-102", "平垫片", "", "", "个", 0.1 + 0.2, "", "", "", 0, "否"],
    ]
    result = imp(session_factory, "products", sheet(rows, template="products"))
    assert result.applied and result.created == 2, result.problems
    with session_factory() as s:
        p = s.scalar(select(Product).where(Product.sku == "SKU-101"))
        assert (p.list_price, p.safety_stock, p.active, p.name_en) == (Decimal("1280.50"), 30, True, "Hex nut M8")
        assert [(t.tier, t.price) for t in p.tier_prices] == [("A", Decimal("1200.00"))]
        q = s.scalar(select(Product).where(Product.sku == "SKU-102"))
        assert (q.list_price, q.active) == (Decimal("0.30"), False)
    rows[0][6] = ""  # tier A price removed → list price again
    second = imp(session_factory, "products", sheet(rows, template="products"))
    assert (second.updated, second.unchanged) == (1, 1)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(TierPrice).join(Product).where(Product.sku == "SKU-101")) == 0
    bad = imp(session_factory, "products", sheet([["SKU-103", "无价"], ["SKU-104", "负价", "", "", "", "-5"],
                                                  ["SKU-105", "在售错", "", "", "", "5", "", "", "", "", "也许"]], template="products"))
    assert {(p.row, p.column.split()[0]) for p in bad.problems} == {(3, "F"), (4, "F"), (5, "K")}


def test_warehouses_stock_through_the_ledger(session_factory):
    w = build_world(session_factory)
    result = imp(session_factory, "warehouses", sheet([["WH-BJ", "北京仓", "北京，天津、河北"]], template="warehouses"))
    assert result.created == 1
    with session_factory() as s:
        assert s.scalar(select(Warehouse.region).where(Warehouse.code == "WH-BJ")) == "北京,天津,河北"
    rows = [["WH-BJ", "SKU-001", "200"], ["上海仓", "SKU-001", 100], ["WH-SH", "SKU-002", "480"], ["WH-XX", "SKU-001", 1],
            ["WH-SH", "SKU-999", 1], ["WH-SH", "SKU-003", "-1"]]
    bad = imp(session_factory, "stock", sheet(rows, template="stock"))
    assert {(p.row, p.column.split()[0]) for p in bad.problems} == {(6, "A"), (7, "B"), (8, "C")}
    good = imp(session_factory, "stock", sheet(rows[:3], template="stock"))
    assert (good.created, good.updated, good.unchanged) == (1, 1, 1)  # new row, 500 → 480, 100 as it was
    with session_factory() as s:
        for st in s.scalars(select(Stock)):
            moved = s.scalar(select(func.sum(StockMovement.quantity)).where(StockMovement.stock_id == st.id))
            assert st.on_hand == moved
        kinds = {m.kind for m in s.scalars(select(StockMovement).where(StockMovement.reference == "import:f.xlsx"))}
        assert kinds == {"opening", "count"}
        row = s.scalar(select(Stock).where(Stock.warehouse_id == w["east"], Stock.product_id == w["p2"]))
        assert row.on_hand == 480


def test_users_with_managers_later_in_the_sheet_and_platform_ids(session_factory):
    build_world(session_factory)
    rows = [
        ["chen", "陈销售", "销售", "zhou", "", "zh-CN", "chen@x.cn", "13900000001", "ding-chen", "", "U0CHEN"],
        ["zhou", "周经理", "销售经理, finance", "wang", "", "English", "", "", "", "", ""],
        ["kong", "孔仓管", "仓库", "", "wh-sh", "", "", "", "", "kong-wecom", ""],
    ]
    result = imp(session_factory, "users", sheet(rows, template="users"))
    assert result.applied and result.created == 3, result.problems
    with session_factory() as s:
        chen = s.scalar(select(User).where(User.username == "chen"))
        zhou = s.scalar(select(User).where(User.username == "zhou"))
        assert chen.manager_id == zhou.id and zhou.manager.username == "wang" and zhou.locale == "en"
        assert {r.value for r in zhou.roles} == {"sales_manager", "finance"} and chen.mobile == "13900000001"
        assert {(i.platform, i.external_id) for i in chen.identities} == {("dingtalk", "ding-chen"), ("slack", "U0CHEN")}
        kong = s.scalar(select(User).where(User.username == "kong"))
        assert s.get(Warehouse, kong.warehouse_id).code == "WH-SH"
    again = imp(session_factory, "users", sheet(rows, template="users"))
    assert again.unchanged == 3, [o.changes for o in again.changes]
    bad = imp(session_factory, "users", sheet([
        ["x1", "X", "老板", "", "", "", "", "", "", "", ""],  # unknown role
        ["x2", "X", "仓库", "", "", "", "", "", "", "", ""],  # warehouse staff without warehouse
        ["x3", "X", "销售", "nobody", "", "", "", "", "", "", ""],  # unknown manager
        ["x4", "X", "销售", "", "", "", "", "", "", "", "U0CHEN"],  # someone else's Slack id
        ["x5", "X", "销售", "", "", "fr", "", "", "", "", ""],  # language
    ], template="users"))
    assert {(p.row, p.column.split()[0]) for p in bad.problems} == {(3, "C"), (4, "E"), (5, "D"), (6, "K"), (7, "F")}
    assert count(session_factory, User) == 10 and count(session_factory, PlatformIdentity) == 4


def test_opening_balances_appear_in_overdue_lists_statements_and_credit(session_factory):
    build_world(session_factory)
    rows = [["C001", "INV-0815", "18,600.00", "2026-10-01"], ["C001", "INV-0901", 5000, 46400], ["C002", "INV-0902", "1200", "20261231"]]
    result = imp(session_factory, "receivables", sheet(rows, template="receivables"))
    assert result.created == 3, result.problems
    from bot.document_sources import statement
    from domain.fulfilment import overdue_receivables
    from domain.orders import open_receivables

    with session_factory() as s:
        overdue = overdue_receivables(s, TODAY)
        assert [(o.order_number, o.open_amount, o.order_id) for o in overdue] == [("INV-0815", Decimal("18600.00"), None)]
        li = s.scalar(select(User).where(User.username == "li"))
        assert overdue[0].sales_user_id == li.id  # the customer's sales owner chases it
        c1 = s.scalar(select(Customer).where(Customer.code == "C001"))
        assert open_receivables(s, c1.id) == Decimal("23600.00")  # the credit check counts them
        st = statement(s, c1, date(2026, 11, 1), TODAY, "华东五金", TZ, "CNY")
        assert {i.reference for i in st.open_items} == {"INV-0815", "INV-0901"}
        assert {e.reference for e in st.entries if e.type == "opening"} == {"INV-0815", "INV-0901"}
        second = s.scalar(select(Receivable).where(Receivable.reference == "INV-0901"))
        assert second.due_date == date(2027, 1, 13)  # Excel serial 46400
    again = imp(session_factory, "receivables", sheet(rows, template="receivables"))
    assert again.unchanged == 3
    bad = imp(session_factory, "receivables", sheet([["C999", "INV-1", "10", "2026-12-01"], ["C001", "INV-2", "0", "2026-12-01"],
                                                     ["C001", "INV-3", "10", "someday"], ["C002", "INV-0815", "18600", "2026-10-01"]],
                                                    template="receivables"))
    assert {(p.row, p.column.split()[0]) for p in bad.problems} == {(3, "A"), (4, "C"), (5, "D"), (6, "A")}


def test_historical_orders_grouped_by_number(session_factory):
    build_world(session_factory)
    rows = [
        ["OLD-1", "2025-03-01", "C001", "", "SKU-001", 10, "110", "", "已完成", "年度框架"],
        ["OLD-1", "2025-03-01", "C001", "", "SKU-002", "5", 35.5, "5", "", ""],
        ["OLD-2", date(2025, 4, 2), "C002", "amy", "SKU-003", 1, 680, 0, "cancelled", ""],
    ]
    result = imp(session_factory, "orders", sheet(rows, template="orders"))
    assert result.created == 2, result.problems
    with session_factory() as s:
        o = s.scalar(select(Order).where(Order.number == "OLD-1"))
        assert o.channel == "import" and o.status == "completed" and len(o.lines) == 2
        assert o.total == Decimal("1100.00") + Decimal("168.63")  # 5 × 35.50 less 5 %
        assert o.created_at.astimezone(TZ).date() == date(2025, 3, 1) and o.sales_user.username == "li"
        assert s.scalar(select(Order.status).where(Order.number == "OLD-2")) == "cancelled"
    assert imp(session_factory, "orders", sheet(rows, template="orders")).unchanged == 2
    rows[1][5] = 6
    assert imp(session_factory, "orders", sheet(rows, template="orders")).updated == 1
    split = rows + [["OLD-1", "2025-03-01", "C001", "", "SKU-003", 1, 1, "", "", ""],
                    ["OLD-3", "2099-01-01", "C001", "", "SKU-001", 1, 1, "", "", ""],
                    ["OLD-4", "2025-01-01", "C001", "", "SKU-001", 1, 1, "", "", ""],
                    ["OLD-4", "2025-01-02", "C001", "", "SKU-002", 1, 1, "", "", ""]]
    bad = imp(session_factory, "orders", sheet(split, template="orders"))
    assert {(p.row, p.column.split()[0]) for p in bad.problems} == {(6, "A"), (7, "B"), (9, "B")}


def test_export_edit_import_round_trips(session_factory):
    build_world(session_factory)
    imp(session_factory, "receivables", sheet([["C001", "INV-7", "100", "2026-12-31"]], template="receivables"))
    for kind in ("customers", "products", "warehouses", "stock", "users", "receivables"):
        with session_factory() as s:
            data = export_kind(s, kind, "en", TZ)
        result = imp(session_factory, kind, data)
        assert result.ok and result.created == result.updated == 0 and result.unchanged > 0, (kind, result.problems, result.changes)
    with session_factory() as s:
        data = export_kind(s, "products", "zh", TZ)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    wb.worksheets[0]["F2"] = 130  # SKU-001's list price
    buf = io.BytesIO()
    wb.save(buf)
    edited = imp(session_factory, "products", buf.getvalue())
    assert (edited.updated, edited.unchanged) == (1, 2) and edited.changes[0].changes["list_price"] == ("120.00", "130.00")


def test_csv_in_utf8_and_gbk_with_english_headers_in_any_order(session_factory):
    build_world(session_factory)
    text = "Name,Customer code,Tier,Credit limit\n深圳南山电子,C301,B,\"80,000\"\n广州天河贸易,C302,C,0\n"
    utf8 = imp(session_factory, "customers", ("\ufeff" + text).encode("utf-8"), name="c.csv", dry_run=True)
    gbk = imp(session_factory, "customers", text.encode("gbk"), name="c.csv")
    assert utf8.ok and gbk.applied and gbk.created == 2, gbk.problems
    with session_factory() as s:
        assert s.scalar(select(Customer.name).where(Customer.code == "C301")) == "深圳南山电子"
        assert s.scalar(select(Customer.credit_limit).where(Customer.code == "C301")) == Decimal("80000.00")
    broken = imp(session_factory, "customers", b"\xff\xfe\x00garbage\x81", name="c.csv")
    assert not broken.ok and "encoding" in broken.problems[0].reason("en")


def test_merged_header_cells_and_a_title_row(session_factory):
    build_world(session_factory)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2026 客户资料（销售部）"])
    ws.merge_cells("A1:E1")
    ws.append(["客户编码", "客户名称", "联系人", None, "客户等级"])  # 联系人 merged over two sub-columns
    ws.merge_cells("C2:D2")
    ws.append([None, None, "姓名", "电话", None])
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:B3")
    ws.merge_cells("E2:E3")
    ws.append(["C401", "杭州西湖仪表", "吴工", "13700000001", "B"])
    buf = io.BytesIO()
    wb.save(buf)
    result = imp(session_factory, "customers", buf.getvalue())
    assert result.applied and result.created == 1, result.problems
    with session_factory() as s:
        c = s.scalar(select(Customer).where(Customer.code == "C401"))
        assert (c.name, c.tier, c.contact_name, c.contact_phone) == ("杭州西湖仪表", "B", "吴工", "13700000001")


def test_a_check_applies_only_what_was_checked_and_only_for_admins(session_factory):
    w = build_world(session_factory)
    data = sheet(CUSTOMERS, template="customers")
    check = imp(session_factory, "customers", data, dry_run=True)
    imp(session_factory, "customers", sheet([CUSTOMERS[0]], template="customers"))  # someone imports C101 meanwhile
    late = imp(session_factory, "customers", data, expected_digest=check.digest)
    assert not late.applied and "changed since the check" in late.problems[-1].reason("en")
    assert count(session_factory, Customer) == 3  # C102 not written
    with session_factory() as s:
        sales = s.get(User, w["sales"])
        s.expunge(sales)
    refused = imp(session_factory, "customers", data, user=sales)
    assert not refused.applied and "Only admins" in refused.problems[0].reason("en")
    missing = imp(session_factory, "customers", sheet([["名称"], ["x"]]))
    assert "No header row" in missing.problems[0].reason("en") or "Missing required" in missing.problems[0].reason("en")


def test_templates_have_drop_downs_notes_and_an_example_in_both_languages():
    for lang, header, sheet_name in (("zh", "客户等级", "填写说明"), ("en", "Tier", "Instructions")):
        wb = openpyxl.load_workbook(io.BytesIO(template_for("customers", lang)))
        ws = wb.worksheets[0]
        headers = [c.value for c in ws[1]]
        assert header in headers and wb.sheetnames[1] == sheet_name
        assert str(ws["A2"].value).startswith(("例：", "e.g."))
        lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
        assert lists and '"A,B,C"' == lists[0].formula1
    products = openpyxl.load_workbook(io.BytesIO(template_for("products", "en"))).worksheets[0]
    assert any(dv.formula1 == '"Yes,No"' for dv in products.data_validations.dataValidation)
