"""Settings: environment variables over a TOML file, with errors that say where and what to do."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmbridge.config import Settings, load_settings
from pmbridge.errors import ConfigError

SECRET = "ATTA-very-secret-token-0123456789"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No PMBRIDGE_* variables from the caller, and a working directory without pmbridge.toml."""
    for name in list(os.environ):
        if name.upper().startswith("PMBRIDGE_"):
            monkeypatch.delenv(name)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    yield workdir


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    settings = load_settings()
    assert settings.trello_url == "https://api.trello.com/1"
    assert settings.database_url == "sqlite:///./pmbridge.db"
    assert settings.flows is None
    assert (settings.full_every, settings.interval_s) == (20, 60.0)
    assert (settings.allow_delete_share, settings.allow_delete_min) == (0.10, 5)
    assert settings.trello_key is None and settings.trello_token is None
    assert settings.custompms_url is None and settings.custompms_token is None


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "PMBRIDGE_TRELLO_KEY": "k" * 32,
        "PMBRIDGE_TRELLO_TOKEN": SECRET,
        "PMBRIDGE_TRELLO_URL": "http://127.0.0.1:8001/1/",
        "PMBRIDGE_CUSTOMPMS_URL": "http://127.0.0.1:8002",
        "PMBRIDGE_CUSTOMPMS_TOKEN": "cp-token",
        "PMBRIDGE_DATABASE_URL": "postgresql+psycopg://sync:pw@db/pmbridge",
        "PMBRIDGE_FLOWS": "/etc/pmbridge/flows.yaml",
        "PMBRIDGE_FULL_EVERY": "5",
        "PMBRIDGE_INTERVAL_S": "2.5",
        "PMBRIDGE_ALLOW_DELETE_SHARE": "0.25",
        "PMBRIDGE_ALLOW_DELETE_MIN": "0",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.trello_key is not None and settings.trello_key.get_secret_value() == "k" * 32
    assert settings.trello_token is not None
    assert settings.trello_token.get_secret_value() == SECRET
    assert settings.trello_url == "http://127.0.0.1:8001/1"
    assert settings.custompms_url == "http://127.0.0.1:8002"
    assert settings.custompms_token is not None
    assert settings.custompms_token.get_secret_value() == "cp-token"
    assert settings.database_url == "postgresql+psycopg://sync:pw@db/pmbridge"
    assert settings.flows == Path("/etc/pmbridge/flows.yaml")
    assert (settings.full_every, settings.interval_s) == (5, 2.5)
    assert (settings.allow_delete_share, settings.allow_delete_min) == (0.25, 0)


def test_an_empty_environment_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMBRIDGE_CUSTOMPMS_URL", "")
    assert load_settings().custompms_url is None


def test_a_toml_file(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "sync.toml",
        'custompms_url = "https://pms.example.com/api"\n'
        f'trello_token = "{SECRET}"\n'
        'flows = "flows/custom.yaml"\n'
        "full_every = 3\n",
    )
    settings = load_settings(config)
    assert settings.custompms_url == "https://pms.example.com/api"
    assert settings.trello_token is not None
    assert settings.trello_token.get_secret_value() == SECRET
    assert settings.full_every == 3
    # A relative flow file is found next to the config file, wherever pmbridge runs.
    assert settings.flows == tmp_path / "flows" / "custom.yaml"


def test_the_config_file_from_pmbridge_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMBRIDGE_CONFIG", str(_write(tmp_path / "a.toml", "full_every = 4\n")))
    assert load_settings().full_every == 4
    # --config wins over PMBRIDGE_CONFIG.
    assert load_settings(_write(tmp_path / "b.toml", "full_every = 6\n")).full_every == 6


def test_pmbridge_toml_in_the_working_directory_is_read(clean_environment: Path) -> None:
    _write(clean_environment / "pmbridge.toml", "interval_s = 15\n")
    assert load_settings().interval_s == 15.0


def test_environment_beats_file_and_options_beat_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _write(
        tmp_path / "pmbridge.toml",
        'trello_url = "https://file.example/1"\nfull_every = 3\ninterval_s = 9\n',
    )
    monkeypatch.setenv("PMBRIDGE_FULL_EVERY", "7")
    monkeypatch.setenv("PMBRIDGE_INTERVAL_S", "8")
    settings = load_settings(config, interval_s=1.5, flows=None)
    assert settings.trello_url == "https://file.example/1"
    assert settings.full_every == 7
    assert settings.interval_s == 1.5


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "pmbridge.toml",
        'trello_url = "https://api.trello.com/1"\n\ncustompms_url = "https://pms\nfull_every = 2\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert (caught.value.file, caught.value.line) == (str(config), 3)
    assert str(caught.value).startswith(f"{config}:3: not valid TOML: ")
    assert "see https://toml.io" in str(caught.value)


def test_an_unknown_setting_is_named_with_a_suggestion(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "pmbridge.toml", 'trello_url = "https://api.trello.com/1"\n\ntrelo_key = "k"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(caught.value) == (
        f"{config}:3: unknown setting 'trelo_key'; did you mean 'trello_key'? Allowed: "
        "trello_key, trello_token, trello_secret, trello_url, custompms_url, custompms_token, "
        "database_url, flows, full_every, interval_s, allow_delete_share, allow_delete_min, "
        "ui_password"
    )


def test_an_unknown_setting_without_a_close_match(tmp_path: Path) -> None:
    config = _write(tmp_path / "pmbridge.toml", "[logging]\nlevel = 'debug'\n")
    with pytest.raises(ConfigError, match=r"pmbridge\.toml:1: unknown setting 'logging'\. Allowed"):
        load_settings(config)


def test_a_bad_value_in_the_file_names_its_line(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "pmbridge.toml",
        'trello_url = "https://api.trello.com/1"\nallow_delete_share = 1.5\nfull_every = 0\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(caught.value) == (
        f"{config}:2: allow_delete_share = 1.5 is not valid: Input should be less than or "
        "equal to 1; also line 3: full_every = 0 is not valid: Input should be greater than "
        "or equal to 1"
    )


def test_a_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMBRIDGE_TRELLO_URL", "api.trello.com/1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == (
        "PMBRIDGE_TRELLO_URL = 'api.trello.com/1' is not valid: must be an http:// or "
        "https:// URL, e.g. https://pms.example.com/api"
    )


def test_a_bad_option_value_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="setting interval_s = -1 is not valid: Input should"):
        load_settings(interval_s=-1)


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load_settings(missing)
    assert str(caught.value) == (
        f"{missing}: the config file does not exist (given by --config); check the path, "
        "or leave it out to use environment variables only"
    )


def test_require_names_the_missing_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMBRIDGE_TRELLO_KEY", "k" * 32)
    settings = load_settings()
    settings.require("trello_key", "trello_url")
    with pytest.raises(ConfigError) as caught:
        settings.require("trello_key", "trello_token")
    assert str(caught.value) == (
        "PMBRIDGE_TRELLO_TOKEN is not set: create a token at "
        "https://trello.com/1/authorize?expiration=never&scope=read,write&response_type=token"
        "&key=<your API key> and export it"
    )
    with pytest.raises(ConfigError) as caught:
        settings.require("custompms_url", "custompms_token")
    assert str(caught.value).startswith("PMBRIDGE_CUSTOMPMS_URL is not set: ")
    assert "; PMBRIDGE_CUSTOMPMS_TOKEN is not set: " in str(caught.value)
    with pytest.raises(ValueError, match="no such settings: trello_tokn"):
        settings.require("trello_tokn")


def test_secrets_never_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMBRIDGE_TRELLO_TOKEN", SECRET)
    monkeypatch.setenv("PMBRIDGE_DATABASE_URL", "postgresql+psycopg://sync:db-pass-42@db/p")
    config = _write(tmp_path / "pmbridge.toml", f'custompms_token = "{SECRET}-cp"\n')
    settings = load_settings(config)
    for shown in (repr(settings), str(settings)):
        assert SECRET not in shown
        assert "db-pass-42" not in shown
        assert "postgresql+psycopg://sync:***@db/p" in shown
    # A secret of the wrong type is refused without echoing it…
    bad = _write(tmp_path / "bad.toml", f"trello_key = {123456789}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(bad)
    assert str(caught.value) == f"{bad}:1: trello_key is not valid: Input should be a valid string"
    # …and a bad database URL is shown with its password masked.
    monkeypatch.setenv("PMBRIDGE_DATABASE_URL", "mysql://sync:db-pass-42@db/p")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "db-pass-42" not in str(caught.value)
    assert "PMBRIDGE_DATABASE_URL = 'mysql://sync:***@db/p' is not valid" in str(caught.value)


def test_settings_can_be_built_directly_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PMBRIDGE_FULL_EVERY", "9")
    assert Settings().full_every == 9
