"""The client aggregate: who the homework is for, who may help them, and their personal links.

A link (``engine.aggregates.link_tokens``) is kept by its id: the person it is for, the hash of its
token,
its expiry and whether it was revoked. Discharge revokes every live link in the same
transaction (``LinkRevoked``, reason "discharged"), so the log itself says when each link
ended; erasure follows discharge, so no link outlives either.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

from between.engine.errors import RuleViolation
from between.engine.folds.client_state import ClientState
from between.engine.work.envelope import Envelope
from between.events import clients as ev
from between.events.base import stable_topic
from between.language import N_

CLIENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://between.invalid/client")


def new_client_id(request_key: str | None) -> UUID:
    """Random, so an id reveals nothing of the client's code; derived from a request key
    when there is one, so that repeating a registration conflicts instead of duplicating."""
    return uuid5(CLIENT_NAMESPACE, request_key) if request_key else uuid4()


class Client(ClientState, Aggregate):
    """A client's registration, collaborators, contacts and discharge: their state
    (``engine.folds.client_state``) and the commands that change it."""

    @classmethod
    def register(cls, code: str, name: str, therapist: str, envelope: Envelope) -> Client:
        return cls._create(
            ev.ClientRegistered,
            id=new_client_id(envelope.request_key),
            code=code,
            name=name,
            therapist=therapist,
            **envelope,
        )

    # -- commands ------------------------------------------------------------------------

    def add_collaborator(self, name: str, relationship: str, envelope: Envelope) -> None:
        self.require_active(N_("add a collaborator"))
        if name == "client" or name in self.collaborators:
            raise RuleViolation(
                "client %(code)s already has a collaborator called %(name)r; choose another name",
                code=self.code,
                name=name,
            )
        self.trigger_event(ev.CollaboratorAdded, name=name, relationship=relationship, **envelope)

    def change_contacts(self, person: str, contacts: dict, envelope: Envelope) -> None:
        self.require_active(N_("change contact details"))
        if person != "client" and person not in self.collaborators:
            raise RuleViolation(
                "client %(code)s has no collaborator called %(person)r; "
                "add them first with 'between client collaborator %(code)s %(name)s'",
                code=self.code,
                person=person,
                name=person,
            )
        self.trigger_event(ev.ContactDetailsChanged, person=person, contacts=contacts, **envelope)

    def issue_link(
        self, link_id: UUID, person: str, token_hash: str, expires: datetime, envelope: Envelope
    ) -> None:
        self.require_active(N_("issue a link"))
        if person != "client" and person not in self.collaborators:
            raise RuleViolation(
                "client %(code)s has no collaborator called %(person)r; links are for the "
                "client or a collaborator they added ('between client collaborator %(code)s "
                "NAME')",
                code=self.code,
                person=person,
            )
        self.trigger_event(
            ev.LinkIssued,
            link_id=link_id,
            person=person,
            token_hash=token_hash,
            expires=expires,
            **envelope,
        )

    def revoke_links(self, person: str | None, reason: str, envelope: Envelope) -> int:
        """Revoke ``person``'s live links (everyone's when None); how many were revoked."""
        live = self.live_links(envelope.timestamp, person)
        for link_id in live:
            self.trigger_event(ev.LinkRevoked, link_id=link_id, reason=reason, **envelope)
        return len(live)

    def revoke_link(self, link_id: UUID, reason: str, envelope: Envelope) -> bool:
        """Revoke one link if it still works; whether it did."""
        if link_id not in self.live_links(envelope.timestamp):
            return False
        self.trigger_event(ev.LinkRevoked, link_id=link_id, reason=reason, **envelope)
        return True

    def live_links(self, now: datetime, person: str | None = None) -> list[UUID]:
        """The ids of the links not revoked and not expired at ``now`` (``person``'s only)."""
        return [
            link_id
            for link_id, link in self.links.items()
            if not link["revoked"] and link["expires"] > now and person in (None, link["person"])
        ]

    def set_preferences(self, preferences: dict[str, str], envelope: Envelope) -> None:
        """Record the client's zone, language, reminder time or quiet hours (the keys given)."""
        self.require_active(N_("change preferences"))
        self.trigger_event(ev.ClientPreferencesSet, **preferences, **envelope)

    def record_consent(self, person: str, channel: str, granted: bool, envelope: Envelope) -> None:
        self.require_active(N_("record consent"))
        if person != "client" and person not in self.collaborators:
            raise RuleViolation(
                "client %(code)s has no collaborator called %(person)r; consent is recorded "
                "for the client or a collaborator they added",
                code=self.code,
                person=person,
            )
        if (channel in self.consents.get(person, set())) == granted:
            if granted:
                raise RuleViolation(
                    "%(person)s already consented to %(channel)s; nothing to change",
                    person=person,
                    channel=channel,
                )
            raise RuleViolation(
                "%(person)s has not consented to %(channel)s; nothing to change",
                person=person,
                channel=channel,
            )
        self.trigger_event(
            ev.ConsentRecorded, person=person, channel=channel, granted=granted, **envelope
        )

    def discharge(self, reason: str, open_assignments: list[str], envelope: Envelope) -> None:
        self.require_active(N_("discharge"))
        if open_assignments:
            raise RuleViolation(
                "client %(code)s still has open homework (%(open)s); "
                "close, cancel or record the decline of each before discharging",
                code=self.code,
                open=", ".join(open_assignments),
            )
        self.trigger_event(ev.ClientDischarged, reason=reason, **envelope)
        self.revoke_links(None, "discharged", envelope)

    def erase(self, reason: str, envelope: Envelope) -> None:
        if self.row["status"] != "discharged":
            raise RuleViolation(
                "cannot erase client %(code)s: they are %(status)s (erasure "
                "follows discharge; discharge them first)",
                code=self.code,
                status=self.row["status"],
            )
        self.trigger_event(ev.ClientErased, reason=reason, **envelope)

    def require_active(self, doing: str) -> None:
        if self.row["status"] != "active":
            raise RuleViolation(
                "cannot %(doing)s: client %(code)s is %(status)s "
                "(a discharged client gets no new homework or changes)",
                doing=doing,
                code=self.code,
                status=self.row["status"],
            )


stable_topic(Client, Client.AGGREGATE_TOPIC)
