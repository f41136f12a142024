"""Reports in chat through the sandbox, in both languages: the card (summary, table, who the figures cover), its chart
(a PNG that decodes at the house size) and spreadsheet (numbers, not text), drawn once per content and served by a
signed link; and order search: one paged list card, a button per row, within the asker's permissions."""

from __future__ import annotations

import io
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select

from bot.documents.charts import SIZE
from bot.records import StoredFile
from tests.reports_world import build_report_world
from tests.sandbox import Chat, button, text_of


@pytest.fixture
def chat(ot):
    build_report_world(ot.sessions)
    return Chat(ot)


def card_of(replies):
    return next(r["card"] for r in replies if r.get("card"))


def fetch(chat, url):
    parts = urlsplit(url)
    return chat.client.get(parts.path + "?" + parts.query)


def test_a_report_card_has_its_summary_table_chart_and_spreadsheet(chat):
    card = card_of(chat.say("li", "报表"))
    assert card["kind"] == "report" and card["title"] == "销售额趋势"
    assert card["subtitle"].startswith("本月（2026年11月1日") and "对比 2026年10月1日" in card["subtitle"]
    assert card["text"][0] == "销售额 ¥5,475.00，3 笔订单，平均每单 ¥1,825.00"  # 李四's own figures
    assert card["text"][1].startswith("较 2026年10月1日") and "（¥1,200.00）+356.3%" in card["text"][1]
    assert card["context"] == "数据范围：您本人"
    # the days with orders, latest first, beside the same day of the period before (Oct 5 is the 5th day)
    assert [row[:3] + row[4:] for row in card["table"]["rows"]] == [
        ["11月5日", "¥0.00", "0", "¥1,200.00", "1"], ["11月3日", "¥1,420.00", "1", "¥0.00", "0"],
        ["11月2日", "¥3,700.00", "1", "¥0.00", "0"], ["11月1日", "¥355.00", "1", "¥0.00", "0"]]
    image, sheet = card["attachments"]
    assert (image["kind"], image["mime"], image["width"], image["height"]) == ("image", "image/png", *SIZE)
    assert image["summary"] == card["text"][:2]
    png = fetch(chat, image["url"])
    assert png.status_code == 200 and png.mimetype == "image/png"
    with Image.open(io.BytesIO(png.data)) as im:
        assert im.format == "PNG" and im.size == SIZE
        im.verify()
    xlsx = fetch(chat, sheet["url"])
    assert xlsx.status_code == 200 and sheet["filename"].endswith(".xlsx")
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    rows = [r for r in ws.iter_rows(values_only=True) if r and r[0] == "11月2日"]
    assert rows[0][1:3] == (3700, 1) and ws.cell(row=5, column=2).number_format == "#,##0.00"
    # the card's link buttons open the same two files (the fallback on platforms that cannot show the image)
    assert [b["url"] for b in card["buttons"]] == [image["url"], sheet["url"]]


def test_a_chart_is_drawn_once_per_content_however_many_people_ask(chat, monkeypatch):
    import bot.cards.reports as cards

    drawn = []
    real = cards.render_png
    monkeypatch.setattr(cards, "render_png", lambda chart: drawn.append(chart.title) or real(chart))
    first = card_of(chat.say("admin", "销量排行 本月"))
    again = card_of(chat.say("qian", "销量排行"))  # finance sees the same figures in the same language
    assert first["attachments"][0]["key"] == again["attachments"][0]["key"] and len(drawn) == 1
    team = card_of(chat.say("wang", "销量排行"))  # another scope, other figures: another chart
    assert team["attachments"][0]["key"] != first["attachments"][0]["key"] and len(drawn) == 2
    with chat.ot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StoredFile).where(StoredFile.key.like("chart-%"))) == 2
    chat.say("li", "下单 华兴 SKU-001 x1")
    chat.click("wang", button(chat.cards("wang", "approval_request")[-1], "approve")["token"])
    changed = card_of(chat.say("admin", "销量排行"))  # the figures moved: a new chart
    assert changed["attachments"][0]["key"] != first["attachments"][0]["key"] and len(drawn) == 3


def test_a_chart_is_kept_while_its_figures_stand(chat, clock, monkeypatch):
    import bot.cards.reports as cards

    drawn = []
    real = cards.render_png
    monkeypatch.setattr(cards, "render_png", lambda chart: drawn.append(chart.title) or real(chart))
    first = card_of(chat.say("admin", "销售趋势 上月"))
    clock.advance(days=1)  # the next day, the same closed month and the same figures: the stored chart
    again = card_of(chat.say("qian", "销售趋势 上月"))
    assert again["attachments"][0]["key"] == first["attachments"][0]["key"] and drawn == ["销售额趋势"]
    this_month = card_of(chat.say("admin", "销售趋势"))  # a month still running has new days: its own chart
    assert this_month["attachments"][0]["key"] != first["attachments"][0]["key"] and len(drawn) == 2
    with chat.ot.sessions() as s:  # every copy of each card points at one stored file, however many were sent
        assert s.scalar(select(func.count()).select_from(StoredFile).where(StoredFile.key.like("chart-%"))) == 2


def test_reports_in_english_and_each_report_answers(chat):
    card = card_of(chat.say("amy", "sales trend last month by week"))
    assert card["title"] == "Sales trend" and card["subtitle"] == "Last month (October 2026) · compared with September 2026"
    assert card["text"][0] == "¥3,550.00 from 1 order, average ¥3,550.00"
    assert card["context"] == "Figures: yours"
    assert card["table"]["rows"][0][0] == "Week of Oct 19"
    for text, title in [("product ranking by quantity", "Product ranking by quantity"),
                        ("top customers", "Top customers"), ("ageing by sales", "Receivables ageing"),
                        ("approval time this month", "Approval cycle time"), ("lead time", "Fulfilment lead time"),
                        ("regions 2026-11", "Customer region distribution"),
                        ("leaderboard by collected", "Sales leaderboard by amount collected")]:
        got = card_of(chat.say("amy", text))
        assert got["title"] == title and len(got["text"]) >= 2 and got["attachments"], text
    quantity = card_of(chat.say("admin", "销量排行 按数量"))
    assert quantity["text"][1] == "按单位分别排名，不同单位不相加：50 个、50 盒、5 桶和300 米"


def test_who_sees_what_in_chat(chat):
    team = card_of(chat.say("wang", "业绩排行 本月"))
    assert [r[1] for r in team["table"]["rows"]] == ["李四", "Amy Chen"] and team["context"] == "数据范围：您的团队（3 人）"
    everyone = card_of(chat.say("qian", "业绩排行"))
    assert [r[1] for r in everyone["table"]["rows"]] == ["李四", "张伟", "Amy Chen"]
    assert everyone["table"]["rows"][0][2:] == ["¥5,475.00", "¥1,200.00", "3", "5.7 小时"]
    warehouse = card_of(chat.say("sun", "销售趋势"))
    assert warehouse["text"][0] == "2 笔订单" and "¥" not in text_of([{"card": warehouse}])
    assert warehouse["context"] == "数据范围：上海仓（不含金额）"
    refused = text_of(chat.say("sun", "账龄"))
    assert "仓库人员可查看" in refused and "¥" not in refused
    assert "¥" not in text_of(chat.say("sun", "销量排行"))


def test_periods_and_options_that_do_not_fit_are_refused_with_the_reason(chat):
    assert "无法识别时间段「明年」" in text_of(chat.say("admin", "销售趋势 明年"))
    assert "cannot read the period 'next year'" in text_of(chat.say("amy", "sales trend next year"))
    assert "“按回款”不适用于这个报表" in text_of(chat.say("admin", "销量排行 按回款"))
    assert "账龄总是按今天计算" in text_of(chat.say("admin", "账龄 上月"))


def test_a_stored_file_link_is_the_permission(chat):
    image = card_of(chat.say("admin", "客户分布"))["attachments"][0]
    parts = urlsplit(image["url"])
    assert chat.client.get(parts.path + "?" + parts.query.replace("sig=", "sig=0")).status_code == 403
    other = parts.path.replace("chart-", "chart-0")
    assert chat.client.get(other + "?" + parts.query).status_code == 403  # the signature covers the key


# ---------------------------------------------------------------- order search


def test_order_search_phrasings(chat):
    cases = {
        "订单 华兴 本月": ["SO-20261122-0001", "SO-20261102-0001"],
        "订单 待审批": ["SO-20261122-0001"],
        "订单 李四 上周": ["SO-20261122-0001"],
        "订单 > 5000": ["SO-20261122-0001"],
        "订单 5000以上": ["SO-20261122-0001", "SO-20260801-0001"],
        "orders ACME last month": ["SO-20261020-0001"],
        "orders shipped this week": [],
        "orders shipped last week": ["SO-20261120-0001"],
        "orders shipped this month": ["SO-20261120-0001", "SO-20261110-0001", "SO-20261103-0001"],
    }
    for text, numbers in cases.items():
        card = card_of(chat.say("admin", text))
        assert card["kind"] == "order_list", text
        assert [r[0] for r in (card["table"] or {"rows": []})["rows"]] == numbers, text
        assert [b["label"] for b in card["buttons"] if b["action"] == "show_order"] == numbers, text
    card = card_of(chat.say("admin", "订单 华兴 本月"))
    assert card["title"] == "找到 2 笔订单" and card["subtitle"].startswith("杭州华兴电子有限公司（C001） · 本月")
    assert card["table"]["columns"] == ["订单", "客户", "金额", "状态", "日期"]
    assert card["table"]["rows"][0][2:] == ["¥12,000.00", "待审批", "2026年11月22日"]
    english = card_of(chat.say("amy", "orders ACME last month"))
    assert english["title"] == "1 order found" and english["table"]["rows"][0][3:] == ["Shipped", "Oct 20, 2026"]


def test_order_search_pages_and_each_row_opens_the_order(chat):
    first = card_of(chat.say("admin", "订单"))
    assert first["title"] == "找到 14 笔订单" and len(first["table"]["rows"]) == 10
    assert first["table"]["note"] == "第 1–10 笔，共 14 笔"
    nxt = button(first, "orders_page")
    second = card_of(chat.click("admin", nxt["token"]))
    assert len(second["table"]["rows"]) == 4 and second["table"]["note"] == "第 11–14 笔，共 14 笔"
    assert not {r[0] for r in second["table"]["rows"]} & {r[0] for r in first["table"]["rows"]}
    assert [b["label"] for b in second["buttons"] if b["action"] == "orders_page"] == ["上 10 个"]
    opened = card_of(chat.click("admin", button(second, "show_order")["token"]))
    assert opened["kind"] == "order_status" and opened["title"] == f"订单 {second['table']['rows'][0][0]}"
    assert "已失效" in text_of(chat.click("wang", nxt["token"]))  # the page button is the asker's


def test_order_search_within_the_askers_permissions(chat):
    assert card_of(chat.say("li", "订单 ACME"))["title"] == "找到 0 笔订单"  # Amy's customer
    assert [r[0] for r in card_of(chat.say("amy", "orders acme"))["table"]["rows"]] == [
        "SO-20261115-0001", "SO-20261110-0001", "SO-20261020-0001", "SO-20260601-0001"]
    warehouse = card_of(chat.say("sun", "订单 本月"))
    assert warehouse["table"]["columns"] == ["订单", "客户", "状态", "日期"]  # no amounts
    assert {r[0] for r in warehouse["table"]["rows"]} == {"SO-20261102-0001", "SO-20261120-0001"}  # their warehouse
    assert "看不到金额" in text_of(chat.say("sun", "订单 > 5000"))
    assert "找不到与“无名氏”匹配" in text_of(chat.say("admin", "订单 无名氏"))


def test_money_in_a_report_is_decimal_to_the_spreadsheet(chat):
    sheet = card_of(chat.say("admin", "top customers"))["attachments"][1]
    ws = load_workbook(io.BytesIO(fetch(chat, sheet["url"]).data)).active
    values = [r[4] for r in ws.iter_rows(min_row=5, values_only=True) if r[0] is not None and isinstance(r[0], int)]
    assert [Decimal(str(v)) for v in values] == [Decimal("3700"), Decimal("3600"), Decimal("3400"), Decimal("1775")]


def test_a_task_shipped_in_chat_counts_in_the_lead_time(chat, clock):
    from domain.models import ShippingTask, User
    from domain.parsing import period
    from domain.reports import scope_for
    from domain.reports.flow import lead_time
    from tests.reports_world import SH, TODAY

    def shipped_from_shanghai() -> tuple[int, object]:
        with chat.ot.sessions() as s:
            r = lead_time(s, scope_for(s, s.scalars(select(User).where(User.username == "admin")).one()),
                          period("本月", today=TODAY), SH, clock())
            return next((x.shipped, x.average_days) for x in r.warehouses if x.code == "WH-SH")

    before = shipped_from_shanghai()
    chat.say("li", "下单 华兴 SKU-001 x1")
    chat.click("wang", button(chat.cards("wang", "approval_request")[-1], "approve")["token"])
    with chat.ot.sessions() as s:
        task = s.scalars(select(ShippingTask).order_by(ShippingTask.id.desc())).first()
        assert task is not None and task.last_shipped_at is None
        ref = f"T-{task.id}"
    clock.advance(hours=36)
    chat.say("sun", f"领取 {ref}")
    assert "顺丰" in text_of(chat.say("sun", f"发货 {ref} 顺丰 SF1234567890"))
    with chat.ot.sessions() as s:
        assert s.get(ShippingTask, task.id).last_shipped_at == clock()
    after = shipped_from_shanghai()
    assert after[0] == before[0] + 1 and after[1] != before[1]
