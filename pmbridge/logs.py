"""pmbridge's log lines: where they go, how they look, and that no secret is among them.

Every module logs on a logger named after it (``pmbridge.engine.execute``…): the engine,
flows and store their decisions at DEBUG and their writes at INFO. ``configure`` sends
them to the console: INFO and DEBUG lines on stdout, warnings and errors on stderr, as text
or as one JSON object per line (for log collectors). Whatever the format, the values of
the secrets it is given (tokens, keys, passwords) are replaced by ``***`` in every line,
as a guard behind the rule that no code puts a secret into a message.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Literal

Format = Literal["text", "json"]
ROOT = "pmbridge"
MASK = "***"
_TIME = "%Y-%m-%d %H:%M:%S"
# Attributes every LogRecord has; anything else was passed as ``extra`` and goes to JSON.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and extras."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _Masked(logging.Formatter):
    """Wraps a formatter: every secret value in the finished line becomes ``***``."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]):
        super().__init__()
        self.inner = inner
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is masked whole.
        known = {*self.secrets, *(s for s in secrets if s and len(s) >= 4)}
        self.secrets = sorted(known, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        for secret in self.secrets:
            line = line.replace(secret, MASK)
        return line


class _Below(logging.Filter):
    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < self.level


_active: list[_Masked] = []


def mask(*secrets: str | None) -> None:
    """Mask these values too, in every line logged to the console from now on."""
    for masked in _active:
        masked.add(s for s in secrets if s)


def level_of(verbosity: int, default: int = logging.WARNING) -> int:
    """``-v`` once: INFO (every write); twice: DEBUG (every decision)."""
    if verbosity >= 2:
        return logging.DEBUG
    if verbosity == 1:
        return min(default, logging.INFO)
    return default


@contextmanager
def to_console(level: int, fmt: Format = "text", *, secrets: Iterable[str] = ()) -> Iterator[None]:
    """pmbridge's log lines on the console while the block runs (see the module docstring)."""
    logger = logging.getLogger(ROOT)
    inner: logging.Formatter
    if fmt == "json":
        inner = JsonFormatter()
        err_inner: logging.Formatter = inner
    else:
        inner = logging.Formatter("%(asctime)s %(message)s", _TIME)
        err_inner = logging.Formatter("%(asctime)s %(levelname)s %(message)s", _TIME)
    secrets = list(secrets)
    masks = [_Masked(inner, secrets), _Masked(err_inner, secrets)]
    out = logging.StreamHandler(sys.stdout)
    out.addFilter(_Below(logging.WARNING))
    out.setFormatter(masks[0])
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING)
    err.setFormatter(masks[1])
    before = logger.level
    logger.setLevel(level)
    logger.addHandler(out)
    logger.addHandler(err)
    _active.extend(masks)
    try:
        yield
    finally:
        logger.removeHandler(out)
        logger.removeHandler(err)
        logger.setLevel(before)
        for masked in masks:
            _active.remove(masked)


def at_least(level: int) -> None:
    """Let lines of ``level`` through (a command that reports by logging, like serve)."""
    logger = logging.getLogger(ROOT)
    if logger.level > level or logger.level == logging.NOTSET:
        logger.setLevel(level)
