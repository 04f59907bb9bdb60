"""What the export remembers about each record while it walks the log.

A client or an assignment is folded from its events by the engine's own folds (the state its
aggregates keep and ``show`` describes, with the row functions the read models use, so a Task's
status always matches ``between list``), keeping none of what grows with the events, and
forgotten once its last event has been exported. ``Context`` is what every resource needs:
the task types, who is a therapist, and which practitioners and questionnaires the exported
resources refer to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from between.engine.contracts.task_types import Schema, TaskType
from between.engine.folds import assignment_state, client_state
from between.engine.folds.rows import ROW_FOLDERS
from between.events import catalog as t
from between.fhir_r4.codes import IDENTIFIER, fhir_id, kept, ref
from between.fhir_r4.questionnaires import REVIEW, REVIEW_NAME, canonical

STAGES = ("baseline", "practice", "relapse-prevention")


def owner_of(event: Any) -> UUID | None:
    """The client an event is about (None for the operator list)."""
    if t.CATALOG[event.TOPIC].aggregate == t.CLIENT:
        return event.originator_id
    return getattr(event, "client_id", None)


class ClientState(client_state.ClientState):
    """A client as the engine folds them (``engine.folds.client_state``), with the Tasks of
    theirs exported so far; none of what grows with their events is kept."""

    KEEPS_HISTORY = False

    def __init__(self, id: UUID) -> None:
        self.id = id
        self.tasks: list[tuple[int, int, UUID]] = []  # stage, order, id

    def person(self, name: Any) -> dict | None:
        """A reference to whoever ``name`` is: the client, or one of their collaborators."""
        if name == "client":
            return ref("Patient", self.id)
        if not isinstance(name, str) or kept(name) is None:
            return None
        added = [v for v, p in self.collaborator_events.items() if p["name"] == name]
        return ref("RelatedPerson", self.id, max(added)) if added else None

    def add_task(self, stage: str, order: int, assignment: UUID) -> None:
        rank = STAGES.index(stage) if stage in STAGES else len(STAGES)
        self.tasks.append((rank, order, assignment))


class AssignmentState(assignment_state.AssignmentState):
    """An assignment as the engine folds it (``engine.folds.assignment_state``), with where
    it was proposed and the responses it has produced; no entry's contents are kept."""

    KEEPS_HISTORY = False

    def __init__(self, id: UUID, order: int) -> None:
        self.id = id
        self.order = order  # the position of its proposal: Tasks are listed in this order
        self.outputs: list[tuple[str, dict]] = []  # (entry|review, ref)


@dataclass
class NotificationState:
    """A notification: who was to hear what, on which channel, and when it was delivered."""

    id: UUID
    row: dict = field(default_factory=dict)
    person: Any = None
    delivered_at: datetime | None = None

    def fold(self, event: Any) -> None:
        self.row = ROW_FOLDERS[event.TOPIC](event, self.row or None)
        keep = NOTIFICATION_FOLDS[event.TOPIC]
        if keep is not None:
            keep(self, event)

    def _queued(self, event: Any) -> None:
        self.person = event.person

    def _attempted(self, event: Any) -> None:
        if event.outcome == "delivered":
            self.delivered_at = self.delivered_at or event.timestamp


#: What a notification's events add to its state beyond the summary row, by topic (None: the
#: row is all). A topic of an exported record missing here fails the export (and its test).
NOTIFICATION_FOLDS: dict[str, Callable[[NotificationState, Any], None] | None] = {
    t.NOTIFICATION_QUEUED: NotificationState._queued,
    t.DELIVERY_ATTEMPTED: NotificationState._attempted,
    t.DELIVERY_RETRY_REQUESTED: None,
    t.DELIVERY_HELD: None,
    t.NOTIFICATION_CANCELLED: None,
    t.NOTIFICATION_DEFERRED: None,
}
#: The topics the export folds into a resource, and those it leaves out on purpose (the
#: operator list is no client's record: only the Practitioners it names are exported).
TOPICS = frozenset({*client_state.TOPICS, *assignment_state.TOPICS, *NOTIFICATION_FOLDS})
SKIPS = frozenset(
    {t.OPERATORS_LIST_STARTED, t.OPERATOR_ADDED, t.OPERATOR_REMOVED, t.OPERATORS_REQUIRED}
)


@dataclass
class Context:
    """What every resource needs, and what they referred to (exported at the end)."""

    task_types: Mapping[str, TaskType]
    therapists: set[str]  # every therapist in the log: an actor who is one is a Practitioner
    include_personal: bool = False
    practitioners: set[str] = field(default_factory=set)
    questionnaires: set[tuple[str, int]] = field(default_factory=set)
    #: The template versions the exported Tasks instantiate: (name, version) → task type.
    templates: dict[tuple[str, str], str] = field(default_factory=dict)

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

    def activity(self, name: str, version: str, task_type: str) -> str:
        """The canonical reference of a template's ActivityDefinition, which the export will
        include."""
        from between.fhir_r4.library import activity_canonical

        self.templates.setdefault((name, version), task_type)
        return activity_canonical(name, version)

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
