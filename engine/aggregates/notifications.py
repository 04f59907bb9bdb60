"""The notification aggregate: one message for one person on one channel, and its attempts."""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from between.engine.errors import RuleViolation
from between.engine.folds.rows import notification_row
from between.engine.work.envelope import Envelope
from between.events import notifications as ev
from between.events.base import stable_topic
from between.events.catalog import AGGREGATE_TOPICS, NOTIFICATION

#: Statuses: pending → sent | failed (→ pending on retry) | held (→ attempted when its channel
#: is back) | cancelled (final: it may no longer be sent).
STATUSES = ("pending", "held", "sent", "failed", "cancelled")
SENDABLE = ("pending", "held")


class Notification(Aggregate):
    """Queued once (its id is derived from its cause); attempted until delivered or failed,
    held while its channel is not loaded, cancelled when it may no longer be sent."""

    @classmethod
    def queue(
        cls,
        notification_id: UUID,
        envelope: Envelope,
        *,
        client_id: UUID,
        assignment_id: UUID | None,
        kind: str,
        role: str,
        person: str,
        channel: str,
        address: str,
        cause: str,
        caused_at: datetime | None = None,
    ) -> Notification:
        """A message of ``kind`` for ``person`` (in ``role``) on ``channel``; ``cause`` names
        what called for it, ``caused_at`` when that was recorded (None for a reminder)."""
        return cls._create(
            ev.NotificationQueued,
            id=notification_id,
            client_id=client_id,
            assignment_id=assignment_id,
            kind=kind,
            role=role,
            person=person,
            channel=channel,
            address=address,
            cause=cause,
            caused_at=caused_at,
            **envelope,
        )

    def attempted(
        self, outcome: str, detail: str, next_attempt_at: datetime | None, envelope: Envelope
    ) -> None:
        self._require("attempted", SENDABLE)
        self.trigger_event(
            ev.DeliveryAttempted,
            client_id=self.client_id,
            attempt=self.row["attempts"] + 1,
            outcome=outcome,
            detail=str(detail)[:500],
            next_attempt_at=next_attempt_at,
            **envelope,
        )

    def hold(self, reason: str, envelope: Envelope) -> None:
        """Keep it, unattempted, until its channel is loaded again."""
        self._require("held", ("pending",))
        self.trigger_event(ev.DeliveryHeld, client_id=self.client_id, reason=reason, **envelope)

    def defer(self, until: datetime, reason: str, envelope: Envelope) -> None:
        """Keep it pending, unattempted, until ``until`` (the client's quiet hours or hour)."""
        self._require("deferred", ("pending", "held"))
        self.trigger_event(
            ev.NotificationDeferred,
            client_id=self.client_id,
            until=until,
            reason=reason[:500],
            **envelope,
        )

    def cancel(self, reason: str, envelope: Envelope) -> None:
        """It may no longer be sent (decided just before sending): never sent, final."""
        self._require("cancelled", SENDABLE)
        self.trigger_event(
            ev.NotificationCancelled, client_id=self.client_id, reason=reason[:500], **envelope
        )

    def retry(self, envelope: Envelope) -> None:
        if self.status != "failed":
            raise RuleViolation(
                "notification %(ref)s is %(status)s; only failed ones are retried",
                ref=self.id.hex[:8],
                status=self.status,
            )
        self.trigger_event(ev.DeliveryRetryRequested, client_id=self.client_id, **envelope)

    def _require(self, becoming: str, statuses: tuple[str, ...]) -> None:
        if self.status not in statuses:
            raise RuleViolation(
                "notification %(ref)s is %(status)s; it cannot be %(becoming)s",
                ref=self.id.hex[:8],
                status=self.status,
                becoming=becoming,
            )

    @property
    def status(self) -> str:
        return self.row["status"]

    @property
    def label(self) -> str:
        return f"notification {self.id.hex[:8]}"

    @singledispatchmethod
    def evolve(self, event: Any) -> None:
        raise TypeError(f"not a notification event: {type(event).__name__}")

    @evolve.register
    def _(self, event: ev.NotificationQueued) -> None:
        self.row = notification_row(event, None)
        self.client_id = event.client_id
        self.assignment_id = event.assignment_id
        self.person = event.person
        self.address = event.address
        #: When the event that called for it was recorded (None: a reminder, or queued
        #: before it was kept) — what a message says is as of then.
        self.caused_at: datetime | None = getattr(event, "caused_at", None)
        self.request_keys: dict[str, dict] = {}

    @evolve.register
    def _(
        self,
        event: ev.DeliveryAttempted
        | ev.DeliveryRetryRequested
        | ev.DeliveryHeld
        | ev.NotificationCancelled
        | ev.NotificationDeferred,
    ) -> None:
        self.row = notification_row(event, self.row)

    def detail(self) -> dict:
        return {**self.row, "person": self.person}


stable_topic(Notification, AGGREGATE_TOPICS[NOTIFICATION])
