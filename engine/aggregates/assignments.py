"""The assignment aggregate: one homework task and the rules of its life.

proposed ──agree──▶ agreed ──review(close|step-up)──▶ closed
   │  ▲                │ └──review(modify)──▶ proposed
 adjust │           submit, review(continue), close, cancel
   ▼  │
decline ▶ declined          cancel (from proposed or agreed) ▶ cancelled
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from between.engine.errors import RuleViolation
from between.engine.folds.assignment_state import AssignmentState
from between.engine.work.envelope import Envelope
from between.events import assignments as ev
from between.events.base import stable_topic
from between.language import N_

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
    def propose(
        cls,
        envelope: Envelope,
        *,
        id: UUID | None = None,
        client_id: UUID,
        client: str,
        task_type: str,
        instructions: str,
        parameters: dict,
        stage: str,
        difficulty: int,
        rationale: str,
        due: str,
        expected_entries: int,
        steps_up_from: UUID | None,
        observers: list,
        template: str | None = None,
        template_version: str | None = None,
        protocol: str | None = None,
        protocol_step: int | None = None,
    ) -> Assignment:
        return cls._create(
            ev.AssignmentProposed,
            id=id or uuid4(),
            client_id=client_id,
            client=client,
            task_type=task_type,
            instructions=instructions,
            parameters=parameters,
            stage=stage,
            difficulty=difficulty,
            rationale=rationale,
            due=due,
            expected_entries=expected_entries,
            steps_up_from=steps_up_from,
            observers=observers,
            template=template,
            template_version=template_version,
            protocol=protocol,
            protocol_step=protocol_step,
            **envelope,
        )

    # -- commands ------------------------------------------------------------------------

    def adjust(self, changes: dict, envelope: Envelope) -> None:
        self._require(N_("adjust"), "proposed")
        self.trigger_event(
            ev.AssignmentAdjusted, client_id=self.client_id, changes=changes, **envelope
        )

    def agree(
        self,
        confidence: int | None,
        obstacles: str,
        envelope: Envelope,
        *,
        via: str | None = None,
    ) -> None:
        self._require(N_("agree to"), "proposed")
        self.trigger_event(
            ev.AssignmentAgreed,
            client_id=self.client_id,
            confidence=confidence,
            obstacles=obstacles,
            via=via,
            **envelope,
        )

    def decline(self, reason: str, envelope: Envelope, *, via: str | None = None) -> None:
        self._require(N_("decline"), "proposed")
        self.trigger_event(
            ev.AssignmentDeclined, client_id=self.client_id, reason=reason, via=via, **envelope
        )

    def send_note(self, kind: str, text: str, by: str, via: str, envelope: Envelope) -> None:
        """A note from the client (or a collaborator) to the therapist: on homework proposed
        or agreed, never once it has ended."""
        self._require(
            N_("send a note about"),
            "proposed",
            "agreed",
            why=N_("notes are for homework still open"),
        )
        self.trigger_event(
            ev.ClientNoteSent,
            client_id=self.client_id,
            kind=kind,
            text=text,
            by=by,
            via=via,
            **envelope,
        )

    def submit(
        self,
        by: str,
        occurred_at: datetime,
        fields: dict,
        schema_version: int,
        envelope: Envelope,
        entry_id: UUID | None = None,
        *,
        via: str | None = None,
    ) -> UUID:
        self.require_entries_allowed()
        entry_id = entry_id or uuid4()
        self.trigger_event(
            ev.EntrySubmitted,
            client_id=self.client_id,
            entry_id=entry_id,
            by=by,
            occurred_at=occurred_at,
            fields=fields,
            task_type=self.task_type,
            schema_version=schema_version,
            via=via,
            **envelope,
        )
        return entry_id

    def require_entries_allowed(self) -> None:
        self._require(N_("record an entry on"), "agreed", why=N_("no entries before agreement"))

    def review(
        self,
        next_step: str,
        next_due: str | None,
        envelope: Envelope,
        *,
        quantity: int,
        quality: int,
        difficulty: int,
        obstacles: str,
        notes: str,
    ) -> None:
        self._require(N_("review"), "agreed", why=N_("a review needs an agreed assignment"))
        self.trigger_event(
            ev.AssignmentReviewed,
            client_id=self.client_id,
            next_step=next_step,
            next_due=next_due,
            quantity=quantity,
            quality=quality,
            difficulty=difficulty,
            obstacles=obstacles,
            notes=notes,
            **envelope,
        )
        if next_step in ("close", "step-up"):
            self._closed(f"reviewed: {next_step}", envelope)

    def cancel(self, reason: str, envelope: Envelope) -> None:
        self._require(N_("cancel"), "proposed", "agreed")
        self.trigger_event(
            ev.AssignmentCancelled, client_id=self.client_id, reason=reason, **envelope
        )

    def close(self, reason: str, envelope: Envelope) -> None:
        self._require(
            N_("close"), "agreed", why=N_("only agreed homework is closed; cancel a proposal")
        )
        self._closed(reason, envelope)

    def _closed(self, reason: str, envelope: Envelope) -> None:
        self.trigger_event(ev.AssignmentClosed, client_id=self.client_id, reason=reason, **envelope)

    def _require(self, doing: str, *allowed: str, why: str = "") -> None:
        status = self.row["status"]
        if status in allowed:
            return
        said = {"doing": doing, "ref": self.short_id, "status": status}
        if status in ("closed", "cancelled", "declined"):
            raise RuleViolation(
                "cannot %(doing)s assignment %(ref)s: it is %(status)s "
                "(no changes after it has ended)",
                **said,
            )
        if why:
            raise RuleViolation(
                "cannot %(doing)s assignment %(ref)s: it is %(status)s (%(why)s)", why=why, **said
            )
        raise RuleViolation(
            "cannot %(doing)s assignment %(ref)s: it is %(status)s "
            "(only %(allowed)s homework can be changed this way)",
            allowed=" or ".join(allowed),
            **said,
        )


stable_topic(Assignment, Assignment.AGGREGATE_TOPIC)
