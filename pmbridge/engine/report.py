"""What a cycle did, counted per flow and direction, for the CLI's table and the run log."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["to_trello", "to_custompms"]
DIRECTIONS: tuple[Direction, Direction] = ("to_trello", "to_custompms")
COLUMNS = ("created", "updated", "deleted", "linked", "unlinked", "conflicts", "errors")


@dataclass
class CycleReport:
    """Counts per (flow, direction), plus the problems worth a line each.

    ``to_trello`` counts what was done on Trello (created there, updated there …),
    ``to_custompms`` what was done on Custompms.
    """

    counts: dict[tuple[str, Direction], Counter[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    held_deletes: list[str] = field(default_factory=list)
    waiting: int = 0
    dry_run: bool = False
    full: bool = False
    #: a dry run's plan: one line per action, by flow
    plan: list[tuple[str, str]] = field(default_factory=list)

    def add(self, flow: str, direction: Direction, what: str, n: int = 1) -> None:
        self.counts.setdefault((flow, direction), Counter())[what] += n

    def count(self, what: str, flow: str | None = None) -> int:
        return sum(c[what] for (f, _), c in self.counts.items() if flow in (None, f))

    @property
    def writes(self) -> int:
        return sum(self.count(what) for what in ("created", "updated", "deleted"))

    @property
    def errors(self) -> int:
        return self.count("errors")

    @property
    def status(self) -> Literal["ok", "partial"]:
        """ "ok", or "partial" when some records failed or deletes were held."""
        return "partial" if self.errors or self.held_deletes else "ok"

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def as_json(self) -> dict[str, Any]:
        return {
            "counts": {
                f"{flow}:{direction}": dict(counter)
                for (flow, direction), counter in self.counts.items()
            },
            "problems": self.problems,
            "held_deletes": self.held_deletes,
            "waiting": self.waiting,
            "dry_run": self.dry_run,
            "full": self.full,
        }
