"""``show``, ``client show`` and a review's brief, from the record's own events on a light
reader's connection (see ``engine.light``).

The record is folded from its events exactly as the application's repository folds it —
decoded by the same sealing mapper, with the same client keys — and described by the same
functions as ``engine.reading``, so the output is the full path's, without constructing the
application (its connection pool, recorder, read model and unit of work).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    PersistenceError,
    StoredEvent,
    UUIDAsHex,
)

from between.engine import validate
from between.engine.assignments import Assignment
from between.engine.errors import NotFound
from between.engine.keys import KeyStore, PostgresKeys, SQLiteKeys, encode_key
from between.engine.reading import brief, client_detail, describe_assignment, no_client, resolve
from between.engine.sealing import SealingMapper

if TYPE_CHECKING:
    from collections.abc import Iterator

    from between.engine.light import LightReader

A = TypeVar("A")


def show(reader: LightReader, ref: str) -> dict:
    """One assignment in full, as ``Reading.show`` gives it."""
    assignment = _load(reader, Assignment, _resolve(reader, ref))
    if assignment is None:
        raise NotFound(f"no assignment {ref}")
    follow_ups = reader.queries.assignments(reader.cursor, steps_up_from=assignment.id.hex)
    plugins = reader.plugins()
    return describe_assignment(plugins, assignment, [r["id"] for r in follow_ups], reader.today())


def show_client(reader: LightReader, code: str) -> dict:
    """One client and their homework, as ``Reading.show_client`` gives it."""
    from between.engine.clients import Client

    try:
        found: UUID | None = UUID(code)
    except ValueError:
        row = reader.queries.client(reader.cursor, validate.code(code))
        found = UUID(row["id"]) if row else None
    client = _load(reader, Client, found) if found else None
    if client is None:
        raise no_client(code)
    rows = reader.queries.assignments(reader.cursor, client_id=client.id.hex)
    return client_detail(client, rows, reader.today())


def review_brief(reader: LightReader, ref: str) -> dict:
    return brief(show(reader, ref))


def _resolve(reader: LightReader, ref: str) -> UUID:
    return resolve(ref, lambda prefix: reader.queries.assignment_ids(reader.cursor, prefix))


def _load(reader: LightReader, cls: type[A], aggregate_id: UUID) -> A | None:
    """The record with this id folded from its events on the log, if it is a ``cls``."""
    d = reader.dialect
    reader.cursor.execute(
        d.sql(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            f"WHERE {d.position} > 0 AND originator_id = ? ORDER BY originator_version"
        ),
        (aggregate_id.hex if reader.store.is_sqlite else aggregate_id,),
    )
    rows = reader.cursor.fetchall()
    if reader.mapper is None:
        reader.mapper = _mapper(reader)  # kept for the reader's life (an agenda reads several)
        reader.on_close(reader.mapper.keys.backend.close)
    found: Any = None
    for r in rows:
        stored = StoredEvent(aggregate_id, r["originator_version"], r["topic"], r["state"])
        found = reader.mapper.to_domain_event(stored).mutate(found)
    return found if isinstance(found, cls) else None


def _mapper(reader: LightReader) -> SealingMapper:
    """The application's mapper: sealed fields opened with client keys, whole states
    decrypted when the store is encrypted."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    cipher = None
    if reader.master is not None:
        from eventsourcing.cryptography import AESCipher
        from eventsourcing.utils import Environment

        cipher = AESCipher(Environment(env={"CIPHER_KEY": encode_key(reader.master)}))
    if reader.store.is_sqlite:
        assert reader.store.path is not None
        backend: Any = SQLiteKeys(reader.store.path.with_suffix(".keys"), read_only=True)
    else:
        backend = PostgresKeys(_Datastore(reader.connection))
    return SealingMapper(transcoder, cipher=cipher, keys=KeyStore(backend, reader.master))


class _Datastore:
    """What ``PostgresKeys`` reads keys through, on the reader's own connection."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @contextmanager
    def transaction(self, commit: bool = False) -> Iterator[Any]:
        import psycopg

        try:
            with self.connection.cursor() as cursor:
                yield cursor
        except psycopg.Error as e:
            raise PersistenceError(str(e)) from e
