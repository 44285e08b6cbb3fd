"""pmbridge's settings: environment variables (``PMBRIDGE_*``) over a TOML config file.

``load_settings()`` reads the config file — ``--config FILE``, else ``$PMBRIDGE_CONFIG``,
else ``./pmbridge.toml`` if present — and the environment (which wins over the file), and
returns a validated ``Settings``. Every mistake is a ``ConfigError`` that names the file and
line (or the environment variable) and says what to do. Keys and tokens are ``SecretStr``:
they never show in ``repr``, ``str`` or error messages.

Example ``pmbridge.toml``::

    trello_url = "https://api.trello.com/1"
    custompms_url = "https://pms.example.com/api"
    database_url = "sqlite:///./pmbridge.db"
    full_every = 20
    # secrets are better kept in the environment: PMBRIDGE_TRELLO_KEY, PMBRIDGE_TRELLO_TOKEN…
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from math import inf
from pathlib import Path
from typing import Any, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pmbridge.errors import ConfigError

ENV_PREFIX = "PMBRIDGE_"
CONFIG_ENV = "PMBRIDGE_CONFIG"
DEFAULT_CONFIG_FILE = Path("pmbridge.toml")

# What to do when a setting that a command needs is missing.
_HOW_TO_SET = {
    "trello_key": "get your API key at https://trello.com/power-ups/admin (your Power-Up → "
    "API key) and export it",
    "trello_token": "create a token at https://trello.com/1/authorize?expiration=never"
    "&scope=read,write&response_type=token&key=<your API key> and export it",
    "trello_secret": "copy the secret shown under your API key at "
    "https://trello.com/power-ups/admin and export it",
    "custompms_url": "export the base URL of your Custompms API (e.g. https://pms.example.com/api)",
    "custompms_token": "ask your Custompms administrator for an API token and export it",
}


def env_var(name: str) -> str:
    """The environment variable of setting ``name``."""
    return f"{ENV_PREFIX}{name.upper()}"


class Settings(BaseSettings):
    """Everything pmbridge can be told; see the module docstring for where it comes from."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="forbid", frozen=True
    )

    trello_key: SecretStr | None = None
    trello_token: SecretStr | None = None
    trello_secret: SecretStr | None = Field(
        None, description="the API key's secret; verifies Trello webhook signatures"
    )
    trello_url: str = "https://api.trello.com/1"
    custompms_url: str | None = None
    custompms_token: SecretStr | None = None
    database_url: str = "sqlite:///./pmbridge.db"
    flows: Path | None = Field(None, description="the flow file; None = the packaged default")
    full_every: int = Field(20, ge=1, description="a full reconciliation every N cycles")
    interval_s: float = Field(60.0, gt=0, description="seconds between cycles when serving")
    allow_delete_share: float = Field(
        0.10, ge=0, le=1, description="a run may delete at most this share of a flow's links"
    )
    allow_delete_min: int = Field(
        5, ge=0, description="…but always up to this many, however small the flow"
    )
    ui_password: SecretStr | None = Field(
        None, description="the dashboard's login password; without it, loopback only"
    )

    @field_validator("trello_url", "custompms_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL, e.g. https://pms.example.com/api")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not re.match(r"^(sqlite|postgres(ql)?)(\+\w+)?://", value):
            raise ValueError(
                "must be a sqlite:///path or postgresql+psycopg://user:password@host/db URL"
            )
        return value

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, mask_password(value) if name == "database_url" else value

    def require(self, *names: str) -> None:
        """Raise ``ConfigError`` naming the environment variable of each unset setting."""
        unknown = [name for name in names if name not in type(self).model_fields]
        if unknown:
            raise ValueError(f"no such settings: {', '.join(unknown)}")
        missing = [name for name in names if _is_unset(getattr(self, name))]
        if missing:
            raise ConfigError(
                "; ".join(
                    f"{env_var(name)} is not set: "
                    + _HOW_TO_SET.get(name, f"export it or set {name} in the config file")
                    for name in missing
                )
            )


_SECRETS = frozenset(
    name for name, field in Settings.model_fields.items() if SecretStr in get_args(field.annotation)
)


def _is_unset(value: object) -> bool:
    if isinstance(value, SecretStr):
        return not value.get_secret_value()
    return value is None or value == ""


def mask_password(url: object) -> object:
    """A URL string with the password replaced by ``***``; anything else unchanged."""
    if not isinstance(url, str):
        return url
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", url)


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings from ``overrides`` (e.g. CLI options) over the environment over the file.

    ``config_file`` is ``--config``; without it ``$PMBRIDGE_CONFIG`` or ``./pmbridge.toml``
    (if present) is read. An override of None means "not given".
    """
    overrides = {key: value for key, value in overrides.items() if value is not None}
    for key in overrides:
        if key not in Settings.model_fields:
            raise ValueError(f"load_settings got an unknown setting {key!r}")
    path = _config_path(config_file)
    file_values, text = _read_config(path) if path else ({}, "")
    # Pass only the file's values that no environment variable overrides: env beats file.
    from_file = {
        key: value
        for key, value in file_values.items()
        if key not in overrides and not _env_is_set(env_var(key))
    }
    try:
        return Settings(**from_file, **overrides)
    except ValidationError as err:
        raise _explain(err, from_file, overrides, path, text) from None


def _config_path(config_file: Path | str | None) -> Path | None:
    if config_file is not None:
        path = Path(config_file)
        origin = "--config"
    elif os.environ.get(CONFIG_ENV):
        path = Path(os.environ[CONFIG_ENV])
        origin = CONFIG_ENV
    else:
        return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None
    if not path.is_file():
        raise ConfigError(
            f"the config file does not exist (given by {origin}); "
            "check the path, or leave it out to use environment variables only",
            file=str(path),
        )
    return path


def _read_config(path: Path) -> tuple[dict[str, Any], str]:
    """The file's settings (relative ``flows`` resolved against the file's folder)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read the config file: {err}", file=str(path)) from err
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        found = re.search(r"\(at line (\d+), column \d+\)", str(err))
        reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(err))
        raise ConfigError(
            f"not valid TOML: {reason}; see https://toml.io for the syntax",
            file=str(path),
            line=int(found.group(1)) if found else None,
        ) from err
    allowed = list(Settings.model_fields)
    for key in values:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "."
            raise ConfigError(
                f"unknown setting {key!r}{hint} Allowed: {', '.join(allowed)}",
                file=str(path),
                line=_line_of(text, key),
            )
    flows = values.get("flows")
    if isinstance(flows, str) and flows and not Path(flows).expanduser().is_absolute():
        values["flows"] = str(path.parent / flows)
    return values, text


def _line_of(text: str, key: str) -> int | None:
    """The line where ``key`` is set in TOML ``text`` (``key =``, ``key.x =``, ``[key]``)."""
    found = re.search(
        rf"^[ \t]*(?:\[\[?[ \t]*)?([\"']?){re.escape(key)}\1[ \t]*[=.\]]", text, re.MULTILINE
    )
    return text.count("\n", 0, found.start()) + 1 if found else None


def _env_is_set(name: str) -> bool:
    # pydantic-settings matches environment variables case-insensitively and ignores empty ones.
    return any(key.upper() == name and value for key, value in os.environ.items())


def _explain(
    err: ValidationError,
    from_file: Mapping[str, Any],
    overrides: Mapping[str, Any],
    path: Path | None,
    text: str,
) -> ConfigError:
    """Every bad value, each said where it came from; the file's first bad line leads."""
    problems: list[tuple[float, str]] = []  # (line in the file, or inf if not from it; text)
    in_file = False
    for error in err.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        reason = error["msg"].removeprefix("Value error, ")
        shown = "" if name in _SECRETS else f" = {mask_password(error.get('input'))!r}"
        if name in overrides:
            problems.append((inf, f"setting {name}{shown} is not valid: {reason}"))
        elif name in from_file:
            in_file = True
            line = _line_of(text, name)
            problems.append((line or 0, f"{name}{shown} is not valid: {reason}"))
        else:
            problems.append((inf, f"{env_var(name)}{shown} is not valid: {reason}"))
    problems.sort(key=lambda problem: problem[0])
    first_line, first = problems[0]
    rest = [f"line {n}: {what}" if 0 < n < inf else what for n, what in problems[1:]]
    message = "; also ".join([first, *rest])
    if in_file and path is not None:
        line = int(first_line) if 0 < first_line < inf else None
        return ConfigError(message, file=str(path), line=line)
    return ConfigError(message)
