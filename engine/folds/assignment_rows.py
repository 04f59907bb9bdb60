"""The summary row of an assignment, folded from its events (see ``engine.folds.rows``).

Each step is found by the event's stored topic (``event.TOPIC``), not its class, so this
module imports no event class: the light reading path folds plain decoded events with it
(``engine.reading.plain``), and the aggregates fold their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from between.engine.reading.views import bump, existing, iso
from between.events.catalog import (
    ASSIGNMENT_ADJUSTED,
    ASSIGNMENT_AGREED,
    ASSIGNMENT_CANCELLED,
    ASSIGNMENT_CLOSED,
    ASSIGNMENT_DECLINED,
    ASSIGNMENT_PROPOSED,
    ASSIGNMENT_REVIEWED,
    CLIENT_NOTE_SENT,
    ENTRY_SUBMITTED,
)

#: What a row says of the library when the homework came from it (``agenda``, ``client show``).
LIBRARY_FACTS = ("template", "protocol", "protocol_step")

#: One step of a row fold: (event, the row so far) → the next row.
Step = Callable[[Any, dict | None], dict]


def assignment_row(event: Any, row: dict | None) -> dict:
    """The row ``event`` moves ``row`` (None before the first event) on to."""
    step = ASSIGNMENT_STEPS.get(getattr(event, "TOPIC", ""))
    if step is None:
        raise TypeError(f"not an assignment event: {type(event).__name__}")
    return step(event, row)


def _proposed(event: Any, row: dict | None) -> dict:
    row = {
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
    for key in LIBRARY_FACTS:  # only when set: rows of homework without them are as before
        value = getattr(event, key, None)
        if value is not None:
            row[key] = value
    return row


def _adjusted(event: Any, row: dict | None) -> dict:
    row = existing(row, event)
    kept = {k: v for k, v in event.changes.items() if k in row}
    return bump(row, event, **kept)


def _agreed(event: Any, row: dict | None) -> dict:
    return bump(
        row, event, status="agreed", agreed_at=iso(event.timestamp), confidence=event.confidence
    )


def _declined(event: Any, row: dict | None) -> dict:
    return bump(row, event, status="declined", declined_at=iso(event.timestamp))


def _entry(event: Any, row: dict | None) -> dict:
    row = existing(row, event)
    last = row["last_entry_at"]
    occurred = iso(event.occurred_at)
    return bump(
        row,
        event,
        entries=row["entries"] + 1,
        last_entry_at=occurred if last is None or occurred > last else last,
    )


def _reviewed(event: Any, row: dict | None) -> dict:
    row = existing(row, event)
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


def _note(event: Any, row: dict | None) -> dict:
    """A note from the client (or a collaborator): how many, and the latest one's kind and
    time — never its text or who sent it (personal). Only rows with notes carry them."""
    row = existing(row, event)
    latest = {"kind": event.kind, "at": iso(event.timestamp)}
    return bump(row, event, client_notes=row.get("client_notes", 0) + 1, last_client_note=latest)


def _cancelled(event: Any, row: dict | None) -> dict:
    return bump(row, event, status="cancelled", ended_at=iso(event.timestamp))


def _closed(event: Any, row: dict | None) -> dict:
    return bump(row, event, status="closed", ended_at=iso(event.timestamp))


#: Each assignment event's step, by stored topic.
ASSIGNMENT_STEPS: dict[str, Step] = {
    ASSIGNMENT_PROPOSED: _proposed,
    ASSIGNMENT_ADJUSTED: _adjusted,
    ASSIGNMENT_AGREED: _agreed,
    ASSIGNMENT_DECLINED: _declined,
    ENTRY_SUBMITTED: _entry,
    ASSIGNMENT_REVIEWED: _reviewed,
    ASSIGNMENT_CANCELLED: _cancelled,
    ASSIGNMENT_CLOSED: _closed,
    CLIENT_NOTE_SENT: _note,
}
