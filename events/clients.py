"""Facts about a client: registration, the people close to them, contacts, discharge."""

from __future__ import annotations

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


CLIENT_EVENTS = (
    ClientRegistered,
    CollaboratorAdded,
    ContactDetailsChanged,
    ClientDischarged,
    ConsentRecorded,
    ClientErased,
)
