from __future__ import annotations

from pathlib import Path

import pytest
from helpers import Clock, postgres_schema

from between.engine.app import Homework
from between.engine.storage.store import Store


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return str(tmp_path / "between.db")


@pytest.fixture
def pg_url():
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path: Path) -> str:
    """The same test on the embedded SQLite file and on the local PostgreSQL."""
    if request.param == "sqlite":
        yield str(tmp_path / "between.db")
    else:
        with postgres_schema() as url:
            yield url


@pytest.fixture
def app(store_url: str, clock: Clock) -> Homework:
    store = Store.parse(store_url)
    Homework.initialise(store)
    application = Homework(store, clock=clock)
    yield application
    application.close()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path: Path) -> None:
    """Tests never see the developer's own store, plugins or configuration."""
    for var in (
        "BETWEEN_STORE",
        "BETWEEN_ACTOR",
        "BETWEEN_PLUGINS_DIR",
        "BETWEEN_PLUGINS",
        "BETWEEN_WORKSHEETS_DIR",
        "BETWEEN_CONFIG",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
