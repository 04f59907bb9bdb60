"""Commands on assignments: propose, adjust, agree, submit entries, review, and the endings.

Each validates its input (the fields of a proposal and of an adjustment with one table),
then changes the ``Assignment`` aggregate through the unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from between.engine import validate
from between.engine.aggregates.assignments import ADJUSTABLE, NEXT_STEPS, Assignment
from between.engine.aggregates.clients import Client
from between.engine.contracts.guarded import validated
from between.engine.errors import InvalidInput, RuleViolation
from between.engine.reading.full import Reading
from between.engine.reading.views import STAGES
from between.engine.work.entries import record_entry
from between.engine.work.unit import Outcome
from between.events.catalog import (
    ASSIGNMENT_ADJUSTED,
    ASSIGNMENT_AGREED,
    ASSIGNMENT_CANCELLED,
    ASSIGNMENT_CLOSED,
    ASSIGNMENT_DECLINED,
    ASSIGNMENT_PROPOSED,
    ASSIGNMENT_REVIEWED,
)
from between.language import N_

ASSIGNMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://between.invalid/assignment")

#: How each field of an assignment is checked, given today's date (for due dates).
FIELD_CHECKS: dict[str, Callable[[Any, date], Any]] = {
    "instructions": lambda v, _: validate.text("instructions", v),
    "rationale": lambda v, _: validate.text("rationale", v),
    "stage": lambda v, _: validate.choice("stage", v, STAGES),
    "difficulty": lambda v, _: validate.integer("difficulty", v, 1, 10),
    "due": lambda v, today: validate.due_date(v, today),
    "expected_entries": lambda v, _: validate.integer("expected entries", v, 1, 1000),
    "parameters": lambda v, _: validate.payload("parameters", dict(v)),
    "observers": lambda v, _: [validate.text("observer", o, limit=200) for o in v],
}

#: The commands that end (or refuse) an assignment with a reason: the aggregate's method for
#: each, and the event it records.
ENDINGS: dict[str, tuple[Callable[..., None], str]] = {
    "decline": (Assignment.decline, ASSIGNMENT_DECLINED),
    "cancel": (Assignment.cancel, ASSIGNMENT_CANCELLED),
    "close": (Assignment.close, ASSIGNMENT_CLOSED),
}


def check_fields(
    values: dict[str, Any], today: date, allow_past_due: bool = False
) -> dict[str, Any]:
    """Each field checked (see ``FIELD_CHECKS``), in the order given; a due date must not be
    before ``today`` unless ``allow_past_due`` (see ``not_past``)."""
    checked = {name: FIELD_CHECKS[name](value, today) for name, value in values.items()}
    if "due" in checked:
        not_past(checked["due"], today, allow_past_due)
    return checked


def not_past(due: str, today: date, allow_past_due: bool) -> str:
    """Refuse a due date (ISO text) before ``today``: homework agreed now cannot already be
    late. ``allow_past_due`` is for back-filling records of homework set earlier."""
    if not allow_past_due and due < today.isoformat():
        raise InvalidInput(
            "due date %(due)s is before today (%(today)s): give today or a later date, "
            "or +N days; to back-fill an earlier record, add --allow-past-due",
            due=due,
            today=today.isoformat(),
        )
    return due


def checked_agreement(confidence: int | None, obstacles: str) -> tuple[int | None, str]:
    """An agreement's confidence (0–10, or None) and anticipated obstacles, checked."""
    if confidence is not None:
        confidence = validate.integer("confidence", confidence, 0, 10)
    return confidence, validate.text("obstacles", obstacles, required=False)


def require_collaborators(client: Client | None, observers: list[str]) -> None:
    """Observers must be collaborators the client added."""
    unknown = [o for o in observers if client is None or o not in client.collaborators]
    if unknown:
        raise RuleViolation(
            "%(unknown)s not a collaborator of this client; add them first with "
            "'between client collaborator'",
            unknown=", ".join(unknown),
        )


def _arguments(given: dict[str, Any], *naming_the_record: str) -> dict[str, Any]:
    """A command's arguments as given (its ``locals()`` taken first thing), less those that
    only name the record, for its request fingerprint (``engine.work.requests``)."""
    left_out = {"self", "actor", "request_key", *naming_the_record}
    return {k: v for k, v in given.items() if k not in left_out}


class AssignmentCommands(Reading):
    """Writes to assignments. Composed into ``Homework``."""

    def propose(
        self,
        code: str,
        task_type: str,
        *,
        instructions: str,
        rationale: str,
        stage: str,
        difficulty: int,
        due: str,
        expected_entries: int,
        parameters: dict[str, Any] | None = None,
        steps_up_from: str | None = None,
        observers: list[str] | None = None,
        actor: str,
        request_key: str | None = None,
        allow_past_due: bool = False,
        template: str | None = None,
        template_version: str | None = None,
        protocol: str | None = None,
        protocol_step: int | None = None,
    ) -> Outcome:
        """Propose homework; ``template`` and its version record where it came from."""
        given = _arguments(locals(), "allow_past_due")
        for key in (
            "template",
            "template_version",
            "protocol",
            "protocol_step",
        ):  # absent as before templates existed
            if given[key] is None:
                del given[key]
        envelope = self.work.authorise(actor, "propose", request_key, **given)
        kind = self.plugins.task_type(task_type)
        fields = check_fields(
            {
                "instructions": instructions,
                "rationale": rationale,
                "stage": stage,
                "difficulty": difficulty,
                "due": due,
                "expected_entries": expected_entries,
                "parameters": parameters or {},
                "observers": observers or [],
            },
            self.client_today(code),  # due dates are the client's days
            allow_past_due,
        )
        fields["parameters"] = validated(
            self.plugins, kind, "validate_parameters", fields["parameters"]
        )
        client = self._client(code)
        assignment_id = uuid5(ASSIGNMENT_NAMESPACE, request_key) if request_key else None
        if assignment_id:
            first = self.work.recorded(Assignment, assignment_id, request_key, ASSIGNMENT_PROPOSED)
            if first is not None:
                return first
        client.require_active(N_("propose homework"))
        require_collaborators(client, fields["observers"])
        previous = self._assignment(steps_up_from) if steps_up_from else None
        if previous and previous.client_id != client.id:
            raise RuleViolation(
                "assignment %(ref)s belongs to another client; a step-up "
                "follows on from the same client's homework",
                ref=previous.short_id,
            )
        assignment = Assignment.propose(
            envelope,
            id=assignment_id,
            client_id=client.id,
            client=client.code,
            task_type=kind.name,
            steps_up_from=previous.id if previous else None,
            template=template,
            template_version=template_version,
            protocol=protocol,
            protocol_step=protocol_step,
            **fields,
        )
        return self.work.create(assignment, request_key, ASSIGNMENT_PROPOSED)

    def adjust(
        self,
        ref: str,
        changes: dict[str, Any],
        *,
        actor: str,
        request_key: str | None = None,
        allow_past_due: bool = False,
    ) -> Outcome:
        envelope = self.work.authorise(actor, "adjust", request_key, changes=changes)
        unknown = set(changes) - set(ADJUSTABLE)
        if unknown:
            raise InvalidInput(
                "nothing to adjust: unknown %(unknown)s; adjustable: %(adjustable)s",
                unknown=", ".join(sorted(unknown)),
                adjustable=", ".join(ADJUSTABLE),
            )
        if not changes:
            raise InvalidInput(
                "nothing to adjust; adjustable: %(adjustable)s", adjustable=", ".join(ADJUSTABLE)
            )
        today = self.client_today(self._assignment(ref).client_id) if "due" in changes else None
        clean = check_fields(changes, today or self.today(), allow_past_due)

        def command(a: Assignment) -> None:
            final = dict(clean)
            if "parameters" in final:
                merged = {**a.parameters, **final["parameters"]}
                merged = {k: v for k, v in merged.items() if v not in (None, "")}
                kind = self.plugins.task_type(a.task_type)
                final["parameters"] = validated(self.plugins, kind, "validate_parameters", merged)
            if "observers" in final:
                require_collaborators(self.work.load(Client, a.client_id), final["observers"])
            a.adjust(final, envelope)

        return self._change_assignment(ref, command, request_key, ASSIGNMENT_ADJUSTED)

    def agree(
        self,
        ref: str,
        *,
        confidence: int | None = None,
        obstacles: str = "",
        actor: str,
        request_key: str | None = None,
        via: str | None = None,
    ) -> Outcome:
        """Record that the client agreed; ``via`` says the way in ("cli", "portal"; not part
        of the request's fingerprint, as for ``submit``)."""
        envelope = self.work.authorise(
            actor, "agree", request_key, confidence=confidence, obstacles=obstacles
        )
        confidence, obstacles = checked_agreement(confidence, obstacles)
        return self._change_assignment(
            ref,
            lambda a: a.agree(confidence, obstacles, envelope, via=via),
            request_key,
            ASSIGNMENT_AGREED,
        )

    def submit(
        self,
        ref: str,
        fields: dict[str, Any],
        *,
        by: str = "client",
        occurred_at: str | datetime | None = None,
        actor: str,
        request_key: str | None = None,
        via: str = "cli",
    ) -> Outcome:
        """Record an entry by the client or a collaborator (``by``); ``via`` says the way in.
        (``via`` is not part of the request's fingerprint: it is how, not what, was asked.)"""
        envelope = self.work.authorise(
            actor, "submit", request_key, fields=fields, by=by, occurred_at=occurred_at
        )
        return record_entry(
            self, lambda: self._assignment(ref), fields, by, occurred_at, via, envelope
        )

    def review(
        self,
        ref: str,
        *,
        quantity: int,
        quality: int,
        difficulty: int,
        next_step: str,
        obstacles: str = "",
        notes: str = "",
        next_due: str | None = None,
        actor: str,
        request_key: str | None = None,
        allow_past_due: bool = False,
    ) -> Outcome:
        envelope = self.work.authorise(
            actor, "review", request_key, **_arguments(locals(), "ref", "allow_past_due")
        )
        ratings: dict[str, Any] = {
            "quantity": validate.integer("quantity", quantity, 0, 4),
            "quality": validate.integer("quality", quality, 0, 4),
            "difficulty": validate.integer("difficulty", difficulty, 0, 4),
            "obstacles": validate.text("obstacles", obstacles, required=False),
            "notes": validate.text("notes", notes, required=False),
        }
        next_step = validate.choice("next step", next_step, NEXT_STEPS)
        if next_due is not None:
            if next_step != "continue":
                raise InvalidInput("a new due date goes with next step 'continue' only")
            today = self.client_today(self._assignment(ref).client_id)
            next_due = not_past(validate.due_date(next_due, today), today, allow_past_due)
        return self._change_assignment(
            ref,
            lambda a: a.review(next_step, next_due, envelope, **ratings),
            request_key,
            ASSIGNMENT_REVIEWED,
        )

    # -- endings: a reason, and one aggregate method each --------------------------------

    def decline(
        self,
        ref: str,
        *,
        reason: str,
        actor: str,
        request_key: str | None = None,
        via: str | None = None,
    ) -> Outcome:
        return self._end("decline", ref, reason, actor, request_key, via)

    def cancel(
        self, ref: str, *, reason: str, actor: str, request_key: str | None = None
    ) -> Outcome:
        return self._end("cancel", ref, reason, actor, request_key)

    def close_assignment(
        self, ref: str, *, reason: str = "done", actor: str, request_key: str | None = None
    ) -> Outcome:
        return self._end("close", ref, reason, actor, request_key)

    def _end(
        self,
        command: str,
        ref: str,
        reason: str,
        actor: str,
        request_key: str | None,
        via: str | None = None,
    ) -> Outcome:
        envelope = self.work.authorise(actor, command, request_key, reason=reason)
        reason = validate.text("reason", reason)
        end, event = ENDINGS[command]
        way = {"via": via} if via else {}  # only a decline says its way in

        def command_(a: Assignment) -> None:
            end(a, reason, envelope, **way)

        return self._change_assignment(ref, command_, request_key, event)

    def _change_assignment(
        self,
        ref: str,
        command: Callable[[Assignment], str | None],
        request_key: str | None,
        event: str,
    ) -> Outcome:
        """Change the assignment ``ref`` with ``command``, which records ``event``."""
        return self.work.change(lambda: self._assignment(ref), command, request_key, (event,))
