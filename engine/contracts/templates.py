"""Homework templates: a named, versioned homework definition a clinic reuses.

A ``Template`` fills ``between assign --template NAME``: its task type, instructions,
rationale, stage, difficulty, expected entries, due (days from today) and parameters, with
optional client-facing wording (``title``, ``summary``). Its ``version`` is the declared one, or
the first 12 hex digits of the SHA-256 of its canonical content. ``problem(task_types)`` says
what does not validate against its task type (None when it does).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

#: The stages a template may name (as ``engine.reading.views.STAGES``).
STAGES = ("baseline", "practice", "relapse-prevention")


def version_of(declared: str | None, content: Mapping[str, Any]) -> str:
    """A library entry's version: the declared one, else the first 12 hex digits of the
    SHA-256 of its canonical content (JSON, sorted keys)."""
    if declared:
        return str(declared)
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


class Template:
    """A named homework definition; see the module's docstring."""

    __slots__ = (
        "declared_version",
        "difficulty",
        "due_days",
        "expected_entries",
        "instructions",
        "name",
        "parameters",
        "rationale",
        "stage",
        "summary",
        "task_type",
        "title",
    )

    def __init__(
        self,
        name: str,
        task_type: str,
        *,
        instructions: str,
        rationale: str,
        stage: str,
        difficulty: int,
        expected_entries: int = 1,
        due_days: int = 7,
        parameters: Mapping[str, Any] | None = None,
        title: str | None = None,
        summary: str | None = None,
        version: str | None = None,
    ) -> None:
        self.name, self.task_type = name, task_type
        self.instructions, self.rationale = instructions, rationale
        self.stage, self.difficulty = stage, difficulty
        self.expected_entries, self.due_days = expected_entries, due_days
        self.parameters = dict(parameters or {})
        self.title, self.summary = title, summary
        self.declared_version = version

    def __repr__(self) -> str:
        return f"Template({self.name!r}, {self.task_type!r}, version {self.version!r})"

    def content(self) -> dict[str, Any]:
        """The definition as JSON-friendly data (without its version)."""
        return {
            "name": self.name,
            "task_type": self.task_type,
            "title": self.title,
            "summary": self.summary,
            "instructions": self.instructions,
            "rationale": self.rationale,
            "stage": self.stage,
            "difficulty": self.difficulty,
            "expected_entries": self.expected_entries,
            "due_days": self.due_days,
            "parameters": self.parameters,
        }

    @property
    def version(self) -> str:
        return version_of(self.declared_version, self.content())

    def describe(self) -> dict[str, Any]:
        return {**self.content(), "version": self.version}

    def problem(self, task_types: Mapping[str, Any]) -> str | None:
        """What does not validate (naming the field), or None."""
        for key in ("name", "task_type", "instructions", "rationale"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value.strip():
                return f"'{key}' is required text"
        for key in ("title", "summary", "declared_version"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, str):
                return f"'{key.removeprefix('declared_')}' must be text"
        kind = task_types.get(self.task_type)
        if kind is None:
            known = ", ".join(sorted(task_types)) or "none"
            return f"'task_type' {self.task_type!r} is not a task type (known: {known})"
        if self.stage not in STAGES:
            return f"'stage' {self.stage!r} must be one of {', '.join(STAGES)}"
        for key, low, high in (
            ("difficulty", 1, 10),
            ("expected_entries", 1, 1000),
            ("due_days", 0, 3650),
        ):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                return f"'{key}' = {value!r} must be a whole number from {low} to {high}"
        try:
            kind.validate_parameters(dict(self.parameters))
        except Exception as e:  # the task type's refusal, naming its field
            return f"'parameters': {e}"
        return None


class Protocol:
    """An ordered ladder of templates (``steps``, by name), taken one after the other."""

    __slots__ = ("declared_version", "description", "name", "steps", "title")

    def __init__(
        self,
        name: str,
        steps: list[str] | tuple[str, ...],
        *,
        title: str | None = None,
        description: str | None = None,
        version: str | None = None,
    ) -> None:
        self.name, self.steps = name, list(steps)
        self.title, self.description = title, description
        self.declared_version = version

    def __repr__(self) -> str:
        return f"Protocol({self.name!r}, {len(self.steps)} steps)"

    def content(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "steps": list(self.steps),
        }

    @property
    def version(self) -> str:
        return version_of(self.declared_version, self.content())

    def describe(self) -> dict[str, Any]:
        return {**self.content(), "version": self.version}

    def next_step(self, step: int | None) -> str | None:
        """The template after 1-based ``step``, or None at the last step."""
        return self.steps[step] if step is not None and 0 < step < len(self.steps) else None

    def problem(self, templates: Mapping[str, Any]) -> str | None:
        """What is wrong (an empty ladder, a step naming no template), or None."""
        if not isinstance(self.name, str) or not self.name.strip():
            return "'name' is required text"
        if not self.steps:
            return "'steps' is empty; list the templates in order"
        for number, step in enumerate(self.steps, 1):
            if not isinstance(step, str) or step not in templates:
                return f"step {number} {step!r} is not a template (see 'between template list')"
        return None
