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

from between.audit.log import events_of, record_batches
from between.engine.assignments import Assignment
from between.engine.readmodel import ROW_TABLES, column_values
from between.engine.rows import ROW_FOLDERS
from between.engine.sealing import ROW_PERSONAL
from between.engine.views import RESTRICTED, with_timeliness
from between.events.assignments import AssignmentProposed

BATCH = 1000
#: Told how far the work has come, in events of the log (for a progress bar).
Advance = Callable[[int], object]


def proposals(app: Any, advance: Advance | None = None) -> Iterator[AssignmentProposed]:
    """Every assignment's first event, in log order (streamed in batches); ``advance`` is
    told how many positions of the log each batch covered."""
    return events_of(app, {AssignmentProposed: ROW_PERSONAL}, advance)


def history_until(
    app: Any, aggregate_id: UUID, moment: datetime | None, only: frozenset[str] | None = None
) -> list[Any]:
    """An aggregate's events recorded at or before ``moment`` (all of them if None),
    opening only the sealed fields named in ``only`` (all of them if None)."""
    stored = app.recorder.select_events(aggregate_id)
    events = [app.mapper.to_domain_event(s, only=only) for s in stored]
    if moment is None:
        return events
    return [e for e in events if e.timestamp <= moment]


#: Each event class's own row folder, found once (not through ``singledispatch`` per event).
_FOLDING = {cls: folder.dispatch(cls) for cls, folder in ROW_FOLDERS.items()}


def fold(events: list[Any]) -> dict | None:
    row = None
    for event in events:
        folder = _FOLDING.get(type(event))
        if folder is None:
            return None
        row = folder(event, row)
    return row


def rows_at(
    app: Any, moment: datetime, client_id: UUID | None = None, advance: Advance | None = None
) -> Iterator[dict]:
    """Every assignment (or one client's) as it stood at ``moment``, in list-row shape, in
    the order they were proposed. Their events are read ``BATCH`` assignments a query."""
    today = moment.astimezone().date()
    wanted: list[UUID] = []

    def fold_wanted() -> Iterator[dict]:
        found = histories(app, wanted, ROW_PERSONAL)
        for aggregate_id in wanted:
            row = fold([e for e in found.get(aggregate_id, []) if e.timestamp <= moment])
            if row is not None:
                yield with_timeliness(row, today)
        wanted.clear()

    for proposed in proposals(app, advance):
        if proposed.timestamp > moment or (client_id and proposed.client_id != client_id):
            continue
        wanted.append(proposed.originator_id)
        if len(wanted) >= BATCH:
            yield from fold_wanted()
    yield from fold_wanted()


def histories(
    app: Any, aggregate_ids: list[UUID], only: frozenset[str] | None = None
) -> dict[UUID, list[Any]]:
    """Several aggregates' events, oldest first, from one query (one round trip)."""
    if not aggregate_ids:
        return {}
    stored_id = (lambda u: u.hex) if app.store.is_sqlite else (lambda u: u)
    marks = ", ".join(["?"] * len(aggregate_ids))
    sql = app.dialect.sql(
        "SELECT originator_id, originator_version, topic, state FROM stored_events "
        f"WHERE originator_id IN ({marks}) AND {app.dialect.position} > 0 "
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


def assignment_at(app: Any, assignment_id: UUID, moment: datetime) -> dict | None:
    """One assignment as it stood at ``moment``, in ``show`` shape (None if not yet proposed)."""
    events = history_until(app, assignment_id, moment)
    if not events:
        return None
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    assert isinstance(aggregate, Assignment)
    follow_ups = [
        str(p.originator_id)
        for p in proposals(app)
        if p.steps_up_from == assignment_id and p.timestamp <= moment
    ]
    return app.describe_assignment(aggregate, follow_ups, today=moment.astimezone().date())


def records(app: Any, only: frozenset[str] | None = None) -> Iterator[list[Any]]:
    """Each record's events on the log, decoded (opening only the sealed fields in ``only``),
    one record at a time, from one scan of the log in the primary key's order."""
    mapper, events, current = app.mapper, [], None
    for rows in record_batches(app):
        for oid, version, topic, state in rows:
            if oid != current:
                if events:
                    yield events
                events, current = [], oid
                aggregate_id = oid if isinstance(oid, UUID) else UUID(oid)
            stored = StoredEvent(aggregate_id, version, topic, bytes(state))
            events.append(mapper.to_domain_event(stored, only=only))
    if events:
        yield events


def check_read_model(app: Any, advance: Advance | None = None) -> list[str]:
    """Fold every aggregate afresh and compare with the stored rows — every stored column,
    the ones queries filter and sort on as well as the row itself; list the differences.
    The log is read in one scan (``records``); ``advance`` is told how many events each
    aggregate had."""
    differences: list[str] = []
    head = app.recorder.max_notification_id() or 0
    with app.reading() as cur:
        tracked = app.readmodel.position(cur)
    if tracked != head:
        differences.append(f"read model is at position {tracked}, the log at {head}")
    columns = dict(ROW_TABLES.values())
    expected_counts = dict.fromkeys(columns, 0)
    batch: list[tuple[str, str, dict]] = []

    def compare() -> None:
        for table, names in columns.items():
            wanted = {key: row for t, key, row in batch if t == table}
            if wanted:
                stored = _stored_rows(app, table, names, list(wanted))
                differences.extend(_differences(table, names, wanted, stored))
        batch.clear()

    for events in records(app, ROW_PERSONAL):
        if advance is not None:
            advance(len(events))
        row = fold(events)
        if row is None:
            continue
        table = ROW_TABLES[ROW_FOLDERS[type(events[0])]][0]
        expected_counts[table] += 1
        batch.append((table, events[0].originator_id.hex, row))
        if len(batch) >= BATCH:
            compare()
    compare()
    with app.reading() as cur:
        for table, expected in expected_counts.items():
            cur.execute(f"SELECT COUNT(*) AS n FROM {table}")
            stored = cur.fetchone()["n"]
            if stored != expected:
                differences.append(f"{table}: {stored} stored rows, {expected} from the log")
    return differences


def _differences(
    table: str, names: tuple[str, ...], wanted: dict[str, dict], stored: dict[str, dict]
) -> Iterator[str]:
    """Each stored row against the one folded from the log, column by column (a value this
    reader cannot open — ``[restricted]`` — is not compared)."""
    for key, row in wanted.items():
        found = stored.get(key)
        if found is None:
            yield f"{table}: {key[:8]} is missing from the read model"
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
                        yield f"{table}: {key[:8]} differs in row fields {', '.join(fields)}"
            elif found[name] != expected[name] and expected[name] != RESTRICTED:
                yield (
                    f"{table}: {key[:8]} differs in column {name} "
                    f"(stored {found[name]!r}, from the log {expected[name]!r})"
                )


def _stored_rows(app: Any, table: str, names: tuple[str, ...], ids: list[str]) -> dict[str, dict]:
    marks = ",".join([app.dialect.param] * len(ids))
    with app.reading() as cur:
        cur.execute(f"SELECT {', '.join(names)} FROM {table} WHERE id IN ({marks})", ids)
        return {r["id"]: {name: r[name] for name in names} for r in cur.fetchall()}
