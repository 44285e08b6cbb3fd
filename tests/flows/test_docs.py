"""`pmbridge docs` reproduces the seed document's form with every table filled in."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from pmbridge.cli import app
from pmbridge.flows import default_flows_path

# The section titles of the seed document (reference/custompms-trello.rst).
SEED_SECTIONS = [
    "Custompms Customer to Trello Organizations",
    "Custompms Project to Trello Actions",
    "Custompms Task to Trello Actions",
    "Custompms Task to Trello Cards",
]


def sections(text: str) -> dict[str, str]:
    parts = re.split(r"\n(?=Custompms [^\n]+\n-+\n)", text)
    return {part.splitlines()[0]: part for part in parts[1:]}


def test_docs_has_every_seed_section_with_its_table_filled(tmp_path: Path):
    out = tmp_path / "dataflow.rst"
    result = CliRunner().invoke(app, ["docs", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("============================\nCustompms to Trello Dataflow\n")
    found = sections(text)
    for title in SEED_SECTIONS:
        body = found[title]
        source, target = title.removeprefix("Custompms ").split(" to Trello ")
        assert f"Every Custompms {source} will be synchronized with a Trello {target}." in body
        assert "regardless of where it is edited" in body
        rows = re.findall(r"   \* - ([^\n]+)\n     - ([^\n]+)\n     - ([^\n]+)", body)
        header = (f"Custompms {source} Property", f"Trello {target} Property", "Trello Data Type")
        assert rows[0] == header
        assert len(rows) >= 3, f"{title}: the property table is empty"
    cards = dict(
        (c, (t, kind))
        for c, t, kind in re.findall(
            r"   \* - (\S+)\n     - (\S+)\n     - ([^\n]+)", found["Custompms Task to Trello Cards"]
        )
    )
    assert cards["title"] == ("name", "string")
    assert cards["status"] == ("list", "string (list name)")
    assert cards["due_at"] == ("due", "datetime")
    assert "Custompms Project to Trello Boards" in found


def test_docs_follows_a_users_flow_file(tmp_path: Path):
    flows = tmp_path / "flows.yaml"
    flows.write_text(
        default_flows_path()
        .read_text()
        .replace(
            "{custompms: position, trello: pos, type: number}",
            "{custompms: position, trello: pos, type: number, direction: to_trello}",
        )
    )
    result = CliRunner().invoke(app, ["docs", "--flows", str(flows)])
    assert result.exit_code == 0, result.output
    assert "``position`` ↔ ``pos``: Custompms → Trello only." in result.output
