"""What ``between import`` reports: each refused record, and the summary of a run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from between.language import Word, worded
from between.language import gettext as _

KEPT_REFUSALS = 1000  # refusals kept for the summary (every one is reported as it happens)


@dataclass
class Refusal:
    """A record that was not stored, and why."""

    line: int
    type: str | None
    id: str | None
    error: str  # English (a ``Word`` line, worded when printed)

    def __str__(self) -> str:
        """The refusal as the command line prints it, in the operator's language."""
        error = worded(self.error)
        if self.type:
            return _(
                "line %(line)s: %(type)s: %(error)s", line=self.line, type=self.type, error=error
            )
        return _("line %(line)s: %(error)s", line=self.line, error=error)


@dataclass
class Summary:
    """What an import did: records read in this run, stored, already present, refused."""

    file: str
    lines: int
    records: int = 0
    stored: int = 0
    already_present: int = 0
    refused: int = 0
    resumed_after_line: int = 0  # lines done by an earlier, interrupted run
    earlier_refusals_stored: int = 0  # of ``stored``: records an earlier run refused
    stopped_at_line: int | None = None  # --stop-on-error
    refusals: list[Refusal] = field(default_factory=list)

    def refuse(self, line: int, record: Any, error: Exception) -> Refusal:
        """Count a refused record; the refusal, naming each bad field of an entry."""
        problems = getattr(error, "fields", None)  # ``InvalidEntry``: each field's problem
        message = "; ".join(f"{k} {v}" for k, v in problems.items()) if problems else _kept(error)
        named = record if isinstance(record, dict) else getattr(record, "record", {})
        refusal = Refusal(line, named.get("type"), named.get("id"), message)
        self.refused += 1
        if len(self.refusals) < KEPT_REFUSALS:
            self.refusals.append(refusal)
        return refusal

    def as_json(self) -> dict[str, Any]:
        return asdict(self)  # fields are only ever added (docs/import.md)


def _kept(error: Exception) -> str:
    """The error's English: a ``Word`` line when it is a Between refusal from a template."""
    template, values = getattr(error, "template", None), getattr(error, "values", None) or {}
    if isinstance(template, str) and str(error) == (template % values if values else template):
        return Word(template, **values)
    return str(error)
