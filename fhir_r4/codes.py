"""Between's names in FHIR: the canonical base, code systems, extensions, identifier systems,
stable resource ids and the lifecycle → ``Task.status`` mapping.

Every URL lives under ``BASE``. They are identifiers, not web pages: ``.invalid`` is reserved
(RFC 2606) and never resolves, so they can never be confused with a clinic's own system.
Resource ids are UUID version 5 of a record's own ids, so the same log always gives the same
ids, and a later export updates the resources of an earlier one.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, uuid5

from between.engine.reading.views import ERASED

BASE = "https://between.invalid/fhir"
NAMESPACE = uuid5(NAMESPACE_URL, BASE)

CODE_SYSTEM = {
    name: f"{BASE}/CodeSystem/{name}"
    for name in (
        "task-type",  # the task type's name (self-monitoring, a worksheet's name, …)
        "stage",  # baseline | practice | relapse-prevention
        "assignment-status",  # Between's own status: proposed | agreed | declined | …
        "task-input",  # questionnaire | parameter
        "task-output",  # entry | review
        "event-type",  # the log's event type (AssignmentAgreed, EntrySubmitted, …)
        "notification-kind",  # agreed | due-soon | overdue | reviewed | entry | declined
        "channel",  # console | email | webhook | a plugin's channel
    )
}
EXTENSION = {
    name: f"{BASE}/StructureDefinition/{name}"
    for name in ("difficulty", "stage", "log-position", "log-chain")
}
IDENTIFIER = {
    name: f"{BASE}/NamingSystem/{name}"
    for name in (
        "client-code",  # the clinic's code for a client (C-104)
        "client",  # Between's record id of a client
        "assignment",  # Between's record id of an assignment
        "entry",  # an entry's id
        "notification",  # a notification's id (its idempotency key)
        "operator",  # who acts in Between (--actor), therapists included
        "checkpoint",  # between-v1:SEQ:HEX — give it to 'between verify --against'
    )
}
QUESTIONNAIRE_BASE = f"{BASE}/Questionnaire"
# Standard FHIR R4 extensions for questionnaire constraints.
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
MIN_LENGTH = "http://hl7.org/fhir/StructureDefinition/minLength"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"

#: Between's lifecycle status → FHIR ``Task.status`` (agreed becomes in-progress once an
#: entry exists).
TASK_STATUS = {
    "proposed": "requested",
    "agreed": "accepted",
    "declined": "rejected",
    "cancelled": "cancelled",
    "closed": "completed",
}


def task_status(status: str, entries: int) -> str:
    """The FHIR ``Task.status`` of an assignment."""
    if status == "agreed" and entries > 0:
        return "in-progress"
    return TASK_STATUS[status]


def fhir_id(resource_type: str, *parts: Any) -> str:
    """A stable id: UUID 5 of the resource type and the record ids it is made from."""
    return str(uuid5(NAMESPACE, "/".join([resource_type, *(str(p) for p in parts)])))


def ref(resource_type: str, *parts: Any) -> dict[str, str]:
    """A relative reference (``Type/id``) to the resource made from these record ids."""
    return {"reference": f"{resource_type}/{fhir_id(resource_type, *parts)}"}


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    out = {"system": CODE_SYSTEM.get(system, system), "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"coding": [coding(system, code, display)]}


def identifier(system: str, value: Any) -> dict[str, str]:
    return {"system": IDENTIFIER[system], "value": str(value)}


def kept(value: Any) -> Any:
    """The value, or None when it is missing, empty or erased (never exported then)."""
    if value is None or value == ERASED or value == "":
        return None
    if isinstance(value, dict | list) and not value:
        return None
    if isinstance(value, dict) and "_sealed_" in value:
        return None  # a sealed field left unopened: never export it
    return value
