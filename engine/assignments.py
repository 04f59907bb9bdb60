"""The assignment aggregate: one homework task and the rules of its life.

proposed ──agree──▶ agreed ──review(close|step-up)──▶ closed
   │  ▲                │ └──review(modify)──▶ proposed
 adjust │           submit, review(continue), close, cancel
   ▼  │
decline ▶ declined          cancel (from proposed or agreed) ▶ cancelled
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from between.engine.errors import RuleViolation
from between.engine.rows import assignment_row, iso
from between.engine.views import ERASED
from between.events import assignments as ev
from between.events.base import short_name, stable_topic

NEXT_STEPS = ("continue", "step-up", "modify", "close")
ADJUSTABLE = (
    "instructions",
    "parameters",
    "stage",
    "difficulty",
    "rationale",
    "due",
    "expected_entries",
    "observers",
)


class Assignment(Aggregate):
    """One homework task for one client."""

    @classmethod
    def propose(cls, *, id: UUID | None = None, **fields: Any) -> Assignment:
        return cls._create(ev.AssignmentProposed, id=id or uuid4(), **fields)

    # -- commands ------------------------------------------------------------------------

    def adjust(self, changes: dict, **meta: Any) -> None:
        self._require("adjust", "proposed")
        self._fact(ev.AssignmentAdjusted, changes=changes, **meta)

    def agree(self, confidence: int | None, obstacles: str, **meta: Any) -> None:
        self._require("agree to", "proposed")
        self._fact(ev.AssignmentAgreed, confidence=confidence, obstacles=obstacles, **meta)

    def decline(self, reason: str, **meta: Any) -> None:
        self._require("decline", "proposed")
        self._fact(ev.AssignmentDeclined, reason=reason, **meta)

    def submit(
        self,
        by: str,
        occurred_at: datetime,
        fields: dict,
        schema_version: int,
        entry_id: UUID | None = None,
        *,
        via: str | None = None,
        **meta: Any,
    ) -> UUID:
        self.require_entries_allowed()
        entry_id = entry_id or uuid4()
        self._fact(
            ev.EntrySubmitted,
            entry_id=entry_id,
            by=by,
            occurred_at=occurred_at,
            fields=fields,
            task_type=self.task_type,
            schema_version=schema_version,
            via=via,
            **meta,
        )
        return entry_id

    def require_entries_allowed(self) -> None:
        self._require("record an entry on", "agreed", why="no entries before agreement")

    def review(self, next_step: str, next_due: str | None, **ratings: Any) -> None:
        self._require("review", "agreed", why="a review needs an agreed assignment")
        meta_keys = ("actor", "request_key", "timestamp", "request_fingerprint")
        meta = {k: ratings.pop(k) for k in meta_keys if k in ratings}
        self._fact(ev.AssignmentReviewed, next_step=next_step, next_due=next_due, **ratings, **meta)
        if next_step in ("close", "step-up"):
            self._fact(ev.AssignmentClosed, reason=f"reviewed: {next_step}", **meta)

    def cancel(self, reason: str, **meta: Any) -> None:
        self._require("cancel", "proposed", "agreed")
        self._fact(ev.AssignmentCancelled, reason=reason, **meta)

    def close(self, reason: str, **meta: Any) -> None:
        self._require("close", "agreed", why="only agreed homework is closed; cancel a proposal")
        self._fact(ev.AssignmentClosed, reason=reason, **meta)

    def _fact(self, event_class: type, **fields: Any) -> None:
        self.trigger_event(event_class, client_id=self.client_id, **fields)

    def _require(self, doing: str, *allowed: str, why: str = "") -> None:
        status = self.row["status"]
        if status not in allowed:
            if status in ("closed", "cancelled", "declined"):
                rule = "no changes after it has ended"
            else:
                rule = why or f"only {' or '.join(allowed)} homework can be changed this way"
            raise RuleViolation(
                f"cannot {doing} assignment {self.short_id}: it is {status} ({rule})"
            )

    # -- state ---------------------------------------------------------------------------

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

    @singledispatchmethod
    def evolve(self, event: Any) -> None:
        raise TypeError(f"not an assignment event: {type(event).__name__}")

    @evolve.register
    def _(self, event: ev.AssignmentProposed) -> None:
        self.row = assignment_row(event, None)
        self.client_id = event.client_id
        self.task_type = event.task_type
        self.instructions = event.instructions
        self.parameters = event.parameters
        self.rationale = event.rationale
        self.observers = event.observers
        self.agreement: dict | None = None
        self.decline_reason: str | None = None
        self.end_reason: str | None = None
        self.entries: list[dict] = []
        self.reviews: list[dict] = []
        self.request_keys: dict[str, dict] = {}
        self._remember(event, str(event.originator_id))

    @evolve.register
    def _(self, event: ev.AssignmentAdjusted) -> None:
        self.row = assignment_row(event, self.row)
        for name in ("instructions", "parameters", "rationale", "observers"):
            if name in event.changes:
                setattr(self, name, event.changes[name])
        self._remember(event)

    @evolve.register
    def _(self, event: ev.AssignmentAgreed) -> None:
        self.row = assignment_row(event, self.row)
        self.agreement = {"confidence": event.confidence, "obstacles": event.obstacles}
        self._remember(event)

    @evolve.register
    def _(self, event: ev.AssignmentDeclined) -> None:
        self.row = assignment_row(event, self.row)
        self.decline_reason = event.reason
        self._remember(event)

    @evolve.register
    def _(self, event: ev.EntrySubmitted) -> None:
        self.row = assignment_row(event, self.row)
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

    @evolve.register
    def _(self, event: ev.AssignmentReviewed) -> None:
        self.row = assignment_row(event, self.row)
        self.reviews.append(
            {
                **self.row["last_review"],
                "obstacles": event.obstacles,
                "notes": event.notes,
                "next_due": event.next_due,
            }
        )
        self._remember(event)

    @evolve.register
    def _(self, event: ev.AssignmentCancelled | ev.AssignmentClosed) -> None:
        self.row = assignment_row(event, self.row)
        self.end_reason = event.reason
        self._remember(event)

    def _remember(self, event: Any, result: str | None = None) -> None:
        key = event.request_key
        if key and key not in self.request_keys:
            self.request_keys[key] = {"event": short_name(event), "result": result}

    def detail(self) -> dict:
        """The ``show`` view: the summary row plus the homework's full contents."""
        return {
            **self.row,
            "instructions": self.instructions,
            "parameters": self.parameters,
            "rationale": self.rationale,
            "observers": self.observers,
            "agreement": self.agreement,
            "decline_reason": self.decline_reason,
            "end_reason": self.end_reason,
            "entry_list": self.entries,
            "review_list": self.reviews,
        }


stable_topic(Assignment, "between.Assignment")
