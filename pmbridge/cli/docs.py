"""``pmbridge docs``: write the dataflow document from the live flow file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pmbridge.cli.app import app
from pmbridge.cli.common import ConfigOption, FlowsOption, console, handle_errors, settings_from


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
    output.write_text(text, encoding="utf-8")
    console.print(f"Wrote {output} ({len(flow_file.flows)} flows).")
