"""Between's side of each figure: the writes measured in-process, the stores they run on.

Reading commands are measured as whole ``between`` processes (see ``bench.pairs``); writes
through the engine API, as an integration would call it:

* ``SingleWriter`` — ``Homework.submit``, one transaction (and fsync) each, spread over 20
  agreed assignments as a clinic's day would be;
* ``bulk_rate`` — the generator (``bench.generate``: validation, sealing, the chain and the
  read model included, 1,000 events a transaction) building a fresh small clinic.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import date
from pathlib import Path
from uuid import UUID

from between.engine.app import Homework
from between.engine.errors import StoreError
from between.engine.storage.store import Store

ENTRY = {"minutes": 10, "tension_before": 7, "tension_after": 3}


class SingleWriter:
    """Entries submitted one by one through the engine, on a client of their own."""

    def __init__(self, app: Homework) -> None:
        self.app = app
        code = f"bench-{time.time_ns()}"
        app.register_client(code, "Bench Client", "dr.bench", actor="bench")
        self.assignments = []
        for _ in range(20):
            aid = app.propose(
                code, "relaxation", instructions="breathe", rationale="bench", stage="practice",
                difficulty=1, due="+7", expected_entries=1000, parameters={"technique": "other"},
                actor="bench",
            ).result  # fmt: skip
            app.agree(aid, actor="bench")
            self.assignments.append(UUID(aid))
        self.written = 0

    def rate(self, n: int) -> float:
        """Writes per second of ``n`` submits."""
        started = time.perf_counter()
        for _ in range(n):
            self.app.submit(self.assignments[self.written % 20], ENTRY, actor="bench")
            self.written += 1
        return n / (time.perf_counter() - started)


def open_or_none(store: Store) -> Homework | None:
    """The store, if it holds a Between clinic already."""
    if store.path is not None and not store.path.exists():
        return None
    try:
        return Homework(store, read_only=True)
    except StoreError:
        return None


def generated(store: Store, clients: int, seed: int, until: date) -> tuple[int, float]:
    """Generate a clinic into ``store``: (events written, seconds the generator took)."""
    from bench.generate import generate

    with open(os.devnull, "w") as quiet:
        started = time.perf_counter()
        result = generate(store, clients, seed=seed, until=until, out=quiet)
        seconds = time.perf_counter() - started
    if isinstance(result, tuple) and len(result) == 2:
        return result
    app = Homework(store, read_only=True)
    events = app.recorder.max_notification_id() or 0
    app.close()
    return events, seconds


class BulkRuns:
    """Fresh small clinics generated one after another (a new file or schema each run)."""

    def __init__(self, folder: Path, like: Store, clients: int, seed: int, until: date) -> None:
        self.folder, self.like = folder, like
        self.clients, self.seed, self.until = clients, seed, until
        self.made = 0

    def rate(self) -> float:
        """Events per second of one generation."""
        self.made += 1
        if self.like.path is not None:  # a file store: generate beside it
            with tempfile.TemporaryDirectory(dir=self.folder) as scratch:
                store = Store.parse(str(Path(scratch) / "bulk.db"))
                events, seconds = generated(store, self.clients, self.seed, self.until)
            return events / seconds
        schema = f"bulk_{os.getpid()}_{self.made}"
        store = Store.parse(self._address(schema))
        _postgres(self.like, f'CREATE SCHEMA "{schema}"')
        try:
            events, seconds = generated(store, self.clients, self.seed, self.until)
        finally:
            _postgres(self.like, f'DROP SCHEMA "{schema}" CASCADE')
        return events / seconds

    def _address(self, schema: str) -> str:
        s = self.like
        return f"postgresql://{s.user}@{s.host}:{s.port}/{s.dbname}?schema={schema}"


def _postgres(store: Store, statement: str) -> None:
    import psycopg

    with psycopg.connect(host=store.host, port=store.port, user=store.user,
                         dbname=store.dbname, autocommit=True) as conn:  # fmt: skip
        conn.execute(statement)


def ensure_schema(store: Store) -> None:
    """Create the PostgreSQL schema a store address names, if it is missing."""
    if store.path is None:  # a PostgreSQL store
        _postgres(store, f'CREATE SCHEMA IF NOT EXISTS "{store.schema}"')
