"""Reading the log for the export: decoded events in log order, and the first pass.

The first pass decodes every event without opening a sealed field (cheap) and keeps a few
numbers per record: where its last event is (so the second pass can write the record's
resource there and forget it), which records changed in the window, which notifications were
delivered, the step-up links and the therapists. Nothing of any resource is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from between.audit.log import raw_rows
from between.audit.log_time import LogTime
from between.audit.verify import CHECKPOINT_HEX, Checkpoint
from between.engine.errors import InvalidInput, StoreError
from between.events import catalog as t
from between.fhir_r4.records import owner_of

if TYPE_CHECKING:
    from between.audit.log_source import RecordSource

NOTHING: frozenset[str] = frozenset()  # open no sealed field
TICK = 1000  # rows between progress updates


@dataclass(frozen=True)
class Scope:
    """What to export: one client or all, and a window of the log [since, until): by the
    log's recorded time (``audit.log_time.LogTime``), ``since`` also after a checkpoint of it."""

    client: UUID | None = None
    since: datetime | Checkpoint | None = None
    until: datetime | None = None


def since_of(text: str) -> datetime | Checkpoint:
    """``--since``: a checkpoint (``between-v1:SEQ:HEX``, e.g. an earlier export's
    ``Bundle.identifier``) or a time."""
    from between.audit.auditor import moment

    if text.strip().startswith(f"{Checkpoint.PREFIX}:"):
        try:
            return Checkpoint.parse(text)
        except ValueError as e:
            raise InvalidInput("--since: %(problem)s", problem=e) from None
    return moment(text, "--since")


def events(
    app: RecordSource,
    only: frozenset[str] | None = None,
    wanted: Callable[[UUID, int], bool] | None = None,
    tick: Callable[[int], Any] | None = None,
) -> Iterator[tuple[int, int, bytes, Any]]:
    """(position, seq, chain, event) in log order; rows ``wanted`` rejects are not decoded."""
    mapper, count = app.mapper, 0
    for position, seq, chain, oid, version, topic, state in raw_rows(app):
        count += 1
        if tick is not None and count % TICK == 0:
            tick(TICK)
        aggregate = UUID(bytes=oid)
        if wanted is not None and not wanted(aggregate, position):
            continue
        try:
            event = mapper.to_domain_event(StoredEvent(aggregate, version, topic, state), only=only)
        except StoreError:
            raise
        except Exception as e:
            raise StoreError(
                "the event at position %(position)s cannot be read (%(error)s); "
                "run 'between verify'",
                position=position,
                error=type(e).__name__,
            ) from None
        yield position, seq, chain, event
    if tick is not None:
        tick(count % TICK)


@dataclass
class Index:
    """What the first pass learned: small facts per record, none of their contents."""

    last: dict[UUID, int] = field(default_factory=dict)  # record → its last position
    client_last: dict[UUID, int] = field(default_factory=dict)  # client → its records' last
    changed: set[UUID] | None = None  # records with an event in the window (None: all)
    delivered: set[UUID] = field(default_factory=set)  # notifications delivered
    steps: dict[UUID, UUID] = field(default_factory=dict)  # assignment → the one it steps from
    therapists: set[str] = field(default_factory=set)
    head: Checkpoint | None = None  # the last event read (before --until)
    head_time: datetime | None = None  # the log's recorded time there
    events: int = 0  # events of the exported records in the window
    start: int | None = 0  # the window's first position (None: nothing is in it)
    end: int | None = None  # the first position past --until (None: the log's end)

    def is_changed(self, record: UUID) -> bool:
        return self.changed is None or record in self.changed

    def before_end(self, position: int) -> bool:
        """Whether an event is in the log as exported (before ``--until``)."""
        return self.end is None or position < self.end

    def in_window(self, position: int) -> bool:
        """Whether an event is in the window (from ``--since``, before ``--until``)."""
        return self.start is not None and position >= self.start and self.before_end(position)

    def chain(self, assignment: UUID) -> tuple[UUID | None, UUID | None]:
        """The assignment it steps up from, and the first of its step-up chain."""
        previous = self.steps.get(assignment)
        first, seen = previous, {assignment}
        while first is not None and first in self.steps and first not in seen:
            seen.add(first)
            first = self.steps[first]
        return previous, first


def index(app: RecordSource, scope: Scope, tick: Callable[[int], Any] | None = None) -> Index:
    """The first pass over the log: it ends where the log's recorded time reaches
    ``--until``, so the export holds exactly a prefix of the log (its ``head``)."""
    since = scope.since
    found = Index(changed=None if since is None else set(), start=0 if since is None else None)
    clock = LogTime(app.mapper)
    for position, seq, chain, event in events(app, only=NOTHING, tick=tick):
        now = clock.see(event.timestamp)
        if scope.until is not None and now >= scope.until:
            found.end = position
            break
        found.head = Checkpoint(seq, chain.hex()[:CHECKPOINT_HEX])
        found.head_time = now
        if found.start is None and _starts(since, now, found.head):
            found.start = position
        if event.TOPIC == t.CLIENT_REGISTERED:
            found.therapists.add(event.therapist)
        client = owner_of(event)
        if client is None or (scope.client is not None and client != scope.client):
            continue
        record = event.originator_id
        found.last[record] = position
        found.client_last[client] = position
        if event.TOPIC == t.ASSIGNMENT_PROPOSED and event.steps_up_from:
            found.steps[record] = event.steps_up_from
        if event.TOPIC == t.DELIVERY_ATTEMPTED and event.outcome == "delivered":
            found.delivered.add(record)
        if found.in_window(position):
            found.events += 1
            if found.changed is not None:
                found.changed.update((record, client))
    if isinstance(since, Checkpoint) and (found.head is None or found.head.seq < since.seq):
        if found.end:
            raise InvalidInput(
                "--since %(since)s: the log before --until ends before event #%(seq)s; "
                "run 'between verify --against %(since)s'",
                since=since,
                seq=since.seq,
            )
        raise InvalidInput(
            "--since %(since)s: the log ends before event #%(seq)s; "
            "run 'between verify --against %(since)s'",
            since=since,
            seq=since.seq,
        )
    return found


def _starts(since: datetime | Checkpoint | None, now: datetime, head: Checkpoint) -> bool:
    """Whether the window begins with the event just read (``head``, at log time ``now``)."""
    if not isinstance(since, Checkpoint):
        return since is None or now >= since
    if head.seq == since.seq and head.chain != since.chain:
        raise InvalidInput(
            "--since %(since)s is not a checkpoint of this log (event #%(seq)s differs); "
            "run 'between verify --against %(since)s'",
            since=since,
            seq=since.seq,
        )
    return head.seq > since.seq
