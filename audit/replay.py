"""Rebuilding state from events alone: as it stood at a moment, and as a check on the
stored read models.

Both work one aggregate at a time, so memory stays flat however long the log is: replay
reads each record's events from the primary-key index; the check reads the whole log in one
scan in the primary key's order (each record's events together), in batches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from between.audit.fanout import ordered, worker_app
from between.audit.log import events_of, record_batches
from between.audit.log_source import AuditSource, LogSource
from between.audit.log_time import first_after
from between.engine.aggregates.assignments import Assignment
from between.engine.folds.read_model import ROW_TABLES, column_values
from between.engine.folds.rows import ROW_FOLDERS, ROW_STEPS
from between.engine.reading.clock_zones import local_today
from between.engine.reading.plain import row_decoder
from between.engine.reading.views import RESTRICTED, with_timeliness
from between.engine.storage.sealing_mapper import ROW_PERSONAL
from between.events.assignments import AssignmentProposed
from between.language import N_, Word

BATCH = 1000
CHUNK = 5000  # rows of the log checked at a time
#: Told how far the work has come, in events of the log (for a progress bar).
Advance = Callable[[int], object]


def proposals(
    app: LogSource, advance: Advance | None = None, before: int | None = None
) -> Iterator[AssignmentProposed]:
    """Every assignment's first event (at a position before ``before``, if given), in log
    order (streamed in batches); ``advance`` is told how many positions of the log each batch
    covered."""
    return events_of(app, {AssignmentProposed: ROW_PERSONAL}, advance, before)


def history_until(
    app: LogSource, aggregate_id: UUID, moment: datetime | None, only: frozenset[str] | None = None
) -> list[Any]:
    """An aggregate's events recorded at or before ``moment`` by the log's recorded time
    (``audit.log_time.LogTime``; all of them if None), opening only the sealed fields named in
    ``only`` (all of them if None)."""
    before = None if moment is None else first_after(app, moment)
    return histories(app, [aggregate_id], only, before).get(aggregate_id, [])


#: Each stored topic's own row step, found once (not dispatched again per event).
_FOLDING = ROW_STEPS


def fold(events: list[Any]) -> dict | None:
    row = None
    for event in events:
        folder = _FOLDING.get(getattr(event, "TOPIC", ""))
        if folder is None:
            return None
        row = folder(event, row)
    return row


def rows_at(
    app: LogSource, moment: datetime, client_id: UUID | None = None, advance: Advance | None = None
) -> Iterator[dict]:
    """Every assignment (or one client's) as it stood at ``moment`` — the events the log's
    recorded time puts at or before it (``audit.log_time.LogTime``) — in list-row shape, in the
    order they were proposed. Their events are read ``BATCH`` assignments a query."""
    today = moment.astimezone().date()
    wanted: list[UUID] = []
    before = first_after(app, moment)

    def fold_wanted() -> Iterator[dict]:
        found = histories(app, wanted, ROW_PERSONAL, before)
        for aggregate_id in wanted:
            row = fold(found.get(aggregate_id, []))
            if row is not None:
                yield with_timeliness(row, today)
        wanted.clear()

    for proposed in proposals(app, advance, before):
        if client_id and proposed.client_id != client_id:
            continue
        wanted.append(proposed.originator_id)
        if len(wanted) >= BATCH:
            yield from fold_wanted()
    yield from fold_wanted()


def histories(
    app: LogSource,
    aggregate_ids: list[UUID],
    only: frozenset[str] | None = None,
    before: int | None = None,
) -> dict[UUID, list[Any]]:
    """Several aggregates' events (at positions before ``before``, if given), oldest first,
    from one query (one round trip)."""
    if not aggregate_ids:
        return {}
    stored_id = app.backend.stored_id
    marks = ", ".join(["?"] * len(aggregate_ids))
    position = app.dialect.position
    bound = "" if before is None else f"AND {position} < {int(before)} "
    sql = app.dialect.sql(
        "SELECT originator_id, originator_version, topic, state FROM stored_events "
        f"WHERE originator_id IN ({marks}) AND {position} > 0 {bound}"
        "ORDER BY originator_id, originator_version"
    )
    with app.reading() as cursor:
        cursor.execute(sql, [stored_id(u) for u in aggregate_ids])
        rows = cursor.fetchall()
    found: dict[UUID, list[Any]] = {}
    for row in rows:
        oid = row["originator_id"]
        aggregate_id = oid if isinstance(oid, UUID) else UUID(oid)
        version, topic, state = row["originator_version"], row["topic"], bytes(row["state"])
        stored = StoredEvent(aggregate_id, version, topic, state)
        found.setdefault(aggregate_id, []).append(app.mapper.to_domain_event(stored, only=only))
    return found


def assignment_at(app: AuditSource, assignment_id: UUID, moment: datetime) -> dict | None:
    """One assignment as it stood at ``moment`` (as ``rows_at`` takes it), in ``show`` shape
    (None if not yet proposed)."""
    before = first_after(app, moment)
    events = histories(app, [assignment_id], None, before).get(assignment_id, [])
    if not events:
        return None
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    assert isinstance(aggregate, Assignment)
    follow_ups = [
        str(p.originator_id)
        for p in proposals(app, before=before)
        if p.steps_up_from == assignment_id
    ]
    today = local_today(moment, app.client_zone(aggregate.client_id))  # the client's day
    return app.describe_assignment(aggregate, follow_ups, today=today)


def records(app: LogSource, only: frozenset[str] | None = None) -> Iterator[list[Any]]:
    """Each record's events on the log, decoded (opening only the sealed fields in ``only``),
    one record at a time, from one scan of the log in the primary key's order."""
    for rows in record_chunks(app):
        yield from _records_in(app.mapper, rows, only)


def record_chunks(app: LogSource, batch: int = CHUNK) -> Iterator[list[tuple]]:
    """The log's rows in the primary key's order, in lists of about ``batch`` rows that end
    where a record ends (each record's events in one list), from one scan."""
    carried: list[tuple] = []
    for rows in record_batches(app, batch):
        last = rows[-1][0]
        cut = len(rows)
        while cut and rows[cut - 1][0] == last:
            cut -= 1  # the last record may go on in the next batch
        if cut:
            yield carried + rows[:cut]
            carried = rows[cut:]
        else:
            carried += rows
    if carried:
        yield carried


def _records_in(mapper: Any, rows: list[tuple], only: frozenset[str] | None) -> Iterator[list]:
    events: list[Any] = []
    current = None
    decode = row_decoder(mapper, only)
    for oid, version, topic, state in rows:
        if oid != current:
            if events:
                yield events
            events, current = [], oid
            aggregate_id = oid if isinstance(oid, UUID) else UUID(oid)
        events.append(decode(aggregate_id, version, topic, state))
    if events:
        yield events


#: What checking one chunk of records found: differences, rows a table should hold, events.
Checked = tuple[list[str], dict[str, int], int]


def check_read_model(app: LogSource, advance: Advance | None = None, workers: int = 1) -> list[str]:
    """Fold every aggregate afresh and compare with the stored rows — every stored column,
    the ones queries filter and sort on as well as the row itself; list the differences.
    The log is read in one scan (``record_chunks``), each chunk checked in this process or,
    with ``workers`` > 1, in worker processes (``audit.fanout``); ``advance`` is told how
    many events each chunk held."""
    differences: list[str] = []
    head = app.recorder.max_notification_id() or 0
    with app.reading() as cur:
        tracked = app.readmodel.position(cur)
    if tracked != head:
        differences.append(
            Word(
                N_("read model is at position %(tracked)s, the log at %(head)s"),
                tracked=tracked,
                head=head,
            )
        )
    expected_counts = dict.fromkeys(dict(ROW_TABLES.values()), 0)
    chunks = record_chunks(app)
    if workers > 1:
        results: Iterator[Checked] = ordered(app, chunks, _check_in_worker, workers)
    else:
        results = (_check(app, rows) for rows in chunks)
    for found, counted, events in results:
        differences.extend(found)
        for table, n in counted.items():
            expected_counts[table] += n
        if advance is not None:
            advance(events)
    with app.reading() as cur:
        for table, expected in expected_counts.items():
            cur.execute(f"SELECT COUNT(*) AS n FROM {table}")
            stored = cur.fetchone()["n"]
            if stored != expected:
                differences.append(
                    Word(
                        N_("%(table)s: %(stored)s stored rows, %(expected)s from the log"),
                        table=table,
                        stored=stored,
                        expected=expected,
                    )
                )
    return differences


def _check_in_worker(rows: list[tuple]) -> Checked:
    return _check(worker_app(), rows)


def _check(app: LogSource, rows: list[tuple]) -> Checked:
    """One chunk of whole records: each folded, and compared with its stored row."""
    columns = dict(ROW_TABLES.values())
    counts = dict.fromkeys(columns, 0)
    differences: list[str] = []
    folded: list[tuple[str, str, dict]] = []
    for events in _records_in(app.mapper, rows, ROW_PERSONAL):
        row = fold(events)
        if row is None:
            continue
        table = ROW_TABLES[ROW_FOLDERS[events[0].TOPIC]][0]
        counts[table] += 1
        folded.append((table, events[0].originator_id.hex, row))
    for table, names in columns.items():
        wanted = {key: row for t, key, row in folded if t == table}
        if wanted:
            stored = _stored_rows(app, table, names, list(wanted))
            differences.extend(_differences(table, names, wanted, stored))
    return differences, counts, len(rows)


def _differences(
    table: str, names: tuple[str, ...], wanted: dict[str, dict], stored: dict[str, dict]
) -> Iterator[str]:
    """Each stored row against the one folded from the log, column by column (a value this
    reader cannot open — ``[restricted]`` — is not compared)."""
    for key, row in wanted.items():
        found = stored.get(key)
        if found is None:
            yield Word(
                N_("%(table)s: %(key)s is missing from the read model"), table=table, key=key[:8]
            )
            continue
        columns = tuple(name for name in names if name != "row")
        expected = dict(zip(columns, column_values(columns, row), strict=True))
        for name in names:
            if name == "row":
                kept = json.loads(found["row"])
                if kept != row:
                    fields = sorted(
                        k
                        for k in row.keys() | kept.keys()
                        if row.get(k) != kept.get(k) and row.get(k) != RESTRICTED
                    )
                    if fields:
                        yield Word(
                            N_("%(table)s: %(key)s differs in row fields %(fields)s"),
                            table=table,
                            key=key[:8],
                            fields=", ".join(fields),
                        )
            elif found[name] != expected[name] and expected[name] != RESTRICTED:
                yield Word(
                    N_(
                        "%(table)s: %(key)s differs in column %(column)s (stored %(stored)s, "
                        "from the log %(expected)s)"
                    ),
                    table=table,
                    key=key[:8],
                    column=name,
                    stored=repr(found[name]),
                    expected=repr(expected[name]),
                )


def _stored_rows(
    app: LogSource, table: str, names: tuple[str, ...], ids: list[str]
) -> dict[str, dict]:
    marks = ",".join([app.dialect.param] * len(ids))
    with app.reading() as cur:
        cur.execute(f"SELECT {', '.join(names)} FROM {table} WHERE id IN ({marks})", ids)
        return {r["id"]: {name: r[name] for name in names} for r in cur.fetchall()}
