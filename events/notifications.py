"""Facts about telling people: a notification queued, each delivery attempt, a retry, a message
held while its channel is not loaded, one deferred to the client's hours, and one cancelled
when it may no longer be sent.

Auditors read from these who was told what (the kind of message), when, through which
channel, and every failure. The person and their address are sealed with the client's key.
"""

from __future__ import annotations

from dataclasses import field
from datetime import datetime
from uuid import UUID

from between.events import catalog
from between.events.base import Fact, Started, topic


@topic(catalog.NOTIFICATION_QUEUED)
class NotificationQueued(Started):
    """Someone is to be told something about a client's homework, on one channel.

    Its ``timestamp`` is when it was queued (recorded), like every event's; ``caused_at`` is
    when the event that called for it was recorded (None for a reminder, whose cause is a due
    date, named in ``cause``). Events stored before ``caused_at`` existed lack it, and their
    ``timestamp`` is the cause's time instead (see docs/auditing.md, "Recorded time").
    """

    client_id: UUID
    assignment_id: UUID | None
    kind: str
    role: str
    person: str
    channel: str
    address: str
    cause: str
    #: Added after the first release (absent from older events, which read None).
    caused_at: datetime | None = field(default=None, kw_only=True)


@topic(catalog.DELIVERY_ATTEMPTED)
class DeliveryAttempted(Fact):
    """One attempt to deliver: ``delivered``, ``retryable`` or ``permanent`` (failure)."""

    client_id: UUID
    attempt: int
    outcome: str
    detail: str
    next_attempt_at: datetime | None


@topic(catalog.DELIVERY_RETRY_REQUESTED)
class DeliveryRetryRequested(Fact):
    """An operator asked for a failed notification to be tried again."""

    client_id: UUID


@topic(catalog.DELIVERY_HELD)
class DeliveryHeld(Fact):
    """Not attempted: the channel's plugin is not loaded. Sent once it is (not an attempt)."""

    client_id: UUID
    reason: str


@topic(catalog.NOTIFICATION_CANCELLED)
class NotificationCancelled(Fact):
    """Never to be sent: checked just before sending, it no longer may be (consent withdrawn,
    no address on record, the client's data erased…). Final."""

    client_id: UUID
    reason: str


@topic(catalog.NOTIFICATION_DEFERRED)
class NotificationDeferred(Fact):
    """Not sent yet, on purpose: it waits ``until`` (UTC) — the end of the client's quiet
    hours, or their reminder time. Recorded once per wait; then it is sent as usual."""

    client_id: UUID
    until: datetime
    reason: str


NOTIFICATION_EVENTS = (
    NotificationQueued,
    DeliveryAttempted,
    DeliveryRetryRequested,
    DeliveryHeld,
    NotificationCancelled,
    NotificationDeferred,
)
