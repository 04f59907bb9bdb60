"""The assignment aggregate: one homework task and the rules of its life.

proposed ──agree──▶ agreed ──review(close|step-up)──▶ closed
   │  ▲                │ └──review(modify)──▶ proposed
 adjust │           submit, review(continue), close, cancel
   ▼  │
decline ▶ declined          cancel (from proposed or agreed) ▶ cancelled
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from between.engine.errors import RuleViolation
from between.engine.folds.assignment_state import AssignmentState
from between.events import assignments as ev
from between.events.base import stable_topic

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


class Assignment(AssignmentState, Aggregate):
    """One homework task for one client: its state (``engine.folds.assignment_state``) and the
    commands that change it."""

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


stable_topic(Assignment, Assignment.AGGREGATE_TOPIC)
