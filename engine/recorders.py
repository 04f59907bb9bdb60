"""Event recorders that hash-chain every stored event, on SQLite and PostgreSQL.

They extend eventsourcing's process recorders (events + tracking) and change only how
events are inserted: inside one write transaction they read the log's head, give each new
event its position, sequence number and chain link (see ``between.engine.chain``), insert them,
and call ``after_insert(cursor, positions, domain_events)`` so that read models update in the
same transaction (from the domain events in hand, when the caller passes them) —
one commit, one fsync, and a read model that can never disagree with the log it tracks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder, SQLiteTransaction

from between.engine.chain import GENESIS, id_bytes, link

AfterInsert = Callable[[Any, Sequence[int], Sequence[Any] | None], None]


def chain_rows(
    head: tuple[int, int, bytes] | None,
    stored_events: Sequence[StoredEvent],
    positions: Sequence[int],
) -> list[tuple[Any, ...]]:
    """Rows to insert: (position, originator_id, version, topic, state, seq, chain)."""
    _, seq, prev = head if head else (0, 0, GENESIS)
    rows = []
    for position, s in zip(positions, stored_events, strict=True):
        seq += 1
        prev = link(
            prev, position, seq, id_bytes(s.originator_id), s.originator_version, s.topic, s.state
        )
        rows.append((position, s.originator_id, s.originator_version, s.topic, s.state, seq, prev))
    return rows


class _ImmediateTransaction(SQLiteTransaction):
    """A write transaction that takes SQLite's write lock up front (BEGIN IMMEDIATE)."""

    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        if not getattr(self.connection, "secure_delete", False):
            cursor.execute("PRAGMA secure_delete = ON")  # replaced bytes are zeroed, not kept
            self.connection.secure_delete = True
        cursor.execute("BEGIN IMMEDIATE")
        return cursor


class ChainedSQLiteRecorder(SQLiteProcessRecorder):
    """SQLite recorder whose rows carry ``seq`` and ``chain``; position is the rowid."""

    after_insert: AfterInsert | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Records are loaded only from rows on the log (positions from 1): a row forged
        # outside it never becomes part of a record, and 'verify' reports it.
        self.select_events_statement = (
            f"SELECT * FROM {self.events_table_name} WHERE rowid > 0 AND originator_id=? "
        )

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        assert self.events_table_name in statements[0]
        statements[0] = (
            f"CREATE TABLE IF NOT EXISTS {self.events_table_name} ("
            "originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, "
            "seq INTEGER NOT NULL, chain BLOB NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version))"
        )
        return statements

    @contextmanager
    def write(self) -> Iterator[SQLiteCursor]:
        """A write transaction holding SQLite's write lock from its first statement."""
        with (
            self.datastore.get_connection(commit=True) as conn,
            _ImmediateTransaction(conn, commit=True) as curs,
            curs,
        ):
            yield curs

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        with self.write() as c:
            return self._insert_events(c, stored_events, **kwargs)

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int]:
        table = self.events_table_name
        c.execute(f"SELECT rowid, seq, chain FROM {table} ORDER BY rowid DESC LIMIT 1")
        head = c.fetchone()
        start = head[0] + 1 if head else 1
        positions = range(start, start + len(stored_events))
        rows = chain_rows(tuple(head) if head else None, stored_events, positions)
        c.executemany(
            f"INSERT INTO {table} (rowid, originator_id, originator_version, topic, state, "
            "seq, chain) VALUES (?,?,?,?,?,?,?)",
            [(r[0], _sqlite_id(r[1]), *r[2:]) for r in rows],
        )
        tracking: Tracking | None = kwargs.get("tracking")
        if tracking is not None:
            self._insert_tracking(c, tracking)
        if self.after_insert is not None:
            self.after_insert(c, positions, kwargs.get("new_events"))
        return list(positions)


def _sqlite_id(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id
