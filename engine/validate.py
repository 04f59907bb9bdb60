"""Checks on user input that run before anything touches the store."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from between.engine.errors import InvalidInput
from between.language import N_, Word

#: The most characters one text value may hold.
MAX_TEXT = 20_000
#: The most bytes an entry's or a parameter set's fields may take, encoded as JSON.
MAX_PAYLOAD = 256 * 1024
CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def text(name: str, value: Any, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    """A text value: valid Unicode, within ``limit`` characters, non-empty if required."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(
            "%(name)s must be text, not %(kind)s", name=name, kind=type(value).__name__
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            "%(name)s is not valid Unicode text (undecodable bytes); re-save it as UTF-8", name=name
        ) from None
    if len(value) > limit:
        raise InvalidInput(
            "%(name)s is %(length)s characters; the limit is %(limit)s",
            name=name,
            length=f"{len(value):,}",
            limit=f"{limit:,}",
        )
    if required and not value.strip():
        raise InvalidInput("%(name)s is required and may not be empty", name=name)
    return value


def actor(value: str | None) -> str:
    if not value or not value.strip():
        raise InvalidInput("who is acting? pass --actor NAME or set BETWEEN_ACTOR")
    return text("actor", value.strip(), limit=200)


def request_key(value: str | None) -> str | None:
    if value is None:
        return None
    return text("idempotency key", value, limit=200)


def code(value: str) -> str:
    if not CODE_PATTERN.fullmatch(value or ""):
        raise InvalidInput(
            "client code %(code)r is not valid: use 1–64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            code=value,
        )
    return value


def integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise InvalidInput(
                "%(name)s must be a whole number from %(low)s to %(high)s",
                name=name,
                low=low,
                high=high,
            ) from None
    if not low <= value <= high:
        raise InvalidInput(
            "%(name)s must be from %(low)s to %(high)s, not %(value)s",
            name=name,
            low=low,
            high=high,
            value=value,
        )
    return value


def choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidInput(
            "%(name)s must be one of %(choices)s; got %(value)r",
            name=name,
            choices=", ".join(choices),
            value=value,
        )
    return value


def due_date(value: str, today: date) -> str:
    """An ISO date (``2026-12-01``) or ``+N`` days from today; returned as ISO text."""
    value = (value or "").strip()
    if re.fullmatch(r"\+\d{1,4}", value):
        return (today + timedelta(days=int(value[1:]))).isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidInput(
            "due date %(value)r is not a date: use YYYY-MM-DD or +N (days from today)", value=value
        ) from None


#: Times outside these years are refused: Python cannot convert times near its limits (1–9999).
YEARS = (1900, 9999)
TIME_EXAMPLE = "2026-11-25T18:30"


def utc_time(value: str | datetime) -> datetime:
    """The one parser of user-given times: an ISO 8601 date-time or date as aware UTC.

    Naive times are local time (a bare date is 00:00 local that day); ``ValueError`` says
    what is wrong with an example, ready to follow the name of the input (its message is a
    ``Word``: the English, translated where it is shown).
    """
    given = value.strip() if isinstance(value, str) else value.isoformat()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(given)
        except ValueError:
            raise ValueError(
                Word(
                    N_("must be a date and time such as %(example)s (or a date), not %(given)r"),
                    example=TIME_EXAMPLE,
                    given=given,
                )
            ) from None
    low, high = YEARS
    try:
        if low <= value.year <= high:
            return (value if value.tzinfo else value.astimezone()).astimezone(UTC)
    except (OverflowError, ValueError):  # 9999-12-31T23:00-05:00 is in the year 10000 in UTC
        pass
    raise ValueError(
        Word(
            N_("must be in the years %(low)s–%(high)s (e.g. %(example)s), not %(given)r"),
            low=low,
            high=high,
            example=TIME_EXAMPLE,
            given=given,
        )
    )


def instant(name: str, value: str | datetime) -> datetime:
    """A named user-given time as aware UTC (see ``utc_time``), or ``InvalidInput`` naming it."""
    try:
        return utc_time(value)
    except ValueError as e:
        raise InvalidInput("%(name)s %(problem)s", name=name, problem=e.args[0]) from None


def moment(name: str, value: str | datetime | None, now: datetime) -> datetime:
    """When something happened: ``now`` if not given, else a time not in the future."""
    if value is None or value == "":
        return now
    value = instant(name, value)
    if value > now + timedelta(minutes=5):
        raise InvalidInput("%(name)s %(time)s is in the future", name=name, time=value.isoformat())
    return value


def payload(name: str, value: dict) -> dict:
    """Refuse oversized field sets before any further work."""
    size = len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))
    if size > MAX_PAYLOAD:
        raise InvalidInput(
            "%(name)s take %(size)s bytes; the limit is %(limit)s bytes",
            name=name,
            size=f"{size:,}",
            limit=f"{MAX_PAYLOAD:,}",
        )
    return value
