"""What reports read, and nothing more: one client's own events, or the clinic's summary rows
plus the few event types the clinic report needs (opened only as far as it needs them).

A client report reads the client's record and each of their assignments by id (the store's
primary-key index), so its cost grows with that client's history, not with the log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from between.audit.log_source import RecordSource
from between.engine.aggregates.assignments import Assignment
from between.engine.aggregates.clients import Client
from between.engine.errors import NotFound
from between.events.clients import ClientErased


class ReportSource(RecordSource, Protocol):
    """What reports read: the log and the summary rows (``RecordSource``), and the time."""

    def now(self) -> datetime: ...


@dataclass(frozen=True)
class ClientHistory:
    """A client and their homework as they stood at the end of a period."""

    client: dict[str, Any]
    homework: list[dict[str, Any]]
    erased: bool


def client_history(app: ReportSource, ref: str, until: datetime | None) -> ClientHistory:
    """The client (by code, or by id once erased) and their homework, folded from their own
    events recorded before ``until`` (all of them if None), homework oldest first."""
    client_id = _client_id(app, ref)
    events = list(app.events.get(client_id)) if client_id else []
    client = _fold(events, until)
    if client_id is None or not isinstance(client, Client):
        if until and events:
            raise NotFound(
                "no client %(code)s before %(until)s; see 'between client list'",
                code=repr(ref),
                until=until.isoformat(),
            )
        raise NotFound("no client %(code)s; see 'between client list'", code=repr(ref))
    with app.reading() as c:
        rows = app.readmodel.assignments(c, client_id=client_id.hex)
    homework = []
    for row in rows:
        aggregate = _fold(app.events.get(UUID(row["id"])), until)
        if isinstance(aggregate, Assignment):
            homework.append(aggregate.detail())
    homework.sort(key=lambda d: (d["proposed_at"], d["id"]))
    erased = any(isinstance(e, ClientErased) for e in events)
    return ClientHistory(client.detail(), homework, erased)


def _client_id(app: ReportSource, ref: str) -> UUID | None:
    try:
        return UUID(ref)
    except ValueError:
        return app.client_id(ref)


def _fold(events: Iterable[Any], until: datetime | None) -> Any:
    aggregate = None
    for event in events:
        if until is not None and event.timestamp >= until:
            break
        aggregate = event.mutate(aggregate)
    return aggregate


def summary_rows(app: ReportSource) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every client's and every assignment's summary row (the read model: no personal text)."""
    with app.reading() as c:
        return app.readmodel.clients(c), app.readmodel.assignments(c)
