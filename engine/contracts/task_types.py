"""The task-type contract: what a kind of homework asks for and how it is judged.

A task type declares two schemas — its *parameters* (what the therapist sets) and its
*entries* (what the client records) — and may override ``summarise`` (figures for the
review) and ``completion`` (when the homework counts as done). Field values coming from
the command line arrive as text and are coerced; values from JSON files keep their types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from between.engine.contracts.field_types import FIELD_TYPES, FieldError, field_type
from between.engine.errors import InvalidEntry
from between.engine.validate import MAX_TEXT

# FIELD_TYPES and FieldError live in ``field_types``; they are re-exported here.
__all__ = ["FIELD_TYPES", "Field", "FieldError", "Schema", "TaskType", "check_task_type_name"]


def check_task_type_name(name: Any) -> str:
    """A task type's name, or ``ValueError``: names are lower case without spaces."""
    if isinstance(name, str) and name and name == name.lower() and name.split() == [name]:
        return name
    fixed = "-".join(str(name).lower().split())
    example = f", e.g. {fixed!r}" if fixed else ""
    raise ValueError(f"task type name {name!r} must be lower case without spaces{example}")


@dataclass(frozen=True)
class Field:
    """One named value in a schema; its ``type`` is one of ``FIELD_TYPES``.

    An entry field speaks to the client: ``question`` is what the form asks ("How anxious
    were you just before you started?") and ``help`` one plain line that helps answer it
    (terms explained, no format: the form adds that). A parameter field's ``help`` is for
    the therapist. Both are optional; without a question the form shows the field's name.
    """

    name: str
    type: str = "text"
    required: bool = True
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    min_length: int = 0
    max_length: int = MAX_TEXT
    question: str = ""

    def __post_init__(self) -> None:
        field_type(self.type, self.name)
        if self.type == "choice" and not self.choices:
            raise ValueError(f"field {self.name!r}: a choice field needs choices")

    def describe(self) -> dict[str, Any]:
        """The field as JSON (for ``types show --json``)."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        for key in ("minimum", "maximum", "question", "help"):
            if getattr(self, key) not in (None, ""):
                out[key] = getattr(self, key)
        if self.choices:
            out["choices"] = list(self.choices)
        if "min_length" in FIELD_TYPES[self.type].settings and self.min_length:
            out["min_length"] = self.min_length
        return out

    def coerce(self, value: Any) -> Any:
        """The value in this field's type, or ``FieldError``."""
        return FIELD_TYPES[self.type].coerce(self, value)


@dataclass(frozen=True)
class Schema:
    """Named fields and the version of their definition (stored with each entry)."""

    fields: tuple[Field, ...] = ()
    version: int = 1

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"duplicate field names: {', '.join(sorted(duplicates))}")

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, "fields": [f.describe() for f in self.fields]}

    def validate(self, data: Mapping[str, Any], what: str) -> dict[str, Any]:
        """Coerced values, or ``InvalidEntry`` naming every bad field (its ``fields`` maps
        each to what is wrong; an unknown one to "is not a field of this form")."""
        known = {f.name: f for f in self.fields}
        problems = [f"unknown field {name!r}" for name in data if name not in known]
        wrong = {str(name): "is not a field of this form" for name in data if name not in known}
        clean: dict[str, Any] = {}
        for f in self.fields:
            value = data.get(f.name)
            if value is None or (isinstance(value, str) and not value.strip()):
                if f.required:
                    wrong[f.name] = "is required"
                    problems.append(f"{f.name} is required")
                continue
            try:
                clean[f.name] = f.coerce(value)
            except FieldError as e:
                wrong[f.name] = str(e)
                problems.append(f"{f.name} {e}")
            except ValueError as e:  # malformed JSON inside a field
                wrong[f.name] = f"is malformed: {e}"
                problems.append(f"{f.name} is malformed: {e}")
        if problems:
            fields = ", ".join(sorted(known)) or "none"
            raise InvalidEntry(f"invalid {what}: {'; '.join(problems)} (fields: {fields})", wrong)
        return clean


@dataclass(frozen=True)
class TaskType:
    """A kind of homework. Subclass it, or build one from data (see ``plugins.worksheets``)."""

    name: str
    title: str
    description: str
    category: str
    parameters: Schema = field(default_factory=Schema)
    entries: Schema = field(default_factory=Schema)

    def validate_parameters(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return self.parameters.validate(data, f"parameters for {self.name}")

    def validate_entry(
        self, data: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self.entries.validate(data, f"entry for {self.name}")

    def summarise(
        self, entries: Sequence[Mapping[str, Any]], parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Figures for the review. ``entries`` are dicts with ``fields``, ``by`` and
        ``occurred_at``; by default: the count and each numeric field's mean."""
        summary: dict[str, Any] = {"entries": len(entries)}
        for f in self.entries.fields:
            summary.update(FIELD_TYPES[f.type].summarise(entries, f.name))
        return summary

    def completion(
        self, entries: Sequence[Mapping[str, Any]], expected: int, parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Whether the homework counts as done, and the rule that says so."""
        return {"complete": len(entries) >= expected, "rule": f"{expected} entries by the due date"}

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "category": self.category,
            "parameters": self.parameters.describe(),
            "entries": self.entries.describe(),
        }
