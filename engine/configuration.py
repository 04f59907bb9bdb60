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
from between.language import N_
from between.language import gettext as _

Check = Callable[[Any], str | None]  # None when the value is right, else what it must be


def whole(low: int, high: int) -> Check:
    def check(value: Any) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return None if ok else _("a whole number from %(low)s to %(high)s", low=low, high=high)

    return check


def number(low: float, high: float, *, above: bool = False) -> Check:
    """A number from ``low`` (or ``above`` it) to ``high``."""

    def check(value: Any) -> str | None:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and (low < value if above else low <= value) and value <= high
        if ok:
            return None
        if above:
            return _("a number above %(low)s and up to %(high)s", low=low, high=high)
        return _("a number from %(low)s to %(high)s", low=low, high=high)

    return check


def text(value: Any) -> str | None:
    return None if isinstance(value, str) else _("text in quotes")


def one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        if value in choices:
            return None
        return _("one of %(choices)s", choices=", ".join(map(repr, choices)))

    return check


def texts(value: Any) -> str | None:
    ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    return None if ok else _('a list of text, e.g. ["email"]')


def checked_by(check: Callable[[str, str], str], wanted: str) -> Check:
    """A setting checked by one of ``engine.reading.clock_zones``'s checks (which raise);
    ``wanted`` is marked with ``N_`` and translated when shown."""

    def setting(value: Any) -> str | None:
        if not isinstance(value, str):
            return _(wanted)
        try:
            check(value, "")
        except InvalidInput:
            return _(wanted)
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
            lambda v, o: _zones().check_zone(v, o), N_('an IANA time zone, e.g. "Europe/Madrid"')
        ),
        "language": checked_by(lambda v, o: _zones().check_language(v, o), N_('a code, e.g. "en"')),
        "operator_language": checked_by(
            lambda v, o: _zones().check_operator_language(v, o), N_('one of "en", "es"')
        ),
        "remind_at": checked_by(
            lambda v, o: _zones().check_clock_time(v, o), N_('a time HH:MM, e.g. "19:00"')
        ),
        "quiet_hours": checked_by(
            lambda v, o: _zones().check_quiet_hours(v, o),
            N_('HH:MM-HH:MM, e.g. "21:00-08:00", or "none"'),
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

    def not_table(name: str) -> InvalidInput:
        return InvalidInput(
            "configuration file %(path)s: %(name)s must be a table ([%(name)s])",
            path=path,
            name=name,
        )

    def wrong(setting: str, problem: str) -> InvalidInput:
        return InvalidInput(
            "configuration file %(path)s: %(setting)s must be %(wanted)s",
            path=path,
            setting=setting,
            wanted=problem,
        )

    for name in ("notify", "clinic", "worksheets", "library", "channels", "therapists"):
        if name in config and not isinstance(config[name], dict):
            raise not_table(name)
    for channel, settings in config.get("channels", {}).items():
        if not isinstance(settings, dict):
            raise not_table(f"channels.{channel}")
        for key, check in EVERY_CHANNEL.items():
            if key in settings and (problem := check(settings[key])):
                raise wrong(f"[channels.{channel}] {key} = {settings[key]!r}", problem)
    for name, checks in TABLES.items():
        table = _table(config, name)
        for key, value in table.items():
            if key not in checks:
                raise InvalidInput(
                    "configuration file %(path)s: %(setting)s is not a setting (known: %(known)s)",
                    path=path,
                    setting=f"[{name}] {key}",
                    known=", ".join(checks) or _("none"),
                )
            problem = checks[key](value)
            if problem:
                raise wrong(f"[{name}] {key} = {value!r}", problem)
    for therapist, settings in config.get("therapists", {}).items():
        where = f'[therapists."{therapist}"]'
        if not isinstance(settings, dict):
            raise InvalidInput(
                "configuration file %(path)s: %(where)s must be a table of channels and addresses",
                path=path,
                where=where,
            )
        for key, value in settings.items():
            problem = texts(value) if key == "channels" else text(value)
            if problem:
                raise wrong(f"{where} {key} = {value!r}", problem)
    return config


def _table(config: dict[str, Any], name: str) -> dict[str, Any]:
    table: Any = config
    for part in name.split("."):
        table = table.get(part, {}) if isinstance(table, dict) else {}
    return table if isinstance(table, dict) else {}
