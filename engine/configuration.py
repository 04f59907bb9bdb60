"""The configuration file's documented shape, checked once for every command.

Between's own tables — ``[notify]``, ``[clinic]`` (the clinic's time zone, language, reminder
time and quiet hours: docs/time-zones.md; its operators' language: docs/translating.md),
``[worksheets]``, ``[library]``, ``[channels.email]``, ``[channels.webhook]``,
``[channels.console]``, the ``send_timeout_seconds`` of any ``[channels.NAME]``, and
``[therapists."NAME"]`` — are checked here:
a value of the wrong type, out of range or a setting Between does not know (a typo would
otherwise be ignored) is refused in one line naming the file, the table and the setting. Any
other top-level table belongs to a plugin, which checks its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from between.engine.errors import InvalidInput

Check = Callable[[Any], str | None]  # None when the value is right, else what it must be


def whole(low: int, high: int) -> Check:
    def check(value: Any) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return None if ok else f"a whole number from {low} to {high}"

    return check


def number(low: float, high: float, *, above: bool = False) -> Check:
    """A number from ``low`` (or ``above`` it) to ``high``."""
    wanted = f"a number above {low} and up to {high}" if above else f"a number from {low} to {high}"

    def check(value: Any) -> str | None:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and (low < value if above else low <= value) and value <= high
        return None if ok else wanted

    return check


def text(value: Any) -> str | None:
    return None if isinstance(value, str) else "text in quotes"


def one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else f"one of {', '.join(map(repr, choices))}"

    return check


def texts(value: Any) -> str | None:
    ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    return None if ok else 'a list of text, e.g. ["email"]'


def checked_by(check: Callable[[str, str], str], wanted: str) -> Check:
    """A setting checked by one of ``engine.reading.clock_zones``'s checks (which raise)."""

    def setting(value: Any) -> str | None:
        if not isinstance(value, str):
            return wanted
        try:
            check(value, "")
        except InvalidInput:
            return wanted
        return None

    return setting


def _zones() -> Any:
    from between.engine.reading import clock_zones

    return clock_zones


#: Each of Between's tables and its settings (``docs`` and the README document them).
TABLES: dict[str, dict[str, Check]] = {
    "notify": {
        "due_soon_days": whole(0, 365),
        "max_attempts": whole(1, 1000),
        "backoff_seconds": number(0, 7 * 24 * 3600),
        "send_timeout_seconds": number(0, 3600, above=True),
        "lease_seconds": number(1, 3600),
        "urgent": texts,
    },
    "clinic": {
        "timezone": checked_by(
            lambda v, o: _zones().check_zone(v, o), 'an IANA time zone, e.g. "Europe/Madrid"'
        ),
        "language": checked_by(lambda v, o: _zones().check_language(v, o), 'a code, e.g. "en"'),
        "operator_language": checked_by(
            lambda v, o: _zones().check_operator_language(v, o), 'one of "en", "es"'
        ),
        "remind_at": checked_by(
            lambda v, o: _zones().check_clock_time(v, o), 'a time HH:MM, e.g. "19:00"'
        ),
        "quiet_hours": checked_by(
            lambda v, o: _zones().check_quiet_hours(v, o),
            'HH:MM-HH:MM, e.g. "21:00-08:00", or "none"',
        ),
    },
    "worksheets": {"dir": text},
    "library": {"dir": text},
    "channels.email": {
        "host": text,
        "port": whole(1, 65535),
        "security": one_of("starttls", "ssl", "none"),
        "username": text,
        "password": text,
        "sender": text,
        "timeout": number(0, 600, above=True),
        "send_timeout_seconds": number(0, 3600, above=True),
    },
    "channels.webhook": {
        "secret": text,
        "timeout": number(0, 600, above=True),
        "send_timeout_seconds": number(0, 3600, above=True),
    },
    "channels.console": {"send_timeout_seconds": number(0, 3600, above=True)},
}
#: Settings of every ``[channels.NAME]`` table, a plugin's channel's too (Between's, not its).
EVERY_CHANNEL: dict[str, Check] = {"send_timeout_seconds": number(0, 3600, above=True)}


def check_config(config: dict[str, Any], path: Path) -> dict[str, Any]:
    """``config`` if it has the documented shape, else ``InvalidInput`` saying what is wrong."""

    def refuse(where: str, problem: str) -> InvalidInput:
        return InvalidInput(f"configuration file {path}: {where} {problem}")

    for name in ("notify", "clinic", "worksheets", "library", "channels", "therapists"):
        if name in config and not isinstance(config[name], dict):
            raise refuse(f"{name}", f"must be a table ([{name}])")
    for channel, settings in config.get("channels", {}).items():
        if not isinstance(settings, dict):
            raise refuse(f"channels.{channel}", f"must be a table ([channels.{channel}])")
        for key, check in EVERY_CHANNEL.items():
            if key in settings and (problem := check(settings[key])):
                raise refuse(
                    f"[channels.{channel}] {key} = {settings[key]!r}", f"must be {problem}"
                )
    for name, checks in TABLES.items():
        table = _table(config, name)
        for key, value in table.items():
            if key not in checks:
                known = ", ".join(checks) or "none"
                raise refuse(f"[{name}] {key}", f"is not a setting (known: {known})")
            problem = checks[key](value)
            if problem:
                raise refuse(f"[{name}] {key} = {value!r}", f"must be {problem}")
    for therapist, settings in config.get("therapists", {}).items():
        where = f'[therapists."{therapist}"]'
        if not isinstance(settings, dict):
            raise refuse(where, "must be a table of channels and addresses")
        for key, value in settings.items():
            problem = texts(value) if key == "channels" else text(value)
            if problem:
                raise refuse(f"{where} {key} = {value!r}", f"must be {problem}")
    return config


def _table(config: dict[str, Any], name: str) -> dict[str, Any]:
    table: Any = config
    for part in name.split("."):
        table = table.get(part, {}) if isinstance(table, dict) else {}
    return table if isinstance(table, dict) else {}
