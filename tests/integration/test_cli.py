"""The `ordertalk` command on a fresh SQLite file: migrate, demo data, users, rules, serve's safety check, /healthz."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bot.cli import main
from domain.models import (
    AuditEntry,
    Customer,
    Order,
    PlatformIdentity,
    Product,
    Receivable,
    Stock,
    StockMovement,
    User,
    Warehouse,
)


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ORDERTALK_DATABASE_URL", url)
    monkeypatch.setenv("ORDERTALK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ORDERTALK_SANDBOX", raising=False)
    return url


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.output


def test_upgrade_demo_data_users_and_health(fresh: str) -> None:
    assert run("db", "upgrade")[0] == 0
    code, out = run("demo-data", "--if-empty")
    assert code == 0 and "200 orders" in out
    assert run("demo-data", "--if-empty") == (0, "demo data already present\n")
    assert run("demo-data")[0] != 0  # never mixed into a database that has data
    with Session(create_engine(fresh)) as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 20
        assert s.scalar(select(func.count()).select_from(Product)) == 30
        assert s.scalar(select(func.count()).select_from(Warehouse)) == 2
        assert s.scalar(select(Customer.name).where(Customer.code == "C001")) == "杭州华兴电子有限公司"
        states = Counter(s.scalars(select(Order.status).where(Order.channel != "import")))
        assert sum(states.values()) == 200
        history = Counter(s.scalars(select(Order.status).where(Order.channel == "import")))
        assert sum(history.values()) == 120 and set(history) == {"completed", "cancelled"}
        # Master data came in through the importer: stock through the ledger, balances without an order.
        assert s.scalar(select(func.count()).select_from(Receivable).where(Receivable.order_id.is_(None))) == 3
        for on_hand, moved in s.execute(select(Stock.on_hand, select(func.coalesce(func.sum(StockMovement.quantity), 0))
                                               .where(StockMovement.stock_id == Stock.id).scalar_subquery())):
            assert on_hand == moved
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.subject.like("import:%"))) == 7
        assert set(states) >= {"pending_approval", "approved", "partially_shipped", "shipped", "completed", "rejected", "cancelled"}
        roles = {r for u in s.scalars(select(User)) for r in u.roles_csv.split(",")}
        assert roles >= {"sales", "sales_manager", "finance", "warehouse", "admin"}
    code, out = run("users", "add", "chen", "陈销售", "--role", "sales", "--manager", "wang", "--locale", "zh-CN")
    assert code == 0 and "added chen" in out
    assert run("users", "add", "chen", "again", "--role", "sales")[0] != 0
    assert run("users", "add", "x", "X", "--role", "warehouse", "--warehouse", "WH-XX")[0] != 0
    code, out = run("users", "add", "wu", "吴仓管", "--role", "warehouse")
    assert code != 0 and "warehouse staff need their warehouse" in out  # the users sheet's own check
    assert run("users", "link", "chen", "slack", "U0CHEN")[0] == 0
    code, out = run("users", "link", "nobody", "slack", "U0NOBODY")
    assert code != 0
    code, out = run("users", "link", "li", "slack", "U0CHEN")  # chen's account: refused, not moved to li
    assert code != 0 and "already linked" in out
    with Session(create_engine(fresh)) as s:
        chen = s.scalars(select(User).where(User.username == "chen")).one()
        assert chen.manager_id is not None and chen.roles_csv == "sales"
        audited = {a for (a,) in s.execute(select(AuditEntry.action).where(AuditEntry.subject == f"user:{chen.id}"))}
        assert audited == {"user_added", "linked"}
    code, out = run("users", "list")
    assert "chen" in out and "slack:U0CHEN" in out
    with Session(create_engine(fresh)) as s:
        ident = s.scalars(select(PlatformIdentity).where(PlatformIdentity.external_id == "U0CHEN")).one()
        assert s.get(User, ident.user_id).username == "chen"

    from bot.bootstrap import build
    from bot.settings import Settings

    ot = build(Settings(_env_file=None, database_url=fresh, run_dispatcher=False, run_scheduler=False))
    health = ot.flask.test_client().get("/healthz").get_json()
    assert health["status"] == "ok" and health["database"] == "sqlite" and health["schema"]
    assert ot.flask.test_client().get("/sandbox").status_code == 404  # off unless asked for


def test_payment_dates_are_read_by_the_shared_parser(fresh: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--date` like every date a person types: a future payment date is refused with the reason, nothing recorded."""
    assert run("db", "upgrade")[0] == 0
    monkeypatch.setenv("ORDERTALK_DEFAULT_LOCALE", "en")
    code, out = run("payments", "record", "SO-20261123-0001", "100", "--date", "2099-01-01")
    assert code != 0 and "the payment date Jan 1, 2099 is after" in out
    code, out = run("payments", "record", "SO-20261123-0001", "100", "--date", "someday")
    assert code != 0 and "cannot read the date 'someday'" in out


def test_rules_check_names_rule_and_field(tmp_path: Path) -> None:
    code, out = run("rules", "check", "domain/default_rules.yaml")
    assert code == 0 and "large_order" in out and "over_credit_limit" in out
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - name: big\n    when: {total_above: lots}\n    step: {name: x, approvers: {roles: [finance]}}\n")
    code, out = run("rules", "check", str(bad))
    assert code == 1 and "big" in out and "total_above" in out


def test_serve_refuses_the_sandbox_on_a_public_address(fresh: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERTALK_SANDBOX", "1")
    code, out = run("serve", "--host", "0.0.0.0", "--port", "8999")
    assert code != 0 and "loopback" in out


def test_document_links_follow_the_port_served_on(fresh: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`ordertalk serve --port N` with ORDERTALK_PUBLIC_URL unset: a statement's links point at port N, once each,
    and open there."""
    import json
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from domain.db import make_engine, make_session_factory
    from tests.world import build_world

    assert run("db", "upgrade")[0] == 0
    build_world(make_session_factory(make_engine(fresh)))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "ORDERTALK_PUBLIC_URL"}
    env.update(ORDERTALK_SANDBOX="1", ORDERTALK_RUN_SCHEDULER="0", ORDERTALK_PORT="8000")
    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # 60 s: a loaded machine takes its time to import and migrate
            try:
                users = json.load(urllib.request.urlopen(f"{base}/sandbox/api/users", timeout=2))
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not answer")
        qian = next(u["id"] for u in users if u["username"] == "qian")
        ask = urllib.request.Request(f"{base}/sandbox/api/messages", method="POST", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"user": qian, "text": "对账单 华兴"}).encode())
        card = json.load(urllib.request.urlopen(ask, timeout=10))["replies"][0]["card"]
        urls = [b["url"] for b in card["buttons"] if b.get("url")]
        assert len(urls) == 2 and all(u.startswith(f"{base}/documents/statement/C001.") for u in urls)
        assert card["link"] is None and not any(u in " ".join(card["text"]) for u in urls)  # each link shown once
        pdf = urllib.request.urlopen(urls[0], timeout=30)
        assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_import_template_dry_run_import_and_export(fresh: str, tmp_path: Path) -> None:
    import io

    import openpyxl

    assert run("db", "upgrade")[0] == 0
    template = tmp_path / "仓库.xlsx"
    code, out = run("import", "template", "warehouses", str(template), "--lang", "en")
    assert code == 0 and template.exists()
    wb = openpyxl.load_workbook(template)
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == ["Warehouse code", "Warehouse name", "Regions served"]
    ws.append(["WH-SH", "上海仓", "上海,江苏"])
    ws.append(["WH-GZ", "", "广东"])  # a new warehouse without a name
    wb.save(template)
    errors = tmp_path / "errors.xlsx"
    code, out = run("import", "warehouses", str(template), "--dry-run", "--lang", "en", "--errors", str(errors))
    assert code == 1 and "row 4" in out and "B Warehouse name" in out and "nothing was written" in out
    listed = list(openpyxl.load_workbook(errors).worksheets[0].values)
    assert listed[0] == ("Sheet", "Row", "Column", "Value", "Reason") and listed[1][1:3] == (4, "B Warehouse name")
    ws.delete_rows(4)
    wb.save(template)
    code, out = run("import", "warehouses", str(template), "--dry-run")
    assert code == 0 and "新增 1" in out
    assert run("import", "warehouses", str(template))[0] == 0
    code, out = run("import", "warehouses", str(template), "--lang", "en")
    assert code == 0 and "1 unchanged" in out
    exported = tmp_path / "out.xlsx"
    assert run("export", "warehouses", str(exported))[0] == 0
    rows = list(openpyxl.load_workbook(io.BytesIO(exported.read_bytes())).worksheets[0].values)
    assert rows == [("仓库编码", "仓库名称", "服务地区"), ("WH-SH", "上海仓", "上海,江苏")]
    csv = tmp_path / "stock.csv"
    csv.write_bytes("仓库,商品编码,在库数量\nWH-SH,SKU-404,5\n".encode("gbk"))
    code, out = run("import", "stock", str(csv))
    assert code == 1 and "SKU-404" in out and "请先导入商品" in out
