"""The summary row of an assignment, folded from its events (see ``engine.rows``).

Its own module so that what reads assignments — ``show``, the ``Assignment`` aggregate —
builds only the assignment event classes.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from between.engine.views import bump, iso
from between.events import assignments as a


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
    return bump(row, event, **kept)


@assignment_row.register
def _(event: a.AssignmentAgreed, row: dict | None) -> dict:
    return bump(
        row, event, status="agreed", agreed_at=iso(event.timestamp), confidence=event.confidence
    )


@assignment_row.register
def _(event: a.AssignmentDeclined, row: dict | None) -> dict:
    return bump(row, event, status="declined", declined_at=iso(event.timestamp))


@assignment_row.register
def _(event: a.EntrySubmitted, row: dict | None) -> dict:
    last = row["last_entry_at"]
    occurred = iso(event.occurred_at)
    return bump(
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
    return bump(row, event, **changes)


@assignment_row.register
def _(event: a.AssignmentCancelled, row: dict | None) -> dict:
    return bump(row, event, status="cancelled", ended_at=iso(event.timestamp))


@assignment_row.register
def _(event: a.AssignmentClosed, row: dict | None) -> dict:
    return bump(row, event, status="closed", ended_at=iso(event.timestamp))
