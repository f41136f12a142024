"""The signing key: a weak or unreadable key stops the start; a generated key is one key for every process."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from bot.bootstrap import build
from bot.cli import main
from bot.secret_key import MIN_BYTES, SecretKeyError
from bot.settings import Settings


@pytest.mark.parametrize("key", ["", "short", "x" * (MIN_BYTES - 1)])
def test_an_empty_or_short_key_is_refused_at_start(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERTALK_SECRET_KEY", key)
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(_env_file=None)


def test_the_cli_names_the_setting_instead_of_a_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ORDERTALK_SECRET_KEY", "")
    monkeypatch.setenv("ORDERTALK_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code != 0
    assert "ORDERTALK_SECRET_KEY is empty" in result.output and "Traceback" not in result.output


def test_a_long_enough_key_is_used_as_given() -> None:
    key = "k" * MIN_BYTES
    assert Settings(_env_file=None, secret_key=key).token_secret() == key.encode()


def test_a_generated_key_is_private_and_long(tmp_path: Path) -> None:
    key = Settings(_env_file=None, data_dir=tmp_path / "fresh").token_secret()
    path = tmp_path / "fresh" / "secret_key"
    assert len(key) >= MIN_BYTES and path.read_bytes().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p != path]  # no temp file left behind
    assert Settings(_env_file=None, data_dir=tmp_path / "fresh").token_secret() == key  # read again, not replaced


@pytest.mark.parametrize("content", [b"", b"\n", b"abc\n"])
def test_an_empty_or_short_key_file_stops_the_start(tmp_path: Path, content: bytes, sqlite_url: str) -> None:
    (tmp_path / "secret_key").write_bytes(content)
    with pytest.raises(SecretKeyError, match="must be at least 32 bytes"):
        build(Settings(_env_file=None, data_dir=tmp_path, database_url=sqlite_url))


def test_an_unreadable_key_file_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "secret_key").mkdir()  # unreadable as a file whoever runs the test (root ignores chmod 000)
    with pytest.raises(SecretKeyError, match="cannot read the key file"):
        Settings(_env_file=None, data_dir=tmp_path).token_secret()


def _start(data_dir: str, barrier, out) -> None:  # type: ignore[no-untyped-def]
    barrier.wait()
    try:
        out.put(Settings(_env_file=None, data_dir=Path(data_dir)).token_secret())
    except Exception as e:  # noqa: BLE001 - reported to the parent
        out.put(repr(e).encode())


def test_eight_processes_starting_at_once_share_one_key(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    for trial in range(20):
        data_dir = tmp_path / f"trial{trial}"
        barrier, out = ctx.Barrier(8), ctx.Queue()
        procs = [ctx.Process(target=_start, args=(str(data_dir), barrier, out)) for _ in range(8)]
        for p in procs:
            p.start()
        keys = [out.get(timeout=30) for _ in procs]
        for p in procs:
            p.join(timeout=30)
        assert len(set(keys)) == 1, (trial, keys)
        assert len(keys[0]) >= MIN_BYTES, (trial, keys[0])
        assert (data_dir / "secret_key").read_bytes().strip() == keys[0]
        assert os.listdir(data_dir) == ["secret_key"]
