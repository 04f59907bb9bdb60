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
from between.audit.log_source import LogSource
from between.engine.errors import StoreError


def entries_within(
    app: LogSource,
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


def first_after(app: LogSource, moment: datetime) -> int | None:
    """The position of the first event the log's recorded time puts after ``moment``
    (``LogTime``), or None if every event on the log was recorded at or before it.

    On a store whose states are plain JSON the store compares the start of each state, where
    the timestamp is, in one scan; an encrypted or compressed store's rows are decoded here."""
    clock = LogTime(app.mapper)
    if not clock.plain:
        for rows in row_batches(app):
            for position, _, _, oid, version, topic, state in rows:
                if clock.advance(position, oid, version, topic, state) > moment:
                    return position
        return None
    d = app.dialect
    # The log's time first passes the moment at the first event whose own time does. A UTC
    # time as stored (isoformat: no fraction, or six digits, then +00:00) compares as its
    # bytes do, so the store finds that event itself; rows whose state does not start so
    # (Between writes none) are read here, in order, up to it.
    after, usual = _stamp_conditions(d, moment)
    found, odd = _first_two(
        app,
        f"SELECT MIN(CASE WHEN {after} THEN {d.position} END), "
        f"MIN(CASE WHEN NOT ({usual}) THEN {d.position} END) "
        f"FROM stored_events WHERE {d.position} > 0",
    )
    if odd is None or (found is not None and odd > found):
        return found
    sql = (
        f"SELECT {d.position}, {d.first_bytes('state', STAMP_BYTES)} FROM stored_events "
        f"WHERE {d.position} >= {int(odd)} AND NOT ({usual})"
        + (f" AND {d.position} < {int(found)}" if found is not None else "")
        + f" ORDER BY {d.position}"
    )
    for rows in scan_rows(app, sql, BATCH):
        for position, head in rows:
            stamp = _plain_stamp(bytes(head)) or _whole_stamp(app, clock, position)
            if stamp > moment:
                return position
    return found


def _stamp_conditions(d: Any, moment: datetime) -> tuple[str, str]:
    """SQL conditions on ``stored_events``: a row whose plain state starts with a UTC time
    after ``moment``, and a row whose state starts with a UTC time in either stored form."""
    skip = len(_STAMPED)
    utc = d.bytes_constant(moment.astimezone(UTC).isoformat().encode())
    starts = f"{d.first_bytes('state', skip)} = {d.bytes_constant(_STAMPED)}"
    quote, utc_zone = d.bytes_constant(b'"'), d.bytes_constant(b"+00:00")
    forms = []
    for length in (25, 32):  # 2026-03-02T09:00:00+00:00, 2026-03-02T09:00:00.123456+00:00
        text = d.bytes_at("state", skip + 1, length)
        shaped = (
            f"{d.bytes_at('state', skip + length - 5, 6)} = {utc_zone} "
            f"AND {d.bytes_at('state', skip + length + 1, 1)} = {quote}"
        )
        forms.append((shaped, text))
    either = " OR ".join(f"({shaped})" for shaped, _ in forms)
    after = " OR ".join(f"({shaped} AND {text} > {utc})" for shaped, text in forms)
    return f"{starts} AND ({after})", f"{starts} AND ({either})"


def _first_two(app: LogSource, sql: str) -> tuple[int | None, int | None]:
    """The one row of a query of two nullable positions."""
    for rows in scan_rows(app, sql, 1):
        for first, second in rows:
            return (
                None if first is None else int(first),
                None if second is None else int(second),
            )
    return None, None


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


def _whole_stamp(app: LogSource, clock: LogTime, position: int) -> datetime:
    """One row's timestamp, read from its whole stored state."""
    for rows in row_batches(app, after=position - 1, batch=1):
        _, _, _, oid, version, topic, state = rows[0]
        return clock.stamp(position, oid, version, topic, state)
    raise StoreError(
        "the event at position %(position)s is gone; run 'between verify'", position=position
    )
