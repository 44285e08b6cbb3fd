"""What an implementation says it supports: ``GET /capabilities`` (contract 1.1).

A 404 there means contract 1.0 with no optional part; anything else but a well-formed
document is a failure of the implementation.
"""

from __future__ import annotations

from dataclasses import dataclass

from pmbridge.check.results import CheckFailed

FEATURES = ("tags", "assignees", "checklist", "links", "people")
# A 1.0 server names no statuses: the checks use those of pmbridge's default flow file.
DEFAULT_STATUSES = ("todo", "in_progress", "done")


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one implementation supports.

    :param contract: the contract version it speaks ("1.0" when it has no capabilities)
    :param features: the optional parts it declares (unknown names kept, not checked)
    :param statuses: every task status it has, or None when it does not say
    """

    contract: str
    features: frozenset[str]
    statuses: tuple[str, ...] | None

    @property
    def usable_statuses(self) -> tuple[str, ...]:
        return self.statuses or DEFAULT_STATUSES


VERSION_1 = Capabilities("1.0", frozenset(), None)


def parse_capabilities(body: object) -> Capabilities:
    """The capabilities document, or ``CheckFailed`` saying what is wrong with it."""
    where = "GET /capabilities answered"
    if not isinstance(body, dict):
        raise CheckFailed(f"{where} JSON that is not an object")
    contract = body.get("contract")
    if not isinstance(contract, str) or not contract.startswith("1."):
        raise CheckFailed(f"{where} contract={contract!r}: expected a version 1.x, e.g. '1.1.0'")
    features = body.get("features")
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise CheckFailed(f"{where} features={features!r}: expected a list of names")
    statuses = body.get("statuses")
    if statuses is not None and (
        not isinstance(statuses, list)
        or not statuses
        or not all(isinstance(s, str) and s for s in statuses)
    ):
        raise CheckFailed(f"{where} statuses={statuses!r}: expected a non-empty list of names")
    return Capabilities(
        contract, frozenset(features), tuple(statuses) if statuses is not None else None
    )
