"""The `ordertalk` command on a fresh SQLite file: migrate, demo data, users, rules, serve's safety check, /healthz."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bot.cli import main
from domain.models import Customer, Order, PlatformIdentity, Product, User, Warehouse


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
        states = Counter(s.scalars(select(Order.status)))
        assert sum(states.values()) == 200
        assert set(states) >= {"pending_approval", "approved", "partially_shipped", "shipped", "completed", "rejected", "cancelled"}
        roles = {r for u in s.scalars(select(User)) for r in u.roles_csv.split(",")}
        assert roles >= {"sales", "sales_manager", "finance", "warehouse", "admin"}
    code, out = run("users", "add", "chen", "陈销售", "--role", "sales", "--manager", "wang", "--locale", "zh-CN")
    assert code == 0 and "added chen" in out
    assert run("users", "add", "chen", "again", "--role", "sales")[0] != 0
    assert run("users", "add", "x", "X", "--role", "warehouse", "--warehouse", "WH-XX")[0] != 0
    assert run("users", "link", "chen", "slack", "U0CHEN")[0] == 0
    code, out = run("users", "link", "nobody", "slack", "U0NOBODY")
    assert code != 0
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
