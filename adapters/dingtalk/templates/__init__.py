"""Variable contracts of the card templates the adapter fills (approval.json, task.json).

Kept as package data so tests (and an admin script) can check that render.card_params and the templates
built in the card platform agree on variable names.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

TEMPLATE_FILES = ("approval.json", "task.json")


def load(name: str) -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))


def variable_names(name: str) -> set[str]:
    return {v["name"] for v in load(name)["variables"]}
