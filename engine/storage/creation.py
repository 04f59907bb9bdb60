"""Creating a store once, even when several ``between init`` start at the same moment.

Creators take turns under an exclusive lock — on SQLite an ``flock`` on the store's folder (no
lock file is made, so none can be left behind; SQLite's own locks are on its files, not the
folder), on PostgreSQL an advisory lock named after the schema — and each one looks before it
creates: the first creates the store and, with ``--encrypt``, writes the one new key file;
the others find the store and change nothing. A creator that fails removes the key it wrote.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from between.engine.errors import RuleViolation
from between.engine.storage.backend import STORE_FORMAT
from between.engine.storage.keys import (
    decode_key,
    default_key_file,
    key_check,
    new_key,
    write_key_file,
)
from between.engine.storage.kinds import backend_for

if TYPE_CHECKING:
    from between.engine.storage.store import Store

__all__ = ["STORE_FORMAT", "create_store"]

META_TABLE = "CREATE TABLE IF NOT EXISTS between_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


def create_store(
    cls: Any,
    store: Store,
    *,
    encrypt: bool = False,
    key_file: Path | None = None,
    environ: dict[str, str] | None = None,
) -> tuple[dict[str, str], Path | None]:
    """Create the store unless it exists; its settings, and the key file written (if any)."""
    environ = dict(os.environ if environ is None else environ)
    with backend_for(store).creation_lock(store) as existing_meta:
        existing = existing_meta()
        if existing is not None:
            if encrypt and existing.get("encrypted") != "yes":
                raise RuleViolation(
                    "%(where)s already exists unencrypted; encryption is chosen when a store is "
                    "created (create a new one and copy with 'between rekey')",
                    where=store.describe(),
                )
            return {**existing, "created": "no"}, None
        meta = {"format": STORE_FORMAT, "store_id": uuid4().hex, "encrypted": "no"}
        written = None
        if encrypt:
            if environ.get("BETWEEN_KEY"):
                master = decode_key(environ["BETWEEN_KEY"], "BETWEEN_KEY")
            else:
                master = new_key()
                named = key_file or (
                    Path(environ["BETWEEN_KEY_FILE"]) if environ.get("BETWEEN_KEY_FILE") else None
                )
                written = named or default_key_file(meta["store_id"])
                write_key_file(written, master)
            meta.update(encrypted="yes", key_check=key_check(master))
        try:
            _create(cls, store, meta, environ)
        except BaseException:
            if written is not None and not _made(existing_meta):
                written.unlink(missing_ok=True)  # no key for a store that was not made
            raise
    return {**meta, "created": "yes"}, written


def _made(existing_meta: Any) -> bool:
    """Whether the store exists after all (when unsure, yes: its key must then be kept)."""
    try:
        return existing_meta() is not None
    except Exception:
        return True


def _create(cls: Any, store: Store, meta: dict[str, str], environ: dict[str, str]) -> None:
    from eventsourcing.persistence import PersistenceError

    backend = backend_for(store)
    backend.create_file(store)
    app = cls(store, _initialising=True, environ=environ)
    try:
        _create_tables(app, meta)
    except PersistenceError as e:
        raise backend.creation_problem(store, e) from None
    finally:
        app.close()


def _create_tables(app: Any, meta: dict[str, str]) -> None:
    """The log, the key store, the settings and the read model (the settings last: a store
    is created once they are there)."""
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
