"""``show``, ``client show`` and a review's brief, from the record's own events on a light
reader's connection (see ``engine.reading.light``).

The record is folded from its events into the same state the application's aggregates keep
(``engine.folds.assignment_state``, ``engine.folds.client_state``) and described by the same
functions
as ``engine.reading.full``, so the output is the full path's, without constructing the
application. The events are decoded plainly (``engine.reading.plain``: no eventsourcing, no event
classes), with the client keys the application's mapper would use; where that cannot be
exact — an encrypted store, a topic with upcasters, a state the plain decoder does not know
— by the application's own sealing mapper, into its aggregates, as the repository does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from uuid import UUID

from between.engine import validate
from between.engine.errors import NotFound
from between.engine.folds.assignment_state import TOPICS as ASSIGNMENT_TOPICS
from between.engine.folds.assignment_state import AssignmentState
from between.engine.folds.client_state import TOPICS as CLIENT_TOPICS
from between.engine.folds.client_state import ClientState
from between.engine.reading.full import (
    brief,
    client_detail,
    describe_assignment,
    no_client,
    resolve,
)
from between.engine.reading.plain import NotPlain, decode
from between.engine.storage.keys import KeyStore, encode_key

if TYPE_CHECKING:
    from between.engine.reading.clock_zones import Days
    from between.engine.reading.queries import Queries
    from between.engine.storage.backend import Backend
    from between.engine.storage.dialect import Dialect
    from between.engine.storage.sealing_mapper import SealingMapper
    from between.engine.storage.store import Store

S = TypeVar("S", AssignmentState, ClientState)


class RecordReader(Protocol):
    """What these functions read through (``engine.reading.light.LightReader`` is one): a
    cursor on the store's read model and log, the store's backend, its master key, and what
    is kept for the reader's life (the client keys, the mapper: None until first used)."""

    store: Store
    backend: Backend
    cursor: Any
    connection: Any  # psycopg's, for the key store (None on SQLite)
    master: bytes | None
    queries: Queries
    dialect: Dialect
    plugins: Callable[[], Any]
    keys: Any
    mapper: Any

    def today(self) -> date: ...
    def days(self) -> Days: ...

    def on_close(self, close: Callable[[], Any]) -> None: ...


class LightAssignment(AssignmentState):
    """An assignment folded by the light path: its state, id and version."""

    def __init__(self, id: UUID) -> None:
        self.id = id
        self.version = 0


class LightClient(ClientState):
    """A client folded by the light path: their state, id and version."""

    def __init__(self, id: UUID) -> None:
        self.id = id
        self.version = 0


#: The plain class each kind of record folds into, and the topics it folds.
_LIGHT: dict[type, tuple[type, frozenset[str]]] = {
    AssignmentState: (LightAssignment, ASSIGNMENT_TOPICS),
    ClientState: (LightClient, CLIENT_TOPICS),
}


def show(reader: RecordReader, ref: str) -> dict:
    """One assignment in full, as ``Reading.show`` gives it."""
    assignment = _load(reader, AssignmentState, _resolve(reader, ref))
    if assignment is None:
        raise NotFound("no assignment %(ref)s", ref=ref)
    follow_ups = reader.queries.assignments(reader.cursor, steps_up_from=assignment.id.hex)
    plugins = reader.plugins()
    whose = reader.queries.client_by_id(reader.cursor, assignment.client_id) or {}
    today = reader.days().of(whose.get("timezone"))  # the client's own day
    return describe_assignment(plugins, assignment, [r["id"] for r in follow_ups], today)


def show_client(reader: RecordReader, code: str) -> dict:
    """One client and their homework, as ``Reading.show_client`` gives it."""
    try:
        found: UUID | None = UUID(code)
    except ValueError:
        row = reader.queries.client(reader.cursor, validate.code(code))
        found = UUID(row["id"]) if row else None
    client = _load(reader, ClientState, found) if found else None
    if client is None:
        raise no_client(code)
    rows = reader.queries.assignments(reader.cursor, client_id=client.id.hex)
    listed = reader.queries.client_by_id(reader.cursor, client.id)
    return client_detail(client, rows, reader.days().of(client.row.get("timezone")), listed)


def review_brief(reader: RecordReader, ref: str) -> dict:
    return brief(show(reader, ref))


def decline_reason(reader: RecordReader, ref: str) -> str | None:
    """Why the homework was declined, from its record (no plugins are loaded for it)."""
    assignment = _load(reader, AssignmentState, _resolve(reader, ref))
    if assignment is None:
        raise NotFound("no assignment %(ref)s", ref=ref)
    return assignment.decline_reason


def _resolve(reader: RecordReader, ref: str) -> UUID:
    return resolve(ref, lambda prefix: reader.queries.assignment_ids(reader.cursor, prefix))


def _load(reader: RecordReader, kind: type[S], aggregate_id: UUID) -> S | None:
    """The record with this id folded from its events on the log, if it is a ``kind``."""
    d = reader.dialect
    reader.cursor.execute(
        d.sql(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            f"WHERE {d.position} > 0 AND originator_id = ? ORDER BY originator_version"
        ),
        (reader.backend.stored_id(aggregate_id),),
    )
    rows = [(r["originator_version"], r["topic"], r["state"]) for r in reader.cursor.fetchall()]
    if not rows:
        return None
    if reader.master is None:  # an encrypted store's states are the mapper's to decrypt
        try:
            return _plain_fold(reader, kind, aggregate_id, rows)
        except NotPlain:
            pass
    return _mapper_fold(reader, kind, aggregate_id, rows)


def _plain_fold(
    reader: RecordReader, kind: type[S], aggregate_id: UUID, rows: list[tuple[int, str, Any]]
) -> S | None:
    """The record's plain events folded into ``kind``'s light class (``NotPlain`` where the
    mapper's fold could differ: then the caller folds with it)."""
    light, topics = _LIGHT[kind]
    first = rows[0][1]
    if first != kind.STARTED:
        raise NotPlain(f"{first} does not start a {kind.__name__}")  # another kind of record
    state: Any = light(aggregate_id)
    keys = _keys(reader)
    for version, topic, stored in rows:
        if topic not in topics or version != state.version + 1:
            raise NotPlain(f"{topic} at version {version}")
        event = decode(aggregate_id, version, topic, stored, keys)
        if version == 1 and event.originator_topic != kind.AGGREGATE_TOPIC:
            raise NotPlain(f"created as {event.originator_topic}")
        state.evolve(event)
        state.version = version
    return state


def _mapper_fold(
    reader: RecordReader, kind: type[S], aggregate_id: UUID, rows: list[tuple[int, str, Any]]
) -> S | None:
    """The record folded as the application's repository folds it: decoded by its mapper
    into its event classes, mutating its aggregate."""
    from eventsourcing.persistence import StoredEvent

    if reader.mapper is None:
        reader.mapper = _mapper(reader)  # kept for the reader's life (an agenda reads several)
    found: Any = None
    for version, topic, stored in rows:
        event = reader.mapper.to_domain_event(StoredEvent(aggregate_id, version, topic, stored))
        found = event.mutate(found)
    return found if isinstance(found, kind) else None


def _keys(reader: RecordReader) -> KeyStore:
    """The client keys, as the application reads them (made once for the reader's life)."""
    if reader.keys is None:
        backend = reader.backend.light_keys(reader.store, reader.connection)
        reader.keys = KeyStore(backend, reader.master)
        reader.on_close(backend.close)
    return reader.keys


def _mapper(reader: RecordReader) -> SealingMapper:
    """The application's mapper: sealed fields opened with client keys, whole states
    decrypted when the store is encrypted."""
    from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex

    from between.engine.storage.sealing_mapper import SealingMapper

    register_topics()

    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    cipher = None
    if reader.master is not None:
        from eventsourcing.cryptography import AESCipher
        from eventsourcing.utils import Environment

        cipher = AESCipher(Environment(env={"CIPHER_KEY": encode_key(reader.master)}))
    return SealingMapper(transcoder, cipher=cipher, keys=_keys(reader))


def register_topics() -> None:
    """Register every stored topic — the event classes and the aggregates they start — as
    the application does by importing them: the mapper resolves a stored event's topic, and
    its first event the aggregate's, so a fresh process that never constructed the
    application could decode none of them (any record's id may be asked for, hence all)."""
    from between.engine.aggregates import (
        assignments,  # noqa: F401
        clients,  # noqa: F401
        notifications,  # noqa: F401
        operators,  # noqa: F401
    )
