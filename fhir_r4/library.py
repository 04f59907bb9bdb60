"""The clinic's homework library in FHIR: a template as an ``ActivityDefinition``, a protocol
as a ``PlanDefinition`` whose actions are its steps, in order.

Canonical URLs are built like the questionnaires': ``<BASE>/ActivityDefinition/<name>`` and
``<BASE>/PlanDefinition/<name>``, with ``version`` the library's; references carry
``url|version``. The library is read when the export runs (``engine.hooks.library``); a homework
naming a template version the library no longer holds gets an ``ActivityDefinition`` built from
what was recorded (its name, version and task type): ``retired`` when the library still has
that template at another version, ``unknown`` when it has no usable template of that name.
"""

from __future__ import annotations

from typing import Any

from between.fhir_r4.codes import BASE, EXTENSION, coding, concept, fhir_id
from between.fhir_r4.questionnaires import computable

ACTIVITY_BASE = f"{BASE}/ActivityDefinition"
PLAN_BASE = f"{BASE}/PlanDefinition"
PLAN_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
UCUM = "http://unitsofmeasure.org"


def activity_canonical(name: str, version: str) -> str:
    """The canonical reference (``url|version``) of a template's ActivityDefinition."""
    return f"{ACTIVITY_BASE}/{name}|{version}"


def usable_templates(library: Any) -> dict[str, Any]:
    """The library's templates that can be used (no problem), by name."""
    if library is None:
        return {}
    return {n: t for n, t in library.templates.items() if not library.problem(n)}


def usable_protocols(library: Any, templates: dict[str, Any]) -> list[Any]:
    """The library's usable protocols whose every step is a usable template, by name."""
    if library is None:
        return []
    return [
        library.protocols[name]
        for name in sorted(library.protocols)
        if not library.protocol_problem(name)
        and all(step in templates for step in library.protocols[name].steps)
    ]


def activity_definition(template: Any) -> dict[str, Any]:
    """A usable template as an active ActivityDefinition."""
    out = _activity(template.name, template.version, template.task_type, "active")
    out["title"] = template.title or template.name
    out["description"] = template.instructions
    out["purpose"] = template.rationale
    if template.summary:
        out["usage"] = template.summary  # the client's wording
    out["extension"] = [
        {"url": EXTENSION["difficulty"], "valueInteger": template.difficulty},
        {"url": EXTENSION["stage"], "valueCoding": coding("stage", template.stage)},
    ]
    out["timingTiming"] = {
        "repeat": {
            "count": template.expected_entries,
            "boundsDuration": {
                "value": template.due_days,
                "unit": "days",
                "system": UCUM,
                "code": "d",
            },
        }
    }
    return out


def recorded_activity(name: str, version: str, task_type: str, status: str) -> dict[str, Any]:
    """A template version the library no longer holds, from what the homework recorded."""
    out = _activity(name, version, task_type, status)
    out["title"] = name
    out["description"] = (
        f"Template {name} version {version}, as recorded on the homework assigned from it; "
        "the library no longer holds this version."
    )
    return out


def _activity(name: str, version: str, task_type: str, status: str) -> dict[str, Any]:
    return {
        "resourceType": "ActivityDefinition",
        "id": fhir_id("ActivityDefinition", name, version),
        "url": f"{ACTIVITY_BASE}/{name}",
        "version": version,
        "name": computable(name),
        "status": status,
        "kind": "Task",
        "code": concept("task-type", task_type),
    }


def plan_definition(protocol: Any, templates: dict[str, Any]) -> dict[str, Any]:
    """A protocol as a workflow-definition PlanDefinition: one action per step, in order,
    each after the end of the one before (``relatedAction``)."""
    actions = []
    for number, step in enumerate(protocol.steps, 1):
        template = templates[step]
        action: dict[str, Any] = {
            "id": f"step-{number}",
            "prefix": str(number),
            "title": template.title or template.name,
            "definitionCanonical": activity_canonical(template.name, template.version),
        }
        if number > 1:
            action["relatedAction"] = [
                {"actionId": f"step-{number - 1}", "relationship": "after-end"}
            ]
        actions.append(action)
    out: dict[str, Any] = {
        "resourceType": "PlanDefinition",
        "id": fhir_id("PlanDefinition", protocol.name, protocol.version),
        "url": f"{PLAN_BASE}/{protocol.name}",
        "version": protocol.version,
        "name": computable(protocol.name),
        "title": protocol.title or protocol.name,
        "type": {"coding": [{"system": PLAN_TYPE, "code": "workflow-definition"}]},
        "status": "active",
        "action": actions,
    }
    if protocol.description:
        out["description"] = protocol.description
    return out


def library_resources(
    library: Any, referenced: dict[tuple[str, str], str], whole: bool
) -> list[tuple[dict[str, Any], str]]:
    """The library's resources and what each is (for an error), in a stable order: every
    usable template and protocol when ``whole``, else only the templates ``referenced``
    ((name, version) → task type, as the exported Tasks recorded them); and an
    ActivityDefinition for each referenced version the library no longer holds."""
    templates = usable_templates(library)
    out: list[tuple[dict[str, Any], str]] = []
    current = {(t.name, t.version) for t in templates.values()}
    for (name, version), task_type in sorted(referenced.items()):
        if (name, version) not in current:
            status = "retired" if name in templates else "unknown"
            resource = recorded_activity(name, version, task_type, status)
            out.append((resource, f"template {name} version {version}"))
    chosen = [t for t in templates.values() if whole or (t.name, t.version) in referenced]
    for template in sorted(chosen, key=lambda t: t.name):
        out.append((activity_definition(template), f"template {template.name}"))
    if whole:
        for protocol in usable_protocols(library, templates):
            out.append((plan_definition(protocol, templates), f"protocol {protocol.name}"))
    return out
