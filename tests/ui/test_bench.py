"""``python -m bench.ui`` at its tiny size writes a result with every page's times."""

from __future__ import annotations

import json
from pathlib import Path

from bench import ui


def test_the_ui_benchmark_times_every_page(tmp_path: Path):
    path = ui.main(["--size", "tiny", "--results", str(tmp_path)])
    data = json.loads(path.read_text())
    assert data["command"] == f"python -m bench.ui --size tiny --results {tmp_path}"
    assert data["links"] == ui.TINY_LINKS
    assert set(data["pages"]) == set(ui.PAGES)
    for page in data["pages"].values():
        assert 0 < page["median_ms"] <= page["p95_ms"] <= page["max_ms"]
