"""Shared fixtures. System-specific fixtures live in tests/fixtures/ (one module per sandbox)."""

pytest_plugins = [
    "tests.fixtures.trello",
    "tests.fixtures.custompms",
    "tests.fixtures.database",
    "tests.fixtures.bridge",
]
