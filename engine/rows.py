"""Summary rows: the list-shaped view of clients and assignments, folded from events.

One pure function per aggregate kind turns (previous row, event) into the next row. The
read model stores these rows; ``replay --at`` and ``replay --check`` fold the same
function over the log, so every view of a record has one definition. Rows hold no
personal text (names, contacts, entry contents) — only codes, dates, counts and ratings.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatch
from typing import Any

from between.engine.views import ERASED
from between.events import assignments as a
from between.events import clients as c
from between.events import notifications as n


def iso(moment: datetime) -> str:
    return moment.isoformat()


# -- clients -----------------------------------------------------------------------------


@singledispatch
def client_row(event: Any, row: dict | None) -> dict:
    raise TypeError(f"not a client event: {type(event).__name__}")


@client_row.register
def _(event: c.ClientRegistered, row: dict | None) -> dict:
    return {
        "id": str(event.originator_id),
        "code": event.code,
        "therapist": event.therapist,
        "status": "active",
        "registered_at": iso(event.timestamp),
        "discharged_at": None,
        "erased_at": None,
        "collaborator_count": 0,
        "version": event.originator_version,
    }


@client_row.register
def _(event: c.CollaboratorAdded, row: dict | None) -> dict:
    return _bump(row, event, collaborator_count=row["collaborator_count"] + 1)


@client_row.register
def _(event: c.ContactDetailsChanged, row: dict | None) -> dict:
    return _bump(row, event)


@client_row.register
def _(event: c.ClientDischarged, row: dict | None) -> dict:
    return _bump(row, event, status="discharged", discharged_at=iso(event.timestamp))


@client_row.register
def _(event: c.ConsentRecorded, row: dict | None) -> dict:
    return _bump(row, event)


@client_row.register
def _(event: c.ClientErased, row: dict | None) -> dict:
    return _bump(row, event, status="erased", code=ERASED, erased_at=iso(event.timestamp))


# -- assignments -------------------------------------------------------------------------


@singledispatch
def assignment_row(event: Any, row: dict | None) -> dict:
    raise TypeError(f"not an assignment event: {type(event).__name__}")


@assignment_row.register
def _(event: a.AssignmentProposed, row: dict | None) -> dict:
    return {
        "id": str(event.originator_id),
        "client": event.client,
        "client_id": str(event.client_id),
        "task_type": event.task_type,
        "stage": event.stage,
        "difficulty": event.difficulty,
        "status": "proposed",
        "due": event.due,
        "expected_entries": event.expected_entries,
        "entries": 0,
        "last_entry_at": None,
        "steps_up_from": str(event.steps_up_from) if event.steps_up_from else None,
        "proposed_by": event.actor,
        "proposed_at": iso(event.timestamp),
        "agreed_at": None,
        "confidence": None,
        "declined_at": None,
        "ended_at": None,
        "reviews": 0,
        "last_review": None,
        "version": event.originator_version,
        "updated_at": iso(event.timestamp),
    }


@assignment_row.register
def _(event: a.AssignmentAdjusted, row: dict | None) -> dict:
    kept = {k: v for k, v in event.changes.items() if k in row}
    return _bump(row, event, **kept)


@assignment_row.register
def _(event: a.AssignmentAgreed, row: dict | None) -> dict:
    return _bump(
        row, event, status="agreed", agreed_at=iso(event.timestamp), confidence=event.confidence
    )


@assignment_row.register
def _(event: a.AssignmentDeclined, row: dict | None) -> dict:
    return _bump(row, event, status="declined", declined_at=iso(event.timestamp))


@assignment_row.register
def _(event: a.EntrySubmitted, row: dict | None) -> dict:
    last = row["last_entry_at"]
    occurred = iso(event.occurred_at)
    return _bump(
        row,
        event,
        entries=row["entries"] + 1,
        last_entry_at=occurred if last is None or occurred > last else last,
    )


@assignment_row.register
def _(event: a.AssignmentReviewed, row: dict | None) -> dict:
    review = {
        "at": iso(event.timestamp),
        "by": event.actor,
        "quantity": event.quantity,
        "quality": event.quality,
        "difficulty": event.difficulty,
        "next_step": event.next_step,
    }
    changes: dict[str, Any] = {"reviews": row["reviews"] + 1, "last_review": review}
    if event.next_step == "modify":
        changes["status"] = "proposed"
    if event.next_due:
        changes["due"] = event.next_due
    return _bump(row, event, **changes)


@assignment_row.register
def _(event: a.AssignmentCancelled, row: dict | None) -> dict:
    return _bump(row, event, status="cancelled", ended_at=iso(event.timestamp))


@assignment_row.register
def _(event: a.AssignmentClosed, row: dict | None) -> dict:
    return _bump(row, event, status="closed", ended_at=iso(event.timestamp))


def _bump(row: dict | None, event: Any, **changes: Any) -> dict:
    if row is None:
        raise ValueError(f"{type(event).__name__} before its record was created")
    new = {**row, **changes, "version": event.originator_version}
    if "updated_at" in row:
        new["updated_at"] = iso(event.timestamp)
    return new


# -- notifications -----------------------------------------------------------------------


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
    return _bump(
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
    return _bump(row, event, status="pending", next_attempt_at=iso(event.timestamp))


@notification_row.register
def _(event: n.DeliveryHeld, row: dict | None) -> dict:
    return _bump(row, event, status="held", last_detail=event.reason, next_attempt_at=None)


@notification_row.register
def _(event: n.NotificationCancelled, row: dict | None) -> dict:
    return _bump(row, event, status="cancelled", last_detail=event.reason, next_attempt_at=None)


ROW_FOLDERS = {**dict.fromkeys(c.CLIENT_EVENTS, client_row)}
ROW_FOLDERS.update(dict.fromkeys(a.ASSIGNMENT_EVENTS, assignment_row))
ROW_FOLDERS.update(dict.fromkeys(n.NOTIFICATION_EVENTS, notification_row))
