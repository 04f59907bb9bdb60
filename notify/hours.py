"""The client's hours: when a message to the client (or a collaborator) may go.

Due-soon and overdue reminders go at the client's reminder time (``remind_at``, their zone),
or at once when it has passed today; no message to the client or a collaborator goes in the
client's quiet hours — it waits until they end — unless the clinic marks its kind urgent
(``[notify] urgent = ["agreed"]``). Therapist-bound messages are not subject to the client's
hours (the therapist's work, their own clock: they are sent when due). A wait is recorded once
(``NotificationDeferred``, with ``until``): the notification's next attempt moves to ``until``,
so no dispatcher pass sees it again before then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from between.engine.reading.clock_zones import ClinicTime, local_label, quiet_until, reminder_at

#: The roles that live by the client's clock.
CLIENT_SIDE = ("client", "collaborator")
REMINDERS = ("due-soon", "overdue")


def wait_until(
    row: dict, client: Any, clinic: ClinicTime, now: datetime
) -> tuple[datetime, str] | None:
    """When the notification of ``row`` may go, and why, if not now (None: send now)."""
    if row["role"] not in CLIENT_SIDE or client is None:
        return None
    prefs = clinic.of(getattr(client, "row", None))
    zone = prefs["timezone"]
    quiet_hours = None if row["kind"] in clinic.urgent else prefs["quiet_hours"]
    remind_at = prefs["remind_at"] if row["kind"] in REMINDERS else None
    at, why = now, ""
    if remind_at and (later := reminder_at(now, remind_at, zone)) is not None:
        at, why = later, f"the client's reminder time, {remind_at}"
    quiet = quiet_until(at, quiet_hours, zone)
    if quiet is not None:
        at, why = quiet, f"the client's quiet hours, {quiet_hours}"
        later = reminder_at(quiet, remind_at, zone) if remind_at else None
        if later is not None and quiet_until(later, quiet_hours, zone) is None:
            at, why = later, f"the client's reminder time, {remind_at}, after their quiet hours"
    if at <= now:
        return None
    where = zone or "server time"
    return at, f"held until {at.isoformat()} ({local_label(at, zone)}): {why} ({where})"
