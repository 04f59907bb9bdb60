"""What the export remembers about each record while it walks the log.

A record is folded from its events (with the same row functions the read models use, so a
Task's status always matches ``between list``) and forgotten once its last event has been
exported. ``Context`` is what every resource needs: the task types, who is a therapist, and
which practitioners and questionnaires the exported resources refer to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from between.engine.rows import ROW_FOLDERS
from between.engine.tasktypes import Schema, TaskType
from between.events import assignments as a
from between.events import clients as c
from between.events import notifications as n
from between.fhir_r4.codes import IDENTIFIER, fhir_id, kept, ref
from between.fhir_r4.questionnaires import REVIEW, REVIEW_NAME, canonical

STAGES = ("baseline", "practice", "relapse-prevention")


def owner_of(event: Any) -> UUID | None:
    """The client an event is about (None for the operator list)."""
    if isinstance(event, c.CLIENT_EVENTS):
        return event.originator_id
    return getattr(event, "client_id", None)


@dataclass
class ClientState:
    """A client: the summary row, name, collaborators, contacts and their Tasks so far."""

    id: UUID
    row: dict = field(default_factory=dict)
    name: Any = None
    collaborators: dict[int, dict] = field(default_factory=dict)  # by the version adding them
    by_name: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, Any] = field(default_factory=dict)
    tasks: list[tuple[int, int, UUID]] = field(default_factory=list)  # stage, order, id

    def fold(self, event: Any) -> None:
        self.row = ROW_FOLDERS[event.TOPIC](event, self.row or None)
        if isinstance(event, c.ClientRegistered):
            self.name = event.name
        elif isinstance(event, c.CollaboratorAdded):
            version = event.originator_version
            self.collaborators[version] = {"name": event.name, "relationship": event.relationship}
            if kept(event.name) is not None:
                self.by_name[event.name] = version
        elif isinstance(event, c.ContactDetailsChanged):
            contacts = event.contacts if isinstance(event.contacts, dict) else {}
            self.contacts[event.person] = {**self.contacts.get(event.person, {}), **contacts}

    def person(self, name: Any) -> dict | None:
        """A reference to whoever ``name`` is: the client, or one of their collaborators."""
        if name == "client":
            return ref("Patient", self.id)
        version = self.by_name.get(name) if isinstance(name, str) else None
        return None if version is None else ref("RelatedPerson", self.id, version)

    def add_task(self, stage: str, order: int, assignment: UUID) -> None:
        rank = STAGES.index(stage) if stage in STAGES else len(STAGES)
        self.tasks.append((rank, order, assignment))


@dataclass
class AssignmentState:
    """An assignment: its list row plus what the row leaves out (its texts, reasons)."""

    id: UUID
    order: int  # the position of its proposal: Tasks are listed in this order
    row: dict = field(default_factory=dict)
    instructions: Any = None
    rationale: Any = None
    parameters: Any = None
    decline_reason: Any = None
    end_reason: Any = None
    outputs: list[tuple[str, dict]] = field(default_factory=list)  # (entry|review, ref)

    def fold(self, event: Any) -> None:
        self.row = ROW_FOLDERS[event.TOPIC](event, self.row or None)
        if isinstance(event, a.AssignmentProposed):
            self.instructions = event.instructions
            self.rationale = event.rationale
            self.parameters = event.parameters
        elif isinstance(event, a.AssignmentAdjusted) and isinstance(event.changes, dict):
            for name in ("instructions", "rationale", "parameters"):
                if name in event.changes:
                    setattr(self, name, event.changes[name])
        elif isinstance(event, a.AssignmentDeclined):
            self.decline_reason = event.reason
        elif isinstance(event, a.AssignmentCancelled | a.AssignmentClosed):
            self.end_reason = event.reason


@dataclass
class NotificationState:
    """A notification: who was to hear what, on which channel, and when it was delivered."""

    id: UUID
    row: dict = field(default_factory=dict)
    person: Any = None
    delivered_at: datetime | None = None

    def fold(self, event: Any) -> None:
        self.row = ROW_FOLDERS[event.TOPIC](event, self.row or None)
        if isinstance(event, n.NotificationQueued):
            self.person = event.person
        elif isinstance(event, n.DeliveryAttempted) and event.outcome == "delivered":
            self.delivered_at = self.delivered_at or event.timestamp


@dataclass
class Context:
    """What every resource needs, and what they referred to (exported at the end)."""

    task_types: Mapping[str, TaskType]
    therapists: set[str]  # every therapist in the log: an actor who is one is a Practitioner
    include_personal: bool = False
    practitioners: set[str] = field(default_factory=set)
    questionnaires: set[tuple[str, int]] = field(default_factory=set)

    def practitioner(self, name: str) -> dict:
        self.practitioners.add(name)
        return ref("Practitioner", name)

    def actor(self, name: str) -> dict:
        """Whoever issued a command: a therapist's Practitioner, or an operator's identifier."""
        if name in self.therapists:
            return {**self.practitioner(name), "display": name}
        return {"identifier": {"system": IDENTIFIER["operator"], "value": name}, "display": name}

    def questionnaire(self, task_type: str, version: int) -> str:
        """The canonical reference of a questionnaire, which the export will include."""
        self.questionnaires.add((task_type, version))
        return canonical(task_type, version)

    def current_version(self, task_type: str) -> int:
        known = self.task_types.get(task_type)
        return known.entries.version if known is not None else 1

    def schema(self, task_type: str, version: int) -> Schema | None:
        """The entry schema of this version, if it is the one loaded (else unknown)."""
        if task_type == REVIEW_NAME:
            return REVIEW
        known = self.task_types.get(task_type)
        if known is None or known.entries.version != version:
            return None
        return known.entries


def response_id(kind: str, *parts: Any) -> str:
    """The id of an entry's (``entry``, entry id) or a review's (``review``, assignment id,
    version) QuestionnaireResponse."""
    return fhir_id("QuestionnaireResponse", kind, *parts)


def response_ref(kind: str, *parts: Any) -> dict[str, str]:
    return {"reference": f"QuestionnaireResponse/{response_id(kind, *parts)}"}
