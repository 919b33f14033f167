"""The injectable clock reaches column defaults through the unit of work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from stiva.clock import ManualClock
from stiva.metadata import models as m
from stiva.metadata.database import Database
from stiva.metadata.migrate import upgrade
from tests.support.databases import empty_database_url


def test_defaults_follow_the_database_clock(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2020, 1, 1, tzinfo=UTC))
    db = Database(empty_database_url(tmp_path), clock=clock)
    upgrade(db.engine)
    with db.write() as session:
        session.add(m.Account(id="111111111111"))
    clock.advance(timedelta(days=3))
    with db.write() as session:
        session.add(m.Account(id="222222222222"))
    with db.read() as session:
        created = dict(session.execute(select(m.Account.id, m.Account.created_at)).all())
    assert created == {
        "111111111111": datetime(2020, 1, 1, tzinfo=UTC),
        "222222222222": datetime(2020, 1, 4, tzinfo=UTC),
    }
    assert abs(m.utcnow() - datetime.now(UTC)) < timedelta(minutes=1)  # outside: the system clock
    db.dispose()
