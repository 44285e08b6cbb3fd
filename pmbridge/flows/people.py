"""The people map of an assignees property: who is who in Custompms (email) and Trello
(username), from the flow file's ``people`` and the CSV its ``people_file`` names.

The CSV has a header row with the columns ``email`` and ``trello`` (a Trello username,
with or without ``@``); blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from pmbridge.flows.models import FlowFile

Problem = tuple[tuple[str | int, ...], str]


def read_people_csv(path: Path) -> dict[str, str]:
    """email → username from a people CSV; ``ValueError`` names what is wrong and where."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"cannot read the people file {path}: {err.strerror}") from err
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(rows)
    if not reader.fieldnames or {"email", "trello"} - {f.strip() for f in reader.fieldnames}:
        raise ValueError(
            f"the people file {path} needs a header row with the columns email,trello "
            f"(found: {','.join(reader.fieldnames or []) or 'nothing'})"
        )
    people: dict[str, str] = {}
    for number, row in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        if not row.get("email") or "@" not in row["email"] or not row.get("trello"):
            raise ValueError(
                f"{path}:{number}: a line needs an email and a Trello username "
                f"(got {','.join(row.values())!r})"
            )
        people[row["email"].lower()] = row["trello"].lstrip("@")
    return people


def attach_people(flow_file: FlowFile, base_dir: Path | None) -> tuple[FlowFile, list[Problem]]:
    """The flow file with every ``people_file`` read into its property's ``people`` (the
    file's lines add to, and override, the flow file's own), and the problems found."""
    problems: list[Problem] = []
    flows: list[Any] = []
    for fi, flow in enumerate(flow_file.flows):
        props = list(flow.properties)
        for pi, prop in enumerate(props):
            if prop.people_file is None:
                continue
            path = Path(prop.people_file)
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            try:
                people = {**(prop.people or {}), **read_people_csv(path)}
            except ValueError as err:
                problems.append((("flows", fi, "properties", pi, "people_file"), str(err)))
                people = dict(prop.people or {})
            props[pi] = prop.model_copy(update={"people": people})
        flows.append(flow.model_copy(update={"properties": props}))
    return flow_file.model_copy(update={"flows": flows}), problems
