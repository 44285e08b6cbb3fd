"""The ``pmbridge`` command line: a thin typer shell over the library."""

from pmbridge.cli.app import app, main

__all__ = ["app", "main"]
