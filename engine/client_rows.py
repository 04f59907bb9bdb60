"""The summary row of a client, folded from their events (see ``engine.rows``)."""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from between.engine.views import ERASED, bump, iso
from between.events import clients as c


@singledispatch
def client_row(event: Any, row: dict | None) -> dict:
    raise TypeError(f"not a client event: {type(event).__name__}")


@client_row.register
def _(event: c.ClientRegistered, row: dict | None) -> dict:
    return {
        "id": str(event.originator_id),
        "code": event.code,
        "therapist": event.therapist,
        "status": "active",
        "registered_at": iso(event.timestamp),
        "discharged_at": None,
        "erased_at": None,
        "collaborator_count": 0,
        "version": event.originator_version,
    }


@client_row.register
def _(event: c.CollaboratorAdded, row: dict | None) -> dict:
    return bump(row, event, collaborator_count=row["collaborator_count"] + 1)


@client_row.register
def _(event: c.ContactDetailsChanged, row: dict | None) -> dict:
    return bump(row, event)


@client_row.register
def _(event: c.ClientDischarged, row: dict | None) -> dict:
    return bump(row, event, status="discharged", discharged_at=iso(event.timestamp))


@client_row.register
def _(event: c.ConsentRecorded, row: dict | None) -> dict:
    return bump(row, event)


@client_row.register
def _(event: c.ClientErased, row: dict | None) -> dict:
    return bump(row, event, status="erased", code=ERASED, erased_at=iso(event.timestamp))


@client_row.register
def _(event: c.LinkIssued | c.LinkRevoked, row: dict | None) -> dict:
    return bump(row, event)  # links are not summarised: the row only moves its version
