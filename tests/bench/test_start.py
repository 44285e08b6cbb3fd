"""``bench.start`` at its tiny size: it times the three commands and names its targets."""

from __future__ import annotations

import json
from pathlib import Path

from bench import report, start


def test_start_times_help_and_an_idle_sync_against_python(tmp_path: Path) -> None:
    path = start.main(["--size", "tiny", "--results", str(tmp_path)])
    assert path is not None
    data = json.loads(path.read_text())
    assert data["command"] == f"python -m bench.start --size tiny --results {tmp_path}"
    figures = data["commands"]
    assert set(figures) == {"python", "help", "idle_sync"}
    assert figures["python"]["times_python"] == 1.0
    for name in ("help", "idle_sync"):
        assert len(figures[name]["runs_s"]) == data["repeat"] == 1
        assert figures[name]["median_s"] > 0 and figures[name]["cpu_s"] > 0
        assert figures[name]["target_s"] == start.TARGETS_S[name]
    assert data["idle_sync_imports"]["total_s"] > 0
    text = report.render(tmp_path)
    assert "#### Start-up" in text and f"`{data['command']}`" in text
    assert "| pmbridge --help |" in text
