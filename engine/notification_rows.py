"""The summary row of a notification, folded from its events (see ``engine.rows``)."""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from between.engine.views import bump, iso
from between.events import notifications as n


@singledispatch
def notification_row(event: Any, row: dict | None) -> dict:
    raise TypeError(f"not a notification event: {type(event).__name__}")


@notification_row.register
def _(event: n.NotificationQueued, row: dict | None) -> dict:
    return {
        "id": str(event.originator_id),
        "client_id": str(event.client_id),
        "assignment_id": str(event.assignment_id) if event.assignment_id else None,
        "kind": event.kind,
        "role": event.role,
        "channel": event.channel,
        "cause": event.cause,
        "status": "pending",
        "attempts": 0,
        "queued_at": iso(event.timestamp),
        "next_attempt_at": iso(event.timestamp),
        "last_attempt_at": None,
        "last_outcome": None,
        "last_detail": None,
        "version": event.originator_version,
    }


@notification_row.register
def _(event: n.DeliveryAttempted, row: dict | None) -> dict:
    status = {"delivered": "sent", "permanent": "failed"}.get(event.outcome, "pending")
    if status == "pending" and event.next_attempt_at is None:
        status = "failed"  # retryable, but out of attempts
    return bump(
        row,
        event,
        status=status,
        attempts=event.attempt,
        last_attempt_at=iso(event.timestamp),
        last_outcome=event.outcome,
        last_detail=event.detail,
        next_attempt_at=iso(event.next_attempt_at) if event.next_attempt_at else None,
    )


@notification_row.register
def _(event: n.DeliveryRetryRequested, row: dict | None) -> dict:
    return bump(row, event, status="pending", next_attempt_at=iso(event.timestamp))


@notification_row.register
def _(event: n.DeliveryHeld, row: dict | None) -> dict:
    return bump(row, event, status="held", last_detail=event.reason, next_attempt_at=None)


@notification_row.register
def _(event: n.NotificationCancelled, row: dict | None) -> dict:
    return bump(row, event, status="cancelled", last_detail=event.reason, next_attempt_at=None)
