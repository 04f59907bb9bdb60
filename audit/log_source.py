"""What the auditors' tools take of a store's application (``engine.app.Homework``): the
log and how to read it, not the whole application. The FHIR export and the reports read the
log through the same functions, so they take these protocols too."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from datetime import date

    from eventsourcing.persistence import EventStore

    from between.engine.app import Datastore
    from between.engine.folds.assignment_state import AssignmentState
    from between.engine.folds.read_model import ReadModel
    from between.engine.storage.backend import Backend
    from between.engine.storage.dialect import Dialect
    from between.engine.storage.sealing_mapper import SealingMapper
    from between.engine.storage.store import Store


class LogSource(Protocol):
    """The log of one store: its rows (through the backend and the dialect's SQL), decoding
    them (the mapper), its events by record, and the read model's position."""

    @property
    def store(self) -> Store: ...
    @property
    def backend(self) -> Backend: ...
    @property
    def dialect(self) -> Dialect: ...
    @property
    def datastore(self) -> Datastore: ...
    @property
    def mapper(self) -> SealingMapper: ...
    @property
    def events(self) -> EventStore[UUID]: ...
    @property
    def recorder(self) -> Any: ...
    @property
    def readmodel(self) -> ReadModel: ...
    def reading(self) -> AbstractContextManager[Any]: ...
    def opened_with(self) -> dict[str, Any]: ...


class RecordSource(LogSource, Protocol):
    """The log, and a client's id by their code (the FHIR export, the reports)."""

    def client_id(self, code: str) -> UUID | None: ...


class AuditSource(RecordSource, Protocol):
    """The log, and finding the records an auditor names (a client's code, an id's prefix)."""

    def resolve(self, ref: str | UUID) -> UUID: ...
    def describe_assignment(
        self, assignment: AssignmentState, follow_ups: list[str], today: date | None = None
    ) -> dict[Any, Any]: ...
    def client_zone(self, client: UUID | str | None) -> str | None: ...
