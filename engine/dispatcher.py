"""Delivering notifications from the log, reliably.

The dispatcher follows the log from its own tracked position (``notifications`` in the
tracking table). For each committed event it derives who should hear about it and queues a
``Notification`` per person and consented channel — saved in the same transaction as the new
tracked position, so a crash never loses or doubles the derivation. Reminders (due soon,
overdue) are derived from the read model by the clock, once per assignment and due date.
Then every pending notification whose time has come is sent, and each attempt is recorded.

A notification's id is derived from its cause, and is its idempotency key: re-deriving after a
crash finds it already queued; re-sending after a crash (sent but not yet recorded) carries the
same key; a notification recorded as delivered is never sent again. Failures are retried with
exponential back-off up to ``max_attempts``, then stay visible as failed until retried by hand.

Who hears what:

=================  =====================================================
client             homework agreed, due soon, overdue, reviewed
therapist          entries submitted, homework overdue, homework declined
collaborator       homework agreed and due soon — only when the assignment
                   asks for their observations
=================  =====================================================

Clients and collaborators hear only on channels they consented to (``client consent``);
therapists on the channels listed for them in the configuration file (``[therapists."NAME"]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import IntegrityError, Tracking

from between.engine.assignments import Assignment
from between.engine.channels import PERMANENT, RETRYABLE, Delivery, Message
from between.engine.clients import Client
from between.engine.messages import default_text
from between.engine.notifications import Notification
from between.engine.settings import Settings
from between.engine.views import ERASED
from between.events import assignments as a

if TYPE_CHECKING:
    from between.engine.app import Homework

TRACKING = "notifications"
NAMESPACE = uuid5(NAMESPACE_URL, "https://between.invalid/notification")


@dataclass
class Pass:
    """What one run of the dispatcher did."""

    queued: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0


class Dispatcher:
    """Derives, queues and sends notifications for one store."""

    def __init__(self, app: Homework, settings: Settings, actor: str | None = None) -> None:
        self.app = app
        self.settings = settings
        self.actor = actor or "between-notify"
        self.work = app.work
        self.work.authorise(self.actor, "notify")  # read-only stores, unlisted actors stop here
        conf = settings.section("notify")
        self.lead = timedelta(days=int(conf.get("due_soon_days", 1)))
        self.max_attempts = int(conf.get("max_attempts", 6))
        self.backoff = float(conf.get("backoff_seconds", 60))
        self.channels = app.plugins.channels

    def run_once(self) -> Pass:
        done = Pass()
        done.queued = self.follow_log() + self.remind()
        self.deliver(done)
        return done

    # -- deriving --------------------------------------------------------------------------

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
            fresh = [
                n for stored in found for n in self._derive(self.app.mapper.to_domain_event(stored))
            ]
            try:  # the notifications and the new position, in one transaction
                self.work.write(*fresh, tracking=Tracking(TRACKING, found[-1].id))
            except IntegrityError:
                continue  # another dispatcher got here first: read the position again
            queued += len(fresh)

    def _derive(self, event: Any) -> list[Notification]:
        kinds = {
            a.AssignmentAgreed: [("agreed", "client"), ("agreed", "collaborator")],
            a.AssignmentReviewed: [("reviewed", "client")],
            a.EntrySubmitted: [("entry", "therapist")],
            a.AssignmentDeclined: [("declined", "therapist")],
        }.get(type(event))
        if not kinds:
            return []
        assignment = self.work.load(Assignment, event.originator_id)
        client = self.work.load(Client, assignment.client_id)
        if client is None or client.row["status"] == "erased":
            return []
        cause = f"{event.originator_id.hex[:8]}@v{event.originator_version}"
        return [
            n
            for kind, role in kinds
            for n in self._queue(client, assignment, kind, role, cause, event.timestamp)
        ]

    def remind(self) -> int:
        """Queue due-soon and overdue reminders (once per assignment and due date)."""
        today: date = self.app.today()
        self.app.refresh()
        with self.app.reading() as c:
            rows = self.app.readmodel.assignments(
                c,
                statuses=("agreed",),
                due_before=(today + self.lead + timedelta(days=1)).isoformat(),
            )
        fresh: list[Notification] = []
        for row in rows:
            if row["entries"] >= row["expected_entries"]:
                continue
            overdue = date.fromisoformat(row["due"]) < today
            wanted = (
                [("overdue", "client"), ("overdue", "therapist")]
                if overdue
                else [("due-soon", "client"), ("due-soon", "collaborator")]
            )
            assignment = self.work.load(Assignment, UUID(row["id"]))
            client = self.work.load(Client, assignment.client_id)
            if client is None or client.row["status"] != "active":
                continue
            cause = f"due {row['due']}"
            for kind, role in wanted:
                fresh += self._queue(client, assignment, kind, role, cause, self.app.now())
        if fresh:
            try:
                self.work.save(*fresh)
            except IntegrityError:
                return self._save_one_by_one(fresh)
        return len(fresh)

    def _save_one_by_one(self, notifications: list[Notification]) -> int:
        saved = 0
        for n in notifications:
            try:
                self.work.save(n)
                saved += 1
            except IntegrityError:
                pass  # queued meanwhile by another dispatcher
        return saved

    def _queue(
        self,
        client: Client,
        assignment: Assignment,
        kind: str,
        role: str,
        cause: str,
        when: datetime,
    ) -> list[Notification]:
        queued = []
        for person, channel, address in self._recipients(client, assignment, role):
            key = uuid5(NAMESPACE, f"{assignment.id}:{cause}:{kind}:{role}:{person}:{channel}")
            if self.work.load(Notification, key) is not None:
                continue
            queued.append(
                Notification.queue(
                    key,
                    client_id=client.id,
                    assignment_id=assignment.id,
                    kind=kind,
                    role=role,
                    person=person,
                    channel=channel,
                    address=address,
                    cause=cause,
                    actor=self.actor,
                    request_key=None,
                    timestamp=when,
                )
            )
        return queued

    def _recipients(
        self, client: Client, assignment: Assignment, role: str
    ) -> list[tuple[str, str, str]]:
        """(person, channel, address) for everyone in ``role`` who may hear on a channel."""
        if role == "therapist":
            name = client.row["therapist"]
            conf = (self.settings.config.get("therapists") or {}).get(name) or {}
            return [
                (name, channel, self._address(channel, conf, name))
                for channel in conf.get("channels", [])
                if channel in self.channels and self._address(channel, conf, name)
            ]
        observers = assignment.observers if isinstance(assignment.observers, list) else []
        people = (
            ["client"] if role == "client" else [p for p in observers if p in client.collaborators]
        )
        found = []
        for person in people:
            contacts = client.contacts.get(person, {})
            for channel in sorted(client.consents.get(person, ())):
                address = self._address(channel, contacts, person)
                if channel in self.channels and address:
                    found.append((person, channel, address))
        return found

    def _address(self, channel: str, contacts: Any, person: str) -> str | None:
        key = getattr(self.channels.get(channel), "address_key", None)
        if key is None:
            return person
        return contacts.get(key) if isinstance(contacts, dict) else None

    # -- sending ---------------------------------------------------------------------------

    def deliver(self, done: Pass, batch: int = 500) -> None:
        now = self.app.now()
        with self.app.reading() as c:
            due = self.app.readmodel.due_notifications(c, now.isoformat(), batch)
        for notification_id in due:
            n = self.work.load(Notification, notification_id)
            if n is None or n.status != "pending":
                continue
            delivery = self._send(n)
            attempt = n.row["attempts"] + 1
            retry_at = None
            if delivery.outcome == RETRYABLE and attempt < self.max_attempts:
                retry_at = now + timedelta(seconds=self.backoff * 2 ** (attempt - 1))
            n.attempted(delivery.outcome, delivery.detail, retry_at, **self._attempt_meta())
            try:
                self.work.save(n)
            except IntegrityError:
                continue  # another dispatcher recorded this attempt first
            if delivery.outcome == "delivered":
                done.sent += 1
            elif retry_at is not None:
                done.retrying += 1
            else:
                done.failed += 1

    def _send(self, n: Notification) -> Delivery:
        channel = self.channels.get(n.row["channel"])
        if channel is None:
            return Delivery(RETRYABLE, f"channel {n.row['channel']!r} is not loaded")
        if n.address == ERASED:
            return Delivery(PERMANENT, "the client's personal data was erased")
        try:
            message = self.render(n)
            return channel.send(message, self.settings)
        except Exception as e:  # a failing plugin must not stop the others or lose the event
            return Delivery(RETRYABLE, f"channel {channel.name} raised {type(e).__name__}: {e}")

    def render(self, n: Notification) -> Message:
        assignment = self.work.load(Assignment, n.assignment_id)
        kind = self.app.plugins.task_types.get(assignment.task_type)
        title = kind.title if kind else assignment.task_type
        row = assignment.row
        info = {
            "kind": n.row["kind"],
            "role": n.row["role"],
            "channel": n.row["channel"],
            "assignment": str(assignment.id),
            "task_type": assignment.task_type,
            "title": title,
            "due": row["due"],
            "client": row["client"],
            "entries": row["entries"],
            "expected_entries": row["expected_entries"],
            "status": row["status"],
        }
        subject, text = default_text(info)
        default = Message(
            key=str(n.id),
            kind=info["kind"],
            role=info["role"],
            recipient=n.person,
            channel=info["channel"],
            address=n.address,
            subject=subject,
            text=text,
            data=info,
        )
        custom = self.app.plugins.manager.hook.between_render_message(
            notification=info, default=default
        )
        return custom or default

    def _attempt_meta(self) -> dict[str, Any]:
        return {"actor": self.actor, "request_key": None, "timestamp": self.app.now()}
