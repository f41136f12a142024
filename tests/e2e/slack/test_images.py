"""Report charts on Slack, end to end: the card is posted, then its chart goes up with slack_sdk's files_upload_v2
(files.getUploadURLExternal, the upload, files.completeUploadExternal) into the same conversation. The fake Slack
keeps the uploaded bytes, so the test decodes the PNG Slack received. An answer only the asker sees keeps its chart
private (the asker's DM, not the channel); an upload that fails delays or loses only the picture, never the card."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine, select

from bot.documents.charts import SIZE, warm
from bot.records import OutboxMessage
from tests.e2e.slack.harness import SlackDriver, dm_of, running
from tests.world import Clock


@pytest.fixture
def sl(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> Iterator[SlackDriver]:
    with running(engine, db_url, clock, tmp_path) as driver:
        yield driver


@pytest.fixture(autouse=True, scope="module")
def _charts_warm() -> None:
    warm()  # matplotlib and the font load once per process, as the server warms them at start: not in a callback


def rows(sl: SlackDriver) -> list[tuple[str, str]]:
    with sl.ot.sessions() as s:
        return [(r.op, r.status) for r in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_a_report_in_a_dm_is_its_card_then_its_chart_uploaded_into_the_dm(sl: SlackDriver) -> None:
    sl.say("admin", "报表")
    [card] = sl.posts_to("admin", "销售额趋势")
    [upload] = sl.fake.shared(dm_of("admin"))
    assert upload.data is not None and upload.filename.endswith(".png") and upload.title == "图表：销售额趋势"
    with Image.open(io.BytesIO(upload.data)) as im:
        assert im.format == "PNG" and im.size == SIZE
        im.verify()
    assert upload.alt_txt and upload.alt_txt.split("\n")[0] in card.content  # the summary describes the picture
    methods = [c.method for c in sl.fake.calls]
    assert methods.index("chat.postMessage") < methods.index("files.getUploadURLExternal") \
        < methods.index("upload") < methods.index("files.completeUploadExternal")  # the card first, then the chart


def test_a_report_answered_only_to_the_asker_keeps_its_chart_in_their_dm(sl: SlackDriver) -> None:
    answer = sl.command("admin", "报表")  # in C0SALES, answered ephemerally through the response_url
    assert answer.ephemeral and "销售额趋势" in answer.content
    assert sl.fake.shared("C0SALES") == [] and len(sl.fake.shared(dm_of("admin"))) == 1


def test_an_upload_outage_delays_only_the_chart(sl: SlackDriver, clock: Clock) -> None:
    sl.fake.fail("files.getUploadURLExternal", status=503, times=2)
    sl.say("admin", "报表")
    assert sl.posts_to("admin", "销售额趋势") and sl.fake.shared() == []
    assert rows(sl) == [("send", "delivered"), ("image", "pending")]
    for _ in range(2):
        clock.advance(seconds=30)
        sl.drain()
    assert len(sl.fake.shared(dm_of("admin"))) == 1


def test_a_chart_slack_refuses_leaves_the_card_with_its_summary_and_spreadsheet(sl: SlackDriver) -> None:
    sl.fake.fail("files.completeUploadExternal", "missing_scope")  # an app installed before files:write
    sl.say("admin", "报表")
    [card] = sl.posts_to("admin", "销售额趋势")
    assert "销售额" in card.content and "表格（XLSX）" in card.content and "/documents/files/xlsx-" in card.content
    assert sl.fake.shared() == [] and rows(sl)[:2] == [("send", "delivered"), ("image", "failed")]
    assert any("missing_scope" in p.content for p in sl.posts_to("admin"))  # the admin learns what to fix
