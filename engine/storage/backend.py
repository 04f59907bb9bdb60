"""What a store kind provides: everything that differs between SQLite and PostgreSQL.

``engine.storage.kinds.backend_for(store)`` gives a store's backend: ``engine.storage.sqlite``
or ``engine.storage.postgres``, each imported only when a store of its kind is used. Callers ask
the backend; nothing outside ``engine.storage`` asks which kind of store it has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any
from uuid import UUID

from between.engine.errors import StoreError

if TYPE_CHECKING:
    from between.engine.storage.dialect import Dialect
    from between.engine.storage.lease import Lease
    from between.engine.storage.store import Store

#: The store format this version of Between creates and opens (``between_meta``'s format).
STORE_FORMAT = "1"
#: What a light opener yields: a cursor, the store's settings and its own connection.
LightFound = tuple[Any, dict[str, str], Any]
#: How long one creator waits for another to finish (each kind's ``creation_lock``).
CREATION_LOCK_WAIT = 60


def read_model_current(meta: dict[str, str], position: Any, head: Any) -> bool:
    """Whether the store is one this code reads and its read model is at the log's head."""
    return bool(meta) and meta.get("format") == STORE_FORMAT and position == (head or 0)


def creation_busy(where: str) -> StoreError:
    """A creator gave up waiting for another's creation lock."""
    return StoreError(
        "another 'between init' on %(where)s has not finished after %(seconds)s s; "
        "nothing was created — try again when it has",
        where=where,
        seconds=CREATION_LOCK_WAIT,
    )


class Backend:
    """One store kind: its recorder, keys, lease, SQL dialect, connections and diagnosis."""

    dialect: Dialect

    # -- opening -------------------------------------------------------------------------

    def check(self, store: Store, *, initialising: bool, read_only: bool) -> str | None:
        """Raise if the store cannot be opened; else why it opens read-only (None: it
        does not)."""
        raise NotImplementedError

    def configure(self, factory: Any, store: Store, *, read_only: bool) -> None:
        """Adjust eventsourcing's persistence factory for this store."""

    def recorder(self, datastore: Any) -> Any:
        """The hash-chaining recorder on eventsourcing's datastore."""
        raise NotImplementedError

    def keys(self, store: Store, datastore: Any, *, read_only: bool) -> Any:
        """The client key store's backend (``datastore`` gives PostgreSQL's connections)."""
        raise NotImplementedError

    def read_problem(self, store: Store, error: BaseException, text: str) -> StoreError:
        """What a failure to open or read the store (``text``: its first line) means."""
        raise NotImplementedError

    def write_refusal(self, cursor: Any, store: Store) -> str | None:
        """Why this connection may not write the store (None where it may)."""
        return None

    # -- writing -------------------------------------------------------------------------

    def write_transaction(self, recorder: Any, datastore: Any) -> AbstractContextManager[Any]:
        """A write transaction: a cursor, committed when the block ends."""
        raise NotImplementedError

    def write_problem(self, store: Store, error: BaseException) -> StoreError | None:
        """A failed write explained, where this kind of store explains it (else None)."""
        return None

    def flush(self, store: Store) -> None:
        """Leave no overwritten data behind outside the store (after an erasure)."""

    def lease(self, store: Store, seconds: float) -> Lease:
        """The dispatcher's lease on this store."""
        raise NotImplementedError

    # -- creating ------------------------------------------------------------------------

    def creation_lock(self, store: Store) -> AbstractContextManager[Callable[[], Any]]:
        """Hold the creation lock; yields a function that reads existing settings (or None)."""
        raise NotImplementedError

    def create_file(self, store: Store) -> None:
        """Make what must exist before the tables are created."""

    def creation_problem(self, store: Store, error: BaseException) -> StoreError:
        """Why the tables could not be created."""
        raise NotImplementedError

    # -- reading rows --------------------------------------------------------------------

    def open_light(self, store: Store) -> AbstractContextManager[LightFound | None]:
        """One plain read-only connection, when the read model is current (else None)."""
        raise NotImplementedError

    def light_keys(self, store: Store, connection: Any) -> Any:
        """The client key store's backend for a light reader on ``connection``."""
        raise NotImplementedError

    def stored_id(self, aggregate_id: UUID) -> Any:
        """An aggregate id as this store's SQL compares it."""
        raise NotImplementedError

    def id_bytes(self, stored: Any) -> bytes:
        """A stored aggregate id as the bytes the chain covers."""
        raise NotImplementedError

    def scan(self, store: Store, datastore: Any, sql: str, batch: int) -> Iterator[list[tuple]]:
        """The rows of one query, ``batch`` at a time, from one read snapshot."""
        raise NotImplementedError
