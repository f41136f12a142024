"""Report charts on DingTalk, end to end: a report asked for 1:1 or in a group arrives as its card (markdown here:
report cards have no interactive template), then its chart: uploaded with the old API's media/upload (type image)
and sent as the robot's sampleImageMsg whose photoURL is the media_id, to the same person or group. The fake keeps
the uploaded bytes, so the test decodes the PNG DingTalk received."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from bot.documents.charts import SIZE, warm

from .harness import SALES_GROUP, STAFF, DingTalkDriver


@pytest.fixture(autouse=True, scope="module")
def _charts_warm() -> None:
    warm()  # matplotlib and the font load once per process, as the server warms them at start: not in a callback


def images(sends: list[dict], **where: str) -> list[str]:
    return [json.loads(s["msgParam"])["photoURL"] for s in sends if s["msgKey"] == "sampleImageMsg"
            and all(s.get(k) == v or v in (s.get(k) or []) for k, v in where.items())]


def test_a_report_1to1_arrives_as_its_card_then_its_chart_as_an_image_message(dt: DingTalkDriver) -> None:
    dt.say("admin", "报表")
    dt.drain()
    to_admin = [s for s in dt.fake.state.batch_sends if STAFF["admin"] in s["userIds"]]
    assert [s["msgKey"] for s in to_admin][-2:] == ["sampleMarkdown", "sampleImageMsg"]  # the card, then its chart
    assert "销售额趋势" in json.loads(to_admin[-2]["msgParam"])["title"]
    [media_id] = images(to_admin)
    uploaded = dt.fake.state.media[media_id]
    assert (uploaded["type"], uploaded["mime"]) == ("image", "image/png") and uploaded["filename"].endswith(".png")
    with Image.open(io.BytesIO(uploaded["data"])) as im:
        assert im.format == "PNG" and im.size == SIZE
        im.verify()


def test_a_report_asked_in_a_group_shows_its_chart_in_the_group_uploaded_once(dt: DingTalkDriver) -> None:
    dt.say("admin", "报表", group=True)
    dt.say("qian", "报表", group=True)  # the same figures: the same chart, one upload
    dt.drain()
    photos = images(dt.fake.state.group_sends, openConversationId=SALES_GROUP)
    assert len(photos) == 2 and set(photos) == set(dt.fake.state.media) and len(dt.fake.state.media) == 1


def test_a_media_id_dingtalk_no_longer_knows_is_uploaded_again(dt: DingTalkDriver) -> None:
    dt.say("admin", "报表")
    dt.drain()
    [old] = images(dt.fake.state.batch_sends)
    dt.fake.state.forgotten_media.add(old)
    dt.say("qian", "报表")
    dt.drain()
    assert images(dt.fake.state.batch_sends, userIds=STAFF["qian"]) != [old]
    assert len(dt.fake.state.media) == 2 and all(r.status == "delivered" for r in dt.outbox())


def test_an_upload_outage_delays_only_the_chart(dt: DingTalkDriver, clock) -> None:  # type: ignore[no-untyped-def]
    dt.fake.state.uploads_down = 2
    dt.say("admin", "报表")
    dt.drain()
    assert any("销售额趋势" in t for t in dt.texts_to("admin")) and images(dt.fake.state.batch_sends) == []
    assert [r.op for r in dt.outbox() if r.status == "pending"] == ["image"]
    for _ in range(2):
        clock.advance(seconds=30)
        dt.drain()
    assert len(images(dt.fake.state.batch_sends)) == 1 and all(r.status == "delivered" for r in dt.outbox())


def test_a_chart_that_cannot_be_sent_leaves_the_card_with_its_summary_and_spreadsheet(dt: DingTalkDriver) -> None:
    dt.fake.state.uploads_refused = True
    dt.say("admin", "报表")
    dt.drain()
    [card] = [t for t in dt.texts_to("admin") if "销售额趋势" in t]
    assert "销售额" in card.split("\n", 1)[1] and "表格（XLSX）" in card and "/documents/files/xlsx-" in card
    assert images(dt.fake.state.batch_sends) == []
    card_row, image_row = dt.outbox()[:2]
    assert (card_row.status, image_row.op, image_row.status) == ("delivered", "image", "failed")
    assert "40005" in (image_row.last_error or "")
