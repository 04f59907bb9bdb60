"""Facts about a client: registration, the people close to them, contacts, discharge, and the
personal links that let them (or a collaborator) record their own homework."""

from __future__ import annotations

from dataclasses import field
from datetime import datetime
from uuid import UUID

from between.events import catalog
from between.events.base import Fact, Started, topic


@topic(catalog.CLIENT_REGISTERED)
class ClientRegistered(Started):
    """A client joined the clinic's homework programme."""

    code: str
    name: str
    therapist: str


@topic(catalog.COLLABORATOR_ADDED)
class CollaboratorAdded(Fact):
    """Someone close to the client may now record observations for them."""

    name: str
    relationship: str


@topic(catalog.CONTACT_DETAILS_CHANGED)
class ContactDetailsChanged(Fact):
    """How to reach the client (``person == "client"``) or one of their collaborators."""

    person: str
    contacts: dict


@topic(catalog.CLIENT_DISCHARGED)
class ClientDischarged(Fact):
    """The client left therapy; they get no new homework."""

    reason: str


@topic(catalog.CONSENT_RECORDED)
class ConsentRecorded(Fact):
    """The client (or a collaborator) agreed — or no longer agrees — to hear on a channel."""

    person: str
    channel: str
    granted: bool


@topic(catalog.CLIENT_ERASED)
class ClientErased(Fact):
    """The client's personal data was erased (their key destroyed); the facts stay."""

    reason: str


@topic(catalog.LINK_ISSUED)
class LinkIssued(Fact):
    """A personal link was issued to the client (``person == "client"``) or a collaborator.

    Only the SHA-256 of the token's random part is kept (hex): the token itself is shown
    once and never stored. The link works until ``expires`` unless revoked first.
    """

    link_id: UUID
    person: str
    token_hash: str
    expires: datetime


@topic(catalog.LINK_REVOKED)
class LinkRevoked(Fact):
    """A personal link stopped working before its expiry (revoked, or the client left)."""

    link_id: UUID
    reason: str


@topic(catalog.CLIENT_PREFERENCES_SET)
class ClientPreferencesSet(Fact):
    """The client's own clock and language, only the keys that changed (None: unchanged).

    ``timezone`` an IANA name; ``language`` a tag (``en``, ``es``); ``remind_at`` HH:MM;
    ``quiet_hours`` HH:MM-HH:MM or ``none``. What is never set is the clinic's default.
    """

    timezone: str | None = field(default=None, kw_only=True)
    language: str | None = field(default=None, kw_only=True)
    remind_at: str | None = field(default=None, kw_only=True)
    quiet_hours: str | None = field(default=None, kw_only=True)


CLIENT_EVENTS = (
    ClientRegistered,
    CollaboratorAdded,
    ContactDetailsChanged,
    ClientDischarged,
    ConsentRecorded,
    ClientErased,
    LinkIssued,
    LinkRevoked,
    ClientPreferencesSet,
)
