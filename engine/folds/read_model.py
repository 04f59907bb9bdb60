"""The read model: summary rows of clients and assignments, kept in step with the log.

Rows are folded from events by ``engine.folds.rows`` and stored with a few indexed columns for
queries, and an index of personal links by the hash of their token (``rm_links``: hash,
client id, link id — no token, nothing personal), which is how a token finds its link. The
model tracks the log position it has applied. Writers call ``catch_up`` inside
their own transaction (see ``engine.storage.recorders``), so after any command the model is
current; ``rebuild`` drops it and folds the whole log again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper

from between.engine.folds.rows import (
    ERASED,
    ROW_FOLDERS,
    ROW_STEPS,
    assignment_row,
    client_row,
    notification_row,
)
from between.engine.reading.plain import row_decoder
from between.engine.reading.queries import TRACKING_NAME, Queries, hex_id
from between.engine.storage.dialect import Dialect
from between.engine.storage.sealing_mapper import ROW_PERSONAL
from between.events.catalog import CLIENT_ERASED, LINK_ISSUED

#: The index of links by their token's hash (also made when first needed: see ``_index_links``).
LINKS_TABLE = (
    "CREATE TABLE IF NOT EXISTS rm_links (token_hash TEXT PRIMARY KEY, "
    "client_id TEXT NOT NULL, link_id TEXT NOT NULL)"
)
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rm_position (name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rm_clients (id TEXT PRIMARY KEY, code TEXT UNIQUE, "
    "therapist TEXT NOT NULL, status TEXT NOT NULL, row TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rm_assignments (id TEXT PRIMARY KEY, client_id TEXT NOT NULL, "
    "client TEXT NOT NULL, task_type TEXT NOT NULL, status TEXT NOT NULL, stage TEXT NOT NULL, "
    "due TEXT NOT NULL, entries INTEGER NOT NULL, expected_entries INTEGER NOT NULL, "
    "steps_up_from TEXT, row TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rm_assignments_status_due ON rm_assignments (status, due)",
    "CREATE INDEX IF NOT EXISTS rm_assignments_client ON rm_assignments (client_id, status)",
    "CREATE INDEX IF NOT EXISTS rm_assignments_steps_up_from ON rm_assignments (steps_up_from)",
    "CREATE TABLE IF NOT EXISTS rm_notifications (id TEXT PRIMARY KEY, client_id TEXT NOT NULL, "
    "status TEXT NOT NULL, next_attempt_at TEXT, row TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rm_notifications_due ON rm_notifications (status, next_attempt_at)",
    LINKS_TABLE,
)

_NOTIFICATION_COLUMNS = ("id", "client_id", "status", "next_attempt_at", "row")
_ASSIGNMENT_COLUMNS = (
    "id",
    "client_id",
    "client",
    "task_type",
    "status",
    "stage",
    "due",
    "entries",
    "expected_entries",
    "steps_up_from",
    "row",
)
_CLIENT_COLUMNS = ("id", "code", "therapist", "status", "row")

#: ``json.dumps(row, ensure_ascii=False)``, built once.
_ROW_JSON = json.JSONEncoder(ensure_ascii=False).encode
#: Rows by row function, then id (None: not there yet).
Loaded = dict[Callable[..., dict], dict[str, dict | None]]

#: Each summary table: the row function that folds its events, and its stored columns.
ROW_TABLES: dict[Callable[..., dict], tuple[str, tuple[str, ...]]] = {
    client_row: ("rm_clients", _CLIENT_COLUMNS),
    assignment_row: ("rm_assignments", _ASSIGNMENT_COLUMNS),
    notification_row: ("rm_notifications", _NOTIFICATION_COLUMNS),
}


class ReadModel(Queries):
    """Folds new log entries into the summary tables, and answers queries from them."""

    def __init__(self, mapper: Mapper[UUID], dialect: Dialect, events_table: str) -> None:
        super().__init__(dialect)
        self.mapper = mapper
        self.events_table = events_table

    # -- maintenance ---------------------------------------------------------------------

    def create_tables(self, c: Any) -> None:
        for statement in SCHEMA:
            c.execute(statement)
        c.execute(
            self.dialect.sql(
                "INSERT INTO rm_position (name, position) VALUES (?, 0) ON CONFLICT DO NOTHING"
            ),
            (TRACKING_NAME,),
        )

    def reset(self, c: Any) -> None:
        for table, _ in ROW_TABLES.values():
            c.execute(f"DELETE FROM {table}")
        self._links_table(c)  # a store made before the index had none
        c.execute("DELETE FROM rm_links")
        c.execute(
            self.dialect.sql("UPDATE rm_position SET position = 0 WHERE name = ?"), (TRACKING_NAME,)
        )

    def position(self, c: Any, *, lock: bool = False) -> int:
        suffix = self.dialect.for_update if lock else ""
        c.execute(
            self.dialect.sql(f"SELECT position FROM rm_position WHERE name = ?{suffix}"),
            (TRACKING_NAME,),
        )
        return c.fetchone()["position"]

    def after_insert(
        self,
        c: Any,
        positions: Sequence[int],
        events: Sequence[Any] | None,
        in_step: bool,
        loaded: Loaded | None = None,
    ) -> None:
        """In a writer's transaction: fold the events just inserted.

        When the writer passes its domain events and the model had applied every event
        before them (``in_step``, read by the writer under its write lock), they are folded as
        they are (no reading back, no decoding; their rows as ``prefetch`` found them, if it
        was asked); otherwise the model catches up from the log.
        """
        if events is not None and positions and in_step:
            self._set_position(c, positions[-1])
            self._fold_events(c, [e for e in events if _topic(e) in ROW_FOLDERS], loaded)
            return
        self.catch_up(c)

    def prefetch(self, connection: Any, events: Sequence[Any]) -> Callable[[], Loaded]:
        """Send the SELECTs of the rows ``events`` fold into, and return what reads their
        answers: on PostgreSQL, in a pipeline, they travel with the write's first round trip."""
        tables = _keys(e for e in events if _topic(e) in ROW_FOLDERS)
        cursors = []
        for folder, rows in tables.items():
            if rows:
                cursor = connection.cursor()
                cursor.execute(
                    f"SELECT id, row FROM {ROW_TABLES[folder][0]} WHERE id = ANY(%s)", (list(rows),)
                )
                cursors.append((folder, cursor))

        def answers() -> Loaded:
            for folder, cursor in cursors:
                for r in cursor.fetchall():
                    tables[folder][r["id"]] = json.loads(r["row"])
            return tables

        return answers

    def catch_up(self, c: Any, batch: int = 1000, limit: int | None = None) -> int:
        """Apply every event after the tracked position (at most ``limit``); return count."""
        d = self.dialect
        start = self.position(c, lock=True)
        position, applied = start, 0
        select = d.sql(
            f"SELECT {d.position} AS position, originator_id, originator_version, topic, state "
            f"FROM {self.events_table} WHERE {d.position} > ? ORDER BY {d.position} LIMIT ?"
        )
        while limit is None or applied < limit:
            size = batch if limit is None else min(batch, limit - applied)
            c.execute(select, (position, size))
            rows = c.fetchall()
            if not rows:
                break
            self._fold(c, rows)
            position = rows[-1]["position"]
            applied += len(rows)
            if len(rows) < size:
                break
        if position != start:
            self._set_position(c, position)
        return applied

    def _set_position(self, c: Any, position: int) -> None:
        c.execute(
            self.dialect.sql("UPDATE rm_position SET position = ? WHERE name = ?"),
            (position, TRACKING_NAME),
        )

    def _fold(self, c: Any, rows: Sequence[Any]) -> None:
        events: list[Any] = []
        ids: dict[str, UUID] = {}
        decode = row_decoder(self.mapper, ROW_PERSONAL)
        for r in rows:
            topic = r["topic"]
            if topic not in ROW_FOLDERS:
                continue
            oid = r["originator_id"]
            if not isinstance(oid, UUID):
                oid = ids.get(oid) or ids.setdefault(oid, UUID(oid))
            events.append(decode(oid, r["originator_version"], topic, r["state"]))
        self._fold_events(c, events)

    def _fold_events(self, c: Any, events: Sequence[Any], loaded: Loaded | None = None) -> None:
        tables = loaded
        if tables is None:
            tables = _keys(events)
            for folder, (table, _) in ROW_TABLES.items():
                self._load(c, table, tables[folder])
        stored = {folder: dict(rows) for folder, rows in tables.items()}  # as read
        for event in events:
            topic = event.TOPIC
            rows = tables[ROW_FOLDERS[topic]]
            key = event.originator_id.hex
            rows[key] = ROW_STEPS[topic](event, rows[key])
        for folder, (table, columns) in ROW_TABLES.items():
            self._store(c, table, columns, tables[folder], stored[folder])
        links = [e for e in events if e.TOPIC == LINK_ISSUED]
        if links:
            self._index_links(c, links)
        for event in events:
            if event.TOPIC == CLIENT_ERASED:
                self._erase_from_assignments(c, event.originator_id.hex)
                self._links_table(c)
                c.execute(
                    self.dialect.sql("DELETE FROM rm_links WHERE client_id = ?"),
                    (event.originator_id.hex,),
                )

    def _links_table(self, c: Any) -> None:
        """Make ``rm_links`` on a store created before it (only then: a role that may write
        the tables but not create them still issues links)."""
        if self.dialect.name == "sqlite":
            c.execute(
                "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'rm_links'"
            )
        else:
            c.execute("SELECT 1 AS found WHERE to_regclass('rm_links') IS NOT NULL")
        if c.fetchone() is None:
            c.execute(LINKS_TABLE)

    def _index_links(self, c: Any, events: Sequence[Any]) -> None:
        """Index issued links by their token's hash (the table made first on a store that
        was created before it: link events are rare, the check cheap)."""
        self._links_table(c)
        c.executemany(
            self.dialect.sql(
                "INSERT INTO rm_links (token_hash, client_id, link_id) VALUES (?, ?, ?) "
                "ON CONFLICT (token_hash) DO NOTHING"
            ),
            [(e.token_hash, e.originator_id.hex, hex_id(e.link_id)) for e in events],
        )

    def link_by_hash(self, c: Any, token_hash: str) -> tuple[UUID, UUID] | None:
        """The client's and the link's ids of the link whose token has this hash (None for
        none, and on a store where no link was issued since the index was made)."""
        try:
            c.execute(
                self.dialect.sql("SELECT client_id, link_id FROM rm_links WHERE token_hash = ?"),
                (token_hash,),
            )
        except Exception as e:  # the driver's own "no such table" (SQLite, PostgreSQL)
            if "rm_links" in str(e) and type(e).__name__ in ("OperationalError", "UndefinedTable"):
                return None
            raise
        row = c.fetchone()
        return (UUID(row["client_id"]), UUID(row["link_id"])) if row else None

    def _erase_from_assignments(self, c: Any, client_hex: str) -> None:
        """An erased client's code no longer shows on their homework rows."""
        c.execute(
            self.dialect.sql("SELECT id, row FROM rm_assignments WHERE client_id = ?"),
            (client_hex,),
        )
        rows: dict[str, dict | None] = {
            r["id"]: {**json.loads(r["row"]), "client": ERASED} for r in c.fetchall()
        }
        self._store(c, "rm_assignments", _ASSIGNMENT_COLUMNS, rows)

    def _load(self, c: Any, table: str, rows: dict[str, dict | None]) -> None:
        ids = list(rows)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join([self.dialect.param] * len(chunk))
            c.execute(f"SELECT id, row FROM {table} WHERE id IN ({marks})", chunk)
            for r in c.fetchall():
                rows[r["id"]] = json.loads(r["row"])

    def _store(
        self,
        c: Any,
        table: str,
        columns: tuple[str, ...],
        rows: dict[str, dict | None],
        stored: dict[str, dict | None] | None = None,
    ) -> None:
        """Write ``rows`` (by id). A row ``stored`` holds (as it was read) is updated in the
        columns that changed only, so the indexes on the others are not rewritten — most
        writes change the row and a count, not what the indexes hold."""
        statements: dict[str, list[tuple[Any, ...]]] = {}
        for key, row in rows.items():
            if row is None:
                continue
            values = column_values(columns, row)
            before = stored.get(key) if stored else None
            if before is None:
                statements.setdefault(_upsert(table, columns, self.dialect.param), []).append(
                    values
                )
                continue
            changed = _changed(columns, values, row, before)
            if changed:
                update = _update(table, tuple(columns[i] for i in changed), self.dialect.param)
                statements.setdefault(update, []).append((*(values[i] for i in changed), key))
        for statement, batch in statements.items():
            if len(batch) == 1:  # a single write's row: no executemany machinery
                c.execute(statement, batch[0])
            else:
                c.executemany(statement, batch)

    def snapshot(self, c: Any) -> dict[str, dict]:
        """Every stored row by table and id (for ``replay --check``)."""
        out: dict[str, dict] = {}
        for table, _ in ROW_TABLES.values():
            c.execute(f"SELECT id, row FROM {table}")
            out[table] = {r["id"]: json.loads(r["row"]) for r in c.fetchall()}
        return out


@lru_cache(maxsize=16)
def _upsert(table: str, columns: tuple[str, ...], param: str) -> str:
    """The statement that stores rows of ``table`` (inserted, or replacing the old)."""
    marks = ",".join([param] * len(columns))
    updates = ", ".join(f"{col} = excluded.{col}" for col in columns[1:])
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}"
    )


@lru_cache(maxsize=64)
def _update(table: str, columns: tuple[str, ...], param: str) -> str:
    """The statement that changes some columns of one stored row (its id the last value)."""
    return (
        f"UPDATE {table} SET {', '.join(f'{col} = {param}' for col in columns)} WHERE id = {param}"
    )


def _changed(
    columns: tuple[str, ...], values: tuple[Any, ...], row: dict, before: dict
) -> tuple[int, ...]:
    """The places in ``columns`` whose stored value ``row`` changes from ``before``."""
    was = column_values(tuple(col for col in columns if col != "row"), before)
    changed, i = [], 0
    for place, col in enumerate(columns):
        if col == "row":
            if row != before:
                changed.append(place)
            continue
        if values[place] != was[i]:
            changed.append(place)
        i += 1
    return tuple(changed)


def _topic(event: Any) -> str | None:
    """An event's stored topic (None for an event that is not Between's own)."""
    return getattr(event, "TOPIC", None)


def _keys(events: Iterable[Any]) -> Loaded:
    """The rows (by table's row function, then id) that ``events`` fold into, not yet read."""
    tables: Loaded = {folder: {} for folder in ROW_TABLES}
    for event in events:
        tables[ROW_FOLDERS[event.TOPIC]].setdefault(event.originator_id.hex, None)
    return tables


def column_values(columns: tuple[str, ...], row: dict) -> tuple[Any, ...]:
    values: list[Any] = []
    for col in columns:
        if col == "row":
            values.append(_ROW_JSON(row))
        elif col in ("id", "client_id", "steps_up_from", "assignment_id"):
            values.append(hex_id(row[col]))
        elif col == "code" and row["status"] == "erased":
            values.append(None)  # erased clients keep no code, and free it for reuse
        else:
            values.append(row[col])
    return tuple(values)
