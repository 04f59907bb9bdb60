"""Errors a user can cause. Each carries a one-line message that says what to do next.

The CLI maps them to exit codes: ``InvalidInput`` → 2 (usage), everything else → 1. A message
is written in English with ``%(name)s`` placeholders filled from keyword arguments —
``NotFound("no client %(code)s", code=code)`` — so the command line can print it in the
clinic's operator language (``worded``); ``str(error)`` is always the English. A ``Word``
given alone (``InvalidInput(error.args[0])`` for a ``ValueError`` worded where it was found)
brings its own template and values.
"""

from typing import Any

from between.language import Word


class BetweenError(Exception):
    """Base class: a user-facing, one-line refusal. Nothing was recorded."""

    exit_code = 1

    def __init__(self, message: str = "", **values: Any) -> None:
        if isinstance(message, Word) and not values:  # a refusal worded elsewhere: its words
            values = message.values
            message = message.template
        super().__init__(message % values if values else message)
        self.template = message
        self.values = values

    def worded(self) -> str:
        """The message in the current language (``between.language.use``); the English when
        it has no translation, or when a subclass wrote its own message."""
        from between.language import gettext

        english = self.template % self.values if self.values else self.template
        if not self.args or self.args[0] != english:
            return str(self)
        return gettext(self.template, **self.values)


class InvalidInput(BetweenError):
    """The input itself is wrong (a value out of range, a malformed date, too large)."""

    exit_code = 2


class InvalidEntry(InvalidInput):
    """Fields of an entry (or of parameters) are wrong: ``fields`` says, for each bad field,
    what is wrong with it (``{"peak_anxiety": "must be at most 100"}``), so a form can show
    each message next to its field. The message is the one-line summary of them all."""

    def __init__(self, message: str, fields: dict[str, str] | None = None, **values: Any) -> None:
        super().__init__(message, **values)
        self.fields = dict(fields or {})


class RuleViolation(BetweenError):
    """The command breaks a lifecycle rule in the current state."""


class NotFound(BetweenError):
    """No client or assignment matches."""


class Conflict(BetweenError):
    """Someone else changed the same record at the same time, repeatedly."""


class StoreError(BetweenError):
    """The store is missing, unreachable, read-only or of the wrong kind."""
