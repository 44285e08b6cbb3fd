"""The lines ``pmbridge serve`` prints about itself: how it serves, each cycle, its stop."""

from __future__ import annotations

from pmbridge.engine.report import CycleReport


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def serving_line(interval_s: float, public_url: str | None, address: tuple[str, int] | None) -> str:
    """The first line: how often it syncs, and where it listens (``address``; None: not)."""
    every = f"serving: a cycle every {interval_s:g} s"
    if address is None:
        return f"{every} (no public URL: polling only)"
    host, port = address
    if public_url is None:
        return f"{every} (no public URL: polling only); dashboard at http://{host}:{port}/ui/"
    return f"{every}, and one after deliveries to {public_url}/hooks/… (listening on {host}:{port})"


def summary_line(report: CycleReport, number: int, why: str, seconds: float) -> str:
    """One line for a finished cycle: writes per system, conflicts, errors, held deletes."""
    writes = {"to_trello": 0, "to_custompms": 0}
    for (_, direction), counts in report.counts.items():
        writes[direction] += sum(counts[what] for what in ("created", "updated", "deleted"))
    parts = [
        f"→ Trello {_n(writes['to_trello'], 'write')}",
        f"→ Custompms {_n(writes['to_custompms'], 'write')}",
        _n(report.count("conflicts"), "conflict"),
        _n(report.errors, "error") + (" (see pmbridge dead-letters)" if report.errors else ""),
    ]
    if report.held_deletes:
        parts.append(f"{len(report.held_deletes)} deletion(s) held (pmbridge sync --allow-deletes)")
    full = ", full" if report.full else ""
    return f"cycle {number} ({why}{full}): {', '.join(parts)} in {seconds:.1f} s"


def stopped_line(cycles: int, public_url: str | None, removed: int, unsubscribed: bool) -> str:
    """The last line: without a public URL how many cycles ran, with one what was removed
    (``removed`` Trello webhooks, the Custompms subscription if ``unsubscribed``)."""
    if public_url is None:
        return f"stopped after {_n(cycles, 'cycle')}"
    subscription = ", Custompms subscription removed" if unsubscribed else ""
    return f"stopped: {_n(removed, 'Trello webhook')} deleted{subscription}"
