"""The baselines: what Between's own dependencies do on the same machine and the same store.

* whole processes: ``python -c "import click, pluggy, eventsourcing.application"`` (what any
  command must import), ``python -c "import click"`` (for ``--help``), and on PostgreSQL
  ``python -c "import click, psycopg; psycopg.connect(URL).execute('select 1')"``;
* eventsourcing's ``Application.save`` of one event (single writes) and of 1,000 events a
  transaction (bulk), on a store of the same kind;
* reading and decoding every stored event with eventsourcing's recorder and mapper, and a
  raw ``SELECT`` of every stored row.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from eventsourcing.domain import Aggregate, event

from between.engine.app import Homework
from between.engine.storage.store import Store

IMPORTS = [sys.executable, "-c", "import click, pluggy, eventsourcing.application"]
CLICK = [sys.executable, "-c", "import click"]


def postgres_connect(store: Store) -> list[str]:
    """The PostgreSQL baseline process: import click and psycopg, connect, one query."""
    url = f"postgresql://{store.user}@{store.host}:{store.port}/{store.dbname}"
    code = f"import click, psycopg; psycopg.connect({url!r}).execute('select 1')"
    return [sys.executable, "-c", code]


class Diary(Aggregate):
    """The baseline's aggregate: one small event type, as in eventsourcing's own examples."""

    @event("Noted")
    def note(self, situation: str, intensity: int, when: datetime) -> None:
        pass


class Library:
    """eventsourcing's own application, as the library ships it, on a store of the same kind
    (a new SQLite file in ``folder``, or a new schema beside Between's); ``close`` drops it."""

    def __init__(self, folder: Path, store: Store) -> None:
        from eventsourcing.application import Application

        self.store = store
        stamp = time.time_ns()
        self.file = folder / f"baseline-{stamp}.db" if store.path is not None else None
        if self.file:
            self.schema = None
            env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(self.file)}
        else:
            self.schema = f"baseline_{stamp}"
            self._sql(f'CREATE SCHEMA "{self.schema}"')
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": store.dbname,
                "POSTGRES_HOST": store.host, "POSTGRES_PORT": store.port,
                "POSTGRES_USER": store.user, "POSTGRES_PASSWORD": store.password,
                "POSTGRES_SCHEMA": self.schema,
            }  # fmt: skip
        self.app = Application(env=env)
        self.diary = Diary()
        self.app.save(self.diary)

    def single_saves(self, n: int) -> float:
        """Saves per second of one event each, each its own transaction."""
        started = time.perf_counter()
        for i in range(n):
            self.diary.note(situation="bus", intensity=i % 100, when=datetime.now(UTC))
            self.app.save(self.diary)
        return n / (time.perf_counter() - started)

    def batched_saves(self, events: int) -> float:
        """Events per second saved 1,000 a transaction (100 aggregates × 10 events)."""
        batches = max(events // 1000, 1)
        started = time.perf_counter()
        for _ in range(batches):
            diaries = [Diary() for _ in range(100)]
            for d in diaries:
                for i in range(9):
                    d.note(situation="waiting room", intensity=i * 10, when=datetime.now(UTC))
            self.app.save(*diaries)
        return batches * 1000 / (time.perf_counter() - started)

    def close(self) -> None:
        self.app.close()
        if self.schema:
            self._sql(f'DROP SCHEMA "{self.schema}" CASCADE')
        if self.file:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.file}{suffix}").unlink(missing_ok=True)

    def _sql(self, statement: str) -> None:
        import psycopg

        s = self.store
        with psycopg.connect(host=s.host, port=s.port, user=s.user, dbname=s.dbname,
                             password=s.password or None, autocommit=True) as conn:  # fmt: skip
            conn.execute(statement)


def decode_rate(app: Homework) -> float:
    """Events per second read and decoded with eventsourcing's recorder and (plain) mapper."""
    from eventsourcing.persistence import Mapper

    mapper = Mapper(app.construct_transcoder(), cipher=app.mapper.cipher)
    started, position, count = time.perf_counter(), 0, 0
    while True:
        batch = app.recorder.select_notifications(
            start=position, limit=1000, inclusive_of_start=False
        )
        if not batch:
            break
        for n in batch:
            mapper.to_domain_event(n)
        count += len(batch)
        position = batch[-1].id
    return count / (time.perf_counter() - started)


def scan_rate(store: Store) -> float:
    """Rows per second of a raw ``SELECT`` of every stored event, in order."""
    started, count = time.perf_counter(), 0
    if store.path is not None:  # a file store
        db = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
        cursor = db.execute("SELECT * FROM stored_events ORDER BY rowid")
        while rows := cursor.fetchmany(5000):
            count += len(rows)
        db.close()
    else:
        import psycopg

        s = store
        with (
            psycopg.connect(host=s.host, port=s.port, user=s.user, dbname=s.dbname) as conn,
            conn.cursor(name="scan") as cursor,
        ):
            cursor.itersize = 5000
            cursor.execute(f'SELECT * FROM "{s.schema}".stored_events ORDER BY notification_id')
            for _ in cursor:
                count += 1
    return count / (time.perf_counter() - started)
