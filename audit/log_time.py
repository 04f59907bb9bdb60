"""The log's recorded time: the latest timestamp of the events up to each one, in log order.

It only moves forward, so ``--since``/``--until``/``--at`` select by it a stretch of the log
(every event exactly once across adjacent windows), even where an event's own timestamp is
earlier than one before it (docs/auditing.md, "Recorded time").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from between.audit.log import BATCH, Entry, decoded, row_batches, scan_rows
from between.engine.errors import StoreError


def entries_within(
    app: Any,
    since: datetime | None = None,
    until: datetime | None = None,
    topics: set[str] | None = None,
) -> Iterator[Entry]:
    """Decoded events the log's recorded time puts in [since, until), in log order
    (optionally only some topics, skipped before decoding)."""
    clock = LogTime(app.mapper)
    for rows in row_batches(app):
        for position, _, _, oid, version, topic, state in rows:
            at = clock.advance(position, oid, version, topic, state)
            if until is not None and at >= until:
                return  # the log's time only moves forward: nothing later is before it
            if since is not None and at < since:
                continue
            if topics is None or topic in topics:
                yield decoded(app.mapper, position, oid, version, topic, state)


#: How a plainly stored state begins: its timestamp first (``JSONTranscoder``'s encoding).
_STAMPED = b'{"timestamp":{"_type_":"datetime_iso","_data_":"'


class LogTime:
    """The log's recorded time, read in log order: the latest ``timestamp`` of the events up
    to each one. It only moves forward, so ``--since``/``--until``/``--at`` select by it a
    stretch of the log — every event exactly once across adjacent windows — even where an
    event's own timestamp is earlier than one before it: a ``NotificationQueued`` stored
    before ``caused_at`` existed carries its cause's time; writers' clocks may differ a little.
    """

    def __init__(self, mapper: Any) -> None:
        self.mapper = mapper
        self.plain = mapper.cipher is None and mapper.compressor is None
        self.now: datetime | None = None

    def see(self, timestamp: datetime) -> datetime:
        """The log's time once an event recorded at ``timestamp`` is read."""
        if self.now is None or timestamp > self.now:
            self.now = timestamp
        return self.now

    def advance(self, position: int, oid: Any, version: int, topic: str, state: Any) -> datetime:
        """The log's time at one stored row (read in log order)."""
        return self.see(self.stamp(position, oid, version, topic, state))

    def stamp(self, position: int, oid: Any, version: int, topic: str, state: Any) -> datetime:
        """One stored row's own timestamp, read without decoding the rest where it can be."""
        if self.plain and (stamp := _plain_stamp(bytes(state))) is not None:
            return stamp
        event = decoded(self.mapper, position, oid, version, topic, state, only=frozenset())
        return event.event.timestamp


#: Bytes of each stored state ``first_after`` reads: enough for a plain state's timestamp.
STAMP_BYTES = 100


def first_after(app: Any, moment: datetime) -> int | None:
    """The position of the first event the log's recorded time puts after ``moment``
    (``LogTime``), or None if every event on the log was recorded at or before it.

    On a store whose states are plain JSON it reads only the start of each state, where the
    timestamp is (a row whose start does not give it is read whole)."""
    clock = LogTime(app.mapper)
    if not clock.plain:
        for rows in row_batches(app):
            for position, _, _, oid, version, topic, state in rows:
                if clock.advance(position, oid, version, topic, state) > moment:
                    return position
        return None
    d = app.dialect
    start = d.first_bytes("state", STAMP_BYTES)
    sql = (
        f"SELECT {d.position}, {start} "
        f"FROM stored_events WHERE {d.position} > 0 ORDER BY {d.position}"
    )
    # the log's time first passes the moment at the first event whose own time does; a
    # UTC time as stored (isoformat: no fraction, or six digits) compares as its text does
    utc = moment.astimezone(UTC).isoformat().encode()
    skip = len(_STAMPED)
    for rows in scan_rows(app, sql, BATCH):
        for position, head in rows:
            raw = bytes(head)
            text = raw[skip : raw.find(b'"', skip)] if raw.startswith(_STAMPED) else b""
            if len(text) in (25, 32) and text.endswith(b"+00:00"):
                if text > utc:
                    return position
                continue
            stamp = _plain_stamp(raw) or _whole_stamp(app, clock, position)
            if stamp > moment:
                return position
    return None


def _plain_stamp(raw: bytes) -> datetime | None:
    """The timestamp at the start of a plain JSON state, if it is there."""
    if not raw.startswith(_STAMPED):
        return None
    end = raw.find(b'"', len(_STAMPED))
    if end < 0:
        return None
    try:
        stamp = datetime.fromisoformat(raw[len(_STAMPED) : end].decode())
    except ValueError:
        return None
    return stamp if stamp.tzinfo is not None else None


def _whole_stamp(app: Any, clock: LogTime, position: int) -> datetime:
    """One row's timestamp, read from its whole stored state."""
    for rows in row_batches(app, after=position - 1, batch=1):
        _, _, _, oid, version, topic, state = rows[0]
        return clock.stamp(position, oid, version, topic, state)
    raise StoreError(f"the event at position {position} is gone; run 'between verify'")
