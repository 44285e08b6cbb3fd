"""``python -m bench.report``: the figures of ``bench/results/*.json`` as Markdown tables,
ready for the README's Performance and Reliability sections (each table with the command
behind it)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.common import RESULTS


def _load(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _row(*cells: Any) -> str:
    return "| " + " | ".join(_fmt(c) for c in cells) + " |"


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _mark(met: bool) -> str:
    return "met" if met else "**missed**"


def _header(*names: str) -> list[str]:
    return [_row(*names), "|" + "---|" * len(names)]


def machine(data: dict[str, Any]) -> str:
    m = data["machine"]
    return (
        f"{m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB memory, Python {m['python']}, "
        f"{m['platform']}"
    )


def code(data: dict[str, Any]) -> str:
    found = data.get("code") or {}
    pending = found.get("uncommitted") or []
    extra = f" plus uncommitted changes to {', '.join(pending)}" if pending else ""
    return f"commit `{found.get('commit', '?')}`{extra}"


def initial(data: dict[str, Any]) -> list[str]:
    lines = [f"`{data['command']}` — finished {data['finished_at']}", ""]
    lines += _header(
        "tasks",
        "wall s",
        "Trello calls",
        "Custompms calls",
        "objects created",
        "calls / object",
        "minimum / object",
        "÷ minimum (≤ 1.05)",
        "peak RSS MB",
        "all on Trello",
    )
    for r in data["runs"]:
        i = r["initial"]
        lines.append(
            _row(
                r["tasks"],
                i["wall_s"],
                i["calls"]["trello"],
                i["calls"]["custompms"],
                i["objects_created"],
                f"{i['calls_per_object']:.3f}",
                f"{i['minimum_calls_per_object']:.3f}",
                f"{i['ratio_to_minimum']:.3f} {_mark(i['ratio_to_minimum'] <= i['target_ratio'])}",
                i["peak_rss_mb"],
                r["all_created"],
            )
        )
    lines += [
        "",
        *_header(
            "tasks",
            "cycle with nothing changed",
            "Trello calls",
            "Custompms calls",
            "wall s",
            "target",
        ),
    ]
    for r in data["runs"]:
        target = r["idle_target_per_system"]
        for label, key in (
            ("right after the first sync", "idle_right_after"),
            ("steady", "idle_steady"),
            ("full reconciliation (`--full`)", "full_reconcile"),
        ):
            if key not in r:
                continue  # a result of an older version of the benchmark
            c = r[key]
            worst = max(c["calls"].values())
            met = f"≤ {target} per system: {_mark(worst <= target)}"
            lines.append(
                _row(
                    r["tasks"],
                    label,
                    c["calls"]["trello"],
                    c["calls"]["custompms"],
                    c["wall_s"],
                    "(no target)" if key == "full_reconcile" else met,
                )
            )
    return lines


def incremental(data: dict[str, Any]) -> list[str]:
    lines = [f"`{data['command']}` — finished {data['finished_at']}", ""]
    lines += _header(
        "tasks",
        "cycle",
        "pmbridge calls (Trello + Custompms)",
        "writes needed",
        "target (1.1 × writes + idle)",
        "pmbridge wall s",
        "naive calls (Trello + Custompms)",
        "naive wall s",
        "naive ÷ pmbridge",
        "every edit arrived (pmbridge / naive)",
    )
    for r in data["runs"]:
        p, q = r["pmbridge"], r["naive"]
        ratios = r["ratios_naive_over_pmbridge"]
        lines.append(
            _row(
                r["tasks"],
                "idle",
                _calls(p["idle"]),
                0,
                "",
                p["idle"]["wall_s"],
                _calls(q["idle"]),
                q["idle"]["wall_s"],
                f"{ratios['idle']:.2f}",
                "",
            )
        )
        for a, b in zip(p["rounds"], q["rounds"], strict=True):
            lines.append(
                _row(
                    r["tasks"],
                    f"k = {a['k']} per side",
                    _calls(a["cycle"]),
                    a["writes_needed"],
                    f"≤ {a['target_calls']:g}: {_mark(a['within_target'])}",
                    a["cycle"]["wall_s"],
                    _calls(b["cycle"]),
                    b["cycle"]["wall_s"],
                    f"{ratios['k=' + str(a['k'])]:.2f}",
                    f"{_fmt(a['all_arrived'])} / {_fmt(b['all_arrived'])}",
                )
            )
    return lines


def _calls(cycle: dict[str, Any]) -> str:
    c = cycle["calls"]
    return f"{cycle['total_calls']:,} ({c['trello']:,} + {c['custompms']:,})"


def ceiling(data: dict[str, Any]) -> list[str]:
    lines = [f"`{data['command']}` — finished {data['finished_at']}", ""]
    lines += _header(
        "tasks",
        "Trello requests",
        "wall s",
        "requests / s",
        "share of 100 / 10 s (≥ 95 %)",
        "median 10 s window",
        "busiest 10 s window",
        "429 answers (0)",
    )
    for r in data["runs"]:
        lines.append(
            _row(
                r["tasks"],
                r["trello_requests"],
                r["wall_s"],
                r["rate_per_s"],
                f"{r['share_of_limit']:.1%} {_mark(r['share_of_limit'] >= r['target_share'])}",
                f"{r['median_window']:.0f}",
                f"{r['busiest_window']:.0f}",
                f"{r['answers_429']} {_mark(r['answers_429'] == 0)}",
            )
        )
    return lines


def overhead(data: dict[str, Any]) -> list[str]:
    lines = [f"`{data['command']}` — finished {data['finished_at']}", ""]
    lines += _header(
        "state store",
        "linked records",
        "wall s (< 10)",
        "µs / record",
        "peak RSS MB (< 500)",
        "RSS before the cycle MB",
        "writes",
        "runs: wall s / peak RSS MB",
    )
    for backend, m in data["backends"].items():
        if "skipped" in m:
            lines.append(_row(backend, f"skipped: {m['skipped']}", "", "", "", "", "", ""))
            continue
        lines.append(
            _row(
                backend,
                m["links"],
                f"{m['wall_s']:.2f} {_mark(m['within_time'])}",
                m["us_per_record"],
                f"{m['peak_rss_mb']:.0f} {_mark(m['within_memory'])}",
                m["rss_before_cycle_mb"],
                "none" if m["wrote_nothing"] else m["writes"],
                ", ".join(f"{r['wall_s']:.2f} / {r['peak_rss_mb']:.0f}" for r in m.get("runs", [])),
            )
        )
    idle = data.get("idle")
    if idle:
        lines += [
            "",
            f"An idle incremental cycle over {idle['links']:,} links (SQLite): "
            f"{idle['wall_s']:.3f} s {_mark(idle['within_time'])} (target < 1 s), the engine's "
            f"peak allocation {idle['engine_peak_mb']:.1f} MB {_mark(idle['within_memory'])} "
            f"(target < 150 MB, traced), writes: "
            f"{'none' if idle['wrote_nothing'] else idle['writes']}.",
        ]
    return lines


def start(data: dict[str, Any]) -> list[str]:
    lines = [f"`{data['command']}` — finished {data['finished_at']}", ""]
    lines += _header(
        "command", "wall s (median)", "range s", "÷ `python -c pass`", "CPU s", "target"
    )
    for figure in data["commands"].values():
        target = figure["target_s"]
        lines.append(
            _row(
                figure["command"],
                figure["median_s"],
                f"{figure['min_s']:.2f}–{figure['max_s']:.2f}",
                f"{figure['times_python']:.1f}×",
                figure["cpu_s"],
                "" if target is None else f"< {target} s: {_mark(figure['met'])}",
            )
        )
    imports = data["idle_sync_imports"]
    top = ", ".join(f"{name} {s:.2f}" for name, s in imports["top"].items())
    spent = f"{imports['total_s']:.2f} s importing"
    lines += ["", f"Under `python -X importtime` the idle sync spent {spent}, by package: {top}."]
    return lines


def ui(data: dict[str, Any]) -> list[str]:
    lines = [f"`{data['command']}` — finished {data['finished_at']}", ""]
    lines.append(
        f"{data['links']:,} links, {data['repeat']} timed requests per page over HTTP on "
        "127.0.0.1 (the client in the same process); milliseconds."
    )
    lines.append("")
    lines += _header("page", "median", "p95", "max", f"p95 < {data['target_ms']:.0f} ms")
    for label, m in data["pages"].items():
        lines.append(
            _row(
                f"{label} (`{m['path']}`)",
                m["median_ms"],
                m["p95_ms"],
                m["max_ms"],
                _mark(m["within_target"]),
            )
        )
    return lines


def torture(data: dict[str, Any]) -> list[str]:
    lines = [f"`{data['command']}` — {data['store']} store, finished {data['finished_at']}", ""]
    lines += _header(
        "ordeal",
        "kills during a sync",
        "duplicates",
        "lost",
        "unequal",
        "cards without footer",
        "idle sync writes",
        "sync --full writes",
        "exits 0 / 1 / 2",
    )
    for name, o in data["ordeals"].items():
        found = {kind: value["count"] for kind, value in o["findings"].items()}
        exits = o["exits"]
        lines.append(
            _row(
                name,
                o.get("kills_during_a_sync", "—"),
                found["duplicates"],
                found["lost_edits"] + found["unpaired"],
                found["unequal"],
                found["missing_footers"],
                o["idle_writes"],
                o["full_writes"],
                f"{exits['ok']} / {exits['partial']} / {exits['stopped']}",
            )
        )
    return lines


def serve(data: dict[str, Any]) -> list[str]:
    first = data["runs"][0]
    lines = [
        f"`{data['command']}` — finished {data['finished_at']}; {first['boards']} boards, "
        f"{first['tasks']:,} tasks, {first['edits']} edits over {first['duration_s']:g} s; "
        f"Trello's real limits and {first['latency_ms']:g} ms latency during the edits (the "
        "first sync ran without either and is not measured); targets for the targeted "
        "strategy",
        "",
    ]
    lines += _header(
        "strategy",
        "arrived",
        "p50 s",
        "p95 s (< 2)",
        "max s",
        "Trello calls / edit (≤ 3)",
        "Custompms calls / edit",
        "429 answers (0)",
        "cycles",
    )
    for r in data["runs"]:
        targeted = r["strategy"] == "targeted"
        p95, per_edit, got_429 = r["p95_s"], r["trello_per_edit"], r["answers_429"]
        if targeted:
            met = _by(p95, 2.0, "s", inclusive=False) if p95 is not None else "none arrived"
            p95 = f"{p95} {met}"
            per_edit = f"{per_edit} {_by(per_edit, 3.0, 'calls')}"
            got_429 = f"{got_429} {_by(got_429, 0, '')}"
        lines.append(
            _row(
                r["strategy"],
                f"{r['arrived']} / {r['edits']}",
                r["p50_s"],
                p95,
                r["max_s"],
                per_edit,
                r["custompms_per_edit"],
                got_429,
                r["cycles"],
            )
        )
    return lines


def _by(value: float, limit: float, unit: str, *, inclusive: bool = True) -> str:
    """``met`` (``value`` ≤ ``limit``, or < without ``inclusive``), else by how much not."""
    if value < limit or (inclusive and value == limit):
        return "met"
    return f"**missed** by {value - limit:g}{' ' + unit if unit else ''}"


SECTIONS = {
    "initial": ("Initial sync and idle cycles", initial),
    "incremental": ("Idle and incremental cycles, pmbridge and the naive baseline", incremental),
    "ceiling": ("Under Trello's real rate limits (50 ms latency)", ceiling),
    "serve": ("serve with webhooks while people edit", serve),
    "overhead": ("Engine overhead without network", overhead),
    "start": ("Start-up", start),
    "ui": ("The dashboard's pages with 100,000 links", ui),
    "torture": ("Torture: kills, a fault storm, three processes (SQLite)", torture),
    "torture-postgresql": ("Torture: kills, a fault storm, three processes (PostgreSQL)", torture),
}


def render(folder: Path) -> str:
    lines: list[str] = []
    first = True
    for name, (title, build) in SECTIONS.items():
        data = _load(folder, name)
        if data is None:
            continue
        if first:
            lines += [f"Measured on: {machine(data)}.", ""]
            first = False
        lines += [f"#### {title}", "", *build(data), "", f"Code: {code(data)}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    found = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    found.add_argument("--results", type=Path, default=RESULTS)
    args = found.parse_args(argv)
    print(render(args.results))


if __name__ == "__main__":
    main()
