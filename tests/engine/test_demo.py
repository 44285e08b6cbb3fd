"""`pmbridge demo` runs a real two-way sync on embedded defaults and says what happened."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pmbridge.cli import app


def test_demo_syncs_both_ways_and_exits_zero(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["demo", "--state-dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "Sync 1" in result.output and "Sync 2" in result.output
    assert "Write the homepage copy" in result.output
    assert "Both edits arrived." in result.output
    assert (tmp_path / "demo" / "pmbridge.db").exists()
    assert not (tmp_path / "pmbridge.db").exists()
