"""Loading the flow file: the default loads; every mistake names the file, line and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmbridge.errors import ConfigError
from pmbridge.flows import default_flows_path, load_flows, parse_flows

DEFAULT = default_flows_path().read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_default_flow_file_has_the_five_flows_in_reference_order():
    flows = load_flows()
    assert flows.names == ["customers", "projects", "tasks", "project_comments", "task_comments"]
    tasks = flows.get("tasks")
    assert tasks.parent is not None and tasks.parent.custompms == "project_id"
    status = tasks.property("status")
    assert status.values == {"todo": "To Do", "in_progress": "Doing", "done": "Done"}


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected"),
    [
        (
            "custompms: title, trello: name, type: string",
            "custompms: titel, trello: name, type: string",
            "titel",
            "unknown Custompms task property 'titel' (did you mean 'title'?)",
        ),
        (
            "trello: displayName, type: string",
            "trello: displayname, type: string",
            "displayname",
            "unknown Trello organization property 'displayname' (did you mean 'displayName'?)",
        ),
        (
            "type: reference, flow: tasks, parent: true",
            "type: reference, flow: taks, parent: true",
            "flow: taks",
            "refers to flow 'taks', which is not defined before it",
        ),
        (
            "{custompms: due_at, trello: due, type: datetime}",
            "{custompms: due_at, trello: due, type: boolean}",
            "due_at",
            "holds instant values, which do not fit type 'boolean'; use one of datetime, date",
        ),
        (
            "{custompms: start_at, trello: start, type: datetime}",
            "{custompms: start_at, trello: due, type: datetime}",
            "start_at",
            "Trello property 'due' is mapped twice",
        ),
        (
            "trello: author, type: string, direction: to_custompms}",
            "trello: author, type: string}",
            "{custompms: author",
            "Trello property 'author' is read-only; set direction: to_custompms",
        ),
        (
            "    match:\n      - {custompms: title",
            "    matsch:\n      - {custompms: title",
            "matsch",
            "unknown key 'matsch' (did you mean 'match'?)",
        ),
    ],
)
def test_mistakes_name_file_line_and_what_is_allowed(old, new, needle, expected):
    assert old in DEFAULT
    text = DEFAULT.replace(old, new, 1)
    with pytest.raises(ConfigError) as err:
        parse_flows(text, "my-flows.yaml")
    # Every problem on a line of its own, each with the file and its line.
    found = [line for line in str(err.value).splitlines() if expected in line]
    assert found, str(err.value)
    assert all(f.startswith(f"my-flows.yaml:{line_of(text, needle)}: ") for f in found)


def test_every_problem_is_shown_at_once_in_line_order():
    text = (
        DEFAULT.replace("trello: displayName, type: string", "trello: displayname, type: string")
        .replace("conflict: newest_wins", "conflict: newest", 1)
        .replace("{custompms: start_at, trello: start, type: datetime}", "{custompms: start_at}")
        .replace("trello: dueComplete", "trello: duecomplete")
    )
    with pytest.raises(ConfigError) as err:
        parse_flows(text, "my-flows.yaml")
    lines = str(err.value).splitlines()
    expected = [
        # The customers' match key names the property whose Trello side is misspelt below.
        (line_of(text, "match:") + 1, "match key name/displayName must be a mapped property pair"),
        (line_of(text, "conflict: newest\n"), "'newest' is not allowed; use one of"),
        (line_of(text, "displayname"), "unknown Trello organization property 'displayname'"),
        (line_of(text, "{custompms: start_at}"), "property #6: 'trello' is required"),
        (line_of(text, "{custompms: start_at}"), "property #6: 'type' is required"),
        (line_of(text, "duecomplete"), "unknown Trello card property 'duecomplete'"),
    ]
    assert len(lines) == len(expected), str(err.value)
    for shown, (line, what) in zip(lines, expected, strict=True):
        assert shown.startswith(f"my-flows.yaml:{line}: "), shown
        assert what in shown


def test_bad_policy_lists_the_allowed_ones():
    text = DEFAULT.replace("conflict: newest_wins", "conflict: newest", 1)
    with pytest.raises(ConfigError, match="'newest' is not allowed; use one of 'newest_wins'"):
        parse_flows(text, "f.yaml")


def test_broken_yaml_and_missing_file():
    with pytest.raises(ConfigError, match=r"^f.yaml:4: not valid YAML: .*started on line 3"):
        parse_flows("version: 1\nflows:\n  - [unclosed\n", "f.yaml")
    with pytest.raises(ConfigError, match=r"cannot read the flow file.*PMBRIDGE_FLOWS"):
        load_flows(Path("/nonexistent/flows.yaml"))


def test_enum_values_must_be_unique_on_the_trello_side():
    text = DEFAULT.replace("done: Done", "done: Doing")
    with pytest.raises(ConfigError, match="two Custompms values map to the same Trello value"):
        parse_flows(text, "f.yaml")
