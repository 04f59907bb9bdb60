"""The people and the plan: ``Patient``, ``RelatedPerson``, ``Practitioner``, ``CarePlan``.

Names and contact details are exported only when asked for (``--include-personal``), and
never once a client is erased (their personal fields read as erased in the log).
"""

from __future__ import annotations

from typing import Any

from between.fhir_r4.codes import EXTENSION, coding, fhir_id, identifier, kept, ref
from between.fhir_r4.records import STAGES, ClientState, Context

# A contact detail's name → ContactPoint.system (anything else a channel uses is "other").
TELECOM = {"email": "email", "phone": "phone", "sms": "sms", "webhook": "url"}


def patient(client: ClientState, ctx: Context) -> dict[str, Any]:
    row = client.row
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "id": fhir_id("Patient", client.id),
        "identifier": [identifier("client", client.id)],
        "active": row["status"] == "active",
        "generalPractitioner": [ctx.practitioner(row["therapist"])],
    }
    code = kept(row.get("code"))
    if code is not None:
        out["identifier"].insert(0, identifier("client-code", code))
    if ctx.include_personal:
        name = kept(client.name)
        if name is not None:
            out["name"] = [{"text": name}]
        _telecom(out, client.contacts.get("client"))
    return out


def related_person(client: ClientState, version: int, ctx: Context) -> dict[str, Any]:
    """A collaborator, identified by the client and the event that added them."""
    person = client.collaborator_events[version]
    out: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "id": fhir_id("RelatedPerson", client.id, version),
        "active": client.row["status"] == "active",
        "patient": ref("Patient", client.id),
    }
    relationship = kept(person["relationship"])
    if relationship is not None:
        out["relationship"] = [{"text": str(relationship)}]
    name = kept(person["name"])
    if ctx.include_personal and name is not None:
        out["name"] = [{"text": name}]
        _telecom(out, client.contacts.get(name))
    return out


def _telecom(resource: dict[str, Any], contacts: Any) -> None:
    if not isinstance(contacts, dict):
        return
    points = [
        {"system": TELECOM.get(kind, "other"), "value": str(value)}
        for kind, value in sorted(contacts.items())
        if kept(value) is not None
    ]
    if points:
        resource["telecom"] = points


def practitioner(name: str) -> dict[str, Any]:
    """A therapist, known by the name they act under in Between."""
    return {
        "resourceType": "Practitioner",
        "id": fhir_id("Practitioner", name),
        "identifier": [identifier("operator", name)],
        "name": [{"text": name}],
    }


def care_plan(client: ClientState, ctx: Context) -> dict[str, Any]:
    """The client's homework plan: every Task, grouped by stage (in order of proposal)."""
    row = client.row
    period = {"start": row["registered_at"]}
    if row.get("discharged_at"):
        period["end"] = row["discharged_at"]
    out: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": fhir_id("CarePlan", client.id),
        "identifier": [identifier("client", client.id)],
        "status": "active" if row["status"] == "active" else "completed",
        "intent": "plan",
        "title": "Homework between sessions",
        "subject": ref("Patient", client.id),
        "period": period,
        "created": row["registered_at"],
        "author": ctx.practitioner(row["therapist"]),
    }
    activities = []
    for rank, _, assignment in sorted(client.tasks):
        activity: dict[str, Any] = {"reference": ref("Task", assignment)}
        if rank < len(STAGES):
            stage = {"url": EXTENSION["stage"], "valueCoding": coding("stage", STAGES[rank])}
            activity["extension"] = [stage]
        activities.append(activity)
    if activities:
        out["activity"] = activities
    return out
