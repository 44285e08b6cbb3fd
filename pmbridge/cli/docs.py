"""``pmbridge docs``: write the dataflow document from the live flow file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pmbridge.cli.app import app
from pmbridge.cli.common import (
    ConfigOption,
    FlowsOption,
    console,
    fail,
    handle_errors,
    settings_from,
)


@app.command()
@handle_errors
def docs(
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write to this file instead of standard output."),
    ] = None,
    config: ConfigOption = None,
    flows: FlowsOption = None,
) -> None:
    """Write the dataflow document (the seed specification's form, every table filled in).

    Example: pmbridge docs -o docs/dataflow.rst
    """
    from pmbridge.flows.docs import render_rst
    from pmbridge.wiring import load_flow_file

    settings = settings_from(config, flows)
    flow_file = load_flow_file(settings)
    source = f"``{settings.flows}``" if settings.flows else "shipped with pmbridge"
    text = render_rst(flow_file, source=source)
    if output is None:
        print(text, end="")
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as err:
        raise fail(_cannot_write(output, err)) from None
    console.print(f"Wrote {output} ({len(flow_file.flows)} flows).")


def _cannot_write(output: Path, err: OSError) -> str:
    folder = output.parent
    if not folder.is_dir():
        return (
            f"cannot write {output}: the folder {folder} does not exist; create it "
            f"(mkdir -p {folder}) or give -o a file in an existing folder"
        )
    if output.is_dir():
        example = output / "dataflow.rst"
        return f"cannot write {output}: it is a folder; give -o a file name, e.g. {example}"
    return f"cannot write {output}: {err.strerror}; give -o a file you may write"
