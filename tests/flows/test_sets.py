"""Sets and item lists in the flow file: loading, the people map and its CSV, mistakes, and
canonical values (what the merge compares)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmbridge.errors import ConfigError
from pmbridge.flows import default_flows_path, load_flows, parse_flows
from pmbridge.flows.values import UnmappedProperty, canonical, native

DEFAULT = default_flows_path().read_text(encoding="utf-8")


def no_resolve(*_: object) -> None:
    return None


def with_people(people: str) -> str:
    assert "people: {}" in DEFAULT
    return DEFAULT.replace("people: {}", people, 1)


def test_the_default_flow_file_maps_tags_assignees_checklist_and_links():
    tasks = load_flows().get("tasks")
    assert tasks.property("tags").type == "set" and tasks.property("tags").label_colors
    assert tasks.property("assignees").people == {}
    assert tasks.property("checklist").checklist_name == "Checklist"
    assert tasks.property("links").by == "url"


def test_a_people_file_adds_to_the_people_map(tmp_path: Path):
    (tmp_path / "people.csv").write_text(
        "email,trello\n# the design team\nAnn@Example.com,@ann\n\nbob@example.com,bob\n"
    )
    path = tmp_path / "flows.yaml"
    path.write_text(
        with_people("people: {carl@example.com: carl}\n        people_file: people.csv")
    )
    people = load_flows(path).get("tasks").property("assignees").people
    assert people == {
        "carl@example.com": "carl",
        "ann@example.com": "ann",
        "bob@example.com": "bob",
    }


@pytest.mark.parametrize(
    ("csv", "expected"),
    [
        (None, "cannot read the people file"),
        ("mail,user\na@x.org,a\n", "needs a header row with the columns email,trello"),
        ("email,trello\nnot-an-email,a\n", "people.csv:2: a line needs an email and a Trello"),
    ],
)
def test_a_bad_people_file_is_named_with_its_line(tmp_path: Path, csv, expected):
    if csv is not None:
        (tmp_path / "people.csv").write_text(csv)
    path = tmp_path / "flows.yaml"
    text = with_people("people: {}\n        people_file: people.csv")
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_flows(path)
    assert expected in str(err.value)
    # named at the flow file's line that names the people file
    assert err.value.line == text[: text.rindex("people_file")].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("people: {}", "label_colors: {x: red}", "give 'people'"),
        ("type: set, by: url}", "type: set}", "add 'by: url'"),
        ("label_colors: {urgent: red,", "label_colors: {urgent: crimson,", "not a Trello colour"),
        ("type: items, checklist_name: Checklist}", "type: set, checklist_name: C}", "only for"),
        (
            "trello: labels\n        type: set",
            "trello: labels\n        type: string",
            "'label_colors' is only for type: set",
        ),
        (
            "{custompms: links, trello: attachments, type: set, by: url}",
            "{custompms: links, trello: attachments, type: string}",
            "holds links values, which do not fit type 'string'; use one of set",
        ),
    ],
)
def test_set_mistakes_say_what_to_do(old, new, expected):
    assert old in DEFAULT, old
    with pytest.raises(ConfigError) as err:
        parse_flows(DEFAULT.replace(old, new, 1), "f.yaml")
    assert expected in str(err.value)


def test_canonical_sets_are_sorted_and_people_go_through_the_map():
    tasks = parse_flows(with_people("people: {Ann@Example.com: '@Ann'}"), "f.yaml").get("tasks")
    tags, assignees = tasks.property("tags"), tasks.property("assignees")
    links = tasks.property("links")
    assert canonical(tags, "custompms", ("web", " urgent", "web"), no_resolve) == ["urgent", "web"]
    assert canonical(assignees, "custompms", ("ann@example.com",), no_resolve) == [
        "ann@example.com"
    ]
    assert canonical(assignees, "trello", ("ann",), no_resolve) == ["ann@example.com"]
    assert native(assignees, "trello", ["ann@example.com"], no_resolve) == ["ann"]
    assert native(tags, "trello", ["urgent"], no_resolve) == [{"name": "urgent", "color": "red"}]
    raw = (
        {"id": "9", "title": "Spec ", "url": "https://b"},
        {"id": "1", "title": "", "url": "https://a"},
    )
    assert canonical(links, "custompms", raw, no_resolve) == [
        {"url": "https://a", "title": ""},
        {"url": "https://b", "title": "Spec"},
    ]
    with pytest.raises(UnmappedProperty, match=r"bob@example\.com has no Trello username"):
        canonical(assignees, "custompms", ("bob@example.com",), no_resolve)
    with pytest.raises(UnmappedProperty, match="@zed is not in the people map"):
        canonical(assignees, "trello", ("zed",), no_resolve)
