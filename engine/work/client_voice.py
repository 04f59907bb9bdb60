"""The client's voice between sessions, through their personal link.

From a homework page the client — or a collaborator, on homework they observe — tells the
therapist "this is too hard", "I have a question" or "something got in the way"
(``send_note_as``: ``ClientNoteSent``). On homework proposed to them the client agrees
(``agree_as``), asks for a change (a note of kind "change"; the homework stays proposed) or
declines (``decline_as``): the same events and checks as ``between agree``/``decline``, with
actor "client" and ``via`` "portal". Only the client agrees or declines; a collaborator's
link is refused as if the homework were not theirs to answer. The link is the permission, as
for ``submit_as`` (``engine.work.links``): the operator list is not consulted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from between.engine import validate
from between.engine.errors import InvalidEntry, InvalidInput, NotFound, StoreError
from between.engine.reading.full import Reading
from between.engine.work.assignments import checked_agreement
from between.engine.work.links import NotObserved, require_observer
from between.engine.work.unit import Outcome
from between.events.catalog import ASSIGNMENT_AGREED, ASSIGNMENT_DECLINED, CLIENT_NOTE_SENT
from between.language import N_

if TYPE_CHECKING:
    from between.engine.aggregates.assignments import Assignment
    from between.engine.aggregates.link_tokens import Grant

#: The kinds of note, each with what a person reads on the form.
NOTE_KINDS = {
    "too-hard": "This is too hard",
    "question": "I have a question",
    "got-in-the-way": "Something got in the way",
    "change": "I would like a change",
}
#: The kinds whose text is required (a question, or the change asked for).
TEXT_REQUIRED = frozenset({"question", "change"})
#: The longest note, in characters.
NOTE_LIMIT = 1000
#: The ways a note comes in (``ClientNoteSent.via``).
NOTE_WAYS = ("portal", "api", "cli")
#: What a collaborator's link is told when it tries to agree or decline.
CLIENT_ONLY = N_("no such homework for this link; only the client agrees to or declines homework")


def checked_note(kind: str, text: str | None) -> tuple[str, str]:
    """A note's kind and text, checked: a known kind; text required for a question and a
    change, at most ``NOTE_LIMIT`` characters. ``InvalidInput`` names the field."""
    kind = validate.choice("kind", kind, tuple(NOTE_KINDS))
    text = (text or "").strip()
    if kind in TEXT_REQUIRED and not text:
        what = "your question" if kind == "question" else "the change you would like"
        raise _field("text", f"Please write {what}.")
    if len(text) > NOTE_LIMIT:
        raise _field("text", f"Please keep it to {NOTE_LIMIT} characters (this is {len(text)}).")
    if any(not c.isprintable() and c not in "\n\r\t" for c in text):
        raise _field("text", "Please use plain text only.")
    return kind, text


def _field(name: str, message: str) -> InvalidInput:
    return InvalidEntry(message, {name: message})


class ClientVoice(Reading):
    """What a link's holder says to the therapist, and the client's answer to a proposal.
    Composed into ``Homework`` (it uses ``LinkCommands._homework_for``)."""

    read_only_reason: str
    _homework_for: Any

    def send_note_as(
        self,
        grant: Grant,
        assignment_id: str,
        kind: str,
        text: str | None = None,
        *,
        request_key: str,
        via: str = "portal",
    ) -> Outcome:
        """Record ``ClientNoteSent`` as the link's person on homework they see (proposed or
        agreed; refused once it has ended). The same request key twice records one note.
        Outcome.result is the note's kind."""
        request_key = self._link_key(request_key)
        via = validate.choice("via", via, NOTE_WAYS)
        kind, text = checked_note(kind, text)
        if kind == "change" and not grant.is_client:
            raise NotFound(CLIENT_ONLY)
        request = {"kind": kind, "text": text, "by": grant.person}
        envelope = self.work.for_link_holder(grant.is_client, request_key, "note", request)

        def command(a: Assignment) -> str:
            if kind == "change":
                a._require(
                    N_("ask for a change to"), "proposed", why=N_("only a proposal is changed")
                )
            a.send_note(kind, text, grant.person, via, envelope)
            return kind

        return self.work.change(
            lambda: self._homework_for(grant, assignment_id),
            command,
            request_key,
            (CLIENT_NOTE_SENT,),
        )

    def send_note_observed(
        self,
        ref: str,
        kind: str,
        text: str | None = None,
        *,
        by: str = "client",
        actor: str,
        request_key: str | None = None,
        via: str = "api",
    ) -> Outcome:
        """``send_note_as`` for those outside the clinic (a form tool, as ``integration:NAME``):
        checked against the operators list as an entry is (``submit``), and ``by`` must be the
        client or a collaborator who observes the homework (``NotObserved`` otherwise)."""
        envelope = self.work.authorise(actor, "submit", request_key, kind=kind, text=text, by=by)
        by = validate.text("person", by or "client", limit=200)
        via = validate.choice("via", via, NOTE_WAYS)
        kind, text = checked_note(kind, text)
        if kind == "change" and by != "client":
            raise NotObserved("only the client asks for a change to homework proposed to them")

        def command(a: Assignment) -> str:
            require_observer(by, a)
            if kind == "change":
                a._require(
                    N_("ask for a change to"), "proposed", why=N_("only a proposal is changed")
                )
            a.send_note(kind, text, by, via, envelope)
            return kind

        return self.work.change(
            lambda: self._assignment(ref), command, request_key, (CLIENT_NOTE_SENT,)
        )

    def agree_as(
        self,
        grant: Grant,
        assignment_id: str,
        confidence: int | None,
        obstacles: str = "",
        *,
        request_key: str,
    ) -> Outcome:
        """The client agrees through their link: ``AssignmentAgreed`` as ``agree`` records
        it (the same checks), actor "client", via "portal"."""
        request_key = self._link_key(request_key)
        confidence, obstacles = checked_agreement(confidence, obstacles)
        request = {"confidence": confidence, "obstacles": obstacles}
        envelope = self.work.for_link_holder(True, request_key, "agree", request)
        return self.work.change(
            lambda: self._proposal_for(grant, assignment_id),
            lambda a: a.agree(confidence, obstacles, envelope, via="portal"),
            request_key,
            (ASSIGNMENT_AGREED,),
        )

    def decline_as(
        self, grant: Grant, assignment_id: str, reason: str, *, request_key: str
    ) -> Outcome:
        """The client declines through their link, saying why: ``AssignmentDeclined`` as
        ``decline`` records it, actor "client", via "portal"."""
        request_key = self._link_key(request_key)
        reason = validate.text("reason", reason)  # as ``decline`` checks it
        envelope = self.work.for_link_holder(True, request_key, "decline", {"reason": reason})
        return self.work.change(
            lambda: self._proposal_for(grant, assignment_id),
            lambda a: a.decline(reason, envelope, via="portal"),
            request_key,
            (ASSIGNMENT_DECLINED,),
        )

    def _proposal_for(self, grant: Grant, assignment_id: str) -> Assignment:
        """The homework, if the link still works and is the client's own."""
        if not grant.is_client:
            raise NotFound(CLIENT_ONLY)
        found: Assignment = self._homework_for(grant, assignment_id)
        return found

    def _link_key(self, request_key: str) -> str:
        if self.read_only:
            raise StoreError(self.read_only_reason)
        return validate.text("idempotency key", request_key, limit=200)
