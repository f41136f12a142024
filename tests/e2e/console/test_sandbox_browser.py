"""The quick-start promise, in a real browser: with the demo data, a sales person orders in /sandbox, the
manager approves from the card (and finance too for a large order), and the change shows everywhere.

Runs Debian's Chromium through Playwright against the real server (background dispatcher included) on a
temporary SQLite database. Skipped, with the reason, when no Chromium is installed (.ci/run installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from bot.bootstrap import build
from bot.demo import load_demo
from bot.settings import Settings
from domain.models import User
from domain.orders import get_order

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("ORDERTALK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
WAIT = 15_000  # ms; the inbox polls every 1.5 s


@pytest.fixture
def live(sqlite_engine, sqlite_url, tmp_path) -> Iterator[tuple[str, Any, dict[str, int]]]:
    settings = Settings(_env_file=None, database_url=sqlite_url, sandbox=True, run_dispatcher=True, run_scheduler=False,
                        secret_key="browser-test-secret-key-0123456789abcdef", data_dir=tmp_path, outbox_poll_seconds=0.2)
    ot = build(settings, engine=sqlite_engine)
    load_demo(ot.sessions, settings, orders_count=12)
    with ot.sessions() as s:
        users = {u.username: u.id for u in s.scalars(select(User))}
    server = make_server("127.0.0.1", 0, ot.flask, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ot.start_background()
    try:
        yield f"http://127.0.0.1:{server.server_port}", ot, users
    finally:
        ot.stop_background()
        server.shutdown()
        thread.join(5)


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM:
        pytest.skip("no Chromium: install Debian's chromium (.ci/run does) or set ORDERTALK_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


def _as(page: Any, base: str, user_id: int) -> None:
    page.goto(f"{base}/sandbox?user={user_id}")
    page.wait_for_selector("body[data-ready='1']", state="attached")


def _say(page: Any, text: str) -> str:
    """Type into the chat as a person would and return the bot's answer."""
    before = page.locator("#chat .msg.bot").count()
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")
    page.wait_for_function(f"document.querySelectorAll('#chat .msg.bot').length > {before}", timeout=WAIT)
    return page.locator("#chat .msg.bot").nth(before).inner_text()


def _inbox_card(page: Any, kind: str, number: str) -> Any:
    card = page.locator(f"#inbox .card[data-kind='{kind}']", has_text=number).last
    card.wait_for(timeout=WAIT)
    return card


def _approve(page: Any, base: str, user_id: int, number: str) -> None:
    _as(page, base, user_id)
    card = _inbox_card(page, "approval_request", number)
    asked: list[str] = []

    def confirm(dialog: Any) -> None:  # the card asks "approve SO-… (¥…)?" and the person says yes
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)
    card.locator("button[data-action='approve']").click()
    page.locator("#chat .msg.bot", has_text=number).first.wait_for(timeout=WAIT)
    assert asked and number in asked[0]


def test_sales_orders_manager_and_finance_approve_in_the_browser(live, browser):
    base, ot, users = live
    page = browser.new_page()
    # a sales person orders by message
    _as(page, base, users["li"])
    answer = _say(page, "下单 华兴 SKU-001 x10")
    number = re.search(r"SO-\d{8}-\d{4}", answer).group(0)
    assert "已提交审批" in answer
    # the manager approves from the card in the inbox; the other manager's copy changes too
    _approve(page, base, users["wang"], number)
    assert "已同意" in page.locator("#chat").inner_text()
    decided = _inbox_card(page, "approval_decided", number)
    assert "王经理" in decided.inner_text() and decided.locator("button").count() == 0
    _as(page, base, users["tom"])
    assert "王经理" in _inbox_card(page, "approval_decided", number).inner_text()  # Tom reads English
    # the sales person sees the result, and the status card says so
    _as(page, base, users["li"])
    _inbox_card(page, "info", number)
    assert "已审批" in _say(page, f"订单 {number}")
    # the warehouse got the shipping task, without prices
    _as(page, base, users["sun"])
    task = _inbox_card(page, "shipping_task", number)
    assert "¥" not in task.inner_text()

    # a large order (> ¥50,000) needs finance after the manager
    _as(page, base, users["li"])
    answer = _say(page, "下单 华兴 SKU-022 x20")
    large = re.search(r"SO-\d{8}-\d{4}", answer).group(0)
    _approve(page, base, users["wang"], large)
    with ot.sessions() as s:
        assert get_order(s, large).status == "pending_approval"
    _approve(page, base, users["qian"], large)
    with ot.sessions() as s:
        assert get_order(s, large).status == "approved"
    _as(page, base, users["li"])
    assert "已审批" in _say(page, f"订单 {large}")
    page.close()


def test_a_report_shows_its_chart_inline_in_the_sandbox(live, browser, tmp_path):
    """A manager asks for the sales trend; the card shows the chart image itself (served by the signed link) above the
    summary table. The screenshot is kept (ORDERTALK_SCREENSHOTS names a folder to copy it to)."""

    from PIL import Image

    base, ot, users = live
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _as(page, base, users["wang"])
    answer = _say(page, "销售趋势 近90天")
    assert "销售额趋势" in answer and "数据范围：您的团队" in answer
    chart = page.locator("#chat .card[data-kind='report'] img.chart").last
    chart.wait_for(timeout=WAIT)
    page.wait_for_function("() => { const i = document.querySelector('#chat img.chart'); "
                           "return i && i.complete && i.naturalWidth > 0; }", timeout=WAIT)
    assert chart.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [1200, 900]
    chart.scroll_into_view_if_needed()
    shot = tmp_path / "sandbox-report.png"
    page.screenshot(path=str(shot), full_page=False)
    box = chart.bounding_box()
    with Image.open(shot) as im:
        region = im.convert("RGB").crop((int(box["x"]), int(box["y"]), int(box["x"] + box["width"]),
                                         int(box["y"] + min(box["height"], 900 - box["y"]))))
        px = region.tobytes()
        blue = sum(1 for i in range(0, len(px), 3) if px[i + 2] > 180 and px[i] < 80 and 80 < px[i + 1] < 140)  # the bars
    assert blue > 500, "the chart's bars are visible in the screenshot"
    if os.environ.get("ORDERTALK_SCREENSHOTS"):
        shutil.copy(shot, os.path.join(os.environ["ORDERTALK_SCREENSHOTS"], shot.name))
    # the spreadsheet is a link beside it, and the text summary is there for platforms without images
    assert page.locator("#chat .card[data-kind='report'] a.file").last.get_attribute("download").endswith(".xlsx")
    page.close()
