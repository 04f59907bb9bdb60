"""Between's application: one store, wired to eventsourcing, and everything run on it.

``Homework`` is the store wiring — settings from the store address alone, the sealing
mapper and the keys, the hash-chaining recorder, the read model, store creation — and the
composition of the parts that do the work:

* ``engine.work.unit`` — loading, deciding and saving, for every writer;
* ``engine.work.clients``, ``engine.work.assignments``, ``engine.work.operators``,
  ``engine.work.notifications`` — the commands, by aggregate;
* ``engine.reading.full`` — the queries.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Cipher, OperationalError, PersistenceError
from eventsourcing.utils import Environment

from between.engine.errors import StoreError
from between.engine.folds.read_model import ReadModel
from between.engine.hooks.loading import Plugins
from between.engine.storage.creation import STORE_FORMAT, create_store
from between.engine.storage.dialect import Dialect
from between.engine.storage.keys import KeyStore, check_master_key, encode_key, find_master_key
from between.engine.storage.kinds import backend_for
from between.engine.storage.sealing_mapper import SealingMapper
from between.engine.storage.store import Store
from between.engine.work.assignments import AssignmentCommands
from between.engine.work.client_voice import ClientVoice
from between.engine.work.clients import ClientCommands
from between.engine.work.links import LinkCommands
from between.engine.work.notifications import NotificationCommands
from between.engine.work.operators import OperatorCommands
from between.engine.work.unit import ATTEMPTS, Outcome, UnitOfWork, first_line
from between.language import N_

__all__ = ["ATTEMPTS", "Homework", "Outcome"]

OPENED_READ_ONLY = N_("this store was opened read-only; nothing was written")


class Datastore(Protocol):
    """What the store's connections give (SQLite's or PostgreSQL's datastore): transactions."""

    def transaction(self, *, commit: bool) -> AbstractContextManager[Any]: ...


class Homework(
    ClientCommands,
    AssignmentCommands,
    OperatorCommands,
    NotificationCommands,
    LinkCommands,
    ClientVoice,
    Application[UUID],
):
    """Between's application: clients and their homework, on one store."""

    name = "between"
    mapper: SealingMapper  # what ``construct_mapper`` makes

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
        #: What this kind of store does its own way (SQLite or PostgreSQL).
        self.backend = backend_for(store)
        self.read_only = read_only
        #: Why writes are refused, when the store is read-only (asked for, or found so).
        self.read_only_reason = OPENED_READ_ONLY
        self.clock = clock or (lambda: datetime.now(UTC))
        self._plugins = plugins
        self._key_file = key_file
        self._environ = os.environ if environ is None else environ
        self._initialising = _initialising
        self._key_optional = key_optional
        reason = self.backend.check(store, initialising=_initialising, read_only=read_only)
        if reason:
            self._found_read_only(reason)
        try:
            super().__init__(env=store.settings(read_only=self.read_only))
        except (PersistenceError, sqlite3.Error) as e:
            raise self._problem(e) from None
        self.readmodel = ReadModel(self.mapper, self.dialect, "stored_events")
        if not self.read_only:
            self.recorder.after_insert = self.readmodel.after_insert
        self.work = UnitOfWork(
            self.events, self.repository, self.keys, self.now, read_only=self.read_only
        )
        self.work.read_only_reason = self.read_only_reason

    def _found_read_only(self, reason: str) -> None:
        """Open for reading only: reads work, and every write is refused with ``reason``."""
        self.read_only = True
        self.read_only_reason = reason

    def _problem(self, error: Exception) -> StoreError:
        """What a failure to open or read the store means, with what to do about it."""
        text = first_line(error)
        if "no such table" in text or ("relation" in text and "does not exist" in text):
            return StoreError(
                "%(store)s is not a Between store (it has no Between tables); "
                "create one with 'between init'",
                store=self.store.describe(),
            )
        return self.backend.read_problem(self.store, error, text)

    def opened_with(self) -> dict[str, Any]:
        """What opens this store again — ``Homework(**app.opened_with(), read_only=True)`` —
        in another process (plain values: the address, the key file, the environment)."""
        return {"store": self.store, "key_file": self._key_file, "environ": dict(self._environ)}

    def close(self) -> None:
        if hasattr(self, "keys"):
            self.keys.backend.close()
        super().close()

    # -- wiring --------------------------------------------------------------------------

    @property
    def dialect(self) -> Dialect:
        return self.backend.dialect

    @property
    def datastore(self) -> Datastore:
        """The datastore the backend's factory made (eventsourcing's base type names none)."""
        factory: Any = self.factory
        return factory.datastore

    def construct_env(self, name: str, env: Any = None) -> Environment:
        """Settings come only from the store address, never from stray environment."""
        return Environment(name, dict(env or {}))

    def construct_factory(self, env: Environment) -> Any:
        factory = super().construct_factory(env)
        self.backend.configure(factory, self.store, read_only=self.read_only)
        return factory

    def construct_mapper(self) -> Any:
        """Seal personal fields with client keys; encrypt whole states if the store is."""
        self.meta = {} if self._initialising else self._read_meta()
        master = None
        cipher: Cipher | LockedCipher | None = None
        if self.meta.get("encrypted") == "yes":
            try:
                master = find_master_key(self.meta["store_id"], dict(self._environ), self._key_file)
            except StoreError as missing:
                if not self._key_optional:
                    raise
                cipher = LockedCipher(missing)  # enough to verify the chain, not to read
            else:
                check_master_key(master, self.meta["key_check"])
                from eventsourcing.cryptography import AESCipher

                cipher = AESCipher(Environment(env={"CIPHER_KEY": encode_key(master)}))
        self.keys = KeyStore(self._key_backend(), master)
        return SealingMapper(self.construct_transcoder(), cipher=cipher, keys=self.keys)

    def construct_recorder(self) -> Any:
        return self.backend.recorder(self.datastore)

    def _key_backend(self) -> Any:
        datastore = self.datastore
        return self.backend.keys(self.store, datastore, read_only=self.read_only)

    @property
    def plugins(self) -> Plugins:
        if self._plugins is None:
            from between.engine.hooks.loading import load_plugins
            from between.engine.settings import Settings

            self._plugins = load_plugins(Settings.from_environment())
        if callable(self._plugins):
            self._plugins = self._plugins()
        return self._plugins

    @contextmanager
    def writing(self) -> Iterator[Any]:
        """A write transaction on the store (holds SQLite's write lock)."""
        if self.read_only:
            raise StoreError(self.read_only_reason)
        try:
            with self.backend.write_transaction(self.recorder, self.datastore) as c:
                yield c
        except OperationalError as e:
            problem = self.backend.write_problem(self.store, e)
            if problem is not None:
                raise problem from None
            raise StoreError(
                "the store is busy or unavailable: %(problem)s", problem=first_line(e)
            ) from None

    @contextmanager
    def reading(self) -> Iterator[Any]:
        try:
            with self.datastore.transaction(commit=False) as c:
                yield c
        except PersistenceError as e:
            raise StoreError("cannot read the store: %(problem)s", problem=first_line(e)) from None

    def _read_meta(self) -> dict[str, str]:
        """The store's settings (``between_meta``); also whether this connection may write it
        (a PostgreSQL role that may only read, or a standby, opens the store read-only)."""
        refusal = None
        try:
            with self.datastore.transaction(commit=False) as c:
                c.execute("SELECT key, value FROM between_meta")
                meta = {r["key"]: r["value"] for r in c.fetchall()}
                if not self.read_only and meta:
                    refusal = self.backend.write_refusal(c, self.store)
        except (PersistenceError, sqlite3.Error) as e:
            raise self._problem(e) from None
        if meta.get("format") != STORE_FORMAT:
            raise StoreError("%(store)s has an unknown store format", store=self.store.describe())
        if refusal:
            self._found_read_only(refusal)
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
        (None if none was). Running it again — even at the same moment, from several
        processes — changes nothing (see ``engine.storage.creation``)."""
        return create_store(cls, store, encrypt=encrypt, key_file=key_file, environ=environ)

    # -- writing -------------------------------------------------------------------------

    def save(self, *aggregates: Any, **kwargs: Any) -> list:
        """eventsourcing's ``save``, done as every write here is (see ``UnitOfWork.write``)."""
        return self.work.write(*aggregates, **kwargs)

    def bulk(self, events_per_transaction: int = 1000) -> AbstractContextManager[None]:
        """Save many commands' events per transaction (see ``UnitOfWork.bulk``)."""
        return self.work.bulk(events_per_transaction)


class LockedCipher:
    """Stands in for the cipher of an encrypted store opened without its key: reading or
    writing a sealed state is refused as opening was (``missing``, in its words)."""

    def __init__(self, missing: StoreError) -> None:
        self.missing = missing

    def encrypt(self, plaintext: bytes) -> bytes:
        raise self._refusal()

    def decrypt(self, ciphertext: bytes) -> bytes:
        raise self._refusal()

    def _refusal(self) -> StoreError:
        return StoreError(self.missing.template, **self.missing.values)
