"""The summary row of a client, folded from their events (see ``engine.folds.rows``); each step is
found by the event's stored topic, so no event class is imported."""

from __future__ import annotations

from typing import Any

from between.engine.folds.assignment_rows import Step
from between.engine.reading.clock_zones import PREFERENCES
from between.engine.reading.views import ERASED, bump, existing, iso
from between.events.catalog import (
    CLIENT_DISCHARGED,
    CLIENT_ERASED,
    CLIENT_PREFERENCES_SET,
    CLIENT_REGISTERED,
    COLLABORATOR_ADDED,
    CONSENT_RECORDED,
    CONTACT_DETAILS_CHANGED,
    LINK_ISSUED,
    LINK_REVOKED,
)


def client_row(event: Any, row: dict | None) -> dict:
    """The row ``event`` moves ``row`` (None before the first event) on to."""
    step = CLIENT_STEPS.get(getattr(event, "TOPIC", ""))
    if step is None:
        raise TypeError(f"not a client event: {type(event).__name__}")
    return step(event, row)


def _registered(event: Any, row: dict | None) -> dict:
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


def _collaborator(event: Any, row: dict | None) -> dict:
    row = existing(row, event)
    return bump(row, event, collaborator_count=row["collaborator_count"] + 1)


def _moved(event: Any, row: dict | None) -> dict:
    """Contacts, consents and links are not summarised: the row only moves its version."""
    return bump(row, event)


def _preferences(event: Any, row: dict | None) -> dict:
    """The client's zone, language, reminder time and quiet hours, once recorded (a row
    without them reads the clinic's defaults: see ``engine.reading.clock_zones``)."""
    changes = {key: getattr(event, key, None) for key in PREFERENCES}
    return bump(row, event, **{key: value for key, value in changes.items() if value is not None})


def _discharged(event: Any, row: dict | None) -> dict:
    return bump(row, event, status="discharged", discharged_at=iso(event.timestamp))


def _erased(event: Any, row: dict | None) -> dict:
    return bump(row, event, status="erased", code=ERASED, erased_at=iso(event.timestamp))


#: Each client event's step, by stored topic.
CLIENT_STEPS: dict[str, Step] = {
    CLIENT_REGISTERED: _registered,
    COLLABORATOR_ADDED: _collaborator,
    CONTACT_DETAILS_CHANGED: _moved,
    CLIENT_DISCHARGED: _discharged,
    CONSENT_RECORDED: _moved,
    CLIENT_ERASED: _erased,
    LINK_ISSUED: _moved,
    LINK_REVOKED: _moved,
    CLIENT_PREFERENCES_SET: _preferences,
}
