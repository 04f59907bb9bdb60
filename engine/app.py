"""Between's application: one store, wired to eventsourcing, and everything run on it.

``Homework`` is the store wiring — settings from the store address alone, the sealing
mapper and the keys, the hash-chaining recorder, the read model, store creation — and the
composition of the parts that do the work:

* ``engine.unit_of_work`` — loading, deciding and saving, for every writer;
* ``engine.client_commands``, ``engine.assignment_commands``, ``engine.operator_commands``,
  ``engine.notification_commands`` — the commands, by aggregate;
* ``engine.reading`` — the queries.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError
from eventsourcing.utils import Environment

from between.engine.assignment_commands import AssignmentCommands
from between.engine.client_commands import ClientCommands
from between.engine.errors import RuleViolation, StoreError
from between.engine.keys import (
    KeyStore,
    PostgresKeys,
    SQLiteKeys,
    check_master_key,
    decode_key,
    default_key_file,
    encode_key,
    find_master_key,
    key_check,
    new_key,
    write_key_file,
)
from between.engine.notification_commands import NotificationCommands
from between.engine.operator_commands import OperatorCommands
from between.engine.plugins import Plugins
from between.engine.queries import POSTGRES, SQLITE, Dialect
from between.engine.readmodel import ReadModel
from between.engine.recorders import ChainedSQLiteRecorder
from between.engine.sealing import SealingMapper
from between.engine.store import Store
from between.engine.unit_of_work import ATTEMPTS, Outcome, UnitOfWork, first_line

__all__ = ["ATTEMPTS", "Homework", "Outcome"]

META_TABLE = "CREATE TABLE IF NOT EXISTS between_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
STORE_FORMAT = "1"


class Homework(
    ClientCommands,
    AssignmentCommands,
    OperatorCommands,
    NotificationCommands,
    Application[UUID],
):
    """Between's application: clients and their homework, on one store."""

    name = "between"

    def __init__(
        self,
        store: Store,
        *,
        read_only: bool = False,
        plugins: Plugins | Callable[[], Plugins] | None = None,
        clock: Callable[[], datetime] | None = None,
        key_file: Path | None = None,
        environ: dict[str, str] | None = None,
        key_optional: bool = False,
        _initialising: bool = False,
    ) -> None:
        self.store = store
        self.read_only = read_only
        self.clock = clock or (lambda: datetime.now(UTC))
        self._plugins = plugins
        self._key_file = key_file
        self._environ = os.environ if environ is None else environ
        self._initialising = _initialising
        self._key_optional = key_optional
        if store.is_sqlite and not _initialising and not store.path.exists():
            raise StoreError(
                f"no store at {store.path}; create one with 'between init' "
                "(or point --store / BETWEEN_STORE at an existing store)"
            )
        try:
            super().__init__(env=store.settings(read_only=read_only))
        except (OperationalError, InterfaceError) as e:
            raise StoreError(f"cannot open the store {store.describe()}: {first_line(e)}") from None
        self.readmodel = ReadModel(self.mapper, self.dialect, "stored_events")
        if not read_only:
            self.recorder.after_insert = self.readmodel.after_insert
        self.work = UnitOfWork(
            self.events, self.repository, self.keys, self.now, read_only=read_only
        )

    def close(self) -> None:
        if hasattr(self, "keys"):
            self.keys.backend.close()
        super().close()

    # -- wiring --------------------------------------------------------------------------

    @property
    def dialect(self) -> Dialect:
        return SQLITE if self.store.is_sqlite else POSTGRES

    def construct_env(self, name: str, env: Any = None) -> Environment:
        """Settings come only from the store address, never from stray environment."""
        return Environment(name, dict(env or {}))

    def construct_factory(self, env: Environment) -> Any:
        factory = super().construct_factory(env)
        if self.store.is_sqlite and self.read_only:
            # Leave the journal mode alone: a read-only connection cannot switch it to WAL.
            factory.datastore.pool.is_journal_mode_wal = True
        if not self.store.is_sqlite:
            # Our own SQL names tables unqualified: point the search path at the schema.
            options = f"-c search_path={self.store.schema}"
            if self.read_only:
                options += " -c default_transaction_read_only=on"
            factory.datastore.pool.kwargs["options"] = options
        return factory

    def construct_mapper(self) -> Any:
        """Seal personal fields with client keys; encrypt whole states if the store is."""
        self.meta = {} if self._initialising else self._read_meta()
        master, cipher = None, None
        if self.meta.get("encrypted") == "yes":
            try:
                master = find_master_key(self.meta["store_id"], dict(self._environ), self._key_file)
            except StoreError as missing:
                if not self._key_optional:
                    raise
                cipher = LockedCipher(str(missing))  # enough to verify the chain, not to read
            else:
                check_master_key(master, self.meta["key_check"])
                from eventsourcing.cryptography import AESCipher

                cipher = AESCipher(Environment(env={"CIPHER_KEY": encode_key(master)}))
        self.keys = KeyStore(self._key_backend(), master)
        return SealingMapper(self.construct_transcoder(), cipher=cipher, keys=self.keys)

    def construct_recorder(self) -> Any:
        if self.store.is_sqlite:
            return ChainedSQLiteRecorder(self.factory.datastore)
        from between.engine.recorders_pg import ChainedPostgresRecorder

        return ChainedPostgresRecorder(self.factory.datastore)

    def _key_backend(self) -> Any:
        if self.store.is_sqlite:
            return SQLiteKeys(self.store.path.with_suffix(".keys"), read_only=self.read_only)
        return PostgresKeys(self.factory.datastore)

    @property
    def plugins(self) -> Plugins:
        if self._plugins is None:
            from between.engine.plugins import load_plugins
            from between.engine.settings import Settings

            self._plugins = load_plugins(Settings.from_environment())
        if callable(self._plugins):
            self._plugins = self._plugins()
        return self._plugins

    @contextmanager
    def writing(self) -> Iterator[Any]:
        """A write transaction on the store (holds SQLite's write lock)."""
        if self.read_only:
            raise StoreError("this store was opened read-only; nothing was written")
        try:
            if self.store.is_sqlite:
                with self.recorder.write() as c:
                    yield c
            else:
                with self.factory.datastore.transaction(commit=True) as c:
                    yield c
        except OperationalError as e:
            raise StoreError(f"the store is busy or unavailable: {first_line(e)}") from None

    @contextmanager
    def reading(self) -> Iterator[Any]:
        try:
            with self.factory.datastore.transaction(commit=False) as c:
                yield c
        except PersistenceError as e:
            raise StoreError(f"cannot read the store: {first_line(e)}") from None

    def _read_meta(self) -> dict[str, str]:
        try:
            with self.reading() as c:
                c.execute("SELECT key, value FROM between_meta")
                meta = {r["key"]: r["value"] for r in c.fetchall()}
        except StoreError as e:
            raise StoreError(
                f"{self.store.describe()} is not a Between store ({e}); "
                "create one with 'between init'"
            ) from None
        if meta.get("format") != STORE_FORMAT:
            raise StoreError(f"{self.store.describe()} has an unknown store format")
        return meta

    @classmethod
    def initialise(
        cls,
        store: Store,
        *,
        encrypt: bool = False,
        key_file: Path | None = None,
        environ: dict[str, str] | None = None,
    ) -> tuple[dict[str, str], Path | None]:
        """Create the store once. Returns its settings and where a new key file was written
        (None if none was). Running it again on an existing store changes nothing."""
        environ = dict(os.environ if environ is None else environ)
        if store.is_sqlite:
            store.path.parent.mkdir(parents=True, exist_ok=True)
        app = cls(store, _initialising=True, environ=environ)
        try:
            existing = app._read_meta()
        except StoreError:
            existing = None
        if existing is not None:
            app.close()
            if encrypt and existing.get("encrypted") != "yes":
                raise RuleViolation(
                    f"{store.describe()} already exists unencrypted; encryption is chosen when a "
                    "store is created (create a new one and copy with 'between rekey')"
                )
            return {**existing, "created": "no"}, None
        meta = {"format": STORE_FORMAT, "store_id": uuid4().hex, "encrypted": "no"}
        written = None
        if encrypt:
            if environ.get("BETWEEN_KEY"):
                master = decode_key(environ["BETWEEN_KEY"], "BETWEEN_KEY")
            else:
                master = new_key()
                written = key_file or (
                    Path(environ["BETWEEN_KEY_FILE"]) if environ.get("BETWEEN_KEY_FILE") else None
                )
                written = written or default_key_file(meta["store_id"])
                write_key_file(written, master)
            meta.update(encrypted="yes", key_check=key_check(master))
        app.recorder.create_table()
        app._key_backend().create()
        with app.writing() as c:
            c.execute(META_TABLE)
            for key, value in meta.items():
                c.execute(
                    app.dialect.sql("INSERT INTO between_meta (key, value) VALUES (?, ?)"),
                    (key, value),
                )
            app.readmodel.create_tables(c)
        app.close()
        return {**meta, "created": "yes"}, written

    # -- writing -------------------------------------------------------------------------

    def save(self, *aggregates: Any, **kwargs: Any) -> list:
        """eventsourcing's ``save``, done as every write here is (see ``UnitOfWork.write``)."""
        return self.work.write(*aggregates, **kwargs)

    def bulk(self, events_per_transaction: int = 1000) -> AbstractContextManager[None]:
        """Save many commands' events per transaction (see ``UnitOfWork.bulk``)."""
        return self.work.bulk(events_per_transaction)


class LockedCipher:
    """Stands in for the cipher of an encrypted store opened without its key."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def encrypt(self, plaintext: bytes) -> bytes:
        raise StoreError(self.reason)

    def decrypt(self, ciphertext: bytes) -> bytes:
        raise StoreError(self.reason)
