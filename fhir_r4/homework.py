"""The homework itself: a ``Task`` per assignment, a ``QuestionnaireResponse`` per entry and
per review, and the ``Questionnaire`` each of them answers."""

from __future__ import annotations

import json
from typing import Any

from between.events import assignments as a
from between.fhir_r4.codes import (
    EXTENSION,
    coding,
    concept,
    fhir_id,
    identifier,
    kept,
    ref,
    task_status,
)
from between.fhir_r4.questionnaires import (
    REVIEW,
    REVIEW_DESCRIPTION,
    REVIEW_NAME,
    REVIEW_TITLE,
    answers,
    questionnaire,
)
from between.fhir_r4.records import AssignmentState, ClientState, Context, response_id


def task(
    state: AssignmentState, client: ClientState, ctx: Context, chain: tuple[Any, Any]
) -> dict[str, Any]:
    """An assignment as a Task; ``chain`` is (the Task it steps up from, its chain's first)."""
    row = state.row
    status = row["status"]
    out: dict[str, Any] = {
        "resourceType": "Task",
        "id": fhir_id("Task", state.id),
        "identifier": [identifier("assignment", state.id)],
        "status": task_status(status, row["entries"]),
        "businessStatus": concept("assignment-status", status),
        "intent": "plan",
        "code": concept("task-type", row["task_type"], _title(ctx, row["task_type"])),
        "for": ref("Patient", client.id),
        "owner": ref("Patient", client.id),
        "requester": ctx.practitioner(client.row["therapist"]),
        "authoredOn": row["proposed_at"],
        "lastModified": row["updated_at"],
        "restriction": {"repetitions": row["expected_entries"], "period": {"end": row["due"]}},
        "extension": [
            {"url": EXTENSION["difficulty"], "valueInteger": row["difficulty"]},
            {"url": EXTENSION["stage"], "valueCoding": coding("stage", row["stage"])},
        ],
        "input": _inputs(state, ctx),
    }
    reason = kept(state.decline_reason if status == "declined" else state.end_reason)
    if reason is not None and status in ("declined", "cancelled", "closed"):
        out["statusReason"] = {"text": str(reason)}
    if kept(state.instructions) is not None:
        out["description"] = str(state.instructions)
    if kept(state.rationale) is not None:
        out["reasonCode"] = {"text": str(state.rationale)}
    period = {k: v for k, v in (("start", row["agreed_at"]), ("end", row["ended_at"])) if v}
    if period:
        out["executionPeriod"] = period
    if state.template and state.template_version:
        canonical = ctx.activity(state.template, state.template_version, row["task_type"])
        out["instantiatesCanonical"] = canonical
    previous, first = chain
    if previous is not None:
        out["basedOn"] = [ref("Task", previous)]
        out["partOf"] = [ref("Task", first)]
    if state.outputs:
        out["output"] = [
            {"type": concept("task-output", kind), "valueReference": reference}
            for kind, reference in state.outputs
        ]
    return out


def _title(ctx: Context, task_type: str) -> str | None:
    known = ctx.task_types.get(task_type)
    return known.title if known is not None else None


def _inputs(state: AssignmentState, ctx: Context) -> list[dict[str, Any]]:
    task_type = state.row["task_type"]
    version = ctx.current_version(task_type)
    inputs: list[dict[str, Any]] = [
        {
            "type": concept("task-input", "questionnaire"),
            "valueCanonical": ctx.questionnaire(task_type, version),
        }
    ]
    parameters = kept(state.parameters)
    if isinstance(parameters, dict):
        for name, value in sorted(parameters.items()):
            if kept(value) is not None:
                kind = {"coding": [coding("task-input", "parameter")], "text": name}
                inputs.append({"type": kind, **_value(value)})
    return inputs


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": value}
    if isinstance(value, str):
        return {"valueString": value}
    return {"valueString": json.dumps(value, sort_keys=True, ensure_ascii=False)}


def entry_response(event: a.EntrySubmitted, client: ClientState, ctx: Context) -> dict[str, Any]:
    """An entry, answering its task type's questionnaire (the version that validated it)."""
    schema = ctx.schema(event.task_type, event.schema_version)
    out: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id("entry", event.entry_id),
        "identifier": identifier("entry", event.entry_id),
        "questionnaire": ctx.questionnaire(event.task_type, event.schema_version),
        "status": "completed",
        "subject": ref("Patient", client.id),
        "basedOn": [ref("CarePlan", client.id)],
        "authored": event.occurred_at.isoformat(),
    }
    author = client.person(event.by)
    if author is not None:
        out["author"] = author
    items = answers(event.task_type, schema, event.fields)
    if items:
        out["item"] = items
    return out


def review_response(
    event: a.AssignmentReviewed, client: ClientState, ctx: Context
) -> dict[str, Any]:
    """A review, answering the built-in review questionnaire."""
    fields = {
        "quantity": event.quantity,
        "quality": event.quality,
        "difficulty": event.difficulty,
        "obstacles": event.obstacles,
        "notes": event.notes,
        "next_step": event.next_step,
        "next_due": event.next_due,
    }
    out: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id("review", event.originator_id, event.originator_version),
        "questionnaire": ctx.questionnaire(REVIEW_NAME, REVIEW.version),
        "status": "completed",
        "subject": ref("Patient", client.id),
        "basedOn": [ref("CarePlan", client.id)],
        "author": ctx.actor(event.actor),
        "authored": event.timestamp.isoformat(),
        "item": answers(REVIEW_NAME, REVIEW, fields),
    }
    return out


def questionnaires(ctx: Context) -> list[dict[str, Any]]:
    """Every questionnaire the exported resources refer to, in a stable order."""
    out = []
    for name, version in sorted(ctx.questionnaires):
        if name == REVIEW_NAME:
            review = questionnaire(
                name, version, REVIEW_TITLE, REVIEW_DESCRIPTION, REVIEW, "active"
            )
            out.append(review)
            continue
        known = ctx.task_types.get(name)
        schema = ctx.schema(name, version)
        if known is None:
            status = "unknown"  # its plugin is not loaded: only its name is known
        elif schema is None:
            status = "retired" if version < known.entries.version else "unknown"
        else:
            status = "active"
        title = known.title if known is not None else name
        description = known.description if known is not None else ""
        out.append(questionnaire(name, version, title, description, schema, status))
    return out
