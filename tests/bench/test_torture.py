"""The torture benchmark at its smoke size: a few SIGKILLs, a short fault storm and three
concurrent processes, each on a fresh pair; nothing duplicated, nothing lost, and idle and
full syncs afterwards write nothing (``python -m bench.torture --size smoke``)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import report, torture


def test_the_smoke_torture_loses_nothing_and_duplicates_nothing(tmp_path: Path):
    path = torture.main(["--size", "smoke", "--results", str(tmp_path)])
    data = json.loads(path.read_text())
    assert data["command"] == f"python -m bench.torture --size smoke --results {tmp_path}"
    ordeals = data["ordeals"]
    assert set(ordeals) == {"kills", "storm", "concurrent"}
    for name, ordeal in ordeals.items():
        findings = {kind: found["first"] for kind, found in ordeal["findings"].items()}
        assert all(not found for found in findings.values()), (name, findings)
        assert ordeal["converged"], (name, ordeal["exits"])
        assert (ordeal["idle_writes"], ordeal["full_writes"]) == (0, 0), name
        assert ordeal["exits"]["other"] == 0, ordeal["exits"]["problems"]
    # The ordeals did happen: kills hit running syncs, people edited during the storm.
    assert ordeals["kills"]["kills_during_a_sync"] >= 1
    assert ordeals["kills"]["exits"]["killed"] >= ordeals["kills"]["kills_during_a_sync"]
    assert ordeals["storm"]["edits_made"] > 0 and ordeals["concurrent"]["edits_made"] > 0
    summary = data["summary"]
    assert summary["duplicates"] == 0
    assert "#### Torture" in report.render(tmp_path)
