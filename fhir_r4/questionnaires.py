"""Questionnaires generated from entry schemas, and the answers of one entry.

A task type's entry ``Schema`` becomes a ``Questionnaire`` (one per task type and schema
version); an entry's fields become the items of a ``QuestionnaireResponse`` to it. Any task
type — built in, a clinic's plugin or a worksheet file — exports with no code of its own. The
therapist's review is a questionnaire too, built from ``REVIEW`` the same way. Each field's item
type, answer key and constraints come from its type in ``engine.contracts.field_types``; a
``group`` type
(ratings) has a label and a rating per answer.
"""

from __future__ import annotations

import json
import re
from typing import Any

from between.engine.contracts.field_types import FIELD_TYPES
from between.engine.contracts.task_types import Field, Schema
from between.fhir_r4.codes import (
    BASE,
    MAX_VALUE,
    MIN_LENGTH,
    MIN_VALUE,
    QUESTIONNAIRE_BASE,
    coding,
    fhir_id,
    kept,
)

REVIEW_NAME = "between-review"
REVIEW = Schema(
    (
        Field("quantity", "integer", minimum=0, maximum=4, help="How much was done (0–4)"),
        Field("quality", "integer", minimum=0, maximum=4, help="How well it was done (0–4)"),
        Field("difficulty", "integer", minimum=0, maximum=4, help="How hard it was (0–4)"),
        Field("obstacles", required=False, help="What got in the way"),
        Field("notes", required=False, help="The therapist's notes"),
        Field(
            "next_step",
            "choice",
            choices=("continue", "step-up", "modify", "close"),
            help="What comes next",
        ),
        Field("next_due", required=False, help="The new due date, when continuing"),
    )
)
REVIEW_TITLE = "Homework review"
REVIEW_DESCRIPTION = (
    "The therapist's review of homework at the start of a session: quantity, quality and "
    "difficulty (0–4), obstacles, notes and the next step."
)


def canonical(name: str, version: int) -> str:
    """The canonical reference (``url|version``) of a task type's questionnaire."""
    return f"{QUESTIONNAIRE_BASE}/{name}|{version}"


def choice_system(task_type: str, field: str) -> str:
    """The code system of a choice field's answers (the codes are the choices themselves)."""
    return f"{BASE}/CodeSystem/choice/{task_type}/{field}"


def questionnaire(
    name: str, version: int, title: str, description: str, schema: Schema | None, status: str
) -> dict[str, Any]:
    """The questionnaire of one task type's entry schema (no items when it is unknown)."""
    out: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": fhir_id("Questionnaire", name, version),
        "url": f"{QUESTIONNAIRE_BASE}/{name}",
        "version": str(version),
        "name": computable(name),
        "title": title,
        "status": status,
        "subjectType": ["Patient"],
        "code": [coding("task-type", name, title)],
    }
    if description:
        out["description"] = description
    if schema is not None and schema.fields:
        out["item"] = [_item(name, f) for f in schema.fields]
    return out


def _item(task_type: str, f: Field) -> dict[str, Any]:
    kind = FIELD_TYPES[f.type]
    item: dict[str, Any] = {"linkId": f.name, "text": f.help or f.name, "required": f.required}
    item["type"] = kind.fhir_item_type
    if kind.repeats:
        item["repeats"] = True
    if kind.fhir_item_type == "group":
        rating: dict[str, Any] = {
            "linkId": f"{f.name}.rating",
            "text": "rating",
            "type": "decimal",
            "required": True,
        }
        _bounds(rating, f, kind.fhir_answer_key)
        label = {"linkId": f"{f.name}.label", "text": "label", "type": "string", "required": True}
        item["item"] = [label, rating]
        return item
    if "minimum" in kind.settings:
        _bounds(item, f, kind.fhir_answer_key)
    if "max_length" in kind.settings:
        item["maxLength"] = f.max_length
    if "min_length" in kind.settings and f.min_length:
        item.setdefault("extension", []).append({"url": MIN_LENGTH, "valueInteger": f.min_length})
    if "choices" in kind.settings:
        system = choice_system(task_type, f.name)
        item["answerOption"] = [{"valueCoding": coding(system, c, c)} for c in f.choices]
    return item


def _bounds(item: dict[str, Any], f: Field, answer: str) -> None:
    for url, bound in ((MIN_VALUE, f.minimum), (MAX_VALUE, f.maximum)):
        if bound is not None:
            value = int(bound) if answer == "valueInteger" else bound
            item.setdefault("extension", []).append({"url": url, answer: value})


def answers(task_type: str, schema: Schema | None, fields: Any) -> list[dict[str, Any]]:
    """The response items of one entry, in the schema's order (then any unknown fields)."""
    fields = kept(fields)
    if not isinstance(fields, dict):
        return []
    known = {f.name: f for f in schema.fields} if schema is not None else {}
    order = [n for n in known if n in fields] + sorted(n for n in fields if n not in known)
    items = []
    for name in order:
        value = kept(fields[name])
        if value is None:
            continue
        f = known.get(name)
        items.extend(_answer(task_type, name, f.help or name if f else name, f, value))
    return items


def _answer(
    task_type: str, name: str, text: str, f: Field | None, value: Any
) -> list[dict[str, Any]]:
    kind = FIELD_TYPES[f.type if f is not None else _guess(value)]
    if kind.fhir_item_type == "group" and isinstance(value, dict):
        return [
            {
                "linkId": name,
                "text": text,
                "item": [
                    {"linkId": f"{name}.label", "answer": [{"valueString": str(label)}]},
                    {"linkId": f"{name}.rating", "answer": [{kind.fhir_answer_key: number}]},
                ],
            }
            for label, number in value.items()
        ]
    found: list[dict[str, Any]]
    if kind.fhir_answer_key == "valueCoding":
        system = choice_system(task_type, name)
        found = [{"valueCoding": coding(system, str(value), str(value))}]
    elif kind.repeats and isinstance(value, list):
        found = [{"valueString": str(v)} for v in value if str(v)]
    else:
        found = [_typed(kind.name, value)]
    return [{"linkId": name, "text": text, "answer": found}] if found else []


def _guess(value: Any) -> str:
    """A field type for a value whose schema is not loaded (an old version, a lost plugin):
    the first registered type that holds it (text, for anything else)."""
    return next((t.name for t in FIELD_TYPES.values() if t.holds(value)), "text")


def _typed(kind: str, value: Any) -> dict[str, Any]:
    """One answer in the type its field declares — or in the value's own type when they
    disagree (an entry stored under another schema version); anything else as text."""
    if FIELD_TYPES[kind].fhir_answer_key in _TYPED and not FIELD_TYPES[kind].holds(value):
        kind = _guess(value)
    key = FIELD_TYPES[kind].fhir_answer_key
    if key in _TYPED:
        return {key: value}
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return {"valueString": text}


# The answers written as the value itself; the others as text (JSON for lists and objects).
_TYPED = ("valueInteger", "valueDecimal", "valueBoolean", "valueDateTime")


def computable(name: str) -> str:
    """A computable name (FHIR's ``[A-Z]([A-Za-z0-9_]){0,254}``) from a task type's, a
    template's or a protocol's name."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    text = "".join(w[:1].upper() + w[1:] for w in words) or "TaskType"
    return text if text[0].isalpha() else f"T{text}"
