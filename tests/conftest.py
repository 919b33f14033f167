"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from stiva.config import Settings
from tests.support import databases
from tests.support.registry import InProcessRegistry, in_process_registry

pytest_plugins = ["tests.support.s3"]  # the `s3_server` fixture (moto on loopback)

# Property tests judge results, not speed: no per-example deadline (a loaded CI machine must not
# fail them), and no example database written into the working tree.
hypothesis_settings.register_profile("stiva", deadline=None, database=None)
hypothesis_settings.load_profile("stiva")


def pytest_report_header() -> str:
    server = databases.server_url()
    return f"metadata backend: {'PostgreSQL ' + server if server else 'SQLite'}"


@pytest.fixture(scope="session", autouse=True)
def _metadata_backend() -> Iterator[None]:
    """Under STIVA_TEST_DATABASE=postgresql, give every data directory a PostgreSQL database."""
    server = databases.server_url()
    if server is None:
        yield
        return
    active = databases.PostgresDatabases(server)
    active.start()
    databases.ACTIVE = active

    def database_url(settings: Settings) -> str:
        return settings.database.url or active.url_for(settings.data_dir)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Settings, "database_url", property(database_url))
        try:
            yield
        finally:
            databases.ACTIVE = None
            active.stop()


def _drop_new_databases() -> Iterator[None]:
    active = databases.ACTIVE
    if active is None:
        yield
        return
    mark = active.mark()
    yield
    active.release_since(mark)


@pytest.fixture(scope="module", autouse=True)
def _module_databases(_metadata_backend: None) -> Iterator[None]:
    yield from _drop_new_databases()


@pytest.fixture(autouse=True)
def _test_databases(_module_databases: None) -> Iterator[None]:
    yield from _drop_new_databases()


def pytest_configure(config: pytest.Config) -> None:
    if databases.server_url() is not None:
        # Contexts some tests build and never dispose keep pooled connections to databases the
        # harness drops after each test; psycopg warns when the collector finds them.
        config.addinivalue_line(
            "filterwarnings", "ignore:.*was deleted while still open:ResourceWarning"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if databases.server_url() is None:
        return
    skip = pytest.mark.skip(reason="about SQLite, the embedded default: not run on PostgreSQL")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[InProcessRegistry]:
    """A fresh Stiva (SQLite or PostgreSQL metadata, filesystem storage in tmp_path) in-process."""
    with in_process_registry(tmp_path / "data") as handle:
        yield handle
