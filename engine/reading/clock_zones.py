"""The client's own clock: time zones, calendar days, reminder times and quiet hours.

Standard library only (``zoneinfo``), so the light reading path, the dispatcher and the portal
can all use it. A zone is an IANA name (``Europe/Madrid``); ``None`` is the clinic's default
(``[clinic] timezone``), and when the clinic names none, the server's own local time (as before
zones existed). Due dates are the client's calendar days: homework due on ``D`` is overdue from
the start of the day after ``D`` in the client's zone (``day_end``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from between.engine.errors import InvalidInput

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

ZONE_EXAMPLE = "Europe/Madrid"
#: What the preferences are called in configuration, events, rows and ``client show``.
PREFERENCES = ("timezone", "language", "remind_at", "quiet_hours")
#: Without a clinic default (``[clinic]``): English, reminders as soon as they are due, no
#: quiet hours — as before clients had a clock of their own.
DEFAULTS: dict[str, str | None] = {"language": "en", "remind_at": None, "quiet_hours": None}
NO_QUIET_HOURS = "none"
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    from zoneinfo import ZoneInfo  # imported when a zone is first used: it costs ~2 ms

    return ZoneInfo(name)


def zone_of(name: str | None) -> tzinfo | None:
    """The zone called ``name`` (None: the server's local time)."""
    return _zone(name) if name else None


def check_zone(name: str, option: str = "--timezone") -> str:
    """``name`` if it is an IANA time zone, else one line naming ``option`` and an example."""
    name = (name or "").strip()
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError
        _zone(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise InvalidInput(
            "%(option)s %(name)r is not a time zone: give an IANA name, e.g. %(example)s",
            option=option,
            name=name,
            example=ZONE_EXAMPLE,
        ) from None
    return name


def check_clock_time(value: str, option: str = "--remind-at") -> str:
    """``HH:MM`` (24-hour), else one line naming ``option``."""
    value = (value or "").strip()
    if not _HHMM.fullmatch(value):
        raise InvalidInput(
            "%(option)s %(value)r is not a time of day: give HH:MM, e.g. 19:00",
            option=option,
            value=value,
        )
    return value


def check_quiet_hours(value: str, option: str = "--quiet-hours") -> str:
    """``HH:MM-HH:MM`` (may span midnight) or ``none``, else one line naming ``option``."""
    value = (value or "").strip().replace("–", "-")
    if value.lower() == NO_QUIET_HOURS:
        return NO_QUIET_HOURS
    parts = value.split("-")
    if (
        len(parts) != 2
        or not all(_HHMM.fullmatch(p.strip()) for p in parts)
        or (parts[0].strip() == parts[1].strip())
    ):
        raise InvalidInput(
            "%(option)s %(value)r is not a span of hours: give HH:MM-HH:MM, e.g. 21:00-08:00, "
            "or none",
            option=option,
            value=value,
        )
    return f"{parts[0].strip()}-{parts[1].strip()}"


def check_language(value: str, option: str = "--language") -> str:
    """A language tag such as ``en``, ``es`` or ``pt-BR``."""
    value = (value or "").strip()
    if not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*", value):
        raise InvalidInput(
            "%(option)s %(value)r is not a language: give a code, e.g. en or es",
            option=option,
            value=value,
        )
    return value.replace("_", "-")


def check_operator_language(value: str, option: str = "operator_language") -> str:
    """A language Between's own catalogs cover completely (``en``, ``es``): the therapist's
    messages and reports are worded in it."""
    from between.language.catalogs import check_language as covered

    try:
        return covered(value, option)
    except ValueError as e:
        raise InvalidInput(e.args[0]) from None


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def local_today(now: datetime, zone: str | None) -> date:
    """The calendar date at ``now`` in ``zone``."""
    return now.astimezone(zone_of(zone)).date()


def date_in(now: datetime, zone: str | None) -> date:
    """The date at ``now`` in ``zone``, or ``now``'s own date when no zone is recorded."""
    return local_today(now, zone) if zone else now.date()


def day_end(due: str | date, zone: str | None) -> datetime:
    """When homework due on ``due`` becomes overdue: the start of the next day in ``zone``, UTC."""
    day = date.fromisoformat(due) if isinstance(due, str) else due
    start = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone_of(zone))
    if start.tzinfo is None:
        start = start.astimezone()
    return start.astimezone(UTC)


def at_local(day: date, clock: str, zone: str | None) -> datetime:
    """``clock`` (HH:MM) on ``day`` in ``zone``, as UTC (a time skipped by DST moves on)."""
    moment = datetime.combine(day, _clock(clock), tzinfo=zone_of(zone))
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(UTC)


def quiet_until(now: datetime, quiet_hours: str | None, zone: str | None) -> datetime | None:
    """When the quiet hours ``now`` falls in end (UTC), or None outside them (or with none)."""
    if not quiet_hours or quiet_hours == NO_QUIET_HOURS:
        return None
    start, end = (_clock(p) for p in quiet_hours.split("-"))
    local = now.astimezone(zone_of(zone))
    t, day = local.time().replace(tzinfo=None), local.date()
    if start < end:  # within one day, e.g. 13:00-14:00
        inside = start <= t < end
        end_day = day
    else:  # across midnight, e.g. 21:00-08:00
        inside = t >= start or t < end
        end_day = day + timedelta(days=1) if t >= start else day
    return at_local(end_day, end.strftime("%H:%M"), zone) if inside else None


def reminder_at(now: datetime, remind_at: str, zone: str | None) -> datetime | None:
    """Today's reminder time in ``zone`` (UTC) when it is still to come, else None (send now)."""
    at = at_local(local_today(now, zone), remind_at, zone)
    return at if at > now else None


def local_label(instant: datetime, zone: str | None) -> str:
    """``instant`` as the client reads it: "Tuesday 8 December, 19:00 (Honolulu time)"."""
    local = instant.astimezone(zone_of(zone))
    place = zone.rsplit("/", 1)[-1].replace("_", " ") if zone else local.strftime("%Z")
    return f"{local.strftime('%A')} {local.day} {local.strftime('%B, %H:%M')} ({place} time)"


class ClinicTime:
    """The clinic's defaults (``[clinic]``), the language its operators read (``operator_language``:
    the therapist's messages and reports) and which kinds of message are urgent
    (``[notify] urgent``: sent even in a client's quiet hours)."""

    __slots__ = ("defaults", "operator_language", "urgent")

    def __init__(self, clinic: dict[str, Any] | None = None, urgent: Any = ()) -> None:
        clinic = clinic or {}
        self.defaults: dict[str, str | None] = {
            "timezone": clinic.get("timezone"),
            **{key: clinic.get(key, value) for key, value in DEFAULTS.items()},
        }
        self.operator_language: str = clinic.get("operator_language") or "en"
        self.urgent = frozenset(urgent or ())

    @classmethod
    def from_settings(cls, settings: Any) -> ClinicTime:
        return cls(settings.section("clinic"), settings.section("notify").get("urgent"))

    @property
    def zone(self) -> str | None:
        return self.defaults["timezone"]

    def of(self, recorded: dict[str, Any] | None) -> dict[str, str | None]:
        """A client's preferences: what they recorded, else the clinic's default."""
        recorded = recorded or {}
        return {key: recorded.get(key) or self.defaults[key] for key in PREFERENCES}


class Days:
    """Calendar days as of one instant, in each zone asked for (the clinic's for None)."""

    __slots__ = ("_seen", "now", "zone")

    def __init__(self, now: datetime, zone: str | None = None) -> None:
        self.now = now
        self.zone = zone
        self._seen: dict[str | None, date] = {}

    def of(self, zone: str | None = None) -> date:
        zone = zone or self.zone
        if zone not in self._seen:
            self._seen[zone] = local_today(self.now, zone)
        return self._seen[zone]
