from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.dingtalk.signature import (
    SignatureError,
    card_sign,
    robot_sign,
    verify_card_callback,
    verify_robot_callback,
)

NOW_MS = 1_700_000_000_000


def clock_at(ms: int):
    return lambda: ms / 1000


def test_documented_vectors() -> None:
    # dingtalk.md §1.4 and §5.7 (computed locally with the documented algorithms).
    assert robot_sign("1700000000000", "test-secret") == "BYMqUCZnSqbfPf1GCfZftO7Rg2g6P+Rp3/4+bLNtSGA="
    assert card_sign("1700000000000", "card-api-secret") == "w5yasVoE0C5W/x7zrNW8ReAk8FfqvWC8eTrZdsewFR4="


def test_valid_robot_signature_accepted() -> None:
    headers = {"timestamp": str(NOW_MS), "sign": robot_sign(str(NOW_MS), "test-secret")}
    verify_robot_callback(headers, "test-secret", clock=clock_at(NOW_MS))


@pytest.mark.parametrize("offset", [-3_600_000, 3_600_000])
def test_window_edges_accepted(offset: int) -> None:
    ts = str(NOW_MS + offset)
    verify_robot_callback({"timestamp": ts, "sign": robot_sign(ts, "s")}, "s", clock=clock_at(NOW_MS))


@pytest.mark.parametrize("offset", [-3_600_001, 3_600_001])
def test_outside_window_rejected(offset: int) -> None:
    ts = str(NOW_MS + offset)
    with pytest.raises(SignatureError, match="window"):
        verify_robot_callback({"timestamp": ts, "sign": robot_sign(ts, "s")}, "s", clock=clock_at(NOW_MS))


@pytest.mark.parametrize("headers", [
    {},
    {"timestamp": str(NOW_MS)},
    {"sign": "abc"},
    {"timestamp": "", "sign": "abc"},
])
def test_missing_headers_rejected(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError, match="missing"):
        verify_robot_callback(headers, "s", clock=clock_at(NOW_MS))


def test_tampered_and_wrong_secret_rejected() -> None:
    ts = str(NOW_MS)
    good = robot_sign(ts, "s")
    with pytest.raises(SignatureError, match="bad signature"):
        verify_robot_callback({"timestamp": ts, "sign": good[:-2] + "A="}, "s", clock=clock_at(NOW_MS))
    with pytest.raises(SignatureError, match="bad signature"):
        verify_robot_callback({"timestamp": ts, "sign": robot_sign(ts, "other")}, "s", clock=clock_at(NOW_MS))
    # a signature for another timestamp inside the window is still wrong
    with pytest.raises(SignatureError, match="bad signature"):
        verify_robot_callback({"timestamp": str(NOW_MS + 1), "sign": good}, "s", clock=clock_at(NOW_MS))
    # URL-encoded Base64 is the custom-webhook form, not the callback header form
    with pytest.raises(SignatureError):
        verify_robot_callback({"timestamp": "1700000000000", "sign": "BYMqUCZnSqbfPf1GCfZftO7Rg2g6P%2BRp3%2F4%2BbLNtSGA%3D"},
                              "test-secret", clock=clock_at(NOW_MS))


def test_garbage_timestamp_rejected() -> None:
    with pytest.raises(SignatureError, match="bad timestamp"):
        verify_robot_callback({"timestamp": "yesterday", "sign": "x"}, "s", clock=clock_at(NOW_MS))


def test_card_signature_ms_and_seconds() -> None:
    for ts in (str(NOW_MS), str(NOW_MS // 1000)):
        headers = {"x-ddpaas-signature-timestamp": ts, "x-ddpaas-signature": card_sign(ts, "api")}
        verify_card_callback(headers, "api", clock=clock_at(NOW_MS))
    with pytest.raises(SignatureError):
        ts = str(NOW_MS)
        verify_card_callback({"x-ddpaas-signature-timestamp": ts, "x-ddpaas-signature": card_sign(ts, "x")}, "api",
                             clock=clock_at(NOW_MS))


@given(secret=st.text(min_size=1, max_size=64), offset=st.integers(-3_600_000, 3_600_000))
def test_roundtrip_any_secret(secret: str, offset: int) -> None:
    ts = str(NOW_MS + offset)
    verify_robot_callback({"timestamp": ts, "sign": robot_sign(ts, secret)}, secret, clock=clock_at(NOW_MS))
