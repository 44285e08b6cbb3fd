"""Every benchmark, run at its tiny size, writes a result that carries its figures.

The full sizes are not part of the test suite (they take minutes); these runs make sure
the benchmark commands still work against the current engine, so they cannot rot. Each
benchmark runs once (module-scoped fixtures) into one folder, which ``bench.report`` then
turns into the README's tables.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench import ceiling, incremental, initial, overhead, report


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench-results")


def run_tiny(main: Callable[[list[str]], Path | None], folder: Path) -> dict[str, Any]:
    path = main(["--size", "tiny", "--results", str(folder)])
    assert path is not None and path.is_file(), f"no result at {path}"
    data = json.loads(path.read_text())
    assert data["machine"]["nproc"] >= 1 and data["machine"]["python"]
    assert data["command"] == f"python -m bench.{data['benchmark']} --size tiny --results {folder}"
    return data


@pytest.fixture(scope="module")
def initial_result(folder: Path) -> dict[str, Any]:
    return run_tiny(initial.main, folder)


@pytest.fixture(scope="module")
def incremental_result(folder: Path) -> dict[str, Any]:
    return run_tiny(incremental.main, folder)


@pytest.fixture(scope="module")
def ceiling_result(folder: Path) -> dict[str, Any]:
    return run_tiny(ceiling.main, folder)


@pytest.fixture(scope="module")
def overhead_result(folder: Path) -> dict[str, Any]:
    return run_tiny(overhead.main, folder)


def test_initial_syncs_everything_and_counts_calls_and_memory(initial_result: dict[str, Any]):
    (run,) = initial_result["runs"]
    assert run["all_created"], run["on_trello_after"]
    first = run["initial"]
    assert first["errors"] == 0 and first["stopped"] is None
    created_on_trello = first["writes"]["trello"]
    assert first["objects_created"] == created_on_trello  # every write was a create
    assert first["calls"]["trello"] > created_on_trello and first["calls"]["custompms"] >= 4
    assert first["ratio_to_minimum"] >= 1.0
    assert 20 < first["peak_rss_mb"] < 2000
    for idle in (run["idle_right_after"], run["idle_steady"], run["full_reconcile"]):
        assert sum(idle["writes"].values()) == 0, idle["by_route"]
        assert idle["calls"]["trello"] > 0 and idle["wall_s"] > 0


def test_incremental_compares_pmbridge_with_the_naive_baseline(
    incremental_result: dict[str, Any],
):
    (run,) = incremental_result["runs"]
    for tool in ("pmbridge", "naive"):
        assert run[tool]["idle"]["total_calls"] > 0
        assert [r["k"] for r in run[tool]["rounds"]] == [1, 3]
        for rnd in run[tool]["rounds"]:
            assert rnd["all_arrived"], (tool, rnd["missing"])
            # every edit needed one write on the other side, and the tool made it
            assert sum(rnd["cycle"]["writes"].values()) >= rnd["writes_needed"] == 2 * rnd["k"]
            assert rnd["cycle"]["errors"] == 0
    assert set(run["ratios_naive_over_pmbridge"]) == {"idle", "k=1", "k=3"}
    assert all(ratio > 0 for ratio in run["ratios_naive_over_pmbridge"].values())


def test_ceiling_reports_the_rate_achieved_under_trellos_limits(ceiling_result: dict[str, Any]):
    (run,) = ceiling_result["runs"]
    assert run["stopped"] is None and run["errors"] == 0
    assert run["limit"] == {"per_token": 100, "window_s": 10.0}
    assert run["trello_requests"] > 0 and run["wall_s"] > 0
    assert run["rate_per_s"] == pytest.approx(run["trello_requests"] / run["wall_s"], rel=0.01)
    assert isinstance(run["answers_429"], int)


def test_overhead_reconciles_in_memory_without_writing(overhead_result: dict[str, Any]):
    sqlite = overhead_result["backends"]["sqlite"]
    assert sqlite["links"] == overhead_result["setup"]["links"] > 40
    assert sqlite["wrote_nothing"], sqlite["writes"]
    assert sqlite["wall_s"] > 0 and sqlite["peak_rss_mb"] > 0
    postgres = overhead_result["backends"]["postgresql"]
    assert "skipped" in postgres or postgres["wrote_nothing"]


def test_the_report_has_a_table_per_benchmark_with_its_command(
    folder: Path,
    initial_result: dict[str, Any],
    incremental_result: dict[str, Any],
    ceiling_result: dict[str, Any],
    overhead_result: dict[str, Any],
):
    text = report.render(folder)

    for data in (initial_result, incremental_result, ceiling_result, overhead_result):
        assert f"`{data['command']}`" in text
    assert text.count("#### ") == 4
    assert "| sqlite | 43 |" in text
