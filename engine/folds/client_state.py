"""What a client's events make of them: the state the ``Client`` aggregate keeps, and that
``client show`` describes.

A plain class, apart from eventsourcing: each event is folded by its stored topic
(``event.TOPIC``), so the light reading path (``engine.reading.light_records``) folds plain decoded
events
(``engine.reading.plain``) into it, and ``engine.aggregates.clients.Client`` adds the commands on
top of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from between.engine.folds.client_rows import client_row
from between.events.catalog import (
    AGGREGATE_TOPICS,
    CATALOG,
    CLIENT,
    CLIENT_DISCHARGED,
    CLIENT_ERASED,
    CLIENT_PREFERENCES_SET,
    CLIENT_REGISTERED,
    COLLABORATOR_ADDED,
    CONSENT_RECORDED,
    CONTACT_DETAILS_CHANGED,
    LINK_ISSUED,
    LINK_REVOKED,
    NAMESPACE,
)

if TYPE_CHECKING:
    from uuid import UUID


class ClientState:
    """A client's registration, collaborators, contacts, consents and links, as their events
    leave them (no ``__init__``: the first event sets it up)."""

    #: The topic of the event a client's record starts with.
    STARTED = CLIENT_REGISTERED
    #: The stored topic of the aggregate (``originator_topic`` of its first event).
    AGGREGATE_TOPIC = AGGREGATE_TOPICS[CLIENT]
    #: Whether the state keeps what grows with its events: each link (one per message, when
    #: messages carry links) and request key. The aggregate and ``client show`` need them; a
    #: reader that handles each event as it comes (the FHIR export) sets False.
    KEEPS_HISTORY = True

    id: UUID
    row: dict
    name: Any
    collaborators: dict[str, dict]
    collaborator_events: dict[int, dict]
    contacts: dict[str, Any]
    consents: dict[str, set[str]]
    request_keys: dict[str, dict]
    discharge_reason: str | None
    erasure: dict | None
    links: dict[UUID, dict]

    @property
    def code(self) -> str:
        return self.row["code"]

    @property
    def label(self) -> str:
        return f"client {self.code}"

    def evolve(self, event: Any) -> None:
        """Fold one event into the state (by its stored topic)."""
        fold = _FOLDS.get(getattr(event, "TOPIC", ""))
        if fold is None:
            raise TypeError(f"not a client event: {type(event).__name__}")
        fold(self, event)

    def _registered(self, event: Any) -> None:
        self.row = client_row(event, None)
        self.name = event.name
        self.collaborators = {}
        self.collaborator_events = {}
        self.contacts = {}
        self.consents = {}
        self.request_keys = {}
        self.discharge_reason = None
        self.erasure = None
        self.links = {}
        self._remember(event)

    def _collaborator(self, event: Any) -> None:
        self.row = client_row(event, self.row)
        person = {"name": event.name, "relationship": event.relationship}
        self.collaborators[event.name] = person
        # By the event that added them, too: an erased client's collaborators all read as one
        # name, yet each stays a person of their own (the FHIR export's RelatedPersons).
        self.collaborator_events[event.originator_version] = person
        self._remember(event)

    def _contacts(self, event: Any) -> None:
        self.row = client_row(event, self.row)
        if isinstance(event.contacts, dict):
            self.contacts[event.person] = {**self.contacts.get(event.person, {}), **event.contacts}
        else:  # erased
            self.contacts[event.person] = event.contacts
        self._remember(event)

    def _preferences(self, event: Any) -> None:
        self.row = client_row(event, self.row)  # the row keeps them (engine.reading.clock_zones)
        self._remember(event)

    def _discharged(self, event: Any) -> None:
        self.row = client_row(event, self.row)
        self.discharge_reason = event.reason
        self._remember(event)

    def _consent(self, event: Any) -> None:
        self.row = client_row(event, self.row)
        channels = self.consents.setdefault(event.person, set())
        (channels.add if event.granted else channels.discard)(event.channel)
        self._remember(event)

    def _erased(self, event: Any) -> None:
        self.row = client_row(event, self.row)
        self.erasure = {
            "at": event.timestamp.isoformat(),
            "by": event.actor,
            "reason": event.reason,
        }
        self._remember(event)

    def _link_issued(self, event: Any) -> None:
        self.row = client_row(event, self.row)
        if not self.KEEPS_HISTORY:
            return
        self.links[event.link_id] = {
            "person": event.person,
            "token_hash": event.token_hash,
            "issued_at": event.timestamp,
            "issued_by": event.actor,
            "expires": event.expires,
            "revoked": None,
        }
        self._remember(event, str(event.link_id))

    def _link_revoked(self, event: Any) -> None:
        self.row = client_row(event, self.row)
        link = self.links.get(event.link_id)
        if link is not None:
            link["revoked"] = {"at": event.timestamp.isoformat(), "reason": event.reason}
        first = self.request_keys.get(event.request_key or "")
        if (
            first is not None and first["event"] == CATALOG[LINK_REVOKED].name
        ):  # one command, many links
            first["result"] = str(int(first["result"]) + 1)
        else:
            self._remember(event, "1")

    def _remember(self, event: Any, result: str | None = None) -> None:
        key = event.request_key
        if key and self.KEEPS_HISTORY and key not in self.request_keys:
            name = event.TOPIC.removeprefix(NAMESPACE)
            self.request_keys[key] = {"event": name, "result": result or self.code}

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


#: Each client event's fold, by stored topic.
_FOLDS: dict[str, Callable[[ClientState, Any], None]] = {
    CLIENT_REGISTERED: ClientState._registered,
    COLLABORATOR_ADDED: ClientState._collaborator,
    CONTACT_DETAILS_CHANGED: ClientState._contacts,
    CLIENT_DISCHARGED: ClientState._discharged,
    CONSENT_RECORDED: ClientState._consent,
    CLIENT_ERASED: ClientState._erased,
    LINK_ISSUED: ClientState._link_issued,
    LINK_REVOKED: ClientState._link_revoked,
    CLIENT_PREFERENCES_SET: ClientState._preferences,
}
#: The topics folded into a client's state.
TOPICS = frozenset(_FOLDS)
