"""The composition root hands over, the adapters receive: each adapter's install() takes the root's token signer
and the adapter's own settings model, and no adapter reads the application's settings or builds a signer itself
(so a key change, or a second signer in a test, reaches every adapter through one place)."""

from __future__ import annotations

import ast
import inspect
from importlib import import_module
from pathlib import Path

import pytest

from adapters.settings import AdapterSettings
from bot.bootstrap import ADAPTERS
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", [*ADAPTERS, "console"])
def test_adapters_neither_read_the_app_settings_nor_build_a_signer(name: str) -> None:
    offences = []
    for path in sorted((ROOT / "adapters" / name).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "bot.settings":
                offences.append(f"{path.name}:{node.lineno} imports bot.settings")
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "TokenSigner":
                offences.append(f"{path.name}:{node.lineno} builds a TokenSigner")
            if isinstance(node, ast.Attribute) and node.attr == "token_secret":
                offences.append(f"{path.name}:{node.lineno} reads the signing key")
    assert offences == []


@pytest.mark.parametrize("name", ADAPTERS)
def test_install_takes_the_signer_and_the_adapters_own_settings(name: str) -> None:
    module = import_module(f"adapters.{name}")
    assert issubclass(module.Settings, AdapterSettings)
    assert list(inspect.signature(module.install).parameters)[:4] == ["app", "core", "signer", "settings"]
    # Its fields are the application's (same names, same ORDERTALK_ variables) and hold no signing key.
    assert set(module.Settings.model_fields) <= set(Settings.model_fields) and "secret_key" not in module.Settings.model_fields


def test_an_adapters_settings_are_read_off_the_application_settings() -> None:
    from adapters.wecom.settings import WeComSettings

    app = Settings(_env_file=None, wecom_corp_id="ww1", wecom_agent_id=1000002, wecom_secret="s", wecom_token="t",
                   wecom_aes_key="k" * 43, secret_key="x" * 40)
    own = WeComSettings.from_root(app)
    assert own.enabled and own.wecom_agent_id == 1000002 and own.wecom_secret.get_secret_value() == "s"
    assert not WeComSettings.from_root(Settings(_env_file=None, secret_key="x" * 40)).enabled
