"""Recording payments from a bank statement and from the command line, against the real database."""

from __future__ import annotations

from decimal import Decimal

from click.testing import CliRunner
from sqlalchemy import func, select

from bot.bank_import import import_bank_statement
from bot.cli import main
from domain.audit import Actor
from domain.models import Payment, User
from domain.orders import get_order
from tests.sandbox import Chat, button
from tests.world import build_world

FIRST, SECOND = "SO-20261123-0001", "SO-20261123-0002"


def _two_shipped_orders(ot) -> Chat:
    chat = Chat(ot)
    chat.say("li", "下单 华兴 SKU-001 x10")  # ¥1,100.00
    chat.say("li", "下单 华兴 SKU-002 x20")  # ¥710.00
    for card in chat.cards("wang", "approval_request"):
        chat.click("wang", button(card, "approve")["token"])
    for task in chat.cards("sun", "shipping_task"):
        chat.click("sun", button(task, "ship")["token"], {"carrier": "顺丰", "tracking": "SF1"})
    return chat


STATEMENT = (
    "交易日期,摘要,借方金额,贷方金额,余额,对方户名,附言\n"
    f"2026-11-24,转账,,\"500.00\",,杭州华兴电子有限公司,货款 {FIRST}\n"  # by order number, partial
    "2026-11-25,转账,,\"710.00\",,杭州华兴电子有限公司,货款\n"  # by customer + exact amount
    "2026-11-26,转账,,\"999.00\",,不认识的公司,\n"  # nobody: listed back
    f"2026-11-27,转账,,\"5,000.00\",,杭州华兴电子有限公司,{FIRST}\n"  # more than open: refused, listed
    "2026-11-28,手续费,15.00,,,,\n"  # outgoing: ignored
)


def _shipped_a_week_ago(ot, clock, username: str) -> User:  # type: ignore[no-untyped-def]
    """The two orders shipped, a week on (a statement's lines are not in the future); the user who imports."""
    w = build_world(ot.sessions)
    _two_shipped_orders(ot)
    clock.advance(days=7)
    with ot.sessions() as s:
        user = s.get(User, w[username])
        s.expunge(user)
    return user


def _paid(ot) -> dict[str, Decimal]:
    with ot.sessions() as s:
        rows = s.execute(select(Payment.order_id, func.sum(Payment.amount)).group_by(Payment.order_id)).all()
        numbers = {get_order(s, n).id: n for n in (FIRST, SECOND)}
        return {numbers[oid]: Decimal(total) for oid, total in rows}


def test_bank_statement_matches_records_once_and_lists_the_rest(ot, clock):
    w = build_world(ot.sessions)
    chat = _two_shipped_orders(ot)
    clock.advance(days=7)  # the statement comes a week later: its lines are not in the future
    with ot.sessions() as s:
        qian = s.get(User, w["fin"])
        s.expunge(qian)
    report = import_bank_statement(ot.sessions, ot.ctx, STATEMENT.encode(), "bank.csv", qian, Actor(qian.id, "import"))
    assert [(m.order_number, m.amount, m.method.value) for m in report.recorded] == [
        (FIRST, Decimal("500.00"), "order_number"), (SECOND, Decimal("710.00"), "customer_amount")]
    assert sorted(u.line.amount for u in report.unmatched) == [Decimal("999.00"), Decimal("5000.00")]
    assert _paid(ot) == {FIRST: Decimal("500.00"), SECOND: Decimal("710.00")}
    with ot.sessions() as s:
        assert get_order(s, SECOND).status == "completed" and get_order(s, FIRST).status == "shipped"
    assert any("收到回款" in c["title"] for c in chat.cards("li", "info"))  # sales hears about it
    again = import_bank_statement(ot.sessions, ot.ctx, STATEMENT.encode(), "bank-again.csv", qian, Actor(qian.id, "import"))
    assert again.recorded == [] and len(again.already) == 2
    assert _paid(ot) == {FIRST: Decimal("500.00"), SECOND: Decimal("710.00")}


def test_bank_import_refuses_a_user_without_the_finance_role(ot, clock):
    li = _shipped_a_week_ago(ot, clock, "sales")
    report = import_bank_statement(ot.sessions, ot.ctx, STATEMENT.encode(), "bank.csv", li, Actor(li.id, "import"))
    assert report.recorded == [] and len(report.refused) == 2 and "财务" in report.refused[0][1]
    assert _paid(ot) == {}


def test_cli_records_and_imports_payments(ot, db_url, tmp_path, monkeypatch):
    build_world(ot.sessions)
    _two_shipped_orders(ot)
    monkeypatch.setenv("ORDERTALK_DATABASE_URL", db_url)
    monkeypatch.setenv("ORDERTALK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ORDERTALK_RUN_DISPATCHER", "false")
    runner = CliRunner()
    r = runner.invoke(main, ["payments", "record", FIRST, "100", "--as", "qian", "--date", "2026-12-01"])
    assert r.exit_code == 0, r.output
    assert "still open 1,000.00" in r.output
    r = runner.invoke(main, ["payments", "record", FIRST, "100000"])
    assert r.exit_code != 0 and "1,000.00" in r.output  # overpayment refused with the open amount
    r = runner.invoke(main, ["payments", "record", FIRST, "10", "--as", "li"])
    assert r.exit_code != 0
    r = runner.invoke(main, ["payments", "record", "SO-19990101-0001", "10"])
    assert r.exit_code != 0 and "SO-19990101-0001" in r.output
    assert _paid(ot) == {FIRST: Decimal("100.00")}
    f = tmp_path / "bank.csv"
    f.write_text(STATEMENT.replace("500.00", "400.00"), encoding="gbk")
    r = runner.invoke(main, ["payments", "import", str(f), "--dry-run"])
    assert r.exit_code == 0 and "2 would record" in r.output and _paid(ot) == {FIRST: Decimal("100.00")}
    r = runner.invoke(main, ["payments", "import", str(f), "--as", "qian"])
    assert r.exit_code == 0 and "2 recorded" in r.output and "2 unmatched" in r.output
    assert _paid(ot) == {FIRST: Decimal("500.00"), SECOND: Decimal("710.00")}
    bad = tmp_path / "bank.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0 not really")
    r = runner.invoke(main, ["payments", "import", str(bad)])
    assert r.exit_code != 0 and "xls" in r.output


def test_a_statement_cut_short_by_a_crash_records_nothing_and_its_check_still_applies(ot, clock, monkeypatch):
    """The whole statement is one unit of work: a process dying on its second line leaves no payment, so the
    check made before (its digest) applies as it was — recorded line by line, the re-run found the first line
    "already" and refused the statement as changed."""
    import domain.fulfilment as bank_payments

    qian = _shipped_a_week_ago(ot, clock, "fin")
    check = import_bank_statement(ot.sessions, ot.ctx, STATEMENT.encode(), "bank.csv", qian, Actor(qian.id, "import"),
                                  dry_run=True)
    real, calls = bank_payments.record_payment, []

    def dies_on_the_second(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args)
        if len(calls) == 2:
            raise SystemExit("killed")  # not a refusal: the process goes away mid-statement
        return real(*args, **kwargs)

    monkeypatch.setattr(bank_payments, "record_payment", dies_on_the_second)
    try:
        import_bank_statement(ot.sessions, ot.ctx, STATEMENT.encode(), "bank.csv", qian, Actor(qian.id, "import"),
                              expected_digest=check.digest)
    except SystemExit:
        pass
    assert len(calls) == 2 and _paid(ot) == {}
    monkeypatch.setattr(bank_payments, "record_payment", real)
    report = import_bank_statement(ot.sessions, ot.ctx, STATEMENT.encode(), "bank.csv", qian, Actor(qian.id, "import"),
                                   expected_digest=check.digest)
    assert not report.changed and len(report.recorded) == 2
    assert _paid(ot) == {FIRST: Decimal("500.00"), SECOND: Decimal("710.00")}
