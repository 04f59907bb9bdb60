"""Who may hear about a client's homework, on which channel and at which address.

Asked twice: when a notification is queued (who should hear of this event), and again just
before every attempt to send it (``check``) — consent may have been withdrawn, an observer
removed or an address changed while it waited, e.g. during a mail-server outage.

* A message whose person may no longer hear on its channel is **cancelled** with the reason.
* A message goes to the address on record **when it is sent**, not the one on record when it
  was queued: a changed address is the person's latest word on where to reach them, and the
  old one may no longer be theirs (a shared or former mailbox is a privacy leak). Consent is
  given per channel, not per address, so it carries over.
* A message for a channel whose plugin is not loaded is **held** (queued, not attempted)
  until the plugin is back; it is never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from between.engine.aggregates.assignments import Assignment
from between.engine.aggregates.clients import Client
from between.engine.settings import Settings

CONSENT_WITHDRAWN = "consent withdrawn"
ERASED_CLIENT = "the client's personal data was erased"


@dataclass(frozen=True)
class Recipient:
    """One person on one channel; ``address`` is "" while the channel is not loaded."""

    person: str
    channel: str
    address: str


@dataclass(frozen=True)
class Verdict:
    """What to do with a queued message now: send it to ``address``, hold it or cancel it."""

    address: str = ""
    hold: str | None = None
    cancel: str | None = None


class Recipients:
    """The rules of who hears what, from the log (consent, contacts) and the configuration
    (therapists' channels), with the channels loaded in this process."""

    def __init__(self, settings: Settings, channels: dict[str, Any]) -> None:
        self.settings = settings
        self.channels = channels

    def of(self, client: Client, assignment: Assignment, role: str) -> list[Recipient]:
        """Everyone in ``role`` who may hear about ``assignment``, on each of their channels."""
        if role == "therapist":
            name = client.row["therapist"]
            conf = self._therapist(name)
            found = [(name, channel, conf) for channel in conf.get("channels", [])]
        else:
            found = [
                (person, channel, self._contacts(client, person))
                for person in self._people(client, assignment, role)
                for channel in sorted(client.consents.get(person, ()))
            ]
        recipients = []
        for person, channel, contacts in found:
            if channel not in self.channels:
                recipients.append(Recipient(person, channel, ""))  # held until it is loaded
            elif address := self.address(channel, contacts, person):
                recipients.append(Recipient(person, channel, address))
        return recipients

    def check(self, n: Any, client: Client | None, assignment: Assignment | None) -> Verdict:
        """May notification ``n`` be sent now, and where to? (just before each attempt)"""
        if client is None or client.row["status"] == "erased":
            return Verdict(cancel=ERASED_CLIENT)
        if assignment is None:
            return Verdict(cancel="the homework it is about is not in the log")
        role, person, channel = n.row["role"], n.person, n.row["channel"]
        if role == "therapist":
            if person != client.row["therapist"]:
                return Verdict(cancel="no longer the client's therapist")
            contacts = self._therapist(person)
            if channel not in contacts.get("channels", []):
                return Verdict(cancel="the therapist's configuration no longer lists this channel")
        else:
            if person not in self._people(client, assignment, role):
                return Verdict(cancel="no longer asked to observe this homework")
            if channel not in client.consents.get(person, ()):
                return Verdict(cancel=CONSENT_WITHDRAWN)
            contacts = self._contacts(client, person)
        if channel not in self.channels:
            return Verdict(hold=f"channel {channel!r} is not loaded; held until it is")
        address = self.address(channel, contacts, person)
        if not address:
            key = self.channels[channel].address_key
            return Verdict(cancel=f"no {key} address on record any more")
        return Verdict(address=address)

    def address(self, channel: str, contacts: Any, person: str) -> str | None:
        """The person's contact detail that ``channel`` sends to (the person, if it needs none)."""
        key = getattr(self.channels.get(channel), "address_key", None)
        if key is None:
            return person
        value = contacts.get(key) if isinstance(contacts, dict) else None
        return value if isinstance(value, str) and value else None

    def _therapist(self, name: str) -> dict:
        conf = (self.settings.config.get("therapists") or {}).get(name)
        return conf if isinstance(conf, dict) else {}

    @staticmethod
    def _contacts(client: Client, person: str) -> Any:
        return client.contacts.get(person, {}) if isinstance(client.contacts, dict) else {}

    @staticmethod
    def _people(client: Client, assignment: Assignment, role: str) -> list[str]:
        if role == "client":
            return ["client"]
        observers = assignment.observers if isinstance(assignment.observers, list) else []
        return [p for p in observers if p in client.collaborators]
