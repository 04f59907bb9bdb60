"""The PostgreSQL backend: a store in one schema of a database, its client keys in a table.

psycopg and eventsourcing's PostgreSQL module are imported only when a PostgreSQL store is
used (psycopg costs ~250 ms to import, which SQLite users never pay).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from uuid import UUID

from between.engine.errors import StoreError
from between.engine.storage.backend import (
    CREATION_LOCK_WAIT,
    Backend,
    LightFound,
    creation_busy,
    read_model_current,
)
from between.engine.storage.diagnosis import postgres_problem, probe_postgres
from between.engine.storage.dialect import Dialect
from between.language import gettext as _

if TYPE_CHECKING:
    from between.engine.storage.lease import Lease
    from between.engine.storage.store import Store

DIALECT = Dialect(
    "postgresql",
    "%s",
    "notification_id",
    " FOR UPDATE",
    "substring({column} from {start} for {length})",
    "'\\x{hex}'::bytea",
)
#: The first half of the creation lock's advisory key ("btwn"); the second is the schema's.
LOCK_CLASS = 0x6274776E
#: Whether this PostgreSQL role may write the tables every write touches, on a primary.
CAN_WRITE = (
    "SELECT has_table_privilege('stored_events', 'INSERT') "
    "AND has_table_privilege('rm_position', 'UPDATE') "
    "AND has_table_privilege('between_client_keys', 'INSERT') AS granted, "
    "pg_is_in_recovery() AS standby"
)


class PostgresBackend(Backend):
    """A PostgreSQL schema store."""

    dialect = DIALECT

    def check(self, store: Store, *, initialising: bool, read_only: bool) -> str | None:
        probe_postgres(store)  # a refused connection or a failed login, said at once
        return None

    def configure(self, factory: Any, store: Store, *, read_only: bool) -> None:
        # Our own SQL names tables unqualified: point the search path at the schema.
        options = f"-c search_path={store.schema}"
        if read_only:
            options += " -c default_transaction_read_only=on"
        factory.datastore.pool.kwargs["options"] = options
        factory.datastore.pool.kwargs["connect_timeout"] = store.connect_timeout

    def recorder(self, datastore: Any) -> Any:
        from between.engine.storage.recorders_pg import ChainedPostgresRecorder

        return ChainedPostgresRecorder(datastore)

    def keys(self, store: Store, datastore: Any, *, read_only: bool) -> Any:
        from between.engine.storage.keys import PostgresKeys

        return PostgresKeys(datastore)

    def read_problem(self, store: Store, error: BaseException, text: str) -> StoreError:
        if "permission denied" in text:
            return StoreError(
                "role %(user)s may not read %(where)s (%(reason)s); ask the database owner to "
                "grant it USAGE on the schema and SELECT on its tables",
                user=repr(store.user),
                where=store.describe(),
                reason=text,
            )
        return StoreError(
            "cannot read the store %(where)s: %(reason)s", where=store.describe(), reason=text
        )

    def write_refusal(self, cursor: Any, store: Store) -> str | None:
        cursor.execute(CAN_WRITE)
        allowed = cursor.fetchone()
        if allowed["standby"]:
            return _(
                "%(where)s is a read-only standby server; nothing was recorded — write on the "
                "primary",
                where=store.describe(),
            )
        if not allowed["granted"]:
            return _(
                "the store is read-only for role %(user)s (it may not write Between's tables); "
                "nothing was recorded — act as a role that may write, or ask the database owner "
                "to grant INSERT, UPDATE and DELETE on them",
                user=repr(store.user),
            )
        return None

    def write_transaction(self, recorder: Any, datastore: Any) -> Any:
        return datastore.transaction(commit=True)

    def lease(self, store: Store, seconds: float) -> Lease:
        from between.engine.storage.lease import AdvisoryLease

        return AdvisoryLease(store, seconds)

    # -- creating ------------------------------------------------------------------------

    @contextmanager
    def creation_lock(self, store: Store) -> Iterator[Callable[[], Any]]:
        """A session advisory lock keyed by the schema (unlocked when the connection closes)."""
        import psycopg

        try:
            conn = psycopg.connect(**store.connect_args(), autocommit=True)
        except psycopg.Error as e:
            raise postgres_problem(store, e) from None
        with conn:
            conn.execute(f"SET lock_timeout = '{CREATION_LOCK_WAIT}s'")
            try:
                conn.execute(
                    "SELECT pg_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, store.schema)
                )
            except psycopg.errors.LockNotAvailable:
                raise creation_busy(store.describe()) from None
            _ensure_schema(conn, store)
            yield lambda: _meta(conn, store)

    def creation_problem(self, store: Store, error: BaseException) -> StoreError:
        return StoreError(
            "cannot create the store %(where)s as %(user)s: %(reason)s (the role needs CREATE "
            "on the schema)",
            where=store.describe(),
            user=repr(store.user),
            reason=" ".join(str(error).split()),
        )

    # -- reading rows --------------------------------------------------------------------

    @contextmanager
    def open_light(self, store: Store) -> Iterator[LightFound | None]:
        """One psycopg connection (autocommit, read-only, the store's schema on its path)."""
        import psycopg
        from psycopg.rows import dict_row

        try:
            conn = psycopg.connect(
                **store.connect_args(),
                autocommit=True,
                row_factory=dict_row,
                options=f"-c search_path={store.schema} -c default_transaction_read_only=on",
            )  # the password, when the address has one, is among ``connect_args``
        except psycopg.OperationalError as e:
            raise postgres_problem(store, e) from None
        with conn:
            cursor = conn.cursor()
            try:
                cursor.execute("SELECT key, value FROM between_meta")
                meta = {r["key"]: r["value"] for r in cursor.fetchall()}
                cursor.execute("SELECT position FROM rm_position")
                at = cursor.fetchone()
                position = at["position"] if at else None  # no row: not current
                cursor.execute("SELECT MAX(notification_id) AS head FROM stored_events")
                last = cursor.fetchone()
                head = last["head"] if last else None
            except (psycopg.Error, TypeError):
                meta, position, head = {}, None, None
            yield (cursor, meta, conn) if read_model_current(meta, position, head) else None

    def light_keys(self, store: Store, connection: Any) -> Any:
        return self.keys(store, _OwnConnection(connection), read_only=True)

    def stored_id(self, aggregate_id: UUID) -> Any:
        return aggregate_id

    def id_bytes(self, stored: Any) -> bytes:
        return stored.bytes

    def scan(self, store: Store, datastore: Any, sql: str, batch: int) -> Iterator[list[tuple]]:
        """Through a server-side cursor."""
        from psycopg.rows import tuple_row

        with (
            datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(name="between_log", row_factory=tuple_row) as cursor,
        ):
            cursor.execute(sql)
            while rows := cursor.fetchmany(batch):
                yield rows


BACKEND = PostgresBackend()


class _OwnConnection:
    """What ``PostgresKeys`` reads keys through, on a light reader's own connection."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @contextmanager
    def transaction(self, commit: bool = False) -> Iterator[Any]:
        import psycopg

        try:
            with self.connection.cursor() as cursor:
                yield cursor
        except psycopg.Error as e:
            from eventsourcing.persistence import PersistenceError  # only once it failed

            raise PersistenceError(str(e)) from e


def _meta(conn: Any, store: Store) -> dict[str, str] | None:
    """The settings of the store in its schema, or None where there is none yet."""
    import psycopg
    from psycopg import sql

    query = sql.SQL("SELECT key, value FROM {}.between_meta").format(sql.Identifier(store.schema))
    try:
        rows = conn.execute(query).fetchall()
    except psycopg.errors.UndefinedTable:
        return None
    except psycopg.Error as e:
        raise StoreError(
            "cannot read %(where)s: %(reason)s",
            where=store.describe(),
            reason=" ".join(str(e).split()),
        ) from None
    return dict(rows) or None


def _ensure_schema(conn: Any, store: Store) -> None:
    """Create the store's schema if it is missing."""
    import psycopg
    from psycopg import sql

    if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (store.schema,)).fetchone():
        return
    try:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(store.schema)))
    except psycopg.Error as e:
        raise StoreError(
            "cannot create the schema %(schema)s in %(database)s as %(user)s (%(reason)s); ask "
            "the database owner to create it",
            schema=repr(store.schema),
            database=repr(store.dbname),
            user=repr(store.user),
            reason=" ".join(str(e).split()),
        ) from None
