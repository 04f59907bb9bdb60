"""Reading the log: raw rows in position order, decoded events, the export format, and
plain-language narration.

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

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from between.engine.errors import StoreError
from between.events import assignments as a
from between.events import clients as c
from between.events import notifications as n
from between.events import operators as o
from between.events.base import short_name

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
    """Which kind of record the events of this class belong to."""
    if issubclass(cls, c.CLIENT_EVENTS):
        return "client"
    if issubclass(cls, o.OPERATOR_EVENTS):
        return "operators"
    if issubclass(cls, n.NOTIFICATION_EVENTS):
        return "notification"
    return "assignment"


def events_of(
    app: Any,
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


def row_batches(app: Any, after: int | None = 0, batch: int = BATCH) -> Iterator[list[tuple]]:
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


def record_batches(app: Any, batch: int = BATCH) -> Iterator[list[tuple]]:
    """The rows on the log record by record — (aggregate id, version, topic, state), in the
    primary key's order: each record's events together, oldest first — in lists of up to
    ``batch``, from one read snapshot (one scan, however many records there are)."""
    yield from scan_rows(
        app,
        "SELECT originator_id, originator_version, topic, state FROM stored_events "
        f"WHERE {app.dialect.position} > 0 ORDER BY originator_id, originator_version",
        batch,
    )


def scan_rows(app: Any, sql: str, batch: int) -> Iterator[list[tuple]]:
    """The rows of one query, fetched ``batch`` at a time from one read snapshot: a
    read-only SQLite connection of its own, or a PostgreSQL server-side cursor."""
    if app.store.is_sqlite:
        with closing(sqlite3.connect(app.store.read_only_uri(), uri=True)) as db:
            db.text_factory = _lenient_text  # a tampered text column must not stop the scan
            cursor = db.execute(sql)
            while rows := cursor.fetchmany(batch):
                yield rows
        return
    from psycopg.rows import tuple_row

    with (
        app.factory.datastore.get_connection() as conn,
        conn.transaction(),
        conn.cursor(name="between_log", row_factory=tuple_row) as cursor,
    ):
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield rows


def _lenient_text(raw: bytes) -> str:
    """Text as stored; bytes that are not UTF-8 survive as surrogates (and fail the chain)."""
    return raw.decode("utf-8", "surrogateescape")


def stored_id_bytes(app: Any) -> Any:
    """How a stored aggregate id becomes the bytes the chain covers, for this store."""
    return bytes.fromhex if app.store.is_sqlite else _uuid_bytes


def _uuid_bytes(value: UUID) -> bytes:
    return value.bytes


def raw_rows(app: Any, after: int = 0) -> Iterator[tuple]:
    """Stored rows one by one, with the aggregate id as the bytes the chain covers."""
    to_bytes = stored_id_bytes(app)
    for rows in row_batches(app, after):
        for position, seq, chain, oid, version, topic, state in rows:
            try:
                row = (position, seq, bytes(chain), to_bytes(oid), version, topic, bytes(state))
            except (TypeError, ValueError):
                raise StoreError(
                    f"the stored row at position {position} is malformed; it was altered — "
                    "run 'between verify'"
                ) from None
            yield row


def rows_of_seq(app: Any, seq: int) -> list[tuple[int, bytes]]:
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


def entries(app: Any, after: int = 0, topics: set[str] | None = None) -> Iterator[Entry]:
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
            f"the event at position {position} cannot be read ({type(e).__name__}); "
            "it was altered — run 'between verify' for the whole log"
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


def narrate(e: Any) -> str:
    """One event in plain language (for ``between history``)."""
    who = e.actor
    match e:
        case c.ClientRegistered():
            return f"{who} registered client {e.code} (therapist {e.therapist})"
        case c.CollaboratorAdded():
            return f"{who} added {e.name} ({e.relationship}) as a collaborator"
        case c.ContactDetailsChanged():
            channels = ", ".join(sorted(e.contacts)) if isinstance(e.contacts, dict) else e.contacts
            return f"{who} changed the contact details of {e.person} ({channels})"
        case c.ClientDischarged():
            return f"{who} discharged the client: {e.reason}"
        case c.ClientErased():
            return f"{who} erased the client's personal data: {e.reason}"
        case c.LinkIssued():
            whose = "the client" if e.person == "client" else e.person
            return (
                f"{who} issued a personal link {str(e.link_id)[:8]} to {whose}, working until "
                f"{e.expires.isoformat()[:16]}"
            )
        case c.LinkRevoked():
            return f"{who} revoked personal link {str(e.link_id)[:8]}: {e.reason}"
        case a.AssignmentProposed():
            step = f", stepping up from {str(e.steps_up_from)[:8]}" if e.steps_up_from else ""
            return (
                f"{who} proposed {e.task_type} homework {str(e.originator_id)[:8]} for "
                f"{e.client} ({e.stage}, difficulty {e.difficulty}, {e.expected_entries} "
                f"entries due {e.due}{step})"
            )
        case a.AssignmentAdjusted():
            changed = ", ".join(sorted(e.changes)) if isinstance(e.changes, dict) else e.changes
            return f"{who} adjusted {str(e.originator_id)[:8]} with the client: {changed}"
        case a.AssignmentAgreed():
            confidence = "" if e.confidence is None else f", confidence {e.confidence}/10"
            return (
                f"the client agreed to {str(e.originator_id)[:8]}{confidence} (recorded by {who})"
            )
        case a.AssignmentDeclined():
            return f"the client declined {str(e.originator_id)[:8]}: {e.reason} (recorded by {who})"
        case a.EntrySubmitted():
            by = "the client" if e.by == "client" else e.by
            way = {
                "portal": "via the portal",
                "api": f"via an integration ({who})",
                "import": f"(imported by {who})",
            }.get(e.via or "", f"(entered by {who})")
            return (
                f"{by} recorded an entry on {str(e.originator_id)[:8]} for "
                f"{e.occurred_at.isoformat()[:16]} {way}"
            )
        case a.AssignmentReviewed():
            return (
                f"{who} reviewed {str(e.originator_id)[:8]}: quantity {e.quantity}/4, quality "
                f"{e.quality}/4, difficulty {e.difficulty}/4, next step {e.next_step}"
            )
        case a.AssignmentCancelled():
            return f"{who} cancelled {str(e.originator_id)[:8]}: {e.reason}"
        case a.AssignmentClosed():
            return f"{who} closed {str(e.originator_id)[:8]}: {e.reason}"
        case n.NotificationQueued():
            return f"{who} queued a {e.kind} message for {e.person} ({e.role}) on {e.channel}"
        case n.DeliveryAttempted():
            return f"{who} tried to deliver message {str(e.originator_id)[:8]}: {e.outcome}"
        case n.DeliveryRetryRequested():
            return f"{who} asked for message {str(e.originator_id)[:8]} to be sent again"
        case n.DeliveryHeld():
            return f"{who} held message {str(e.originator_id)[:8]}: {e.reason}"
        case n.NotificationCancelled():
            return f"{who} cancelled message {str(e.originator_id)[:8]}: {e.reason}"
        case o.OperatorAdded():
            return f"{who} made {e.name} a {e.role}"
        case o.OperatorRemoved():
            return f"{who} removed operator {e.name}"
        case o.OperatorsRequired():
            return f"{who} {'required' if e.required else 'stopped requiring'} listed operators"
    return f"{who}: {short_name(e)}"
