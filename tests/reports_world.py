"""A fixed data set for the reports: orders, approvals, shipments, receivables and payments written as rows, so every
figure a report shows can be worked out by hand (the expected figures are in tests/integration/test_reports.py).

On top of tests.world: 王经理 (boss) manages 李四 (sales) and Amy (sales2); 赵经理 (boss2) manages 张伟 (sales3, added
here). Customers: C001 杭州 (李四), C002 深圳 (Amy), C003 宁波 (张伟), C004 广州 (李四). Products: SKU-001 盒, SKU-002 个,
SKU-003 桶, SKU-004 米 (added). Today is Monday 2026-11-23, 10:00 in Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from domain.models import (
    ApprovalStep,
    Customer,
    Order,
    OrderLine,
    Payment,
    Product,
    Receivable,
    Reservation,
    Role,
    Shipment,
    ShippingTask,
    User,
)
from tests.world import World, build_world

SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
MANAGER, FINANCE = ("销售经理审批", "Sales manager approval"), ("财务审批", "Finance approval")


def local(y: int, mo: int, d: int, h: int = 9, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH).astimezone(UTC)


@dataclass
class Spec:
    number: str
    customer: str
    sales: str
    status: str
    at: datetime
    lines: list[tuple[str, int, str]]  # product, quantity, unit price
    steps: list[tuple[tuple[str, str], float, float | None, str]] = field(default_factory=list)  # name, opened +h, decided +h, status
    task: tuple[str, float, float | None, str] | None = None  # warehouse, created +h, shipped +h, task status
    receivable: tuple[str, str, date] | None = None  # amount, paid, due
    payments: list[tuple[str, date]] = field(default_factory=list)


def _approved(hours: float, *more: tuple[tuple[str, str], float, float]) -> list[tuple[tuple[str, str], float, float | None, str]]:
    return [(MANAGER, 0, hours, "approved"), *((n, o, d, "approved") for n, o, d in more)]


SPECS = [
    # September and October (the periods before)
    Spec("SO-20260905-0001", "c1", "sales", "completed", local(2026, 9, 5), [("p1", 5, "120.00")], _approved(1)),
    Spec("SO-20261005-0001", "c1", "sales", "completed", local(2026, 10, 5, 10), [("p1", 10, "120.00")], _approved(2),
         ("east", 2, 26, "shipped"), ("1200.00", "1200.00", date(2026, 11, 4)), [("1200.00", date(2026, 11, 5))]),
    Spec("SO-20261010-0001", "c1", "sales", "rejected", local(2026, 10, 10), [("p1", 5, "120.00")],
         [(MANAGER, 0, 1, "rejected")]),
    Spec("SO-20261020-0001", "c2", "sales2", "shipped", local(2026, 10, 20), [("p2", 100, "35.50")], _approved(1),
         ("south", 1, 25, "shipped"), ("3550.00", "1000.00", date(2026, 11, 19)), [("1000.00", date(2026, 11, 12))]),
    Spec("SO-20261028-0001", "c3", "sales3", "completed", local(2026, 10, 28), [("p3", 2, "680.00")], _approved(2)),
    # November 1–23 (this month)
    Spec("SO-20261101-0001", "c4", "sales", "approved", local(2026, 11, 1, 0, 30), [("p2", 10, "35.50")],
         _approved(6), ("south", 6, None, "open")),  # 2026-10-31 16:30 UTC: November in Shanghai
    Spec("SO-20261102-0001", "c1", "sales", "approved", local(2026, 11, 2, 8), [("p1", 20, "110.00"), ("p4", 300, "5.00")],
         _approved(2, (FINANCE, 2, 7)), ("east", 7, None, "open")),
    Spec("SO-20261103-0001", "c4", "sales", "shipped", local(2026, 11, 3), [("p2", 40, "35.50")], _approved(4),
         ("south", 4, 52, "shipped"), ("1420.00", "0.00", date(2026, 12, 3))),
    Spec("SO-20261110-0001", "c2", "sales2", "partially_shipped", local(2026, 11, 10), [("p3", 5, "680.00")], _approved(1),
         ("south", 1, 49, "partially_shipped"), ("1360.00", "0.00", date(2026, 12, 10))),
    Spec("SO-20261115-0001", "c2", "sales2", "cancelled", local(2026, 11, 15), [("p1", 3, "120.00")],
         [(MANAGER, 0, None, "cancelled")]),
    Spec("SO-20261120-0001", "c3", "sales3", "completed", local(2026, 11, 20), [("p1", 30, "120.00")], _approved(3),
         ("east", 3, 27, "shipped"), ("3600.00", "3600.00", date(2026, 12, 20)), [("3600.00", date(2026, 11, 21))]),
    Spec("SO-20261122-0001", "c1", "sales", "pending_approval", local(2026, 11, 22, 10), [("p1", 100, "120.00")],
         [(MANAGER, 0, None, "pending")]),
    # old and open: ageing
    Spec("SO-20260801-0001", "c1", "sales", "shipped", local(2026, 8, 1), [("p3", 5, "1000.00")], _approved(1),
         ("east", 1, 10, "shipped"), ("5000.00", "0.00", date(2026, 8, 31))),
    Spec("SO-20260601-0001", "c2", "sales2", "shipped", local(2026, 6, 1), [("p2", 20, "40.00")], _approved(1),
         ("south", 1, 10, "shipped"), ("800.00", "0.00", date(2026, 7, 1))),
]


def build_report_world(factory: sessionmaker[Session]) -> World:
    w = build_world(factory)
    with factory() as s:
        zhang = User(username="zhang", display_name="张伟", locale="zh-CN", manager_id=w["boss2"])
        zhang.roles = {Role.SALES}
        s.add(zhang)
        s.flush()
        c3 = Customer(code="C003", name="宁波港联物流设备", province="浙江", city="宁波", sales_user_id=zhang.id)
        c4 = Customer(code="C004", name="广州粤海五金", province="广东", city="广州", sales_user_id=w["sales"])
        p4 = Product(sku="SKU-004", name="电缆 RVV", name_en="RVV cable", unit="米", list_price=Decimal("5.00"))
        s.add_all([c3, c4, p4])
        s.flush()
        w.ids.update(sales3=zhang.id, c3=c3.id, c4=c4.id, p4=p4.id)
        for spec in SPECS:
            _write(s, w, spec)
        s.commit()
    return w


def _write(s: Session, w: World, spec: Spec) -> None:
    lines = [OrderLine(line_no=i, product_id=w[p], quantity=q, unit_price=Decimal(price), list_price=Decimal(price),
                       amount=Decimal(price) * q, shipped_qty=q if spec.status in ("shipped", "completed") else 0)
             for i, (p, q, price) in enumerate(spec.lines, 1)]
    order = Order(number=spec.number, customer_id=w[spec.customer], sales_user_id=w[spec.sales],
                  created_by_id=w[spec.sales], status=spec.status, total=sum((ln.amount for ln in lines), Decimal(0)),
                  created_at=spec.at, updated_at=spec.at, lines=lines)
    s.add(order)
    s.flush()
    for seq, (name, opened, decided, status) in enumerate(spec.steps, 1):
        s.add(ApprovalStep(order_id=order.id, seq=seq, name=name[0], name_en=name[1], status=status,
                           opened_at=spec.at + timedelta(hours=opened),
                           decided_at=spec.at + timedelta(hours=decided) if decided is not None else None))
    if spec.task is None:
        return
    where, created, shipped, task_status = spec.task
    task = ShippingTask(order_id=order.id, warehouse_id=w[where], status=task_status,
                        created_at=spec.at + timedelta(hours=created))
    s.add(task)
    s.flush()
    done = task_status in ("shipped", "partially_shipped")
    for ln in lines:
        sent = ln.quantity if task_status == "shipped" else (ln.quantity // 2 if done else 0)
        s.add(Reservation(order_id=order.id, order_line_id=ln.id, warehouse_id=w[where], product_id=ln.product_id,
                          quantity=ln.quantity - sent, shipped=sent))
    if shipped is None:
        return
    shipment = Shipment(task_id=task.id, order_id=order.id, warehouse_id=w[where], carrier="顺丰", tracking_no=spec.number,
                        amount=Decimal(spec.receivable[0]) if spec.receivable else order.total,
                        shipped_at=spec.at + timedelta(hours=shipped), shipped_by_id=w["wh"])
    s.add(shipment)
    task.last_shipped_at = shipment.shipped_at  # as domain.fulfilment.ship keeps it
    s.flush()
    if spec.receivable:
        amount, paid, due = spec.receivable
        s.add(Receivable(order_id=order.id, shipment_id=shipment.id, customer_id=order.customer_id, amount=Decimal(amount),
                         paid=Decimal(paid), due_date=due, settled=Decimal(paid) >= Decimal(amount),
                         created_at=shipment.shipped_at))
    for amount, on in spec.payments:
        s.add(Payment(order_id=order.id, customer_id=order.customer_id, amount=Decimal(amount), paid_on=on, method="转账"))
