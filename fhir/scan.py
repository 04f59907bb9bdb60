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
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from between.audit.log import raw_rows
from between.audit.verify import CHECKPOINT_HEX, Checkpoint
from between.engine.errors import StoreError
from between.events import assignments as a
from between.events import clients as c
from between.events import notifications as n
from between.fhir.records import owner_of

NOTHING = frozenset()  # open no sealed field
TICK = 1000  # rows between progress updates


@dataclass(frozen=True)
class Scope:
    """What to export: one client or all, and a window of recorded times [since, until)."""

    client: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None

    def before_until(self, event: Any) -> bool:
        return self.until is None or event.timestamp < self.until

    def in_window(self, event: Any) -> bool:
        return self.since is None or event.timestamp >= self.since


def events(
    app: Any,
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
                f"the event at position {position} cannot be read ({type(e).__name__}); "
                "run 'between verify'"
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
    head_time: datetime | None = None
    events: int = 0  # events of the exported records in the window

    def is_changed(self, record: UUID) -> bool:
        return self.changed is None or record in self.changed

    def chain(self, assignment: UUID) -> tuple[UUID | None, UUID | None]:
        """The assignment it steps up from, and the first of its step-up chain."""
        previous = self.steps.get(assignment)
        first, seen = previous, {assignment}
        while first is not None and first in self.steps and first not in seen:
            seen.add(first)
            first = self.steps[first]
        return previous, first


def index(app: Any, scope: Scope, tick: Callable[[int], Any] | None = None) -> Index:
    """The first pass over the log."""
    found = Index(changed=None if scope.since is None else set())
    for position, seq, chain, event in events(app, only=NOTHING, tick=tick):
        if not scope.before_until(event):
            continue
        found.head = Checkpoint(seq, chain.hex()[:CHECKPOINT_HEX])
        found.head_time = event.timestamp
        if isinstance(event, c.ClientRegistered):
            found.therapists.add(event.therapist)
        client = owner_of(event)
        if client is None or (scope.client is not None and client != scope.client):
            continue
        record = event.originator_id
        found.last[record] = position
        found.client_last[client] = position
        if isinstance(event, a.AssignmentProposed) and event.steps_up_from:
            found.steps[record] = event.steps_up_from
        if isinstance(event, n.DeliveryAttempted) and event.outcome == "delivered":
            found.delivered.add(record)
        if scope.in_window(event):
            found.events += 1
            if found.changed is not None:
                found.changed.update((record, client))
    return found
