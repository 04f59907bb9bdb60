"""Event recorders that hash-chain every stored event, on SQLite and PostgreSQL.

They extend eventsourcing's process recorders (events + tracking) and change only how
events are inserted: inside one write transaction they read the log's head, give each new
event its position, sequence number and chain link (see ``between.engine.storage.chain``),
insert them,
and call ``after_insert(cursor, positions, domain_events, in_step)`` so that read models update
in the same transaction (from the domain events in hand, when the caller passes them) —
one commit, one fsync, and a read model that can never disagree with the log it tracks.

One statement reads everything a write needs to know (``Head``): the log's last position,
sequence number and link, the read model's position (``in_step``: it has applied every stored
event) and, when the writer asks (``operators_version=``), the operator list's version — a
writer that authorised its command against a cached list learns, under the write lock, whether
the list changed meanwhile (``OperatorsChanged``: nothing is inserted).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol
from uuid import UUID
from weakref import WeakSet

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent, Tracking
from eventsourcing.sqlite import (
    SQLiteConnection,
    SQLiteCursor,
    SQLiteProcessRecorder,
    SQLiteTransaction,
)

from between.engine.aggregates.operators import OPERATORS_ID, OperatorsChanged
from between.engine.reading.queries import TRACKING_NAME
from between.engine.storage.chain import GENESIS, id_bytes, link


class AfterInsert(Protocol):
    """``after_insert(cursor, positions, domain_events, in_step)``; PostgreSQL's recorder also
    passes what the read model's ``prefetch`` loaded."""

    def __call__(
        self,
        c: Any,
        positions: Sequence[int],
        events: Sequence[Any] | None,
        in_step: bool,
        loaded: Any = None,
        /,
    ) -> None: ...


@dataclass(frozen=True)
class Head:
    """The log as a write transaction finds it."""

    position: int = 0  # of the last stored event (0: none)
    seq: int = 0
    chain: bytes = GENESIS
    model: int | None = None  # the read model's position, when one is attached
    operators: int = 0  # the operator list's version (0: no list)

    @classmethod
    def of(cls, row: Any) -> Head:
        position = row["position"]
        if position is None:
            return cls(model=row["model"], operators=row["operators"] or 0)
        chain = bytes(row["chain"])
        return cls(position, row["seq"], chain, row["model"], row["operators"] or 0)

    @property
    def in_step(self) -> bool:
        """Whether the read model has applied every stored event."""
        return self.model == self.position

    def check_operators(self, expected: int | None) -> None:
        """Refuse the write if the operator list is not the version it was checked against."""
        if expected is not None and expected != self.operators:
            raise OperatorsChanged(f"operator list v{expected} is now v{self.operators}")


@lru_cache(maxsize=32)
def head_query(
    table: str,
    position: str,
    *,
    model: bool,
    operators: bool,
    param: str,
    lock: str = "",
    more: str = "",
) -> str:
    """The one statement that reads a ``Head`` (``position``: the column of log positions;
    ``lock``: how the read model's position row is read, e.g. ``FOR UPDATE``; ``more``:
    further columns)."""
    extra = [
        f"(SELECT position FROM rm_position WHERE name = {param} {lock})" if model else "NULL",
        f"(SELECT max(originator_version) FROM {table} WHERE originator_id = {param})"
        if operators
        else "0",
    ]
    return (
        f"SELECT h.position, h.seq, h.chain, {extra[0]} AS model, {extra[1]} AS operators{more} "
        f"FROM (SELECT 1 AS one) AS one LEFT JOIN (SELECT {position} AS position, seq, chain "
        f"FROM {table} ORDER BY {position} DESC LIMIT 1) AS h ON 1 = 1"
    )


def head_parameters(model: bool, operators: bool, operators_id: Any) -> tuple[Any, ...]:
    return (*((TRACKING_NAME,) if model else ()), *((operators_id,) if operators else ()))


def chain_rows(
    head: Head | None, stored_events: Sequence[StoredEvent], positions: Sequence[int]
) -> list[tuple[Any, ...]]:
    """Rows to insert: (position, originator_id, version, topic, state, seq, chain)."""
    seq, prev = (head.seq, head.chain) if head else (0, GENESIS)
    rows = []
    for position, s in zip(positions, stored_events, strict=True):
        seq += 1
        prev = link(
            prev, position, seq, id_bytes(s.originator_id), s.originator_version, s.topic, s.state
        )
        rows.append((position, s.originator_id, s.originator_version, s.topic, s.state, seq, prev))
    return rows


#: The connections with ``PRAGMA secure_delete`` on (it holds for a connection's life).
_SECURE_DELETE: WeakSet[SQLiteConnection] = WeakSet()


class _ImmediateTransaction(SQLiteTransaction):
    """A write transaction that takes SQLite's write lock up front (BEGIN IMMEDIATE)."""

    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        if self.connection not in _SECURE_DELETE:
            cursor.execute("PRAGMA secure_delete = ON")  # replaced bytes are zeroed, not kept
            _SECURE_DELETE.add(self.connection)
        cursor.execute("BEGIN IMMEDIATE")
        return cursor


class ChainedSQLiteRecorder(SQLiteProcessRecorder):
    """SQLite recorder whose rows carry ``seq`` and ``chain``; position is the rowid.

    Writes and record loads run on a connection of each thread's own (``_connection``), not
    on the library's pool: a pool checkout costs more than a load's SELECT, and the pool's
    connections keep one prepared statement (``cached_statements=True``), so a write's few
    statements would be compiled again each time.
    """

    after_insert: AfterInsert | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._own = threading.local()
        self._opened: list[SQLiteConnection] = []  # every thread's, closed with the store
        self._lock = threading.Lock()
        closing = self.datastore.close

        def close() -> None:  # the store closes ours too (SQLite then removes its WAL files)
            with self._lock:
                while self._opened:
                    self._opened.pop().close()
            closing()

        self.datastore.close = close  # type: ignore[method-assign]
        # Records are loaded only from rows on the log (positions from 1): a row forged
        # outside it never becomes part of a record, and 'verify' reports it.
        self.select_events_statement = (
            "SELECT originator_id, originator_version, topic, state "
            f"FROM {self.events_table_name} WHERE rowid > 0 AND originator_id=? "
        )

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """eventsourcing's, as one statement: a lone SELECT reads one consistent snapshot, so
        the BEGIN and ROLLBACK the library puts around it are two statements for nothing."""
        statement = self.select_events_statement
        params: list[Any] = [_sqlite_id(originator_id)]
        if gt is not None:
            statement += "AND originator_version>? "
            params.append(gt)
        if lte is not None:
            statement += "AND originator_version<=? "
            params.append(lte)
        statement += f"ORDER BY originator_version {'DESC' if desc else 'ASC'} "
        if limit is not None:
            statement += "LIMIT ? "
            params.append(limit)
        try:
            rows = self._connection()._sqlite_conn.execute(statement, params).fetchall()
        except sqlite3.OperationalError as e:
            raise OperationalError(e) from e
        except sqlite3.Error as e:
            raise InterfaceError(e) from e
        oid = self.convert_originator_id
        return [StoredEvent(oid(r[0]), r[1], r[2], r[3]) for r in rows]

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
        with _ImmediateTransaction(self._connection(), commit=True) as curs, curs:
            yield curs

    def _connection(self) -> SQLiteConnection:
        """This thread's own connection to the store, opened as the pool opens its own."""
        own = getattr(self._own, "connection", None)
        if own is None or own.closed:
            pool = self.datastore.pool
            try:
                db = sqlite3.connect(
                    pool.db_name,
                    uri=True,
                    check_same_thread=False,
                    isolation_level=None,
                    cached_statements=64,
                    timeout=pool.lock_timeout or 5,
                )
            except sqlite3.Error as e:
                raise InterfaceError(e) from e
            db.row_factory = sqlite3.Row
            own = self._own.connection = SQLiteConnection(db, max_age=None)
            with self._lock:
                self._opened.append(own)
        return own

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        with self.write() as c:
            return self._insert_events(c, stored_events, **kwargs)

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int]:
        table = self.events_table_name
        model, expected = self.after_insert is not None, kwargs.get("operators_version")
        operators = expected is not None
        c.execute(
            head_query(table, "rowid", model=model, operators=operators, param="?"),
            head_parameters(model, operators, OPERATORS_ID.hex),
        )
        head = Head.of(c.fetchone())
        head.check_operators(expected)
        start = head.position + 1
        positions = range(start, start + len(stored_events))
        rows = chain_rows(head, stored_events, positions)
        insert = (
            f"INSERT INTO {table} (rowid, originator_id, originator_version, topic, state, "
            "seq, chain) VALUES (?,?,?,?,?,?,?)"
        )
        values = [(r[0], _sqlite_id(r[1]), *r[2:]) for r in rows]
        if len(values) == 1:  # a single write: no executemany machinery
            c.execute(insert, values[0])
        else:
            c.executemany(insert, values)
        tracking: Tracking | None = kwargs.get("tracking")
        if tracking is not None:
            self._insert_tracking(c, tracking)
        if self.after_insert is not None:
            self.after_insert(c, positions, kwargs.get("new_events"), head.in_step)
        return list(positions)


def _sqlite_id(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id
