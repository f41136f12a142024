"""The commands the adapters advertise (Slack manifest, adapters' READMEs), read from those files, so a test runs
exactly what a person is told to type; placeholders are filled in with the test's own order and task."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
NOT_UNDERSTOOD = ("没看懂", "格式不对", "Sorry, I did not get that", "Not understood")


def manifest_hints() -> list[str]:
    manifest = yaml.safe_load((ROOT / "adapters/slack/manifest.yaml").read_text(encoding="utf-8"))
    [command] = manifest["features"]["slash_commands"]
    return [h.strip() for h in command["usage_hint"].split("|")]


def readme_commands(adapter: str, pattern: str) -> list[str]:
    """Every `code` / 「quote」 / “quote” span of an adapter's README that matches `pattern`, in order, once each."""
    text = (ROOT / f"adapters/{adapter}/README.md").read_text(encoding="utf-8")
    spans = re.findall(r"`([^`\n]+)`|「([^」\n]+)」|“([^”\n]+)”", text)
    found = [next(s for s in groups if s) for groups in spans]
    return list(dict.fromkeys(s for s in found if re.fullmatch(pattern, s)))


def fill(command: str, number: str, task: str | None = None) -> str:
    """SO-… / the sample number → `number`; T-1 / T-12 → `task`; SF… → a tracking number."""
    command = re.sub(r"SO-(?:\d{8}-\d{4}|…)", number, command)
    if task:
        command = re.sub(r"\bT-\d+\b", task, command)
    return command.replace("SF…", "SF20261123001")


def understood(answer: str) -> bool:
    return bool(answer.strip()) and not any(n in answer for n in NOT_UNDERSTOOD)
