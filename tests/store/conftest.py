"""Store fixtures: ``store_url`` (an empty database per backend) and ``store`` (opened on it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from pmbridge.store import Store, open_store
from pmbridge.store.connect import parse_url
from tests.fixtures.database import BACKENDS, empty_database_url


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with empty_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def raw_engine(store_url: str) -> Iterator[Engine]:
    """A plain SQLAlchemy engine on the same database, to look under the store's API."""
    engine = create_engine(parse_url(store_url), poolclass=NullPool)
    yield engine
    engine.dispose()
