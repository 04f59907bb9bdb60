"""Worksheets without code: task types defined in TOML or JSON files.

Each ``*.toml`` or ``*.json`` file in the worksheets folder (``--worksheets-dir``,
``BETWEEN_WORKSHEETS_DIR``, or ``[worksheets] dir`` in the configuration file) defines one
task type::

    name = "activity-schedule"
    title = "Activity schedule"
    description = "Plan and rate activities."
    category = "worksheet"          # optional
    version = 1                     # entry schema version; bump it when fields change

    [[parameters]]                  # optional: what the therapist sets
    name = "week_focus"
    required = false

    [[fields]]                      # what the client records
    name = "activity"
    question = "What did you do?"   # optional: the client's own words (see docs/plugins.md)
    help = "Anything counts, even a short walk."
    [[fields]]
    name = "mastery"
    type = "integer"
    minimum = 0
    maximum = 10

A file that cannot be read is reported (file, field, reason) and skipped; the others load.
Worksheets are registered last (``trylast``), so a worksheet named like a task type of any
other plugin is reported and skipped; it never stops a command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from between import Field, Schema, TaskType, TaskTypeRegistry, check_task_type_name, hookimpl

FIELD_KEYS = {
    "name",
    "type",
    "required",
    "help",
    "question",
    "minimum",
    "maximum",
    "choices",
    "min_length",
    "max_length",
}
TOP_KEYS = {"name", "title", "description", "category", "version", "parameters", "fields"}


class WorksheetError(ValueError):
    """A worksheet file is malformed; the message names the field and the reason."""


def read_worksheet(path: Path) -> TaskType:
    """The task type a worksheet file defines, or ``WorksheetError``."""
    try:
        raw = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            data = json.loads(raw)
        else:
            import tomllib  # only for TOML worksheets: loading plugins stays quick

            data = tomllib.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:  # JSON and TOML errors are ValueErrors
        raise WorksheetError(f"cannot be parsed: {e}") from None
    if not isinstance(data, dict):
        raise WorksheetError("must hold a table/object at the top level")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise WorksheetError(f"unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("name", "title"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise WorksheetError(f"'{key}' is required text")
    version = data.get("version", 1)
    if not isinstance(version, int) or version < 1:
        raise WorksheetError("'version' must be a whole number of at least 1")
    entries = _fields(data.get("fields"), "fields", required=True)
    parameters = _fields(data.get("parameters", []), "parameters", required=False)
    try:
        return TaskType(
            name=check_task_type_name(data["name"].strip()),
            title=data["title"].strip(),
            description=str(data.get("description", "")),
            category=str(data.get("category", "worksheet")),
            parameters=Schema(parameters),
            entries=Schema(entries, version=version),
        )
    except ValueError as e:
        raise WorksheetError(str(e)) from None


def _fields(items: Any, key: str, required: bool) -> tuple[Field, ...]:
    if not isinstance(items, list) or (required and not items):
        raise WorksheetError(
            f"'{key}' must be a list of field tables" + (" (at least one)" if required else "")
        )
    fields = []
    for i, item in enumerate(items, 1):
        label = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise WorksheetError(f"{label} must be a table")
        label = f"{key} field {item.get('name', i)!r}"
        unknown = set(item) - FIELD_KEYS
        if unknown:
            raise WorksheetError(f"{label}: unknown key(s) {', '.join(sorted(unknown))}")
        if not isinstance(item.get("name"), str) or not item["name"].strip():
            raise WorksheetError(f"{label}: 'name' is required text")
        for words in ("question", "help"):
            if not isinstance(item.get(words, ""), str):
                raise WorksheetError(f"{label}: '{words}' must be text")
        spec = dict(item)
        if "choices" in spec:
            if not isinstance(spec["choices"], list):
                raise WorksheetError(f"{label}: 'choices' must be a list")
            spec["choices"] = tuple(str(c) for c in spec["choices"])
        for bound in ("minimum", "maximum"):
            if bound in spec and not isinstance(spec[bound], int | float):
                raise WorksheetError(f"{label}: '{bound}' must be a number")
        try:
            fields.append(Field(**spec))
        except (TypeError, ValueError) as e:
            raise WorksheetError(f"{label}: {e}") from None
    return tuple(fields)


@hookimpl(trylast=True)
def between_register_task_types(registry: TaskTypeRegistry) -> None:
    """Each readable worksheet whose name is free; the others are reported as problems."""
    folder = registry.settings.worksheets
    if not folder.is_dir():
        return
    for path in sorted([*folder.glob("*.toml"), *folder.glob("*.json")]):
        try:
            task_type = read_worksheet(path)
        except WorksheetError as e:
            registry.problem(str(path), str(e))
            continue
        owner = registry.owners.get(task_type.name)
        if owner is not None:
            registry.problem(
                str(path),
                f"task type name {task_type.name!r} is already taken by {owner}; rename the "
                "worksheet",
            )
            continue
        registry.add(task_type)
