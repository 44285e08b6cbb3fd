"""pmbridge's settings: command-line options over environment variables (``PMBRIDGE_*``)
over a TOML config file over the defaults.

``load_settings()`` returns a validated ``Settings``. The precedence is pydantic-settings'
own: ``Settings.settings_customise_sources`` orders the sources (the values given in code,
then the environment, then ``ConfigFileSource``), which reads the config file: ``--config
FILE``, else ``$PMBRIDGE_CONFIG``, else ``./pmbridge.toml`` if present. Every mistake is a
``ConfigError`` that names the file and line (or the environment variable) and says what to
do; all the mistakes at once. An environment variable that looks like a setting but is
none (``PMBRIDGE_TRELO_TOKEN``) is an ``UnknownVariableWarning`` naming the closest one.
Keys and tokens are ``SecretStr``: they never show in ``repr``, ``str`` or error messages.

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
import warnings
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from math import inf
from pathlib import Path
from typing import Any, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

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
    interval_s: float = Field(
        60.0,
        gt=0,
        description="seconds between cycles when serving (unset: 900 with webhooks, else 60)",
    )
    allow_delete_share: float = Field(
        0.10, ge=0, le=1, description="a run may delete at most this share of a flow's links"
    )
    allow_delete_min: int = Field(
        5, ge=0, description="…but always up to this many, however small the flow"
    )
    ui_password: SecretStr | None = Field(
        None, description="the dashboard's login password; without it, loopback only"
    )
    lease_wait_s: float = Field(
        0.0,
        ge=0,
        description="how long a cycle waits for another pmbridge syncing the same store "
        "(0: give up at once, doing nothing)",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Values given in code (the command line's options) > environment > config file >
        # defaults. ``load_settings`` hands over the file it chose; ``Settings()`` finds it.
        file_source = _file_source.get() or ConfigFileSource(settings_cls, _config_path(None))
        return init_settings, env_settings, file_source

    def secret_values(self) -> list[str]:
        """The values of every secret setting that is set (for masking them in logs)."""
        values = [getattr(self, name) for name in _SECRETS]
        return [v.get_secret_value() for v in values if isinstance(v, SecretStr)]

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


class UnknownVariableWarning(UserWarning):
    """A ``PMBRIDGE_*`` environment variable that is no setting (a typo, most likely)."""


# Environment variables pmbridge reads besides the settings, and prefixes left to its tools.
OTHER_VARIABLES = frozenset({CONFIG_ENV})
TOOL_PREFIXES = ("PMBRIDGE_TEST_", "PMBRIDGE_BENCH_")


class ConfigFileSource(TomlConfigSettingsSource):
    """The settings of a TOML config file (none when ``path`` is None).

    A relative ``flows`` path is resolved against the file's folder. ``text`` keeps the
    file's text, so that a bad value can be named by its line.
    """

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None):
        self.path = path
        self.text = ""
        super().__init__(settings_cls, toml_file=path)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        path = Path(file_path)
        try:
            self.text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"cannot read the config file: {err}", file=str(path)) from err
        try:
            values = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as err:
            found = re.search(r"\(at line (\d+), column \d+\)", str(err))
            reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(err))
            raise ConfigError(
                f"not valid TOML: {reason}; see https://toml.io for the syntax",
                file=str(path),
                line=int(found.group(1)) if found else None,
            ) from err
        flows = values.get("flows")
        if isinstance(flows, str) and flows and not Path(flows).expanduser().is_absolute():
            values["flows"] = str(path.parent / flows)
        return values

    def line_of(self, key: str) -> int | None:
        """The line where ``key`` is set (``key =``, ``key.x =``, ``[key]``)."""
        found = re.search(
            rf"^[ \t]*(?:\[\[?[ \t]*)?([\"']?){re.escape(key)}\1[ \t]*[=.\]]",
            self.text,
            re.MULTILINE,
        )
        return self.text.count("\n", 0, found.start()) + 1 if found else None


_file_source: ContextVar[ConfigFileSource | None] = ContextVar("pmbridge_config", default=None)


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings from ``overrides`` (e.g. CLI options) over the environment over the file.

    ``config_file`` is ``--config``; without it ``$PMBRIDGE_CONFIG`` or ``./pmbridge.toml``
    (if present) is read. An override of None means "not given". Unknown ``PMBRIDGE_*``
    environment variables are warned about (``UnknownVariableWarning``).
    """
    overrides = {key: value for key, value in overrides.items() if value is not None}
    for key in overrides:
        if key not in Settings.model_fields:
            raise ValueError(f"load_settings got an unknown setting {key!r}")
    for warning in unknown_variables():
        warnings.warn(warning, UnknownVariableWarning, stacklevel=2)
    file_source = ConfigFileSource(Settings, _config_path(config_file))
    token = _file_source.set(file_source)
    try:
        return Settings(**overrides)
    except ValidationError as err:
        raise _explain(err, file_source, overrides) from None
    finally:
        _file_source.reset(token)


def unknown_variables(environ: Mapping[str, str] | None = None) -> Iterator[str]:
    """A sentence for each ``PMBRIDGE_*`` variable that is no setting, naming the closest."""
    known = [env_var(name) for name in Settings.model_fields] + sorted(OTHER_VARIABLES)
    for name in sorted(os.environ if environ is None else environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known or upper.startswith(TOOL_PREFIXES):
            continue
        # Compared without the prefix they share, which would make every name look close.
        bare = [k.removeprefix(ENV_PREFIX) for k in known]
        close = difflib.get_close_matches(upper.removeprefix(ENV_PREFIX), bare, n=1)
        hint = (
            f"; did you mean {ENV_PREFIX}{close[0]}?"
            if close
            else f"; the settings: {', '.join(known)}"
        )
        yield f"{name} is not a pmbridge setting and is ignored{hint}"


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


def _explain(
    err: ValidationError, file_source: ConfigFileSource, overrides: Mapping[str, Any]
) -> ConfigError:
    """Every bad value or unknown key, each said where it came from (pydantic-settings'
    precedence: given in code, else the environment, else the file); the file's first bad
    line leads."""
    from_env = EnvSettingsSource(Settings)()
    allowed = list(Settings.model_fields)
    problems: list[tuple[float, str]] = []  # (line in the file, or inf if not from it; text)
    in_file = False
    for error in err.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "extra_forbidden":  # only the file can bring unknown keys
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "."
            what = f"unknown setting {name!r}{hint} Allowed: {', '.join(allowed)}"
            in_file = True
            problems.append((file_source.line_of(name) or 0, what))
            continue
        reason = error["msg"].removeprefix("Value error, ")
        shown = "" if name in _SECRETS else f" = {mask_password(error.get('input'))!r}"
        if name in overrides:
            problems.append((inf, f"setting {name}{shown} is not valid: {reason}"))
        elif name in from_env:
            problems.append((inf, f"{env_var(name)}{shown} is not valid: {reason}"))
        else:
            in_file = True
            line = file_source.line_of(name)
            problems.append((line or 0, f"{name}{shown} is not valid: {reason}"))
    problems.sort(key=lambda problem: problem[0])
    first_line, first = problems[0]
    rest = [f"line {n}: {what}" if 0 < n < inf else what for n, what in problems[1:]]
    message = "; also ".join([first, *rest])
    if in_file and file_source.path is not None:
        line = int(first_line) if 0 < first_line < inf else None
        return ConfigError(message, file=str(file_source.path), line=line)
    return ConfigError(message)
