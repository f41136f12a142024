"""domain.bulk.insert_rows writes exactly what Core's insert(table) writes for the same rows: the types' bind steps
(money as minor units, booleans), each column's default for a column the rows leave out, NULL for a nullable one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, insert, select

from domain.bulk import insert_rows
from domain.models import Contact, Customer, Product, TierPrice

CUSTOMERS, CONTACTS, PRODUCTS, TIERS = (cast(Table, m.__table__) for m in (Customer, Contact, Product, TierPrice))


def _rows(s: Any, table: Table, order: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in s.execute(select(*(c for c in table.columns if not c.primary_key or c.foreign_keys))
                                        .order_by(order))]


def test_rows_written_with_executemany_read_back_as_cores(session_factory) -> None:  # type: ignore[no-untyped-def]
    # The same keys in every row (Core takes the statement's columns from the first row and ignores others'); those
    # left out take the column's default.
    customers = [{"code": f"C{i}", "name": f"客户 {i}", "name_en": None if i else "First Ltd",
                  "credit_limit": Decimal("1234.565") + i, "province": "浙江"} for i in range(3)]
    products = [{"sku": "P1", "name": "一", "list_price": Decimal("9.99"), "active": False},
                {"sku": "P2", "name": "二", "list_price": Decimal("10"), "active": True}]
    got = {}
    for way in ("core", "rows"):
        with session_factory() as s:
            for table in (TIERS, CONTACTS, CUSTOMERS, PRODUCTS):
                s.execute(table.delete())
            def write(table: Table, rows: list[dict[str, Any]], s: Any = s, way: str = way) -> None:
                if way == "core":
                    s.execute(insert(table), rows)
                else:
                    insert_rows(s, table, rows)
            write(CUSTOMERS, customers)
            write(PRODUCTS, products)
            ids = dict(s.execute(select(Customer.code, Customer.id)).all())
            pids = dict(s.execute(select(Product.sku, Product.id)).all())
            contacts = [{"customer_id": ids["C1"], "seq": n, "name": f"联系人{n}"} for n in (1, 2)]
            tiers = [{"product_id": pids["P1"], "tier": "A", "price": Decimal("8.5")}]
            write(CONTACTS, contacts)
            write(TIERS, tiers)
            s.commit()
            got[way] = ([r[1:] for r in _rows(s, CUSTOMERS, Customer.code)], _rows(s, PRODUCTS, Product.sku)[0][1:],
                        [r[1:] for r in _rows(s, CONTACTS, Contact.seq)], [r[1:] for r in _rows(s, TIERS, TierPrice.tier)])
    assert got["rows"] == got["core"]
    customers_read, first_product, contacts_read, _ = got["rows"]
    assert customers_read[0] == ("客户 0", "First Ltd", "浙江", "", "", "B", Decimal("1234.57"), 30, None, "", "")
    assert customers_read[1][1] is None
    assert contacts_read == [(1, "联系人1", "", "", ""), (2, "联系人2", "", "", "")]
    with session_factory() as s:
        assert s.scalar(select(Product.active).where(Product.sku == "P1")) is False
