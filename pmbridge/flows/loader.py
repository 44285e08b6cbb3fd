"""Load and check a flow file; every mistake names the file, the line and what is allowed.

``load_flows(path)`` parses YAML (keeping each node's line), validates the shapes with the
pydantic models, then checks the mappings against the systems' catalogue and against each
other (unknown property, unknown flow, wrong type, duplicate mapping, …).

One module because parsing, line numbers and the cross-checks must report every problem of
one file together.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pmbridge.errors import ConfigError
from pmbridge.flows.models import Flow, FlowFile, Property
from pmbridge.flows.people import attach_people
from pmbridge.systems.kinds import catalog

Path_ = tuple[str | int, ...]

# Which flow types fit which catalogue value types.
_FITS: dict[str, set[str]] = {
    "string": {"string", "text"},
    "text": {"string", "text"},
    "markdown": {"string", "text"},
    "url": {"url", "string"},
    "boolean": {"boolean"},
    "number": {"number"},
    "datetime": {"instant"},
    "date": {"instant"},
    "enum": {"string"},
    "reference": {"id"},
    "set": {"tags", "people", "links"},
    "items": {"checklist"},
}
_SIDE_NAMES = {"custompms": "Custompms", "trello": "Trello"}


def default_flows_path() -> Path:
    """The flow file shipped with pmbridge."""
    return Path(str(resources.files("pmbridge.flows") / "flows.yaml"))


def load_flows(path: Path | str | None = None) -> FlowFile:
    """Read, validate and check a flow file (the packaged default when ``path`` is None)."""
    file = Path(path) if path is not None else default_flows_path()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(
            f"cannot read the flow file: {err.strerror}; check --flows / PMBRIDGE_FLOWS",
            file=str(file),
        ) from err
    return parse_flows(text, str(file), base_dir=file.parent)


def parse_flows(text: str, filename: str = "<flows>", *, base_dir: Path | None = None) -> FlowFile:
    """Validate flow-file text; ``filename`` is used in error messages.

    Every problem is reported at once, in line order, one ``file:line: what`` per line; only
    a YAML syntax error stops the reading at the first one.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(err, "problem", None) or str(err)
        context, context_mark = getattr(err, "context", None), getattr(err, "context_mark", None)
        if context and context_mark is not None:
            problem += f" ({context} started on line {context_mark.line + 1})"
        raise ConfigError(f"not valid YAML: {problem}", file=filename, line=line) from err
    finally:
        loader.dispose()
    if node is None:
        raise ConfigError("the flow file is empty; it needs a 'flows:' list", file=filename)
    lines = dict(_node_lines(node, ()))
    try:
        flow_file = FlowFile.model_validate(data)
    except ValidationError as err:
        problems = [(tuple(error["loc"]), _pydantic_message(error, data)) for error in err.errors()]
        problems.extend(_check(_flows_that_validate(data, err.errors())))
        raise _all_problems(problems, lines, filename) from err
    # People files are read relative to the flow file (``base_dir``), else to the cwd.
    flow_file, problems = attach_people(flow_file, base_dir)
    problems.extend(
        _check([(i, f, list(range(len(f.properties)))) for i, f in enumerate(flow_file.flows)])
    )
    if problems:
        raise _all_problems(problems, lines, filename)
    return flow_file


# libyaml's parser when PyYAML was built with it (about ten times faster), else PyYAML's own.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _flows_that_validate(data: Any, errors: list[Any]) -> list[tuple[int, Flow | None, list[int]]]:
    """The flows of a file that failed validation, each without what failed in it (a bad
    property left out, a bad optional key back to its default), so that the cross-checks
    still run on the rest. Each comes with the file's index of every property kept; a flow
    that cannot be mended is None (what refers to it is then not checked)."""
    items = data.get("flows") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    bad: dict[int, list[tuple[Any, ...]]] = {}
    for error in errors:
        loc = tuple(error["loc"])
        if len(loc) >= 3 and loc[0] == "flows" and isinstance(loc[1], int):
            bad.setdefault(loc[1], []).append(loc[2:])
    flows: list[tuple[int, Flow | None, list[int]]] = []
    for index, item in enumerate(items):
        mended = _mended(item, bad.get(index, []))
        flows.append((index, *mended) if mended else (index, None, []))
    return flows


_REQUIRED = {name for name, field in Flow.model_fields.items() if field.is_required()}


def _mended(item: Any, bad: list[tuple[Any, ...]]) -> tuple[Flow, list[int]] | None:
    if not isinstance(item, dict):
        return None
    item = dict(item)
    properties = item.get("properties")
    dropped: set[int] = set()
    for loc in bad:
        if loc[0] == "properties" and len(loc) >= 2 and isinstance(loc[1], int):
            dropped.add(loc[1])
        elif isinstance(loc[0], str) and loc[0] not in _REQUIRED:  # unknown or has a default
            item.pop(loc[0], None)
        else:
            return None
    kept: list[int] = []
    if isinstance(properties, list):
        kept = [j for j in range(len(properties)) if j not in dropped]
        item["properties"] = [properties[j] for j in kept]
    try:
        return Flow.model_validate(item), kept
    except ValidationError:
        return None


def _all_problems(
    problems: list[tuple[Path_, str]], lines: dict[Path_, int], filename: str
) -> ConfigError:
    """One error naming every problem, in line order, each as ``file:line: what``."""
    # In line order; on one line, in the order found (pydantic's is the models' field order).
    found = dict.fromkeys((_line_for(lines, loc) or 0, message) for loc, message in problems)
    placed = sorted(found, key=lambda problem: problem[0])
    first_line, first = placed[0]
    rest = [f"{filename}:{line}: {message}" if line else message for line, message in placed[1:]]
    return ConfigError("\n".join([first, *rest]), file=filename, line=first_line or None)


def _node_lines(node: yaml.Node, path: Path_) -> Iterator[tuple[Path_, int]]:
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value
            yield (*path, name), key.start_mark.line + 1
            yield from ((p, n) for p, n in _node_lines(value, (*path, name)) if p != (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _node_lines(item, (*path, index))


def _line_for(lines: dict[Path_, int], loc: Path_) -> int | None:
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())


def _pydantic_message(error: Mapping[str, Any], data: Any) -> str:
    loc = [part for part in error["loc"] if isinstance(part, str | int)]
    where = _describe(loc, data)
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = _suggest(str(loc[-1]), allowed)
        return f"{where}: unknown key '{loc[-1]}'{hint}; allowed: {', '.join(allowed)}"
    if error["type"] == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{where}: {error['input']!r} is not allowed; use one of {expected}"
    if error["type"] == "missing":
        return f"{where}: '{loc[-1]}' is required"
    return f"{where}: {error['msg']}"


def _allowed_keys(loc: list[str | int]) -> list[str]:
    names = [p for p in loc if isinstance(p, str)]
    model: Any = FlowFile
    for name in names:
        field = model.model_fields.get(name)
        if field is None:
            break
        inner = _model_of(field.annotation)
        if inner is None:
            break
        model = inner
    return list(model.model_fields)


def _model_of(annotation: Any) -> Any:
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _describe(loc: list[str | int], data: Any) -> str:
    if len(loc) >= 2 and loc[0] == "flows" and isinstance(loc[1], int):
        try:
            name = data["flows"][loc[1]].get("name")
        except (KeyError, IndexError, TypeError, AttributeError):
            name = None
        flow = f"flow '{name}'" if name else f"flow #{loc[1] + 1}"
        if len(loc) >= 4 and loc[2] == "properties" and isinstance(loc[3], int):
            return f"{flow}, property #{loc[3] + 1}"
        return flow
    return "flow file"


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check(flows: list[tuple[int, Flow | None, list[int]]]) -> Iterator[tuple[Path_, str]]:
    """Cross-checks the models cannot do alone: catalogue, references, duplicates.

    ``flows``: (index in the file, flow, the file's index of each of its properties); None
    for a flow whose own shape is wrong (already reported): what refers to it is then not
    checked.
    """
    seen_flows: dict[str, Flow] = {}
    broken_before = False
    for fi, flow, indices in flows:
        if flow is None:
            broken_before = True
            continue
        at: Path_ = ("flows", fi)
        if flow.name in seen_flows:
            yield (*at, "name"), f"flow '{flow.name}' is defined twice; flow names must be unique"
        yield from _check_flow(flow, at, seen_flows, indices, broken_before)
        seen_flows[flow.name] = flow


def _check_flow(
    flow: Flow,
    at: Path_,
    earlier: dict[str, Flow],
    indices: list[int],
    broken_before: bool = False,
) -> Iterator[tuple[Path_, str]]:
    kinds: dict[str, str] = {"custompms": flow.custompms, "trello": flow.trello}
    CATALOG = catalog()
    for side, kind in kinds.items():
        if kind not in CATALOG[side]:
            allowed = ", ".join(CATALOG[side])
            yield (
                (*at, side),
                f"flow '{flow.name}': unknown {_SIDE_NAMES[side]} kind '{kind}'"
                f"{_suggest(kind, list(CATALOG[side]))}; allowed: {allowed}",
            )
            return
    seen: dict[str, set[str]] = {"custompms": set(), "trello": set()}
    parents = 0
    for pi, prop in zip(indices, flow.properties, strict=True):
        pat: Path_ = (*at, "properties", pi)
        for side in ("custompms", "trello"):
            name = getattr(prop, side)
            offered = CATALOG[side][kinds[side]]
            if name not in offered:
                allowed = ", ".join(offered)
                yield (
                    (*pat, side),
                    f"flow '{flow.name}': unknown {_SIDE_NAMES[side]} {kinds[side]} property "
                    f"'{name}'{_suggest(name, list(offered))}; allowed: {allowed}",
                )
                continue
            if name in seen[side]:
                yield (
                    (*pat, side),
                    f"flow '{flow.name}': {_SIDE_NAMES[side]} property '{name}' is mapped twice; "
                    "map each property once",
                )
            seen[side].add(name)
            value_type, writable = offered[name]
            if value_type not in _FITS[prop.type]:
                yield (
                    (*pat, "type"),
                    f"flow '{flow.name}': {_SIDE_NAMES[side]} property '{name}' holds "
                    f"{value_type} values, which do not fit type '{prop.type}'; use one of "
                    f"{', '.join(t for t, fits in _FITS.items() if value_type in fits)}",
                )
            if not writable and prop.writes_to(side):
                other = "to_custompms" if side == "trello" else "to_trello"
                yield (
                    (*pat, "direction"),
                    f"flow '{flow.name}': {_SIDE_NAMES[side]} property '{name}' is read-only; "
                    f"set direction: {other}",
                )
        if prop.type == "set":
            yield from _check_set(
                flow,
                prop,
                pat,
                {CATALOG[s][kinds[s]].get(getattr(prop, s), ("",))[0] for s in kinds},
            )
        if prop.type == "reference" and (prop.flow in earlier or not broken_before):
            yield from _check_reference(flow, prop, pat, earlier)
        parents += prop.parent
    if parents > 1:
        yield (*at, "properties"), f"flow '{flow.name}': only one property may be 'parent: true'"
    yield from _check_flow_options(flow, at)


def _check_set(
    flow: Flow, prop: Property, pat: Path_, value_types: set[str]
) -> Iterator[tuple[Path_, str]]:
    """A set of people needs the people map; a set of links names its identifying member."""
    name = f"flow '{flow.name}': property '{prop.custompms}'"
    if "people" in value_types and prop.people is None:
        yield (
            (*pat, "people"),
            f"{name} maps people: give 'people' (Custompms email: Trello username) or "
            "'people_file' (a CSV with columns email,trello)",
        )
    if "people" not in value_types and prop.people is not None:
        yield (*pat, "people"), f"{name} holds no people: 'people' is only for assignees"
    if "links" in value_types and prop.by is None:
        yield (*pat, "by"), f"{name} is a set of links: add 'by: url' (what identifies one)"
    if "links" not in value_types and prop.by is not None:
        yield (*pat, "by"), f"{name} is a set of names: 'by' is only for sets of links"


def _check_reference(
    flow: Flow, prop: Property, pat: Path_, earlier: dict[str, Flow]
) -> Iterator[tuple[Path_, str]]:
    if prop.flow not in earlier:
        known = ", ".join(earlier) or "none yet"
        yield (
            (*pat, "flow"),
            f"flow '{flow.name}': property '{prop.custompms}' refers to flow '{prop.flow}', "
            f"which is not defined before it; flows defined before: {known}",
        )
        return
    target = earlier[prop.flow]
    if prop.via == "about_card":
        if not prop.parent:
            yield (*pat, "via"), f"flow '{flow.name}': 'via: about_card' needs 'parent: true'"
        if flow.about_card is None:
            yield (
                (*pat, "via"),
                f"flow '{flow.name}': 'via: about_card' needs an 'about_card:' section "
                "(e.g. about_card: {name: About this project})",
            )
        if target.trello != "board":
            yield (*pat, "via"), f"flow '{flow.name}': 'via: about_card' needs a flow of boards"


def _check_flow_options(flow: Flow, at: Path_) -> Iterator[tuple[Path_, str]]:
    mapped_c = {p.custompms for p in flow.properties}
    mapped_t = {p.trello for p in flow.properties}
    for mi, key in enumerate(flow.match):
        if key.custompms not in mapped_c or key.trello not in mapped_t:
            yield (
                (*at, "match", mi),
                f"flow '{flow.name}': match key {key.custompms}/{key.trello} must be a mapped "
                "property pair",
            )
    needs_archive = "archive" in (flow.on_delete.in_custompms, flow.on_delete.in_trello)
    if needs_archive and flow.archive is None:
        yield (
            (*at, "on_delete"),
            f"flow '{flow.name}': on_delete 'archive' needs an 'archive:' section naming the "
            "archive flag on each side (e.g. archive: {custompms: archived, trello: closed})",
        )
    if flow.archive is not None and (
        flow.archive.custompms not in mapped_c or flow.archive.trello not in mapped_t
    ):
        yield (
            (*at, "archive"),
            f"flow '{flow.name}': the archive flags must be mapped boolean properties",
        )
    if flow.backlink is not None and flow.backlink.property not in mapped_t:
        yield (
            (*at, "backlink", "property"),
            f"flow '{flow.name}': the backlink goes into a mapped Trello text property; "
            f"'{flow.backlink.property}' is not mapped",
        )
