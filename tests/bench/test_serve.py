"""``bench.serve`` at its tiny size: people edit on both sides while serve runs with
webhooks, under Trello's real limits; every edit arrives, under both strategies, and the
targeted one, which reads the hinted boards' feeds alone, costs fewer Trello calls per edit
than a full cycle per hint (every board's feed, ten to a ``/batch`` call)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import serve


def test_serve_benchmark_measures_both_strategies_on_the_same_script(tmp_path: Path):
    path = serve.main(["--size", "tiny", "--results", str(tmp_path)])
    data = json.loads(path.read_text())
    assert data["command"] == f"python -m bench.serve --size tiny --results {tmp_path}"
    runs = {run["strategy"]: run for run in data["runs"]}
    assert set(runs) == {"targeted", "full per hint"}
    targeted, full = runs["targeted"], runs["full per hint"]
    assert targeted["script"] == full["script"] and len(targeted["script"]) == 8
    for run in (targeted, full):
        assert run["arrived"] == run["edits"] == 8, run["not_arrived"]
        assert run["p50_s"] <= run["p95_s"] <= run["max_s"]
        assert run["cycles"] >= 1 and run["answers_429"] == 0
        assert run["calls"]["trello"] > 0 and run["calls"]["custompms"] > 0
        # The people's own requests are taken out of the routes as out of the totals.
        for system in ("trello", "custompms"):
            assert sum(run["by_route"][system].values()) == run["calls"][system]
    assert targeted["trello_per_edit"] < full["trello_per_edit"]
