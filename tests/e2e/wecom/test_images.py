"""Report charts on WeCom, end to end: a person asks for a report over an encrypted callback, the outbox delivers the
card, then uploads the chart with media/upload?type=image and sends a `msgtype: image` message naming the media_id.
The fake WeCom keeps what was uploaded, so the test decodes the very PNG WeCom received. One upload serves everyone
who gets the same chart while WeCom keeps it (three days); an upload that fails delays the picture or loses only the
picture, never the card's summary and spreadsheet link."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from bot.documents.charts import SIZE, warm
from tests.e2e.wecom.fake_api import AGENT_ID
from tests.e2e.wecom.harness import USERIDS, WeComDriver
from tests.world import Clock


@pytest.fixture(autouse=True, scope="module")
def _charts_warm() -> None:
    warm()  # matplotlib and the font load once per process, as the server warms them at start: not in a callback


def images_to(wx: WeComDriver, who: str) -> list[str]:
    return [s["image"]["media_id"] for s in wx.sends_to(who) if s["msgtype"] == "image"]


def report_message(wx: WeComDriver, who: str) -> str:
    """The report card as it reached `who` (template card or markdown), as one text."""
    return next(json.dumps(s, ensure_ascii=False) for s in wx.sends_to(who)
                if s["msgtype"] in ("template_card", "markdown") and "销售额趋势" in json.dumps(s, ensure_ascii=False))


def test_a_report_arrives_as_its_card_then_its_chart_as_an_image_message(wx: WeComDriver) -> None:
    wx.say("admin", "报表")
    wx.drain()
    sent = wx.sends_to("admin")
    kinds = [s["msgtype"] for s in sent]
    assert kinds[-1] == "image" and kinds[-2] in ("template_card", "markdown")  # the card first, then its chart
    [media_id] = images_to(wx, "admin")
    uploaded = wx.fake.media[media_id]
    assert uploaded["type"] == "image" and uploaded["mime"] == "image/png" and uploaded["filename"].endswith(".png")
    with Image.open(io.BytesIO(uploaded["data"])) as im:
        assert im.format == "PNG" and im.size == SIZE
        im.verify()
    assert sent[-1]["touser"] == USERIDS["admin"] and sent[-1]["agentid"] == AGENT_ID
    assert [r.status for r in wx.outbox()] == ["delivered", "delivered"]


def test_one_upload_serves_everyone_while_wecom_keeps_it(wx: WeComDriver, clock: Clock) -> None:
    wx.say("admin", "销售趋势 上月")
    wx.say("qian", "销售趋势 上月")  # finance sees the same figures in the same language: the same chart
    wx.drain()
    assert len(wx.fake.media) == 1
    assert images_to(wx, "admin") == images_to(wx, "qian") == list(wx.fake.media)
    clock.advance(days=3)  # still last month, the same chart; but WeCom has forgotten the upload: uploaded again
    wx.fake.now = lambda: clock().timestamp()
    wx.say("admin", "销售趋势 上月")
    wx.drain()
    first, again = images_to(wx, "admin")
    assert first != again and len(wx.fake.media) == 2 and wx.fake.media[again]["data"] == wx.fake.media[first]["data"]


def test_a_media_id_wecom_forgot_early_is_uploaded_again(wx: WeComDriver) -> None:
    wx.say("admin", "报表")
    wx.drain()
    [old] = images_to(wx, "admin")
    wx.fake.media[old]["at"] -= 4 * 24 * 3600  # expired on WeCom's side before our three days were up
    wx.say("qian", "报表")
    wx.drain()
    [new] = images_to(wx, "qian")
    assert new != old and wx.outbox("failed") == []


def test_an_upload_outage_delays_the_chart_and_the_card_arrives_meanwhile(wx: WeComDriver, clock: Clock) -> None:
    wx.fake.upload_faults = [503, -1]  # HTTP 503, then "system busy": both worth another try
    wx.say("admin", "报表")
    wx.drain()
    assert "销售额" in report_message(wx, "admin") and images_to(wx, "admin") == []
    assert [r.status for r in wx.outbox()] == ["delivered", "pending"]
    for _ in range(2):
        clock.advance(seconds=30)
        wx.drain()
    assert len(images_to(wx, "admin")) == 1 and [r.status for r in wx.outbox()] == ["delivered", "delivered"]


def test_a_chart_wecom_refuses_leaves_the_card_with_its_summary_and_spreadsheet(wx: WeComDriver) -> None:
    wx.fake.upload_faults = [40005]  # "invalid media file type": no retry can help
    wx.say("admin", "报表")
    wx.drain()
    card = report_message(wx, "admin")
    assert "销售额" in card and "表格（XLSX）" in card and "/documents/files/xlsx-" in card  # summary, spreadsheet link
    assert images_to(wx, "admin") == []
    card_row, image_row = wx.outbox()[:2]
    assert (card_row.status, image_row.status, image_row.op) == ("delivered", "failed", "image")
    assert "40005" in (image_row.last_error or "")
