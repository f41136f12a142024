"""The composition root hands over, the adapters receive: each adapter's install() takes the root's token signer
and the adapter's own settings model, and no adapter reads the application's settings or builds a signer itself
(so a key change, or a second signer in a test, reaches every adapter through one place)."""

from __future__ import annotations

import ast
import inspect
from importlib import import_module
from pathlib import Path

import pytest

from adapters.platform import Platform
from adapters.settings import AdapterSettings
from bot import platforms
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [p.removeprefix("adapters.") for p in platforms.PLATFORMS]


@pytest.mark.parametrize("name", PACKAGES)
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


@pytest.mark.parametrize("package", platforms.PLATFORMS)
def test_each_package_declares_its_platform_with_its_own_settings(package: str) -> None:
    descriptor = import_module(package).PLATFORM
    assert isinstance(descriptor, Platform) and issubclass(descriptor.settings, AdapterSettings)
    # The application's settings declare none of a platform's fields (its adapter does) and the adapter holds no
    # signing key; a field both have is one the core shares with it (default_locale, timezone, sandbox).
    own = set(descriptor.settings.model_fields) - set(Settings.model_fields)
    assert own or descriptor.is_sandbox
    assert "secret_key" not in descriptor.settings.model_fields
    assert all(not name.startswith(descriptor.name + "_") for name in Settings.model_fields)


@pytest.mark.parametrize("name", ["slack", "dingtalk", "wecom"])
def test_install_takes_the_signer_and_the_adapters_own_settings(name: str) -> None:
    module = import_module(f"adapters.{name}")
    assert list(inspect.signature(module.install).parameters)[:4] == ["app", "core", "signer", "settings"]


def test_an_adapters_settings_are_read_off_the_application_settings() -> None:
    from adapters.wecom.settings import WeComSettings

    app = Settings(_env_file=None, wecom_corp_id="ww1", wecom_agent_id=1000002, wecom_secret="s", wecom_token="t",
                   wecom_aes_key="k" * 43, secret_key="x" * 40)
    own = WeComSettings.from_root(app)
    assert own.enabled and own.wecom_agent_id == 1000002 and own.wecom_secret.get_secret_value() == "s"
    assert not WeComSettings.from_root(Settings(_env_file=None, secret_key="x" * 40)).enabled


def test_an_adapter_reads_its_own_variables_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.slack.settings import SlackSettings

    monkeypatch.setenv("ORDERTALK_SLACK_BOT_TOKEN", "xoxb-from-env")
    monkeypatch.setenv("ORDERTALK_SLACK_SIGNING_SECRET", "from-env")
    monkeypatch.setenv("ORDERTALK_SLACK_POST_PER_SECOND", "3")
    app = Settings(_env_file=None, secret_key="x" * 40, slack_signing_secret="given", default_locale="en")
    own = app.own(SlackSettings)
    assert own.enabled and own.slack_post_per_second == 3.0
    # a keyword wins over the environment, as for the core's own fields; a shared field comes from the core
    assert own.slack_signing_secret is not None and own.slack_signing_secret.get_secret_value() == "given"
    assert own.default_locale == "en"
    assert {"xoxb-from-env", "given"} <= set(app.secret_values())  # masked in every log line (bot.redaction)
    assert "xoxb-from-env" not in repr(app) + repr(own) and "given" not in str(own)


def test_a_platforms_field_is_validated_by_its_own_model() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="wecom_agent_id"):
        Settings(_env_file=None, secret_key="x" * 40, wecom_agent_id="not a number")
    with pytest.raises(ValidationError, match="slack_post_per_second"):
        Settings(_env_file=None, secret_key="x" * 40, slack_post_per_second=-1)
