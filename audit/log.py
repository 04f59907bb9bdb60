"""Reading the log: raw rows in position order, decoded events and the export format
(plain-language narration is ``audit.narration``).

Everything here streams in batches, so memory does not grow with the log's length.

The export format (``between log --json``) is JSON Lines, one event per line::

    {"position": 42, "time": "2026-03-02T09:00:00+00:00", "actor": "dr.lee",
     "type": "AssignmentAgreed", "aggregate": "3f2a9c1e-…", "kind": "assignment",
     "version": 3, "data": {"confidence": 7, "obstacles": "busy workdays"}}

``type`` is the event's stable name, ``version`` the aggregate's version after the event,
``data`` every other field of the event (ids as canonical UUID text, times as ISO 8601 UTC).
``export_record`` makes it from a decoded event; ``audit.export`` makes the same record for
the whole log straight from the stored rows, without constructing the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from between.audit.log_source import LogSource
from between.engine.errors import StoreError
from between.events.base import short_name
from between.events.catalog import CATALOG

BATCH = 5000
TOPIC_BATCH = 1000  # events of chosen types, decoded: a smaller page
ENVELOPE = {"originator_id", "originator_version", "timestamp", "actor", "originator_topic"}


@dataclass(frozen=True)
class Entry:
    """One decoded event with its position in the log."""

    position: int
    event: Any

    @property
    def kind(self) -> str:
        """Which kind of record the event belongs to."""
        return kind_of(self.event)


def kind_of(event: Any) -> str:
    return kind_of_class(type(event))


def kind_of_class(cls: type) -> str:
    """Which kind of record the events of this class belong to (its catalogued aggregate)."""
    return CATALOG[cls.TOPIC].aggregate  # type: ignore[attr-defined]


def events_of(
    app: LogSource,
    opened: Mapping[type, frozenset[str]],
    advance: Callable[[int], Any] | None = None,
    before: int | None = None,
) -> Iterator[Any]:
    """Events of the given classes in log order, each opening only the sealed fields named
    for its class (skipped rows are filtered out by the database, never decoded), only those
    at positions before ``before`` if given; ``advance`` is told how many positions of the log
    each batch covered."""
    by_topic = {cls.TOPIC: fields for cls, fields in opened.items()}  # type: ignore[attr-defined]
    d = app.dialect
    marks = ", ".join("?" * len(by_topic))
    bound = () if before is None else (before,)
    sql = d.sql(
        f"SELECT {d.position} AS position, originator_id, originator_version, topic, state "
        f"FROM stored_events WHERE topic IN ({marks}) AND {d.position} > ? "
        + ("" if before is None else f"AND {d.position} < ? ")
        + f"ORDER BY {d.position} LIMIT ?"
    )
    position = 0
    while True:
        with app.reading() as cur:
            cur.execute(sql, (*by_topic, position, *bound, TOPIC_BATCH))
            rows = cur.fetchall()
        for r in rows:
            oid = r["originator_id"]
            stored = StoredEvent(
                oid if isinstance(oid, UUID) else UUID(oid),
                r["originator_version"],
                r["topic"],
                bytes(r["state"]),
            )
            yield app.mapper.to_domain_event(stored, only=by_topic[r["topic"]])
        if advance is not None and rows:
            advance(rows[-1]["position"] - position)
        if len(rows) < TOPIC_BATCH:
            return
        position = rows[-1]["position"]


def row_batches(app: LogSource, after: int | None = 0, batch: int = BATCH) -> Iterator[list[tuple]]:
    """Stored rows in position order, as they are stored — (position, seq, chain, aggregate
    id, version, topic, state) — in lists of up to ``batch``, from one read snapshot.

    Only rows on the log (positions after ``after``); ``after=None`` reads every row of the
    table, including any forged outside the log (``verify`` must account for all of them).
    """
    position = app.dialect.position
    where = "" if after is None else f"WHERE {position} > {int(after)} "
    yield from scan_rows(
        app,
        f"SELECT {position}, seq, chain, originator_id, originator_version, topic, state "
        f"FROM stored_events {where}ORDER BY {position}",
        batch,
    )


def record_batches(app: LogSource, batch: int = BATCH) -> Iterator[list[tuple]]:
    """The rows on the log record by record — (aggregate id, version, topic, state), in the
    primary key's order: each record's events together, oldest first — in lists of up to
    ``batch``, from one read snapshot (one scan, however many records there are)."""
    yield from scan_rows(
        app,
        "SELECT originator_id, originator_version, topic, state FROM stored_events "
        f"WHERE {app.dialect.position} > 0 ORDER BY originator_id, originator_version",
        batch,
    )


def scan_rows(app: LogSource, sql: str, batch: int) -> Iterator[list[tuple]]:
    """The rows of one query, fetched ``batch`` at a time from one read snapshot: a
    read-only SQLite connection of its own, or a PostgreSQL server-side cursor."""
    yield from app.backend.scan(app.store, app.datastore, sql, batch)


def stored_id_bytes(app: LogSource) -> Any:
    """How a stored aggregate id becomes the bytes the chain covers, for this store."""
    return app.backend.id_bytes


def raw_rows(app: LogSource, after: int = 0) -> Iterator[tuple]:
    """Stored rows one by one, with the aggregate id as the bytes the chain covers."""
    to_bytes = stored_id_bytes(app)
    for rows in row_batches(app, after):
        for position, seq, chain, oid, version, topic, state in rows:
            try:
                row = (position, seq, bytes(chain), to_bytes(oid), version, topic, bytes(state))
            except (TypeError, ValueError):
                raise StoreError(
                    "the stored row at position %(position)s is malformed; it was altered — "
                    "run 'between verify'",
                    position=position,
                ) from None
            yield row


def rows_of_seq(app: LogSource, seq: int) -> list[tuple[int, bytes]]:
    """Position and chain value of every row claiming sequence number ``seq`` (used only at
    a break, to tell an inserted copy from the event it copies)."""
    d = app.dialect
    with app.reading() as cur:
        cur.execute(
            d.sql(
                f"SELECT {d.position} AS position, chain FROM stored_events WHERE seq = ? "
                "ORDER BY 1"
            ),
            (seq,),
        )
        return [(r["position"], bytes(r["chain"])) for r in cur.fetchall()]


def entries(app: LogSource, after: int = 0, topics: set[str] | None = None) -> Iterator[Entry]:
    """Decoded events in log order (optionally only some topics, skipped before decoding)."""
    for rows in row_batches(app, after):
        for position, _, _, oid, version, topic, state in rows:
            if topics is None or topic in topics:
                yield decoded(app.mapper, position, oid, version, topic, state)


def decoded(
    mapper: Any,
    position: int,
    oid: Any,
    version: int,
    topic: str,
    state: Any,
    only: frozenset[str] | None = None,
) -> Entry:
    """One stored row decoded by the store's mapper (opening ``only`` the sealed fields named,
    all if None), or a ``StoreError`` saying it was altered."""
    try:
        stored = StoredEvent(
            oid if isinstance(oid, UUID) else UUID(hex=oid), version, topic, bytes(state)
        )
        return Entry(position, mapper.to_domain_event(stored, only=only))
    except StoreError:
        raise
    except Exception as e:
        raise StoreError(
            "the event at position %(position)s cannot be read (%(error)s); "
            "it was altered — run 'between verify' for the whole log",
            position=position,
            error=type(e).__name__,
        ) from None


def export_record(entry: Entry) -> dict[str, Any]:
    """The stable JSON Lines shape of one event."""
    e = entry.event
    data = {k: _plain(v) for k, v in vars(e).items() if k not in ENVELOPE}
    return {
        "position": entry.position,
        "time": e.timestamp.isoformat(),
        "actor": e.actor,
        "type": short_name(e),
        "aggregate": str(e.originator_id),
        "kind": entry.kind,
        "version": e.originator_version,
        "data": data,
    }


_AS_IS = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    if type(value) in _AS_IS:
        return value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
