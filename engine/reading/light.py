"""Reading a store without constructing the application: the light path of reading commands.

``open_reader`` gives a ``LightReader`` on one plain connection — the store's backend opens it
(``open_light``: a read-only SQLite connection, or one psycopg connection with the store's
schema on its search path, read-only, without a pool) — when the store's read model is
current; else None,
and the caller takes the full path (``Homework``), which explains a store it cannot read or
first brings its read model up to date. The reader answers what ``engine.reading.full.Reading``
answers, by the same names: the queries from the read model (``engine.reading.queries``, no event
classes), and ``show``, ``show_client`` and ``review_brief`` from the record's own events
(``engine.reading.light_records``, imported only for those; on an unencrypted store without
eventsourcing or the event classes), which read through any reader of that module's
``RecordReader`` shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from between.engine.reading import queries
from between.engine.reading.clock_zones import ClinicTime, Days, local_today
from between.engine.storage.kinds import backend_for
from between.engine.storage.store import Store


class LightReader:
    """Reading commands on one connection whose read model is current."""

    def __init__(
        self,
        store: Store,
        cursor: Any,
        meta: dict[str, str],
        master: bytes | None,
        plugins: Callable[[], Any],
        connection: Any = None,
    ) -> None:
        self.store = store
        self.cursor = cursor
        self.meta = meta
        self.master = master
        self.plugins = plugins
        self.connection = connection  # psycopg's, for the key store (None on SQLite)
        self.backend = backend_for(store)
        self.dialect = self.backend.dialect
        self.queries = queries.Queries(self.dialect)
        self.keys: Any = None  # the client keys, read on first use (engine.reading.light_records)
        self.mapper: Any = None  # the sealing mapper, made only where it is needed
        self._closing: list[Callable[[], Any]] = []

    def on_close(self, close: Callable[[], Any]) -> None:
        """Call ``close`` when the reader is done (what it opened besides its connection)."""
        self._closing.append(close)

    def close(self) -> None:
        while self._closing:
            self._closing.pop()()

    clinic: ClinicTime = ClinicTime()  # the command sets the clinic's (``[clinic]``)

    def today(self) -> date:
        """The date in the clinic's zone (the server's local date when it names none)."""
        return local_today(datetime.now(UTC), self.clinic.zone)

    def days(self) -> Days:
        """Calendar days now, in each client's zone (due dates are the client's days)."""
        return Days(datetime.now(UTC), self.clinic.zone)

    # -- from the read model -------------------------------------------------------------

    def list_assignments(self, limit: int | None = None, **options: Any) -> list[dict]:
        return queries.list_assignments(
            self.queries, self.cursor, days=self.days(), limit=limit, **options
        )

    def count_assignments(self, **options: Any) -> int:
        return queries.count_assignments(self.queries, self.cursor, days=self.days(), **options)

    def stream_assignments(self, **options: Any) -> Iterator[dict]:
        return queries.stream_assignments(self.queries, self.cursor, days=self.days(), **options)

    def agenda(self, code: str) -> dict:
        return queries.agenda(self.queries, self.cursor, code, days=self.days())

    def list_clients(self, status: str | None = None, limit: int | None = None) -> list[dict]:
        return queries.list_clients(self.queries, self.cursor, status, limit)

    def count_clients(self, status: str | None = None) -> int:
        return queries.count_clients(self.queries, self.cursor, status)

    def stream_clients(self, status: str | None = None) -> Iterator[dict]:
        return queries.stream_clients(self.queries, self.cursor, status)

    # -- from a record's own events ------------------------------------------------------

    def show(self, ref: str) -> dict:
        from between.engine.reading.light_records import show

        return show(self, ref)

    def show_client(self, code: str) -> dict:
        from between.engine.reading.light_records import show_client

        return show_client(self, code)

    def review_brief(self, ref: str) -> dict:
        from between.engine.reading.light_records import review_brief

        return review_brief(self, ref)

    def decline_reason(self, ref: str) -> str | None:
        from between.engine.reading.light_records import decline_reason

        return decline_reason(self, ref)


@contextmanager
def open_reader(
    store: Store, environ: dict[str, str], key_file: Any, plugins: Callable[[], Any]
) -> Iterator[LightReader | None]:
    """A ``LightReader`` on the store when its read model is current, else None.

    An encrypted store still needs its key (checked, as any command would). A PostgreSQL
    server that refuses the connection is said at once, as the full path would say it.
    """
    with backend_for(store).open_light(store) as found:
        if found is None:
            yield None
            return
        cursor, meta, connection = found
        master = None
        if meta.get("encrypted") == "yes":
            from between.engine.storage.keys import check_master_key, find_master_key

            master = find_master_key(meta["store_id"], environ, key_file)
            check_master_key(master, meta["key_check"])
        reader = LightReader(store, cursor, meta, master, plugins, connection)
        try:
            yield reader
        finally:
            reader.close()
