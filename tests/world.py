"""A small, explicit business world for tests (the demo data is bigger; tests name what they need)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from domain.audit import Actor
from domain.models import (
    Customer,
    MovementKind,
    PlatformIdentity,
    Product,
    Role,
    Stock,
    StockMovement,
    TierPrice,
    User,
    Warehouse,
)
from domain.orders import LineRequest, OrderRequest, Policy
from domain.rules import load_rules
from domain.uow import UnitOfWork


class Clock:
    """A controllable clock: tests move time instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kw: float) -> None:
        self.current += timedelta(**kw)


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


def build_world(factory: sessionmaker[Session]) -> World:
    w = World()
    with factory() as s:
        east = Warehouse(code="WH-SH", name="上海仓", region="上海,江苏,浙江")
        south = Warehouse(code="WH-GZ", name="广州仓", region="广东,广西,福建")
        s.add_all([east, south])
        s.flush()
        admin = User(username="admin", display_name="管理员", locale="zh-CN")
        admin.roles = {Role.ADMIN}
        boss = User(username="wang", display_name="王经理", locale="zh-CN")
        boss.roles = {Role.SALES_MANAGER}
        boss2 = User(username="zhao", display_name="赵经理", locale="zh-CN")
        boss2.roles = {Role.SALES_MANAGER}
        fin = User(username="qian", display_name="钱会计", locale="zh-CN")
        fin.roles = {Role.FINANCE}
        sales = User(username="li", display_name="李四", locale="zh-CN", manager=boss)
        sales.roles = {Role.SALES}
        sales2 = User(username="amy", display_name="Amy Chen", locale="en", manager=boss)
        sales2.roles = {Role.SALES}
        wh = User(username="sun", display_name="孙仓管", locale="zh-CN", warehouse_id=east.id)
        wh.roles = {Role.WAREHOUSE}
        s.add_all([admin, boss, boss2, fin, sales, sales2, wh])
        s.flush()
        boss.manager = admin
        c1 = Customer(code="C001", name="杭州华兴电子有限公司", province="浙江", city="杭州", address="文三路 1 号",
                      contact_name="陈先生", contact_phone="13800000001", tier="A", credit_limit=Decimal("200000"),
                      payment_terms_days=30, sales_user_id=sales.id)
        c2 = Customer(code="C002", name="ACME Trading Ltd", province="广东", city="深圳", tier="B",
                      credit_limit=Decimal("10000"), payment_terms_days=45, sales_user_id=sales2.id)
        s.add_all([c1, c2])
        p1 = Product(sku="SKU-001", name="不锈钢螺丝 M6", spec="M6x20", unit="盒", list_price=Decimal("120.00"), safety_stock=20)
        p1.tier_prices.append(TierPrice(tier="A", price=Decimal("110.00")))
        p2 = Product(sku="SKU-002", name="工业轴承 6204", spec="6204-2RS", unit="个", list_price=Decimal("35.50"), safety_stock=10)
        p3 = Product(sku="SKU-003", name="液压油 46#", spec="18L", unit="桶", list_price=Decimal("680.00"), safety_stock=5)
        s.add_all([p1, p2, p3])
        s.flush()
        rows = [
            Stock(warehouse_id=east.id, product_id=p1.id, on_hand=100),
            Stock(warehouse_id=south.id, product_id=p1.id, on_hand=50),
            Stock(warehouse_id=east.id, product_id=p2.id, on_hand=500),
            Stock(warehouse_id=south.id, product_id=p3.id, on_hand=30),
            Stock(warehouse_id=east.id, product_id=p3.id, on_hand=10),
        ]
        s.add_all(rows)
        s.flush()
        s.add_all([StockMovement(stock_id=r.id, kind=MovementKind.OPENING.value, quantity=r.on_hand, on_hand_after=r.on_hand)
                   for r in rows])  # on hand is the sum of the ledger, from the first day
        s.add(PlatformIdentity(platform="slack", external_id="U_LI", user_id=sales.id))
        s.commit()
        for name, obj in dict(east=east, south=south, admin=admin, boss=boss, boss2=boss2, fin=fin, sales=sales,
                              sales2=sales2, wh=wh, c1=c1, c2=c2, p1=p1, p2=p2, p3=p3).items():
            w.ids[name] = obj.id
    return w


def policy(today: date = date(2026, 11, 23)) -> Policy:
    from bot.settings import DEFAULT_RULES

    return Policy(rules=load_rules(DEFAULT_RULES), order_prefix="SO", local_today=today)


def place(factory: sessionmaker[Session], clock: Clock, w: World, customer: str, lines: list[tuple[str, int]],
          by: str = "sales", **kw: object) -> str:
    """Create and submit an order through the service; returns its number."""
    from domain.orders import create_order

    uow = UnitOfWork(factory, clock)
    with uow:
        creator = uow.session.get(User, w[by])
        assert creator is not None
        req = OrderRequest(
            customer_id=w[customer],
            lines=[LineRequest(product_id=w[p], quantity=q, **kw) for p, q in lines],  # type: ignore[arg-type]
        )
        order = create_order(uow, creator, req, policy(), Actor(creator.id, "test"))
        uow.commit()
        return order.number
