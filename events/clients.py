"""Facts about a client: registration, the people close to them, contacts, discharge, and the
personal links that let them (or a collaborator) record their own homework."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from between.events.base import Fact, Started, topic


@topic("between.ClientRegistered")
class ClientRegistered(Started):
    """A client joined the clinic's homework programme."""

    PERSONAL = ("code", "name")
    code: str
    name: str
    therapist: str


@topic("between.CollaboratorAdded")
class CollaboratorAdded(Fact):
    """Someone close to the client may now record observations for them."""

    PERSONAL = ("name", "relationship")
    name: str
    relationship: str


@topic("between.ContactDetailsChanged")
class ContactDetailsChanged(Fact):
    """How to reach the client (``person == "client"``) or one of their collaborators."""

    PERSONAL = ("person", "contacts")
    person: str
    contacts: dict


@topic("between.ClientDischarged")
class ClientDischarged(Fact):
    """The client left therapy; they get no new homework."""

    PERSONAL = ("reason",)
    reason: str


@topic("between.ConsentRecorded")
class ConsentRecorded(Fact):
    """The client (or a collaborator) agreed — or no longer agrees — to hear on a channel."""

    PERSONAL = ("person",)
    person: str
    channel: str
    granted: bool


@topic("between.ClientErased")
class ClientErased(Fact):
    """The client's personal data was erased (their key destroyed); the facts stay."""

    reason: str


@topic("between.LinkIssued")
class LinkIssued(Fact):
    """A personal link was issued to the client (``person == "client"``) or a collaborator.

    Only the SHA-256 of the token's random part is kept (hex): the token itself is shown
    once and never stored. The link works until ``expires`` unless revoked first.
    """

    PERSONAL = ("person",)
    link_id: UUID
    person: str
    token_hash: str
    expires: datetime


@topic("between.LinkRevoked")
class LinkRevoked(Fact):
    """A personal link stopped working before its expiry (revoked, or the client left)."""

    PERSONAL = ("reason",)
    link_id: UUID
    reason: str


CLIENT_EVENTS = (
    ClientRegistered,
    CollaboratorAdded,
    ContactDetailsChanged,
    ClientDischarged,
    ConsentRecorded,
    ClientErased,
    LinkIssued,
    LinkRevoked,
)
