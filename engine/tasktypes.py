"""The task-type contract: what a kind of homework asks for and how it is judged.

A task type declares two schemas — its *parameters* (what the therapist sets) and its
*entries* (what the client records) — and may override ``summarise`` (figures for the
review) and ``completion`` (when the homework counts as done). Field values coming from
the command line arrive as text and are coerced; values from JSON files keep their types.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from between.engine.errors import InvalidEntry
from between.engine.figures import mean_of
from between.engine.validate import MAX_TEXT, utc_time

FIELD_TYPES = ("text", "integer", "number", "boolean", "choice", "datetime", "list", "ratings")
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


class FieldError(ValueError):
    """One field's value is wrong; the message says why."""


def check_task_type_name(name: Any) -> str:
    """A task type's name, or ``ValueError``: names are lower case without spaces."""
    if isinstance(name, str) and name and name == name.lower() and name.split() == [name]:
        return name
    fixed = "-".join(str(name).lower().split())
    example = f", e.g. {fixed!r}" if fixed else ""
    raise ValueError(f"task type name {name!r} must be lower case without spaces{example}")


@dataclass(frozen=True)
class Field:
    """One named value in a schema."""

    name: str
    type: str = "text"
    required: bool = True
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    min_length: int = 0
    max_length: int = MAX_TEXT

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field {self.name!r}: unknown type {self.type!r}")
        if self.type == "choice" and not self.choices:
            raise ValueError(f"field {self.name!r}: a choice field needs choices")

    def describe(self) -> dict[str, Any]:
        """The field as JSON (for ``types show --json``)."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        for key in ("minimum", "maximum", "help"):
            if getattr(self, key) not in (None, ""):
                out[key] = getattr(self, key)
        if self.choices:
            out["choices"] = list(self.choices)
        if self.type in ("text", "list") and self.min_length:
            out["min_length"] = self.min_length
        return out

    def coerce(self, value: Any) -> Any:
        """The value in this field's type, or ``FieldError``."""
        kind = self.type
        if kind == "text":
            return self._text(value)
        if kind in ("integer", "number"):
            return self._ranged(self._number(value, integer=kind == "integer"))
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word in _TRUE | _FALSE:
                return word in _TRUE
            raise FieldError("must be yes or no")
        if kind == "choice":
            if value not in self.choices:
                raise FieldError(f"must be one of {', '.join(self.choices)}")
            return value
        if kind == "datetime":
            return self._datetime(value)
        if kind == "list":
            items = _split(value) if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise FieldError("must be a list of text (comma-separated, or a JSON list)")
            return [self._text(i, piece=True) for i in items]
        return self._ratings(value)

    def _text(self, value: Any, piece: bool = False) -> str:
        if not isinstance(value, str):
            raise FieldError("must be text")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise FieldError("is not valid Unicode text") from None
        if len(value) > self.max_length:
            raise FieldError(f"is {len(value):,} characters; the limit is {self.max_length:,}")
        if not piece and len(value.strip()) < self.min_length:
            raise FieldError(f"needs at least {self.min_length} characters")
        return value

    def _number(self, value: Any, integer: bool) -> float | int:
        if isinstance(value, bool):
            raise FieldError("must be a number")
        try:
            number = (int if integer else float)(value) if isinstance(value, str) else value
        except ValueError:
            raise FieldError("must be a whole number" if integer else "must be a number") from None
        if integer and isinstance(number, float) and number.is_integer():
            number = int(number)
        if not isinstance(number, int if integer else (int, float)):
            raise FieldError("must be a whole number" if integer else "must be a number")
        if number != number or number in (float("inf"), float("-inf")):
            raise FieldError("must be a finite number")
        return number

    def _ranged(self, number: float) -> float:
        if self.minimum is not None and number < self.minimum:
            raise FieldError(f"must be at least {_plain(self.minimum)}")
        if self.maximum is not None and number > self.maximum:
            raise FieldError(f"must be at most {_plain(self.maximum)}")
        return number

    def _datetime(self, value: Any) -> str:
        try:
            return utc_time(str(value)).isoformat()
        except ValueError as e:
            raise FieldError(str(e)) from None

    def _ratings(self, value: Any) -> dict[str, float]:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                value = json.loads(text)
            else:
                pieces = _split(text)
                if not all(isinstance(p, str) for p in pieces):
                    raise FieldError("must look like label:number,label:number")
                pairs = [p.rpartition(":") for p in pieces]
                if any(not sep or not label.strip() for label, sep, _ in pairs):
                    raise FieldError("must look like label:number,label:number")
                value = {label.strip(): num.strip() for label, _, num in pairs}
        if not isinstance(value, dict) or not value:
            raise FieldError("must name at least one label with a rating")
        out = {}
        for label, number in value.items():
            self._text(label, piece=True)
            try:
                out[label] = self._ranged(self._number(number, integer=False))
            except FieldError as e:
                raise FieldError(f"rating for {label!r} {e}") from None
        return out


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
            if f.type in ("integer", "number"):
                summary[f"mean_{f.name}"] = mean_of(entries, f.name)
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


def _split(text: str) -> Any:
    """Comma-separated pieces, or whatever a JSON list holds (the caller checks it)."""
    text = text.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError as e:
            raise FieldError(f"is malformed JSON: {e}") from None
    return [p.strip() for p in text.split(",") if p.strip()]


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
