"""The client aggregate: who the homework is for, who may help them, and their personal links.

A link (``engine.links``) is kept by its id: the person it is for, the hash of its token,
its expiry and whether it was revoked. Discharge revokes every live link in the same
transaction (``LinkRevoked``, reason "discharged"), so the log itself says when each link
ended; erasure follows discharge, so no link outlives either.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import singledispatchmethod
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

from between.engine.errors import RuleViolation
from between.engine.rows import client_row
from between.events import clients as ev
from between.events.base import short_name, stable_topic

CLIENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://between.invalid/client")


def new_client_id(request_key: str | None) -> UUID:
    """Random, so an id reveals nothing of the client's code; derived from a request key
    when there is one, so that repeating a registration conflicts instead of duplicating."""
    return uuid5(CLIENT_NAMESPACE, request_key) if request_key else uuid4()


class Client(Aggregate):
    """A client's registration, collaborators, contacts and discharge."""

    @classmethod
    def register(cls, code: str, name: str, therapist: str, **meta: Any) -> Client:
        return cls._create(
            ev.ClientRegistered,
            id=new_client_id(meta.get("request_key")),
            code=code,
            name=name,
            therapist=therapist,
            **meta,
        )

    # -- commands ------------------------------------------------------------------------

    def add_collaborator(self, name: str, relationship: str, **meta: Any) -> None:
        self.require_active("add a collaborator")
        if name == "client" or name in self.collaborators:
            raise RuleViolation(
                f"client {self.code} already has a collaborator called {name!r}; "
                "choose another name"
            )
        self.trigger_event(ev.CollaboratorAdded, name=name, relationship=relationship, **meta)

    def change_contacts(self, person: str, contacts: dict, **meta: Any) -> None:
        self.require_active("change contact details")
        if person != "client" and person not in self.collaborators:
            raise RuleViolation(
                f"client {self.code} has no collaborator called {person!r}; "
                f"add them first with 'between client collaborator {self.code} {person}'"
            )
        self.trigger_event(ev.ContactDetailsChanged, person=person, contacts=contacts, **meta)

    def issue_link(
        self, link_id: UUID, person: str, token_hash: str, expires: datetime, **meta: Any
    ) -> None:
        self.require_active("issue a link")
        if person != "client" and person not in self.collaborators:
            raise RuleViolation(
                f"client {self.code} has no collaborator called {person!r}; links are for the "
                f"client or a collaborator they added ('between client collaborator {self.code} "
                "NAME')"
            )
        self.trigger_event(
            ev.LinkIssued,
            link_id=link_id,
            person=person,
            token_hash=token_hash,
            expires=expires,
            **meta,
        )

    def revoke_links(self, person: str | None, reason: str, **meta: Any) -> int:
        """Revoke ``person``'s live links (everyone's when None); how many were revoked."""
        live = self.live_links(_moment(meta), person)
        for link_id in live:
            self.trigger_event(ev.LinkRevoked, link_id=link_id, reason=reason, **meta)
        return len(live)

    def revoke_link(self, link_id: UUID, reason: str, **meta: Any) -> bool:
        """Revoke one link if it still works; whether it did."""
        if link_id not in self.live_links(_moment(meta)):
            return False
        self.trigger_event(ev.LinkRevoked, link_id=link_id, reason=reason, **meta)
        return True

    def live_links(self, now: datetime, person: str | None = None) -> list[UUID]:
        """The ids of the links not revoked and not expired at ``now`` (``person``'s only)."""
        return [
            link_id
            for link_id, link in self.links.items()
            if not link["revoked"] and link["expires"] > now and person in (None, link["person"])
        ]

    def record_consent(self, person: str, channel: str, granted: bool, **meta: Any) -> None:
        self.require_active("record consent")
        if person != "client" and person not in self.collaborators:
            raise RuleViolation(
                f"client {self.code} has no collaborator called {person!r}; consent is recorded "
                "for the client or a collaborator they added"
            )
        if (channel in self.consents.get(person, set())) == granted:
            state = "already consented" if granted else "has not consented"
            raise RuleViolation(f"{person} {state} to {channel}; nothing to change")
        self.trigger_event(
            ev.ConsentRecorded, person=person, channel=channel, granted=granted, **meta
        )

    def discharge(self, reason: str, open_assignments: list[str], **meta: Any) -> None:
        self.require_active("discharge")
        if open_assignments:
            raise RuleViolation(
                f"client {self.code} still has open homework ({', '.join(open_assignments)}); "
                "close, cancel or record the decline of each before discharging"
            )
        self.trigger_event(ev.ClientDischarged, reason=reason, **meta)
        self.revoke_links(None, "discharged", **meta)

    def erase(self, reason: str, **meta: Any) -> None:
        if self.row["status"] != "discharged":
            raise RuleViolation(
                f"cannot erase client {self.code}: they are {self.row['status']} (erasure "
                "follows discharge; discharge them first)"
            )
        self.trigger_event(ev.ClientErased, reason=reason, **meta)

    def require_active(self, doing: str) -> None:
        if self.row["status"] != "active":
            raise RuleViolation(
                f"cannot {doing}: client {self.code} is {self.row['status']} "
                "(a discharged client gets no new homework or changes)"
            )

    # -- state ---------------------------------------------------------------------------

    @property
    def code(self) -> str:
        return self.row["code"]

    @property
    def label(self) -> str:
        return f"client {self.code}"

    @singledispatchmethod
    def evolve(self, event: Any) -> None:
        raise TypeError(f"not a client event: {type(event).__name__}")

    @evolve.register
    def _(self, event: ev.ClientRegistered) -> None:
        self.row = client_row(event, None)
        self.name = event.name
        self.collaborators: dict[str, dict] = {}
        self.contacts: dict[str, dict] = {}
        self.consents: dict[str, set[str]] = {}
        self.request_keys: dict[str, dict] = {}
        self.discharge_reason: str | None = None
        self.erasure: dict | None = None
        self.links: dict[UUID, dict] = {}
        self._remember(event)

    @evolve.register
    def _(self, event: ev.CollaboratorAdded) -> None:
        self.row = client_row(event, self.row)
        self.collaborators[event.name] = {"name": event.name, "relationship": event.relationship}
        self._remember(event)

    @evolve.register
    def _(self, event: ev.ContactDetailsChanged) -> None:
        self.row = client_row(event, self.row)
        if isinstance(event.contacts, dict):
            self.contacts[event.person] = {**self.contacts.get(event.person, {}), **event.contacts}
        else:  # erased
            self.contacts[event.person] = event.contacts
        self._remember(event)

    @evolve.register
    def _(self, event: ev.ClientDischarged) -> None:
        self.row = client_row(event, self.row)
        self.discharge_reason = event.reason
        self._remember(event)

    @evolve.register
    def _(self, event: ev.ConsentRecorded) -> None:
        self.row = client_row(event, self.row)
        channels = self.consents.setdefault(event.person, set())
        (channels.add if event.granted else channels.discard)(event.channel)
        self._remember(event)

    @evolve.register
    def _(self, event: ev.ClientErased) -> None:
        self.row = client_row(event, self.row)
        self.erasure = {
            "at": event.timestamp.isoformat(),
            "by": event.actor,
            "reason": event.reason,
        }
        self._remember(event)

    @evolve.register
    def _(self, event: ev.LinkIssued) -> None:
        self.row = client_row(event, self.row)
        self.links[event.link_id] = {
            "person": event.person,
            "token_hash": event.token_hash,
            "issued_at": event.timestamp,
            "issued_by": event.actor,
            "expires": event.expires,
            "revoked": None,
        }
        self._remember(event, str(event.link_id))

    @evolve.register
    def _(self, event: ev.LinkRevoked) -> None:
        self.row = client_row(event, self.row)
        link = self.links.get(event.link_id)
        if link is not None:
            link["revoked"] = {"at": event.timestamp.isoformat(), "reason": event.reason}
        first = self.request_keys.get(event.request_key or "")
        if first is not None and first["event"] == "LinkRevoked":  # one command, many links
            first["result"] = str(int(first["result"]) + 1)
        else:
            self._remember(event, "1")

    def _remember(self, event: Any, result: str | None = None) -> None:
        key = event.request_key
        if key and key not in self.request_keys:
            self.request_keys[key] = {"event": short_name(event), "result": result or self.code}

    def detail(self) -> dict:
        """The ``client show`` view: the summary row plus personal details."""
        return {
            **self.row,
            "name": self.name,
            "collaborators": list(self.collaborators.values()),
            "contacts": self.contacts,
            "consents": {person: sorted(chs) for person, chs in self.consents.items()},
            "discharge_reason": self.discharge_reason,
            "erasure": self.erasure,
            "links": [
                {
                    "id": str(link_id),
                    "person": link["person"],
                    "issued_at": link["issued_at"].isoformat(),
                    "issued_by": link["issued_by"],
                    "expires": link["expires"].isoformat(),
                    "revoked": link["revoked"],
                }
                for link_id, link in self.links.items()
            ],
        }


def _moment(meta: dict[str, Any]) -> datetime:
    """When a command happens: its timestamp, or now (as ``trigger_event`` would stamp it)."""
    return meta.get("timestamp") or datetime.now(UTC)


stable_topic(Client, "between.Client")
