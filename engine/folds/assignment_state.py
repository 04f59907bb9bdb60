"""What an assignment's events make of it: the state the ``Assignment`` aggregate keeps, and
that ``show`` describes.

A plain class, apart from eventsourcing: each event is folded by its stored topic
(``event.TOPIC``), so the light reading path (``engine.reading.light_records``) folds plain decoded
events
(``engine.reading.plain``) into it without importing the event classes or the framework, and
``engine.aggregates.assignments.Assignment`` adds the commands on top of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from between.engine.folds.assignment_rows import assignment_row
from between.engine.reading.views import ERASED, iso
from between.events.catalog import (
    AGGREGATE_TOPICS,
    ASSIGNMENT,
    ASSIGNMENT_ADJUSTED,
    ASSIGNMENT_AGREED,
    ASSIGNMENT_CANCELLED,
    ASSIGNMENT_CLOSED,
    ASSIGNMENT_DECLINED,
    ASSIGNMENT_PROPOSED,
    ASSIGNMENT_REVIEWED,
    CLIENT_NOTE_SENT,
    ENTRY_SUBMITTED,
    NAMESPACE,
)

if TYPE_CHECKING:
    from uuid import UUID


class AssignmentState:
    """One homework task as its events leave it (no ``__init__``: the first event sets it up,
    as eventsourcing's metaclass wants for the aggregate built on this class)."""

    #: The topic of the event an assignment's life starts with.
    STARTED = ASSIGNMENT_PROPOSED
    #: The stored topic of the aggregate (``originator_topic`` of its first event).
    AGGREGATE_TOPIC = AGGREGATE_TOPICS[ASSIGNMENT]
    #: Whether the state keeps what grows with its events: each agreement, entry, review and
    #: request key. The aggregate and ``show`` need them; a reader that handles each event as
    #: it comes (the FHIR export) sets False, so its memory holds none of their contents.
    KEEPS_HISTORY = True

    id: UUID
    row: dict
    client_id: UUID
    task_type: str
    instructions: Any
    parameters: Any
    rationale: Any
    observers: Any
    template: str | None
    template_version: str | None
    protocol: str | None
    protocol_step: int | None
    agreement: dict | None
    agreements: list[dict]
    decline_reason: str | None
    end_reason: str | None
    entries: list[dict]
    reviews: list[dict]
    client_notes: list[dict]
    request_keys: dict[str, dict]

    @property
    def short_id(self) -> str:
        return self.id.hex[:8]

    @property
    def label(self) -> str:
        return f"assignment {self.short_id}"

    @property
    def status(self) -> str:
        return self.row["status"]

    @property
    def erased(self) -> bool:
        """Whether the client's key is gone (personal fields read as ``ERASED``)."""
        return self.instructions == ERASED

    def evolve(self, event: Any) -> None:
        """Fold one event into the state (by its stored topic)."""
        fold = _FOLDS.get(getattr(event, "TOPIC", ""))
        if fold is None:
            raise TypeError(f"not an assignment event: {type(event).__name__}")
        fold(self, event)

    def _proposed(self, event: Any) -> None:
        self.row = assignment_row(event, None)
        self.client_id = event.client_id
        self.task_type = event.task_type
        self.instructions = event.instructions
        self.parameters = event.parameters
        self.rationale = event.rationale
        self.observers = event.observers
        self.template = getattr(event, "template", None)
        self.template_version = getattr(event, "template_version", None)
        self.protocol = getattr(event, "protocol", None)
        self.protocol_step = getattr(event, "protocol_step", None)
        self.agreement = None
        self.agreements = []
        self.decline_reason = None
        self.end_reason = None
        self.entries = []
        self.reviews = []
        self.client_notes = []
        self.request_keys = {}
        self._remember(event, str(event.originator_id))

    def _adjusted(self, event: Any) -> None:
        self.row = assignment_row(event, self.row)
        for name in ("instructions", "parameters", "rationale", "observers"):
            if name in event.changes:
                setattr(self, name, event.changes[name])
        self._remember(event)

    def _agreed(self, event: Any) -> None:
        self.row = assignment_row(event, self.row)
        self.agreement = {"confidence": event.confidence, "obstacles": event.obstacles}
        if self.KEEPS_HISTORY:
            self.agreements.append(
                {
                    "at": iso(event.timestamp),
                    "by": event.actor,
                    "confidence": event.confidence,
                    "obstacles": event.obstacles,
                    "via": event.via,
                }
            )
        self._remember(event)

    def _declined(self, event: Any) -> None:
        self.row = assignment_row(event, self.row)
        self.decline_reason = event.reason
        self._remember(event)

    def _entry(self, event: Any) -> None:
        self.row = assignment_row(event, self.row)
        if self.KEEPS_HISTORY:
            self.entries.append(
                {
                    "id": str(event.entry_id),
                    "by": event.by,
                    "occurred_at": iso(event.occurred_at),
                    "recorded_at": iso(event.timestamp),
                    "recorded_by": event.actor,
                    "via": event.via,
                    "task_type": event.task_type,
                    "schema_version": event.schema_version,
                    "fields": event.fields,
                }
            )
        self._remember(event, str(event.entry_id))

    def _reviewed(self, event: Any) -> None:
        self.row = assignment_row(event, self.row)
        if self.KEEPS_HISTORY:
            self.reviews.append(
                {
                    **self.row["last_review"],
                    "obstacles": event.obstacles,
                    "notes": event.notes,
                    "next_due": event.next_due,
                }
            )
        self._remember(event)

    def _note(self, event: Any) -> None:
        self.row = assignment_row(event, self.row)
        if self.KEEPS_HISTORY:
            self.client_notes.append(
                {
                    "at": iso(event.timestamp),
                    "kind": event.kind,
                    "by": event.by,
                    "text": event.text,
                    "via": event.via,
                }
            )
        self._remember(event)

    def _ended(self, event: Any) -> None:
        self.row = assignment_row(event, self.row)
        self.end_reason = event.reason
        self._remember(event)

    def _remember(self, event: Any, result: str | None = None) -> None:
        key = event.request_key
        if key and self.KEEPS_HISTORY and key not in self.request_keys:
            name = event.TOPIC.removeprefix(NAMESPACE)
            self.request_keys[key] = {"event": name, "result": result}

    def detail(self) -> dict:
        """The ``show`` view: the summary row plus the homework's full contents."""
        return {
            **self.row,
            "instructions": self.instructions,
            "parameters": self.parameters,
            "rationale": self.rationale,
            "observers": self.observers,
            "template": self.template,
            "template_version": self.template_version,
            "protocol": self.protocol,
            "protocol_step": self.protocol_step,
            "agreement": self.agreement,
            "agreements": self.agreements,
            "decline_reason": self.decline_reason,
            "end_reason": self.end_reason,
            "entry_list": self.entries,
            "review_list": self.reviews,
            "client_notes_list": self.client_notes,
        }


#: Each assignment event's fold, by stored topic.
_FOLDS: dict[str, Callable[[AssignmentState, Any], None]] = {
    ASSIGNMENT_PROPOSED: AssignmentState._proposed,
    ASSIGNMENT_ADJUSTED: AssignmentState._adjusted,
    ASSIGNMENT_AGREED: AssignmentState._agreed,
    ASSIGNMENT_DECLINED: AssignmentState._declined,
    ENTRY_SUBMITTED: AssignmentState._entry,
    ASSIGNMENT_REVIEWED: AssignmentState._reviewed,
    ASSIGNMENT_CANCELLED: AssignmentState._ended,
    ASSIGNMENT_CLOSED: AssignmentState._ended,
    CLIENT_NOTE_SENT: AssignmentState._note,
}
#: The topics folded into an assignment's state.
TOPICS = frozenset(_FOLDS)
