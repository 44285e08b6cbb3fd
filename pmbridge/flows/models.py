"""The flow file as typed data: flows, their property mappings and policies.

Parsing and checking against the systems' catalogue happen in ``pmbridge.flows.loader``;
these models only describe the shapes and the rules that need no outside knowledge.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PropertyType = Literal[
    "string",
    "text",
    "markdown",
    "url",
    "boolean",
    "number",
    "datetime",
    "date",
    "enum",
    "reference",
    "set",
    "items",
]
Direction = Literal["both", "to_trello", "to_custompms"]
ConflictPolicy = Literal["newest_wins", "custompms_wins", "trello_wins", "manual"]
DeletePolicy = Literal["delete", "archive", "unlink"]
# Trello's label colours (reference/TRELLO_API.md, labels).
LABEL_COLORS = (
    "green",
    "yellow",
    "orange",
    "red",
    "purple",
    "blue",
    "sky",
    "lime",
    "pink",
    "black",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Property(_Strict):
    """One mapped property: a Custompms property and a Trello property that mirror each other."""

    custompms: str
    trello: str
    type: PropertyType
    direction: Direction = "both"
    values: dict[str, str] | None = Field(
        None, description="enum only: Custompms value → Trello value"
    )
    flow: str | None = Field(None, description="reference only: the flow whose links resolve it")
    via: Literal["about_card"] | None = Field(
        None, description="reference only: resolve to the parent's 'About this project' card"
    )
    parent: bool = Field(False, description="this reference places the record (its container)")
    conflict: ConflictPolicy | None = Field(None, description="overrides the flow's policy")
    by: str | None = Field(
        None, description="set of objects only: the member that identifies one (links: url)"
    )
    people: dict[str, str] | None = Field(
        None, description="set only: Custompms email → Trello username (assignees ↔ members)"
    )
    people_file: str | None = Field(
        None,
        description="set only: a CSV file (columns email,trello) adding to 'people'; "
        "relative to the flow file",
    )
    label_colors: dict[str, str] | None = Field(
        None, description="set only: the colour of a Trello label made for a tag"
    )
    checklist_name: str | None = Field(
        None, description="items only: the Trello checklist holding the items ('Checklist')"
    )

    @property
    def key(self) -> str:
        """The name under which base values and conflicts are kept."""
        return self.custompms

    def writes_to(self, side: str) -> bool:
        """Whether values flow into ``side`` through this property."""
        return self.direction == "both" or self.direction == f"to_{side}"

    @model_validator(mode="after")
    def _check_kind_specific(self) -> Property:
        if self.type == "enum" and not self.values:
            raise ValueError("an enum property needs 'values' (Custompms value: Trello value)")
        if self.type != "enum" and self.values is not None:
            raise ValueError("'values' is only for type: enum")
        if self.type == "reference" and not self.flow:
            raise ValueError("a reference property needs 'flow' (the flow whose links it uses)")
        if self.type != "reference" and (self.flow or self.via or self.parent):
            raise ValueError("'flow', 'via' and 'parent' are only for type: reference")
        set_only = {"by": self.by, "people": self.people, "people_file": self.people_file}
        set_only["label_colors"] = self.label_colors
        for name, given in set_only.items():
            if given is not None and self.type != "set":
                raise ValueError(f"'{name}' is only for type: set")
        if self.checklist_name is not None and self.type != "items":
            raise ValueError("'checklist_name' is only for type: items")
        if self.type in ("set", "items") and self.direction != "both":
            raise ValueError("sets and item lists sync both ways: leave 'direction' out")
        if self.label_colors:
            bad = sorted(c for c in self.label_colors.values() if c not in LABEL_COLORS)
            if bad:
                raise ValueError(
                    f"label colour '{bad[0]}' is not a Trello colour; use one of "
                    + ", ".join(LABEL_COLORS)
                )
        if self.values is not None:
            trello_values = list(self.values.values())
            if len(set(trello_values)) != len(trello_values):
                raise ValueError("two Custompms values map to the same Trello value")
        return self


class MatchKey(_Strict):
    """A pair of properties that identify the same object on both sides (first-run linking)."""

    custompms: str
    trello: str


class OnDelete(_Strict):
    """What a deletion on one side does to the linked object on the other."""

    in_custompms: DeletePolicy = "unlink"
    in_trello: DeletePolicy = "unlink"


class ArchiveFlags(_Strict):
    """The boolean property that means "archived" on each side."""

    custompms: str
    trello: str


class Backlink(_Strict):
    """The footer that ties a Trello object to its Custompms record (crash repair, humans)."""

    property: str
    text: str = "Custompms task {id}"
    url: str = "{custompms_url}/tasks/{id}"


class AboutCard(_Strict):
    """The card that carries a project's comments on its board."""

    name: str = "About this project"


class Flow(_Strict):
    """One dataflow: a Custompms kind paired with a Trello kind."""

    name: str
    title: str | None = None
    custompms: str
    trello: str
    match: list[MatchKey] = Field(default_factory=list)
    conflict: ConflictPolicy = "newest_wins"
    on_delete: OnDelete = OnDelete()
    archive: ArchiveFlags | None = None
    backlink: Backlink | None = None
    about_card: AboutCard | None = None
    properties: list[Property]

    @property
    def parent(self) -> Property | None:
        """The reference that places this flow's records, if any."""
        return next((p for p in self.properties if p.parent), None)

    def property(self, custompms: str) -> Property:
        return next(p for p in self.properties if p.custompms == custompms)

    def policy_for(self, prop: Property) -> ConflictPolicy:
        return prop.conflict or self.conflict


class FlowFile(_Strict):
    """The whole flow file: flows in reference order (a flow refers only to earlier ones)."""

    version: Literal[1] = 1
    flows: list[Flow]

    def get(self, name: str) -> Flow:
        return next(f for f in self.flows if f.name == name)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.flows]
