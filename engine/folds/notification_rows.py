"""The summary row of a notification, folded from its events (see ``engine.folds.rows``); each
step is found by the event's stored topic, so no event class is imported."""

from __future__ import annotations

from typing import Any

from between.engine.folds.assignment_rows import Step
from between.engine.reading.views import bump, iso
from between.events.catalog import (
    DELIVERY_ATTEMPTED,
    DELIVERY_HELD,
    DELIVERY_RETRY_REQUESTED,
    NOTIFICATION_CANCELLED,
    NOTIFICATION_DEFERRED,
    NOTIFICATION_QUEUED,
)


def notification_row(event: Any, row: dict | None) -> dict:
    """The row ``event`` moves ``row`` (None before the first event) on to."""
    step = NOTIFICATION_STEPS.get(getattr(event, "TOPIC", ""))
    if step is None:
        raise TypeError(f"not a notification event: {type(event).__name__}")
    return step(event, row)


def _queued(event: Any, row: dict | None) -> dict:
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


def _attempted(event: Any, row: dict | None) -> dict:
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


def _retry(event: Any, row: dict | None) -> dict:
    return bump(row, event, status="pending", next_attempt_at=iso(event.timestamp))


def _held(event: Any, row: dict | None) -> dict:
    return bump(row, event, status="held", last_detail=event.reason, next_attempt_at=None)


def _deferred(event: Any, row: dict | None) -> dict:
    """Still pending, not attempted before ``until`` (the client's quiet hours or hour)."""
    return bump(
        row,
        event,
        status="pending",
        next_attempt_at=iso(event.until),
        deferred_until=iso(event.until),
        last_detail=event.reason,
    )


def _cancelled(event: Any, row: dict | None) -> dict:
    return bump(row, event, status="cancelled", last_detail=event.reason, next_attempt_at=None)


#: Each notification event's step, by stored topic.
NOTIFICATION_STEPS: dict[str, Step] = {
    NOTIFICATION_QUEUED: _queued,
    DELIVERY_ATTEMPTED: _attempted,
    DELIVERY_RETRY_REQUESTED: _retry,
    DELIVERY_HELD: _held,
    NOTIFICATION_CANCELLED: _cancelled,
    NOTIFICATION_DEFERRED: _deferred,
}
