"""The signing key of action tokens and document links: given, or generated once into the data folder.

A key anyone could guess makes every signed link forgeable, so a key that is empty, shorter than
`MIN_BYTES` or unreadable stops the start with the reason. Several processes may start at once on a fresh
data folder (gunicorn workers and a worker): the first to publish its key wins and every other process reads
that key. Publishing is `os.link` of a complete temp file (mode 0600 from its creation), which fails when the
key file exists, so no process ever reads a half-written file or keeps a key of its own.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

MIN_BYTES = 32
FILE_NAME = "secret_key"


class SecretKeyError(ValueError):
    """The key cannot be used; the message says which setting or file to fix."""


def check(key: bytes, where: str) -> bytes:
    if len(key) < MIN_BYTES:
        what = "empty" if not key else f"{len(key)} bytes long"
        raise SecretKeyError(f"{where} is {what}; it must be at least {MIN_BYTES} bytes "
                             f"(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)")
    return key


def load_or_create(data_dir: Path) -> bytes:
    path = data_dir / FILE_NAME
    if not path.exists():
        _create(path)
    try:
        key = path.read_bytes().strip()
    except OSError as e:
        raise SecretKeyError(f"cannot read the key file {path}: {e.strerror}; fix its permissions or set "
                             "ORDERTALK_SECRET_KEY") from e
    return check(key, f"the key file {path}")


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # atomic, and refuses to replace: exactly one process publishes a key
        except FileExistsError:
            pass  # another process won; read theirs
    finally:
        tmp.unlink(missing_ok=True)
