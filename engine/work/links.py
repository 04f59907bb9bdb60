"""Personal links: issuing and revoking them, and what their holders may see and record.

An operator issues a link (``issue_link``, checked against the operator list like any write)
and the token is returned once; the dispatcher issues one for each message that carries a
link (``link_for_message``; see ``notify.sending``). The portal turns a token into a
``Grant`` (``grant_for``), lists the homework it may see (``portal_homework``) and records
entries with it (``submit_as``): the link is the permission, so the operator list is not
consulted there, but every entry passes the same checks as ``submit`` (``engine.work.entries``).
A collaborator sees and records only on homework they observe (``observes``); the API's
entries (``submit_observed``) are held to the same rule.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from between.engine import validate
from between.engine.aggregates.assignments import Assignment
from between.engine.aggregates.clients import Client
from between.engine.aggregates.link_tokens import MAX_DAYS, Grant, new_token, parse_token, same_hash
from between.engine.contracts.task_types import Schema
from between.engine.errors import Conflict, NotFound, RuleViolation, StoreError
from between.engine.reading.full import Reading
from between.engine.work.entries import checked_fields, record_entry
from between.engine.work.unit import Outcome
from between.events.catalog import LINK_ISSUED, LINK_REVOKED
from between.language import N_

LINK_NAMESPACE = uuid5(NAMESPACE_URL, "https://between.invalid/link")
#: What a link that stopped working is refused with (it says nothing about why).
NO_LONGER_WORKS = N_("this link no longer works; ask your therapist for a new one")
#: The ways in of entries recorded with a link.
LINK_WAYS = ("portal", "api")
#: How many times ``submit_as`` runs the unit of work's retries again when others kept saving
#: the same homework first (many people's entries at once): safe, as it always has a key.
CONFLICT_ROUNDS = 4


class LinkCommands(Reading):
    """Personal links and what they allow. Composed into ``Homework``."""

    read_only_reason: str

    # -- issuing and revoking ------------------------------------------------------------

    def issue_link(
        self,
        code: str,
        *,
        person: str = "client",
        expires_days: int = 14,
        actor: str,
        request_key: str | None = None,
    ) -> tuple[Outcome, str]:
        """Record LinkIssued; return the outcome and the token (shown once, stored only as a
        hash). A repeated request reports the first link's id with no token ("")."""
        envelope = self.work.authorise(
            actor, "link", request_key, person=person, expires_days=expires_days
        )
        person = validate.text("person", person or "client", limit=200)
        days = validate.integer("link expiry in days", expires_days, 1, MAX_DAYS)
        client = self._client(code)
        token, token_hash = new_token()
        link_id = uuid5(LINK_NAMESPACE, f"{client.id}:{request_key}") if request_key else uuid4()
        expires = envelope.timestamp + timedelta(days=days)

        def command(c: Client) -> str:
            c.issue_link(link_id, person, token_hash, expires, envelope)
            return str(link_id)

        outcome = self.work.change(
            lambda: self._client_by_id(client.id), command, request_key, (LINK_ISSUED,)
        )
        return outcome, "" if outcome.repeated else token

    def revoke_links(
        self,
        code: str,
        *,
        person: str | None = None,
        reason: str = "revoked",
        actor: str,
        request_key: str | None = None,
    ) -> Outcome:
        """Record LinkRevoked for each of the person's live links (every person's when None);
        Outcome.result is how many were revoked."""
        envelope = self.work.authorise(actor, "link", request_key, person=person, reason=reason)
        reason = validate.text("reason", reason, limit=200)

        def command(c: Client) -> str:
            if person not in (None, "client") and person not in c.collaborators:
                raise RuleViolation(
                    "client %(code)s has no collaborator called %(person)r; links are for the "
                    "client or a collaborator they added",
                    code=c.code,
                    person=person,
                )
            return str(c.revoke_links(person, reason, envelope))

        return self.work.change(lambda: self._client(code), command, request_key, (LINK_REVOKED,))

    def link_for_message(
        self, client_id: UUID, person: str, days: int, actor: str
    ) -> tuple[UUID, str] | None:
        """A fresh link for a message to ``person`` (the dispatcher's: it was authorised to
        notify); its id and token, or None when the client may no longer get one."""
        envelope = self.work.for_dispatcher(actor)
        link_id, expires = uuid4(), envelope.timestamp + timedelta(days=days)
        token, token_hash = new_token()
        try:
            self.work.change(
                lambda: self._client_by_id(client_id),
                lambda c: c.issue_link(link_id, person, token_hash, expires, envelope),
            )
        except RuleViolation:  # discharged meanwhile, or no longer a collaborator
            return None
        return link_id, token

    def withdraw_link(self, client_id: UUID, link_id: UUID, reason: str, actor: str) -> None:
        """Revoke one link (the dispatcher's, when its message was not delivered)."""
        envelope = self.work.for_dispatcher(actor)

        def command(c: Client) -> None:
            c.revoke_link(link_id, reason, envelope)

        self.work.change(lambda: self._client_by_id(client_id), command)

    # -- what a link allows --------------------------------------------------------------

    def grant_for(self, token: str) -> Grant | None:
        """The grant of a live link: None for a malformed, unknown, edited, revoked or expired
        token, or a discharged or erased client. Records nothing. A token finds its link by
        its hash (``rm_links``); one of the first format (see ``engine.aggregates.link_tokens``) by
        the client
        id it holds. Constant-time hash comparison."""
        parsed = parse_token(token)
        if parsed is None:
            return None
        client_id, hashed = parsed
        if client_id is None:
            with self.reading() as c:
                indexed = self.readmodel.link_by_hash(c, hashed)
            if indexed is None:
                return None
            client_id = indexed[0]
        client = self.work.load(Client, client_id)
        if client is None or client.row["status"] != "active":
            return None
        found = None
        for link_id, link in client.links.items():  # every one compared: no early exit
            if same_hash(hashed, link["token_hash"]):
                found = link_id
        if found is None or found not in client.live_links(self.now()):
            return None
        person = client.links[found]["person"]
        if person != "client" and person not in client.collaborators:
            return None
        return Grant(found, client.id, person, client.links[found]["expires"])

    def portal_homework(self, grant: Grant, *, proposals: bool = False) -> list[dict]:
        """The homework this person may see, soonest due first (see ``portal_item``): a
        client's agreed homework (declined, cancelled and closed ones too, taking no entries),
        a collaborator's only where they observe. Proposed homework is shown only to the
        client, and only with ``proposals`` (the clinic lets clients agree from the portal)."""
        self.refresh()
        with self.reading() as c:
            rows = self.readmodel.assignments(c, client_id=grant.client_id.hex)
        items = []
        for row in rows:
            if row["status"] == "proposed" and not (proposals and grant.is_client):
                continue
            assignment = self.work.load(Assignment, UUID(row["id"]))
            if assignment is not None and observes(grant.person, assignment):
                items.append(self.portal_item(grant, assignment))
        return sorted(items, key=lambda item: (item["due"], item["id"]))

    def portal_item(self, grant: Grant, assignment: Assignment) -> dict:
        """One homework as its link's holder sees it: what to do, why, by when, progress, the
        entry form's schema, their own past entries and the notes they sent (oldest first);
        ``proposed`` when it awaits their agreement."""
        kind = self.plugins.task_types.get(assignment.task_type)
        row = assignment.row
        preferences = self.client_preferences(grant.client_id)
        return {
            "id": str(assignment.id),
            "task_type": assignment.task_type,
            "title": kind.title if kind else assignment.task_type,
            "instructions": assignment.instructions,
            "rationale": assignment.rationale,
            "parameters": dict(assignment.parameters),  # for the task type's charts
            "agreed_at": row.get("agreed_at"),  # with "due": the homework's span
            "due": row["due"],
            "timezone": preferences["timezone"],  # for engine.reading.clock_zones.local_label
            "language": preferences["language"],  # the client's (a collaborator reads theirs)
            "template": assignment.template,  # with its version: the portal's template words
            "template_version": assignment.template_version,
            "status": row["status"],
            "entries_done": row["entries"],
            "expected_entries": row["expected_entries"],
            "accepts_entries": row["status"] == "agreed" and kind is not None,
            "schema": kind.entries if kind else Schema(),
            "entries": [
                {k: e[k] for k in ("id", "by", "occurred_at", "recorded_at", "fields")}
                for e in assignment.entries
                if e["by"] == grant.person
            ],
            "proposed": row["status"] == "proposed",
            "notes": [
                {k: n[k] for k in ("kind", "at", "text")}
                for n in assignment.client_notes
                if n["by"] == grant.person
            ],
        }

    def submit_as(
        self,
        grant: Grant,
        assignment_id: str,
        fields: dict,
        *,
        request_key: str,
        occurred_at: str | None = None,
        via: str = "portal",
    ) -> Outcome:
        """Record an entry as the link's person (actor "client" or "collaborator", the
        collaborator's name in the sealed ``by``), after checking again that the link works
        and the homework is theirs to record on. The same request key twice records one entry;
        others saving the same homework at that moment are waited out (``CONFLICT_ROUNDS``).
        Outcome.result is the entry's id; Outcome.record the homework as ``portal_item``."""
        if self.read_only:
            raise StoreError(self.read_only_reason)
        request_key = validate.text("idempotency key", request_key, limit=200)
        via = validate.choice("via", via, LINK_WAYS)
        request = {"fields": fields, "by": grant.person, "occurred_at": occurred_at}
        envelope = self.work.for_link_holder(grant.is_client, request_key, "submit", request)

        def load() -> Assignment:
            return self._homework_for(grant, assignment_id)

        for round_ in range(CONFLICT_ROUNDS):
            try:
                outcome = record_entry(self, load, fields, grant.person, occurred_at, via, envelope)
                break
            except Conflict:
                if round_ == CONFLICT_ROUNDS - 1:
                    raise
                time.sleep(random.uniform(0, 0.05 * 2**round_))  # out of step with the others
        return Outcome(self.portal_item(grant, load()), outcome.result, outcome.repeated)

    def check_entry_as(self, grant: Grant, assignment_id: str, fields: dict) -> None:
        """Refuse ``fields`` as ``submit_as`` would (``InvalidInput`` by field), recording
        nothing: the portal shows a form's every problem at once, its time's among them."""
        validate.payload("entry fields", fields)
        checked_fields(self, self._homework_for(grant, assignment_id), fields)

    def submit_observed(
        self,
        ref: str,
        fields: dict,
        *,
        by: str = "client",
        actor: str,
        request_key: str | None = None,
        via: str = "api",
    ) -> Outcome:
        """``submit`` for those outside the clinic (a form tool): as ``submit`` — the operators
        list, the same checks and events — and ``by`` must be the client or a collaborator who
        observes the homework, the rule of the links (``observes``; else ``NotObserved``)."""
        envelope = self.work.authorise(
            actor, "submit", request_key, fields=fields, by=by, occurred_at=None
        )

        def load() -> Assignment:
            return require_observer(by, self._assignment(ref))

        return record_entry(self, load, fields, by, None, via, envelope)

    def _homework_for(self, grant: Grant, assignment_id: str) -> Assignment:
        """The assignment, if the link still works and its holder may record on it."""
        if not self._still_works(grant):
            raise RuleViolation(NO_LONGER_WORKS)
        try:
            found = self.work.load(Assignment, UUID(str(assignment_id)))
        except ValueError:
            found = None
        if found is None or found.client_id != grant.client_id or not observes(grant.person, found):
            raise NotFound("no such homework for this link; open the link again to see yours")
        return found

    def _client_by_id(self, client_id: UUID) -> Client:
        client = self.work.load(Client, client_id)
        if client is None:
            raise NotFound("no client with id %(id)s", id=client_id)
        return client

    def _still_works(self, grant: Grant) -> bool:
        """Whether the grant's link still works (not revoked or expired; client active)."""
        client = self.work.load(Client, grant.client_id)
        return (
            client is not None
            and client.row["status"] == "active"
            and grant.link_id in client.live_links(self.now())
            and client.links[grant.link_id]["person"] == grant.person
        )


class NotObserved(RuleViolation):
    """A collaborator's entry on homework they do not observe (or someone not a collaborator)."""


def observes(person: str, assignment: Assignment) -> bool:
    """Whether ``person`` may see and record on the homework: the client always, a
    collaborator where they observe. One rule for the portal's links and the API."""
    observers = assignment.observers if isinstance(assignment.observers, list) else []
    return person == "client" or person in observers


def require_observer(person: str, assignment: Assignment) -> Assignment:
    """The assignment, if ``person`` may record on it (see ``observes``); else NotObserved."""
    if not observes(person, assignment):
        raise NotObserved(
            "%(person)r does not observe this homework; entries come from the client or a "
            "collaborator who observes it",
            person=person,
        )
    return assignment
