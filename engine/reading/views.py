"""Small shared facts about views that need no event classes (so queries stay light)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

OPEN_STATUSES = ("proposed", "agreed")
ASSIGNMENT_STATUSES = ("proposed", "agreed", "declined", "cancelled", "closed")
STAGES = ("baseline", "practice", "relapse-prevention")
#: What a personal value reads as once its client's key has been destroyed.
ERASED = "[erased]"
#: What a personal value reads as to a reader who may not read client keys (e.g. an auditor's
#: PostgreSQL role without access to ``between_client_keys``).
RESTRICTED = "[restricted]"


def with_timeliness(row: dict, today: date) -> dict:
    """Add ``overdue`` and ``days_late`` as of ``today`` (they change without events)."""
    due = date.fromisoformat(row["due"])
    late = (today - due).days
    overdue = row["status"] == "agreed" and late > 0 and row["entries"] < row["expected_entries"]
    return {**row, "overdue": overdue, "days_late": late if overdue else 0}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def existing(row: dict | None, event: Any) -> dict:
    """The row ``event`` moves on; an event before its record's first has none to move."""
    if row is None:
        raise ValueError(f"{type(event).__name__} before its record was created")
    return row


def bump(row: dict | None, event: Any, **changes: Any) -> dict:
    """A summary row moved on by one event: ``changes``, its version, and its update time."""
    row = existing(row, event)
    new = {**row, **changes, "version": event.originator_version}
    if "updated_at" in row:
        new["updated_at"] = iso(event.timestamp)
    return new
