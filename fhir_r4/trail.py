"""The trail: a ``Communication`` per notification delivered, a ``Provenance`` per event.

A Communication says who was told which kind of thing, on which channel and when — nothing of
what the message said (messages carry no clinical content, and their text is not logged). A
Provenance ties each exported change to its event in the log: who did it, when it was recorded,
and the event's position and chain link, which ``between verify`` checks.
"""

from __future__ import annotations

from typing import Any

from between.audit.verify import CHECKPOINT_HEX, Checkpoint
from between.events import catalog as t
from between.events.base import short_name
from between.fhir_r4.codes import (
    EXTENSION,
    IDENTIFIER,
    PARTICIPANT_TYPE,
    concept,
    fhir_id,
    identifier,
    ref,
)
from between.fhir_r4.records import ClientState, Context, NotificationState, response_ref


def communication(state: NotificationState, client: ClientState, ctx: Context) -> dict:
    row = state.row
    out: dict[str, Any] = {
        "resourceType": "Communication",
        "id": fhir_id("Communication", state.id),
        "identifier": [identifier("notification", state.id)],
        "status": "completed",
        "category": [concept("notification-kind", row["kind"])],
        "medium": [concept("channel", row["channel"])],
        "subject": ref("Patient", client.id),
        "sent": state.delivered_at.isoformat() if state.delivered_at else row["last_attempt_at"],
    }
    if row.get("assignment_id"):
        out["about"] = [ref("Task", row["assignment_id"])]
    recipient = _recipient(row["role"], state.person, client, ctx)
    if recipient is not None:
        out["recipient"] = [recipient]
    return out


def _recipient(role: str, person: Any, client: ClientState, ctx: Context) -> dict | None:
    if role == "client":
        return ref("Patient", client.id)
    if role == "therapist":
        return ctx.practitioner(client.row["therapist"])
    return client.person(person)  # a collaborator (unknown once the client is erased)


def targets(event: Any, client: ClientState, delivered: set) -> list[dict]:
    """The resources an event changed."""
    topic, kind = event.TOPIC, t.CATALOG[event.TOPIC].aggregate
    if topic == t.ENTRY_SUBMITTED:
        return [response_ref("entry", event.entry_id), ref("Task", event.originator_id)]
    if topic == t.ASSIGNMENT_REVIEWED:
        review = response_ref("review", event.originator_id, event.originator_version)
        return [review, ref("Task", event.originator_id)]
    if kind == t.ASSIGNMENT:
        return [ref("Task", event.originator_id)]
    if kind == t.NOTIFICATION:
        if event.originator_id in delivered:
            return [ref("Communication", event.originator_id)]
        assignment = getattr(event, "assignment_id", None)
        return [ref("Task", assignment) if assignment else ref("Patient", client.id)]
    if topic == t.COLLABORATOR_ADDED:
        return [ref("RelatedPerson", client.id, event.originator_version)]
    if topic in (t.CONTACT_DETAILS_CHANGED, t.CONSENT_RECORDED):
        return [client.person(event.person) or ref("Patient", client.id)]
    return [ref("Patient", client.id)]


def provenance(
    event: Any, position: int, seq: int, chain: bytes, targets: list[dict], ctx: Context
) -> dict:
    """One event: what it changed, who did it, when, and where it is in the chained log."""
    entered = event.TOPIC == t.ENTRY_SUBMITTED  # the client (or a collaborator) authored it
    link = chain.hex()
    out: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": fhir_id("Provenance", event.originator_id, event.originator_version),
        "extension": [
            {"url": EXTENSION["log-position"], "valueInteger": position},
            {"url": EXTENSION["log-chain"], "valueString": link},
        ],
        "target": targets,
        "recorded": event.timestamp.isoformat(),
        "activity": concept("event-type", short_name(event)),
        "agent": [
            {
                "type": {
                    "coding": [
                        {"system": PARTICIPANT_TYPE, "code": "enterer" if entered else "author"}
                    ]
                },
                "who": ctx.actor(event.actor),
            }
        ],
        "entity": [
            {
                "role": "source",
                "what": {
                    "identifier": {
                        "system": IDENTIFIER["checkpoint"],
                        "value": str(Checkpoint(seq, link[:CHECKPOINT_HEX])),
                    },
                    "display": f"event #{seq} of the Between log, at position {position}",
                },
            }
        ],
    }
    if entered:
        out["occurredDateTime"] = event.occurred_at.isoformat()
    return out
