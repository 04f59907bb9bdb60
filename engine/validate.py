"""Checks on user input that run before anything touches the store."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from between.engine.errors import InvalidInput

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
        raise InvalidInput(f"{name} must be text, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"{name} is not valid Unicode text (undecodable bytes); re-save it as UTF-8"
        ) from None
    if len(value) > limit:
        raise InvalidInput(f"{name} is {len(value):,} characters; the limit is {limit:,}")
    if required and not value.strip():
        raise InvalidInput(f"{name} is required and may not be empty")
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
            f"client code {value!r} is not valid: use 1–64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise InvalidInput(f"{name} must be a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be from {low} to {high}, not {value}")
    return value


def choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidInput(f"{name} must be one of {', '.join(choices)}; got {value!r}")
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
            f"due date {value!r} is not a date: use YYYY-MM-DD or +N (days from today)"
        ) from None


def moment(name: str, value: str | datetime | None, now: datetime) -> datetime:
    """A point in time as timezone-aware UTC; naive input is read as local time."""
    if value is None or value == "":
        return now
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(
                f"{name} {value!r} is not a date and time: use e.g. 2026-11-25T18:30"
            ) from None
    if value.tzinfo is None:
        value = value.astimezone()
    value = value.astimezone(UTC)
    if value > now + timedelta(minutes=5):
        raise InvalidInput(f"{name} {value.isoformat()} is in the future")
    return value


def payload(name: str, value: dict) -> dict:
    """Refuse oversized field sets before any further work."""
    size = len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))
    if size > MAX_PAYLOAD:
        raise InvalidInput(f"{name} take {size:,} bytes; the limit is {MAX_PAYLOAD:,} bytes")
    return value
