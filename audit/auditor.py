"""What auditors run: filtered log export, timelines, point-in-time replay, the read-model
check and chain verification. Every function here only reads (callers open the store
read-only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from datetime import datetime
from typing import Any
from uuid import UUID

from between.audit import replay
from between.audit.export import export_records
from between.audit.fanout import workers_for
from between.audit.log import (
    entries,
    export_record,
    row_batches,
    rows_of_seq,
    stored_id_bytes,
)
from between.audit.log_source import AuditSource
from between.audit.log_time import entries_within
from between.audit.narration import narrate
from between.audit.verify import Checkpoint, Verification, verify
from between.engine.errors import InvalidInput, NotFound
from between.engine.validate import instant
from between.events.base import REGISTRY, short_name
from between.events.clients import ClientRegistered
from between.language import gettext as _

Progress = Callable[[int, str], Any]
_NO_PROGRESS: Progress = lambda total, label: nullcontext(None)  # noqa: E731


def moment(text: str, name: str = "--at") -> datetime:
    """A time given to an auditor's command, as aware UTC (see ``validate.utc_time``)."""
    return instant(name, text)


def filtered_log(
    app: AuditSource,
    *,
    client: str | None = None,
    assignment: str | None = None,
    types_: tuple[str, ...] = (),
    by_actor: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Iterator[tuple[int, dict]]:
    """Log positions in order with their export records, filtered as asked (``since`` and
    ``until`` by the log's recorded time, ``audit.log_time.LogTime``: a stretch of the log)."""
    if not (client or assignment or types_ or by_actor or since or until):
        yield from export_records(app)  # the whole log, without constructing its events
        return
    topics = None
    if types_:
        known = {short_name(cls): topic for topic, cls in REGISTRY.items()}
        unknown = [t for t in types_ if t not in known]
        if unknown:
            raise InvalidInput(
                "unknown event type %(unknown)s; known: %(known)s",
                unknown=", ".join(unknown),
                known=", ".join(sorted(known)),
            )
        topics = {known[t] for t in types_}
    start = moment(since, "--since") if since else None
    end = moment(until, "--until") if until else None
    wanted: set[UUID] | None = None
    owner = _client(app, client) if client else None
    if assignment:
        wanted = {app.resolve(assignment)}
    chosen = topics if owner is None else None
    found = (
        entries_within(app, start, end, topics=chosen)
        if start or end
        else entries(app, topics=chosen)
    )
    for entry in found:
        e = entry.event
        if owner is not None:
            if getattr(e, "client_id", None) == owner:
                wanted = (wanted or set()) | {e.originator_id}
            if e.originator_id != owner and e.originator_id not in (wanted or set()):
                continue
            if topics is not None and e.TOPIC not in topics:
                continue
        elif wanted is not None and e.originator_id not in wanted:
            continue
        if by_actor and e.actor != by_actor:
            continue
        yield entry.position, export_record(entry)


def timeline(app: AuditSource, record: str) -> list[dict]:
    """A client's or an assignment's events in plain language, oldest first."""
    ids: list[UUID]
    client = _client_or_none(app, record)
    if client is not None:
        ids = [client] + [p.originator_id for p in replay.proposals(app) if p.client_id == client]
    else:
        ids = [app.resolve(record)]
    events: list[Any] = [e for aggregate_id in ids for e in app.events.get(aggregate_id)]
    events.sort(key=lambda e: (e.timestamp, e.originator_version))
    return [
        {
            "time": e.timestamp.isoformat(),
            "actor": e.actor,
            "type": short_name(e),
            "aggregate": str(e.originator_id),
            "text": narrate(e),
        }
        for e in events
    ]


def _client(app: AuditSource, record: str) -> UUID:
    """A client's id from a code or an id (the only handle left once a client is erased)."""
    found = _client_or_none(app, record)
    if found is None:
        raise NotFound(
            "no client %(record)s; give a client code or, once erased, its id",
            record=repr(record),
        )
    return found


def _client_or_none(app: AuditSource, record: str) -> UUID | None:
    """A client id from a code (via the read model) or from the id itself."""
    try:
        candidate = UUID(record)
    except ValueError:
        try:
            return app.client_id(record)
        except InvalidInput:
            return None
    first = list(app.events.get(candidate, limit=1))
    return candidate if first and isinstance(first[0], ClientRegistered) else None


def rows_at(
    app: AuditSource, at: datetime, client: str | None, progress: Progress = _NO_PROGRESS
) -> Iterator[dict]:
    """Assignments as they stood at ``at``; ``client`` as ``log --client`` takes it. The whole
    log is read either way, so ``progress`` follows it by position."""
    owner = _client(app, client) if client else None  # refused now, before any output

    def rows() -> Iterator[dict]:
        head = app.recorder.max_notification_id() or 0
        with progress(head, _("replaying")) as bar:
            yield from replay.rows_at(app, at, owner, bar and bar.update)
            if bar is not None:
                bar.update(head - bar.pos)  # the log after the last proposal: read too

    return rows()


def assignment_at(app: AuditSource, ref: str, at: datetime) -> dict:
    detail = replay.assignment_at(app, app.resolve(ref), at)
    if detail is None:
        raise NotFound(
            "assignment %(ref)s had not been proposed at %(at)s", ref=ref, at=at.isoformat()
        )
    return detail


def check(app: AuditSource, progress: Progress = _NO_PROGRESS) -> list[str]:
    """The read models against the log (see ``replay.check_read_model``), on as many
    processes as ``audit.fanout`` chooses for its length."""
    head = app.recorder.max_notification_id() or 0
    with progress(head, _("checking")) as bar:
        return replay.check_read_model(app, bar and bar.update, workers_for(head))


def verify_log(
    app: AuditSource, against: str | None, progress: Progress = _NO_PROGRESS
) -> Verification:
    """Verify the whole chain (and that it extends ``against``, a checkpoint digest)."""
    try:
        checkpoint = Checkpoint.parse(against) if against else None
    except ValueError as e:  # its words, or Python's for digits that are not hexadecimal
        raise InvalidInput(e.args[0]) from None
    total = app.recorder.max_notification_id() or 0
    with progress(total, _("verifying")) as bar:
        rows = row_batches(app, after=None)  # every row, on the log or not
        batches = rows if bar is None else _tracked(rows, bar)
        return verify(batches, lambda seq: rows_of_seq(app, seq), checkpoint, stored_id_bytes(app))


def _tracked(batches: Iterator[list[tuple]], bar: Any) -> Iterator[list[tuple]]:
    for rows in batches:
        yield rows
        bar.update(len(rows))
