"""The demo company 华东五金贸易 — the same every time, so docs and tests can name it.

Users in every role, 20 customers C001…C020 across provinces, 30 products SKU-001…SKU-030, two warehouses, stock,
three opening balances and 120 earlier orders — all through the import path, as the sheets a company brings — and
~200 orders over the last 90 days in every state, made through the real services.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.documents.imports import KINDS, run_import
from bot.documents.imports.workbook import export
from bot.i18n import tr
from bot.i18n.labels import ROLE
from bot.settings import Settings
from domain import approvals, fulfilment, orders
from domain.audit import Actor
from domain.errors import DomainError
from domain.models import Customer, Order, Product, Role, User
from domain.orders import LineRequest, OrderRequest, Policy
from domain.rules import load_rules
from domain.uow import UnitOfWork

PEOPLE = [
    # username, name, roles, locale, manager, warehouse
    ("admin", "管理员", [Role.ADMIN], "zh-CN", None, None),
    ("wang", "王经理", [Role.SALES_MANAGER], "zh-CN", "admin", None),
    ("tom", "Tom Baker", [Role.SALES_MANAGER], "en", "admin", None),
    ("qian", "钱会计", [Role.FINANCE], "zh-CN", "admin", None),
    ("grace", "Grace Liu", [Role.FINANCE], "en", "admin", None),
    ("li", "李四", [Role.SALES], "zh-CN", "wang", None),
    ("zhang", "张伟", [Role.SALES], "zh-CN", "wang", None),
    ("amy", "Amy Chen", [Role.SALES], "en", "tom", None),
    ("sun", "孙仓管", [Role.WAREHOUSE], "zh-CN", "admin", "WH-SH"),
    ("zhou", "周仓管", [Role.WAREHOUSE], "zh-CN", "admin", "WH-GZ"),
    ("mike", "Mike Wu", [Role.WAREHOUSE], "en", "admin", "WH-SH"),
    ("zhao", "赵经理", [Role.SALES_MANAGER], "zh-CN", "admin", None),  # stands in for wang when he is away
]

CUSTOMERS = [
    ("杭州华兴电子有限公司", "浙江", "杭州", "A"), ("ACME Trading Ltd", "广东", "深圳", "B"),
    ("上海恒通机械有限公司", "上海", "上海", "A"), ("苏州宏达精密制造", "江苏", "苏州", "B"),
    ("宁波港联物流设备", "浙江", "宁波", "B"), ("广州粤海五金", "广东", "广州", "C"),
    ("厦门鹭岛自动化", "福建", "厦门", "B"), ("南京金陵电气", "江苏", "南京", "A"),
    ("佛山顺德家电配件厂", "广东", "佛山", "C"), ("合肥科创仪器", "安徽", "合肥", "B"),
    ("武汉长江重工", "湖北", "武汉", "A"), ("成都天府机电", "四川", "成都", "B"),
    ("东莞新世纪模具", "广东", "东莞", "C"), ("无锡太湖传动", "江苏", "无锡", "B"),
    ("温州瓯江阀门", "浙江", "温州", "C"), ("Northwind Industrial", "上海", "上海", "A"),
    ("长沙湘江工控", "湖南", "长沙", "B"), ("南宁绿城建材", "广西", "南宁", "C"),
    ("福州闽江电子", "福建", "福州", "B"), ("青岛海湾橡塑", "山东", "青岛", "B"),
]

PRODUCTS = [
    ("不锈钢螺丝 M6", "M6x20 304", "盒", "120.00"), ("不锈钢螺丝 M8", "M8x30 304", "盒", "168.00"),
    ("工业轴承 6204", "6204-2RS", "个", "35.50"), ("工业轴承 6305", "6305-ZZ", "个", "58.00"),
    ("液压油 46#", "18L", "桶", "680.00"), ("齿轮油 220#", "18L", "桶", "720.00"),
    ("同步带 HTD 5M", "5M-1000-25", "条", "96.00"), ("三角带 A型", "A-1200", "条", "28.00"),
    ("气缸 SC50", "SC50x100", "个", "265.00"), ("电磁阀 4V210", "4V210-08 DC24V", "个", "88.00"),
    ("接近开关 M12", "NPN 常开", "个", "45.00"), ("光电开关", "漫反射 30cm", "个", "75.00"),
    ("变频器 2.2kW", "380V 三相", "台", "1580.00"), ("伺服电机 750W", "带编码器", "台", "2380.00"),
    ("减速机 NMRV50", "速比 1:30", "台", "860.00"), ("联轴器 梅花型", "D40 L66", "个", "66.00"),
    ("密封圈 O型", "NBR 50x3", "包", "18.00"), ("油封 TC", "40x62x8", "个", "9.50"),
    ("直线导轨 HGR20", "1000mm", "根", "420.00"), ("滑块 HGH20CA", "标准型", "个", "150.00"),
    ("滚珠丝杆 SFU1605", "500mm", "根", "380.00"), ("PLC 模块", "16 入 16 出", "台", "2980.00"),
    ("触摸屏 7寸", "RS485", "台", "1350.00"), ("继电器 中间", "DC24V 8脚", "个", "22.00"),
    ("断路器 C32", "3P", "个", "98.00"), ("电缆 RVV 4x1.5", "100米", "卷", "560.00"),
    ("扎带 尼龙", "4x200 1000条", "包", "25.00"), ("劳保手套", "丁腈涂层 12双", "包", "36.00"),
    ("防锈剂 WD-40", "400ml", "瓶", "32.00"), ("润滑脂 锂基", "15kg", "桶", "420.00"),
]

CARRIERS = ["顺丰", "中通", "圆通", "京东物流", "德邦"]


Progress = Callable[[int, int], None]


def load_demo(sessions: sessionmaker[Session], settings: Settings, *, only_if_empty: bool = False,
              orders_count: int = 200, now: datetime | None = None, progress: Progress | None = None) -> str:
    with sessions() as s:
        if s.scalar(select(func.count(User.id))):
            if only_if_empty:
                return "demo data already present"
            raise RuntimeError("the database already has users; demo data goes into an empty database")
    now = now or datetime.now(UTC)
    rng = random.Random(20261122)
    history = _master_data(sessions, settings, now, rng)
    made = _history(sessions, settings, rng, now, orders_count, progress)
    return (f"demo data loaded: {len(PEOPLE)} users, {len(CUSTOMERS)} customers, {len(PRODUCTS)} products, 2 warehouses, "
            f"{made} orders, {history} earlier orders, {len(OPENING_BALANCES)} opening balances")


WAREHOUSES = [("WH-SH", "上海仓", "上海,江苏,浙江,安徽,山东"), ("WH-GZ", "广州仓", "广东,广西,福建,湖南,四川,湖北")]
OPENING_BALANCES = [("C003", "INV-2026-0815", "18600.00", -75), ("C011", "INV-2026-0902", "42000.00", -20),
                    ("C005", "INV-2026-0930", "7350.50", 25)]  # customer, reference, amount, due in days from today


def _sheets(settings: Settings, now: datetime, rng: random.Random) -> dict[str, list[list[object]]]:
    """The demo company as the sheets a company would bring: the same columns as the import templates."""
    zh = {role: tr("zh-CN", label) for role, label in ROLE.items()}
    sales = ["li", "amy", "zhang"]  # 华兴 (C001) is li's and ACME (C002) amy's: the quick start's people order for their own
    today = now.astimezone(settings.tz).date()
    sheets: dict[str, list[list[object]]] = {
        "warehouses": [list(w) for w in WAREHOUSES],
        "users": [[u, name, ",".join(zh[r] for r in roles), manager or "", wh or "", locale, f"{u}@example.com",
                   f"1390000{i:04d}", "", "", ""] for i, (u, name, roles, locale, manager, wh) in enumerate(PEOPLE, start=1)],
        "customers": [[f"C{i:03d}", name, "", prov, city, f"{city}市工业园区 {i} 号", ["陈先生", "刘女士", "黄经理", "Mr. Smith"][i % 4],
                       f"1380000{i:04d}", "", "采购", tier, {"A": 300000, "B": 100000, "C": 30000}[tier],
                       {"A": 60, "B": 30, "C": 15}[tier], sales[(i - 1) % 3], name, ""]
                      for i, (name, prov, city, tier) in enumerate(CUSTOMERS, start=1)],
        "products": [[f"SKU-{i:03d}", name, "", spec, unit, Decimal(price), (Decimal(price) * Decimal("0.92")).quantize(Decimal("0.01")),
                      "", "", [20, 50, 10, 5][i % 4], "是"] for i, (name, spec, unit, price) in enumerate(PRODUCTS, start=1)],
        # two products start close to their safety stock, so alerts can be seen
        "stock": [[wh, f"SKU-{i:03d}", qty] for i in range(1, len(PRODUCTS) + 1)
                  for wh, qty in (("WH-SH", 60 if i in (7, 19) else 3000), ("WH-GZ", 0 if i in (7, 19) else 1500))],
        "receivables": [[c, ref, Decimal(a), today + timedelta(days=d)] for c, ref, a, d in OPENING_BALANCES],
    }
    orders: list[list[object]] = []  # the year before the live history, so reports have a past
    for n in range(1, 121):
        day = today - timedelta(days=100 + 3 * n)
        cust = rng.randint(1, len(CUSTOMERS))
        for p in rng.sample(range(1, len(PRODUCTS) + 1), rng.randint(1, 3)):
            price = Decimal(PRODUCTS[p - 1][3])
            orders.append([f"OLD-{day:%Y%m%d}-{n:04d}", day, f"C{cust:03d}", "", f"SKU-{p:03d}", rng.choice([5, 10, 20, 50]),
                           price, 0, "cancelled" if n % 17 == 0 else "completed", ""])
    sheets["orders"] = orders
    return sheets


def _master_data(sessions: sessionmaker[Session], settings: Settings, now: datetime, rng: random.Random) -> int:
    """Through the import path (the same XLSX an admin would send), so the importer runs on every demo start."""
    sheets = _sheets(settings, now, rng)
    for kind in ("warehouses", "users", "customers", "products", "stock", "receivables", "orders"):
        data = export(KINDS[kind], sheets[kind], "zh")
        result = run_import(sessions, kind, data, f"demo-{kind}.xlsx", user=None, actor=Actor(None, "import"),
                            today=now.astimezone(settings.tz).date(), tz=settings.tz, dry_run=False, clock=lambda: now)
        if not result.applied:
            raise RuntimeError(f"demo {kind}: " + "; ".join(f"row {p.row} {p.column}: {p.reason('en')}" for p in result.problems[:5]))
    return len({row[0] for row in sheets["orders"]})


class _Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _history(sessions: sessionmaker[Session], settings: Settings, rng: random.Random, now: datetime, n: int,
             progress: Progress | None) -> int:
    rules = load_rules(settings.rules_file)
    with sessions() as s:
        users = {u.username: u.id for u in s.scalars(select(User))}
        customers = [(c.id, c.sales_user_id) for c in s.scalars(select(Customer).order_by(Customer.id))]
        products = [p.id for p in s.scalars(select(Product).order_by(Product.id)) if p.sku not in ("SKU-007", "SKU-019")]
    made = 0
    starts = sorted(now - timedelta(days=rng.uniform(0.2, 90)) for _ in range(n))
    for done, at in enumerate(starts, start=1):
        if progress is not None:
            progress(done, n)
        clock = _Clock(at)
        uow = UnitOfWork(sessions, clock, settings.tz)
        cust_id, sales_id = rng.choice(customers)
        lines = [LineRequest(product_id=pid, quantity=rng.choice([2, 5, 10, 20, 30])) for pid in rng.sample(products, rng.randint(1, 4))]
        local_day = at.astimezone(settings.tz).date()
        try:
            with uow:
                creator = uow.session.get(User, sales_id)
                assert creator is not None
                order = orders.create_order(uow, creator, OrderRequest(cust_id, lines, requested_date=local_day + timedelta(days=rng.randint(3, 20))),
                                            Policy(rules, settings.order_prefix, local_day), Actor(creator.id, "sandbox"))
                uow.commit()
                number = order.number
        except DomainError:
            continue
        made += 1
        age = (now - at).days
        fate = rng.random()
        if age < 2 and fate < 0.7:
            continue  # recent orders still wait for approval
        _advance(sessions, settings, users, rng, number, at, now, fate)
    return made


def _advance(sessions: sessionmaker[Session], settings: Settings, users: dict[str, int], rng: random.Random, number: str,
             at: datetime, now: datetime, fate: float) -> None:
    clock = _Clock(at + timedelta(hours=rng.uniform(1, 20)))
    uow = UnitOfWork(sessions, clock, settings.tz)
    with uow:
        order = orders.get_order(uow.session, number)
        if fate < 0.06:
            sales = uow.session.get(User, order.sales_user_id)
            orders.cancel_order(uow, sales, number, "客户撤单", Actor(order.sales_user_id, "sandbox"))  # type: ignore[arg-type]
            uow.commit()
            return
        for _ in range(3):
            step = approvals.current_step(order)
            if step is None:
                break
            approver = step.assignments[0].user
            reject = fate < 0.12
            approvals.decide(uow, step.id, approver, not reject, Actor(approver.id, "sandbox"), "价格低于底价" if reject else None)
            if reject:
                break
        uow.commit()
    if fate < 0.12 or fate > 0.93:
        return  # rejected, or approved and waiting for the warehouse
    for task_id in _tasks(sessions, number):
        clock.at += timedelta(days=rng.uniform(0.5, 3))
        if clock.at > now:
            return
        with uow:
            from domain.models import ShippingTask

            task = uow.session.get(ShippingTask, task_id)
            assert task is not None
            staff = users["sun"] if task.warehouse.code == "WH-SH" else users["zhou"]
            who = uow.session.get(User, staff)
            assert who is not None
            partial = fate > 0.85
            qty = None
            if partial:
                qty = {r.order_line_id: max(1, r.quantity // 2) for r in fulfilment.task_lines(uow.session, task) if r.quantity}
            fulfilment.ship(uow, task_id, who, rng.choice(CARRIERS), f"SF{rng.randint(10**11, 10**12 - 1)}", qty,
                            Actor(staff, "sandbox"), clock.at.astimezone(settings.tz).date())
            uow.commit()
    if fate > 0.6:
        return  # shipped, not (fully) paid yet — some of these become overdue
    clock.at += timedelta(days=rng.uniform(5, 40))
    if clock.at > now:
        return
    with uow:
        order = orders.get_order(uow.session, number)
        open_ = fulfilment.open_amount(uow.session, order.id)
        fin = uow.session.get(User, users["qian"])
        if open_ > 0 and fin is not None:
            fulfilment.record_payment(uow, order, open_, clock.at.astimezone(settings.tz).date(), "银行转账", fin, Actor(fin.id, "sandbox"))
            uow.commit()


def _tasks(sessions: sessionmaker[Session], number: str) -> list[int]:
    from domain.models import ShippingTask

    with sessions() as s:
        order = s.scalar(select(Order).where(Order.number == number))
        if order is None:
            return []
        return list(s.scalars(select(ShippingTask.id).where(ShippingTask.order_id == order.id).order_by(ShippingTask.id)))
