"""Facts about one homework assignment, from proposal to closing."""

from __future__ import annotations

from dataclasses import field
from datetime import datetime
from uuid import UUID

from between.events import catalog
from between.events.base import Fact, Started, topic


@topic(catalog.ASSIGNMENT_PROPOSED)
class AssignmentProposed(Started):
    """The therapist proposed homework; nothing is due until the client agrees."""

    client_id: UUID
    client: str
    task_type: str
    instructions: str
    parameters: dict
    stage: str
    difficulty: int
    rationale: str
    due: str
    expected_entries: int
    steps_up_from: UUID | None
    observers: list
    #: Added later (older events read None): the template the homework was assigned from,
    #: and that template's version.
    template: str | None = field(default=None, kw_only=True)
    template_version: str | None = field(default=None, kw_only=True)
    #: Added later (older events read None): the protocol the homework is a step of, and
    #: which step (1-based).
    protocol: str | None = field(default=None, kw_only=True)
    protocol_step: int | None = field(default=None, kw_only=True)


class AssignmentFact(Fact):
    """A fact about an existing assignment; ``client_id`` says whose it is."""

    client_id: UUID


@topic(catalog.ASSIGNMENT_ADJUSTED)
class AssignmentAdjusted(AssignmentFact):
    """Therapist and client changed the proposal together, before agreeing."""

    changes: dict


@topic(catalog.ASSIGNMENT_AGREED)
class AssignmentAgreed(AssignmentFact):
    """The client agreed to do the homework."""

    confidence: int | None
    obstacles: str
    #: Added later (None on agreements recorded before it existed): the way in — "cli", or
    #: "portal" when the client agreed through their personal link.
    via: str | None = field(default=None, kw_only=True)


@topic(catalog.ASSIGNMENT_DECLINED)
class AssignmentDeclined(AssignmentFact):
    """The client declined the homework, and said why."""

    reason: str
    #: Added later (None on declines recorded before it existed): the way in — "cli", or
    #: "portal" when the client declined through their personal link.
    via: str | None = field(default=None, kw_only=True)


@topic(catalog.ENTRY_SUBMITTED)
class EntrySubmitted(AssignmentFact):
    """An entry recorded by the client or a named collaborator.

    ``occurred_at`` is when the thing happened; the event's ``timestamp`` is when it was
    recorded. ``task_type``/``schema_version`` say which entry schema validated ``fields``.
    """

    entry_id: UUID
    by: str
    occurred_at: datetime
    fields: dict
    task_type: str
    schema_version: int
    #: Added later (None on entries recorded before it existed): the way in — "cli",
    #: "portal" (a personal link), "api" (a signed integration) or "import".
    via: str | None = field(default=None, kw_only=True)


@topic(catalog.ASSIGNMENT_REVIEWED)
class AssignmentReviewed(AssignmentFact):
    """The therapist reviewed the homework at the start of a session (ratings 0–4)."""

    quantity: int
    quality: int
    difficulty: int
    obstacles: str
    notes: str
    next_step: str
    next_due: str | None


@topic(catalog.ASSIGNMENT_CANCELLED)
class AssignmentCancelled(AssignmentFact):
    """The homework was withdrawn before it was finished."""

    reason: str


@topic(catalog.ASSIGNMENT_CLOSED)
class AssignmentClosed(AssignmentFact):
    """The homework is finished; nothing more can be recorded on it."""

    reason: str


@topic(catalog.CLIENT_NOTE_SENT)
class ClientNoteSent(AssignmentFact):
    """The client, or a collaborator observing the homework, told the therapist something
    between sessions: ``kind`` is "too-hard", "question", "got-in-the-way" or "change" (a
    change asked for instead of agreeing); ``text`` what they wrote ("" when they wrote
    nothing), ``by`` who ("client" or the collaborator's name), ``via`` the way in."""

    kind: str
    text: str
    by: str
    via: str


ASSIGNMENT_EVENTS = (
    AssignmentProposed,
    AssignmentAdjusted,
    AssignmentAgreed,
    AssignmentDeclined,
    EntrySubmitted,
    AssignmentReviewed,
    AssignmentCancelled,
    AssignmentClosed,
    ClientNoteSent,
)
