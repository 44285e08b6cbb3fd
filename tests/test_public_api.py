"""The public surface: what ``pmbridge`` exports, and a command line whose help and README
stay true to the code."""

from __future__ import annotations

import inspect
from pathlib import Path

import typer
from typer.main import get_command

import pmbridge
from pmbridge.cli import app

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_exported_members():
    """Every public name of ``pmbridge`` is in ``__all__`` and every name there exists."""
    public = {
        name
        for name in dir(pmbridge)
        if not name.startswith("_") and not inspect.ismodule(getattr(pmbridge, name))
    }
    assert public == set(pmbridge.__all__) - {"__version__"}
    assert pmbridge.__version__


def commands(group, prefix=""):
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        yield path, command
        if hasattr(command, "commands"):
            yield from commands(command, path + " ")


def test_every_command_has_help_and_is_in_the_readme():
    root = get_command(app)
    found = dict(commands(root))
    assert {
        "sync",
        "status",
        "links",
        "conflicts",
        "conflicts resolve",
        "dead-letters",
        "docs",
        "demo",
        "check custompms",
        "sandbox trello",
        "sandbox custompms",
    } <= set(found)
    for path, command in found.items():
        assert (command.help or "").strip(), f"`pmbridge {path}` has no help"
        if not hasattr(command, "commands"):
            assert f"pmbridge {path}" in README, f"`pmbridge {path}` is not in the README"


def test_every_sync_option_is_in_the_readme():
    sync = get_command(app).commands["sync"]
    for param in sync.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt not in ("--help", "--config", "--flows"):
                assert opt in README, f"pmbridge sync {opt} is not in the README"
    assert isinstance(app, typer.Typer)
