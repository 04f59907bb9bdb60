"""Commands on clients: register, collaborators, contacts and consent, discharge, erasure.

Each validates its input, then changes the ``Client`` aggregate through the unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from eventsourcing.persistence import IntegrityError

from between.engine import validate
from between.engine.aggregates.assignments import Assignment
from between.engine.aggregates.clients import Client, new_client_id
from between.engine.errors import InvalidInput, RuleViolation
from between.engine.reading.clock_zones import (
    check_clock_time,
    check_language,
    check_quiet_hours,
    check_zone,
)
from between.engine.reading.full import Reading
from between.engine.reading.views import OPEN_STATUSES
from between.engine.storage.kinds import backend_for
from between.engine.work.unit import Outcome
from between.events.catalog import (
    CLIENT_DISCHARGED,
    CLIENT_ERASED,
    CLIENT_PREFERENCES_SET,
    CLIENT_REGISTERED,
    COLLABORATOR_ADDED,
    CONSENT_RECORDED,
    CONTACT_DETAILS_CHANGED,
)

if TYPE_CHECKING:
    from between.engine.storage.keys import KeyStore


class ClientCommands(Reading):
    """Writes to clients. Composed into ``Homework``."""

    keys: KeyStore

    def register_client(
        self,
        code: str,
        name: str,
        therapist: str,
        *,
        actor: str,
        request_key: str | None = None,
        preferences: dict[str, str] | None = None,
    ) -> Outcome:
        """Register a client; ``preferences`` (their zone, language, reminder time, quiet
        hours) are recorded with the registration, in the same transaction."""
        extra = {"preferences": preferences} if preferences else {}  # old keys read as before
        envelope = self.work.authorise(
            actor, "register", request_key, code=code, name=name, therapist=therapist, **extra
        )
        chosen = checked_preferences(preferences or {})
        code = validate.code(code)
        name = validate.text("name", name, limit=200)
        therapist = validate.text("therapist", therapist, limit=200)
        taken = RuleViolation(
            "client code %(code)r is already registered; codes are unique", code=code
        )
        first = self.work.recorded(
            Client, new_client_id(request_key), request_key, CLIENT_REGISTERED
        )
        if first is not None:
            return first
        if self.client_id(code):
            raise taken
        client = Client.register(code, name, therapist, envelope)
        if chosen:
            client.set_preferences(chosen, envelope)
        if not self.keys.backend.get(client.id)[0]:
            self.keys.create(client.id)
        try:  # the read model's unique code index refuses a racing duplicate
            return self.work.create(client, request_key, CLIENT_REGISTERED)
        except IntegrityError:
            raise taken from None

    def add_collaborator(
        self, code: str, name: str, relationship: str, *, actor: str, request_key: str | None = None
    ) -> Outcome:
        envelope = self.work.authorise(
            actor, "collaborator", request_key, name=name, relationship=relationship
        )
        name = validate.text("collaborator name", name, limit=200)
        relationship = validate.text("relationship", relationship, limit=200)
        return self.work.change(
            lambda: self._client(code),
            lambda c: c.add_collaborator(name, relationship, envelope),
            request_key,
            (COLLABORATOR_ADDED,),
        )

    def change_contacts(
        self,
        code: str,
        person: str,
        contacts: dict[str, str],
        *,
        actor: str,
        request_key: str | None = None,
        preferences: dict[str, str] | None = None,
    ) -> Outcome:
        """Change a person's contact details and/or the client's ``preferences`` (their zone,
        language, reminder time, quiet hours: the client's own, whoever ``person`` is)."""
        extra = {"preferences": preferences} if preferences else {}  # old keys read as before
        envelope = self.work.authorise(
            actor, "contact", request_key, person=person, contacts=contacts, **extra
        )
        chosen = checked_preferences(preferences or {})
        if not contacts and not chosen:
            raise InvalidInput(
                "give at least one contact detail or preference, e.g. --email or --timezone"
            )
        contacts = {k: validate.text(k, v, limit=320) for k, v in contacts.items()}

        def command(c: Client) -> None:
            if contacts:
                c.change_contacts(person, contacts, envelope)
            if chosen:
                c.set_preferences(chosen, envelope)

        return self.work.change(
            lambda: self._client(code),
            command,
            request_key,
            (CONTACT_DETAILS_CHANGED, CLIENT_PREFERENCES_SET),
        )

    def record_consent(
        self,
        code: str,
        channel: str,
        *,
        person: str = "client",
        granted: bool = True,
        actor: str,
        request_key: str | None = None,
    ) -> Outcome:
        """Record that ``person`` agrees (or no longer agrees) to hear on ``channel``."""
        envelope = self.work.authorise(
            actor, "contact", request_key, channel=channel, person=person, granted=granted
        )
        if channel not in self.plugins.channels:
            known = ", ".join(sorted(self.plugins.channels))
            raise InvalidInput(
                "unknown channel %(channel)r; known channels: %(known)s",
                channel=channel,
                known=known,
            )
        return self.work.change(
            lambda: self._client(code),
            lambda c: c.record_consent(person, channel, granted, envelope),
            request_key,
            (CONSENT_RECORDED,),
        )

    def discharge(
        self, code: str, reason: str, *, actor: str, request_key: str | None = None
    ) -> Outcome:
        envelope = self.work.authorise(actor, "discharge", request_key, reason=reason)
        reason = validate.text("reason", reason, limit=2000)

        def command(client: Client) -> None:
            with self.reading() as c:
                open_ones = set(self.readmodel.open_assignments(c, client.id.hex))
            for held in self.work.held(Assignment):  # in bulk mode, newer than the read model
                if held.client_id == client.id:
                    short = held.id.hex[:8]
                    is_open = held.row["status"] in OPEN_STATUSES
                    open_ones = open_ones | {short} if is_open else open_ones - {short}
            client.discharge(reason, sorted(open_ones), envelope)

        return self.work.change(
            lambda: self._client(code), command, request_key, (CLIENT_DISCHARGED,)
        )

    def erase_client(
        self, code_or_id: str, *, reason: str, actor: str, request_key: str | None = None
    ) -> Outcome:
        """Record the erasure, then destroy the client's key: their personal data reads as
        erased everywhere; the facts (types, times, counts, ratings) and the chain remain."""
        envelope = self.work.authorise(actor, "erase", request_key, reason=reason)
        reason = validate.text("reason", reason, limit=2000)
        client = self._client(code_or_id)
        repeated = client.row["status"] == "erased"
        if not repeated:
            repeated = self.work.change(
                lambda: self.work.load(Client, client.id),
                lambda c: c.erase(reason, envelope),
                request_key,
                (CLIENT_ERASED,),
            ).repeated
        self.keys.destroy(client.id)
        self.work.forget()  # nothing decrypted with the destroyed key stays in memory
        backend_for(self.store).flush(self.store)  # e.g. replaced pages out of SQLite's WAL
        erased = self._client(str(client.id))
        return Outcome(erased.detail(), str(client.id), repeated)


#: Each preference's check; the option it is given by names it in a refusal.
PREFERENCE_CHECKS = {
    "timezone": check_zone,
    "language": check_language,
    "remind_at": check_clock_time,
    "quiet_hours": check_quiet_hours,
}


def checked_preferences(given: Mapping[str, str | None]) -> dict[str, str]:
    """The preferences given (None: not given), each checked; refused in one line naming
    its option (e.g. ``--timezone``)."""
    unknown = set(given) - set(PREFERENCE_CHECKS)
    if unknown:
        raise InvalidInput(
            "unknown preference %(name)r: known ones are %(known)s",
            name=sorted(unknown)[0],
            known=", ".join(PREFERENCE_CHECKS),
        )
    return {
        key: PREFERENCE_CHECKS[key](value, "--" + key.replace("_", "-"))
        for key, value in given.items()
        if value is not None
    }
