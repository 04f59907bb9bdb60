"""Queuing notifications: what each committed event calls for, and reminders by the clock.

The log is followed from the dispatcher's own tracked position (``notifications`` in the
tracking table), in small transactions: each saves a few notifications together with the
position of the last event they came from, so a crash loses at most one small transaction's
work, and repeated crashes still make progress. A notification's id is derived from its
cause, so deriving it again finds it already queued.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import IntegrityError, Tracking

from between.engine.aggregates.assignments import Assignment
from between.engine.aggregates.clients import Client
from between.engine.aggregates.notifications import Notification
from between.engine.work.requests import IMPORTED
from between.events import catalog as t
from between.notify.recipients import Recipients

if TYPE_CHECKING:
    from between.engine.app import Homework
    from between.engine.reading.clock_zones import Days
    from between.engine.work.envelope import Envelope

TRACKING = "notifications"
NAMESPACE = uuid5(NAMESPACE_URL, "https://between.invalid/notification")
#: Notifications saved per transaction (with the tracked position, when following the log).
CHUNK = 20

#: Who hears of which event, by topic: (kind of message, role).
HEARS: dict[str, list[tuple[str, str]]] = {
    t.ASSIGNMENT_AGREED: [("agreed", "client"), ("agreed", "collaborator")],
    t.ASSIGNMENT_REVIEWED: [("reviewed", "client")],
    t.ENTRY_SUBMITTED: [("entry", "therapist")],
    t.ASSIGNMENT_DECLINED: [("declined", "therapist")],
    t.CLIENT_NOTE_SENT: [("client-note", "therapist")],
}
TOPICS = frozenset(HEARS)
#: The events nobody hears of, each on purpose (a reminder's cause is a due date, not an
#: event): a new topic must be added to ``HEARS`` or here (``tests/test_event_catalog.py``).
SILENT = frozenset(
    {
        t.ASSIGNMENT_PROPOSED,
        t.ASSIGNMENT_ADJUSTED,
        t.ASSIGNMENT_CANCELLED,
        t.ASSIGNMENT_CLOSED,
        t.CLIENT_REGISTERED,
        t.COLLABORATOR_ADDED,
        t.CONTACT_DETAILS_CHANGED,
        t.CLIENT_DISCHARGED,
        t.CONSENT_RECORDED,
        t.CLIENT_ERASED,
        t.LINK_ISSUED,
        t.LINK_REVOKED,
        t.NOTIFICATION_QUEUED,
        t.DELIVERY_ATTEMPTED,
        t.DELIVERY_RETRY_REQUESTED,
        t.DELIVERY_HELD,
        t.NOTIFICATION_CANCELLED,
        t.NOTIFICATION_DEFERRED,
        t.CLIENT_PREFERENCES_SET,
        t.OPERATORS_LIST_STARTED,
        t.OPERATOR_ADDED,
        t.OPERATOR_REMOVED,
        t.OPERATORS_REQUIRED,
    }
)


A = TypeVar("A")


class Work(Protocol):
    """What queuing needs of a unit of work (the dispatcher's renews its lease as it writes)."""

    def load(self, cls: type[A], aggregate_id: UUID) -> A | None: ...
    def write(self, *aggregates: Any, **kwargs: Any) -> Any: ...
    def save(self, *aggregates: Any) -> Any: ...
    def for_dispatcher(self, actor: str) -> Envelope: ...


class Queuer:
    """Derives and saves the notifications of one store."""

    def __init__(self, app: Homework, recipients: Recipients, actor: str, lead: timedelta) -> None:
        self.app = app
        self.work: Work = app.work
        self.recipients = recipients
        self.actor = actor
        self.lead = lead

    def follow_log(self, batch: int = 200) -> int:
        """Queue what each new event calls for; returns how many were queued."""
        recorder, queued = self.app.recorder, 0
        while True:
            position = recorder.max_tracking_id(TRACKING) or 0
            found = recorder.select_notifications(
                start=position, limit=batch, inclusive_of_start=False
            )
            if not found:
                return queued
            fresh: list[Notification] = []
            for stored in found:
                if stored.topic in TOPICS:  # decode only the events anyone hears of
                    fresh += self._derive(self.app.mapper.to_domain_event(stored))
                if len(fresh) >= CHUNK or stored is found[-1]:
                    saved = self._save_with_position(fresh, stored.id)
                    if saved is None:
                        break  # another writer moved the position: read it again
                    queued, fresh = queued + saved, []

    def _save_with_position(self, fresh: list[Notification], position: int) -> int | None:
        """The notifications and the new position, in one transaction (None: moved meanwhile)."""
        try:
            self.work.write(*fresh, tracking=Tracking(TRACKING, position))
        except IntegrityError:
            return None
        return len(fresh)

    def _derive(self, event: Any) -> list[Notification]:
        kinds = HEARS.get(event.TOPIC)
        if not kinds or (event.request_key or "").startswith(IMPORTED):
            return []  # an imported record is history: nobody hears of it now
        assignment = self.work.load(Assignment, event.originator_id)
        client = self.work.load(Client, assignment.client_id) if assignment else None
        if assignment is None or client is None or client.row["status"] == "erased":
            return []
        cause = f"{event.originator_id.hex[:8]}@v{event.originator_version}"
        return [
            n
            for kind, role in kinds
            for n in self.queue(client, assignment, kind, role, cause, event.timestamp)
        ]

    def remind(self) -> int:
        """Queue due-soon and overdue reminders (once per assignment and due date), by the
        client's own calendar (their zone: ``engine.reading.clock_zones``)."""
        days: Days = self.app.days()
        latest = days.now.astimezone(UTC).date() + timedelta(days=1)  # the furthest zone ahead
        self.app.refresh()
        with self.app.reading() as c:
            rows = self.app.readmodel.assignments(
                c,
                statuses=("agreed",),
                due_before=(latest + self.lead + timedelta(days=1)).isoformat(),
            )
        fresh: list[Notification] = []
        saved = 0
        for row in rows:
            if row["entries"] >= row["expected_entries"]:
                continue
            assignment = self.work.load(Assignment, UUID(row["id"]))
            client = self.work.load(Client, assignment.client_id) if assignment else None
            if assignment is None or client is None or client.row["status"] != "active":
                continue
            today = days.of(client.row.get("timezone"))
            due = date.fromisoformat(row["due"])
            if due > today + self.lead:
                continue  # not yet due soon where the client is
            overdue = due < today
            wanted = (
                [("overdue", "client"), ("overdue", "therapist")]
                if overdue
                else [("due-soon", "client"), ("due-soon", "collaborator")]
            )
            cause = f"due {row['due']}"
            for kind, role in wanted:
                fresh += self.queue(client, assignment, kind, role, cause)
            if len(fresh) >= CHUNK:
                saved, fresh = saved + self._save(fresh), []
        return saved + self._save(fresh)

    def _save(self, notifications: list[Notification]) -> int:
        if not notifications:
            return 0
        try:
            self.work.save(*notifications)
            return len(notifications)
        except IntegrityError:  # one was queued meanwhile: save the others one by one
            saved = 0
            for n in notifications:
                try:
                    self.work.save(n)
                    saved += 1
                except IntegrityError:
                    pass
            return saved

    def queue(
        self,
        client: Client,
        assignment: Assignment,
        kind: str,
        role: str,
        cause: str,
        caused_at: datetime | None = None,
    ) -> list[Notification]:
        """New notifications of ``kind`` for everyone in ``role`` (none already queued),
        recorded now; ``caused_at`` is when their cause (an event) was recorded."""
        queued, envelope = [], self.work.for_dispatcher(self.actor)
        for r in self.recipients.of(client, assignment, role):
            key = uuid5(NAMESPACE, f"{assignment.id}:{cause}:{kind}:{role}:{r.person}:{r.channel}")
            if self.work.load(Notification, key) is not None:
                continue
            queued.append(
                Notification.queue(
                    key,
                    envelope,
                    client_id=client.id,
                    assignment_id=assignment.id,
                    kind=kind,
                    role=role,
                    person=r.person,
                    channel=r.channel,
                    address=r.address,
                    cause=cause,
                    caused_at=caused_at,
                )
            )
        return queued
