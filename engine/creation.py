"""Creating a store once, even when several ``between init`` start at the same moment.

Creators take turns under an exclusive lock — on SQLite an ``flock`` on the store's folder (no
lock file is made, so none can be left behind; SQLite's own locks are on its files, not the
folder), on PostgreSQL an advisory lock named after the schema — and each one looks before it
creates: the first creates the store and, with ``--encrypt``, writes the one new key file;
the others find the store and change nothing. A creator that fails removes the key it wrote.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

from between.engine.connection import (
    check_sqlite_path,
    location_problem,
    postgres_problem,
    sqlite_problem,
)
from between.engine.errors import RuleViolation, StoreError
from between.engine.keys import (
    create_private_file,
    decode_key,
    default_key_file,
    key_check,
    new_key,
    write_key_file,
)
from between.engine.store import Store

#: The store format this version of Between creates and opens.
STORE_FORMAT = "1"
META_TABLE = "CREATE TABLE IF NOT EXISTS between_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
#: How long one creator waits for another to finish.
LOCK_WAIT = 60
#: The first half of the PostgreSQL advisory lock's key ("btwn"); the second is the schema's.
LOCK_CLASS = 0x6274776E


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
    with _lock(store) as existing_meta:
        existing = existing_meta()
        if existing is not None:
            if encrypt and existing.get("encrypted") != "yes":
                raise RuleViolation(
                    f"{store.describe()} already exists unencrypted; encryption is chosen when "
                    "a store is created (create a new one and copy with 'between rekey')"
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

    if store.is_sqlite:  # owner-only, and so its -wal and -shm files (PostgreSQL: its roles)
        try:
            create_private_file(store.path)
        except OSError as e:
            raise StoreError(
                f"cannot create the store at {store.path}: {e.strerror} (choose a writable "
                "place with --store)"
            ) from None
    app = cls(store, _initialising=True, environ=environ)
    try:
        _create_tables(app, meta)
    except PersistenceError as e:
        if store.is_sqlite:
            raise sqlite_problem(store, e) from None
        raise StoreError(
            f"cannot create the store {store.describe()} as {store.user!r}: "
            f"{' '.join(str(e).split())} (the role needs CREATE on the schema)"
        ) from None
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


@contextmanager
def _lock(store: Store) -> Iterator[Any]:
    """Hold the creation lock; yields a function that reads the existing store's settings."""
    if store.is_sqlite:
        folder = _sqlite_folder(store)
        with _folder_lock(folder):
            yield lambda: _sqlite_meta(store)
        return
    import psycopg

    try:
        conn = psycopg.connect(**store.connect_args(), autocommit=True)
    except psycopg.Error as e:
        raise postgres_problem(store, e) from None
    with conn:
        conn.execute(f"SET lock_timeout = '{LOCK_WAIT}s'")
        try:
            conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, store.schema))
        except psycopg.errors.LockNotAvailable:
            raise StoreError(_busy(store.describe())) from None
        _ensure_schema(conn, store)
        yield lambda: _postgres_meta(conn, store)  # unlocked when the connection closes


def _sqlite_folder(store: Store) -> Path:
    """The store's folder, created if need be; a place that cannot hold it is refused."""
    path = store.path
    assert path is not None
    check_sqlite_path(store)
    problem = location_problem(path)
    if problem and "is a file" in problem:
        raise StoreError(f"cannot create the store at {path}: {problem}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(
            f"cannot create the folder {path.parent} for the store: {e.strerror}"
        ) from None
    if not path.exists() and not os.access(path.parent, os.W_OK):
        raise StoreError(
            f"cannot create the store at {path}: its folder cannot be written (permissions, or "
            "a read-only file system); choose a writable place with --store"
        )
    return path.parent


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # no flock (Windows): creators are not serialised
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(_busy(str(folder))) from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # releases the lock


def _sqlite_meta(store: Store) -> dict[str, str] | None:
    """The settings of the SQLite store, or None where there is none yet."""
    path = store.path
    assert path is not None
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        with closing(sqlite3.connect(store.read_only_uri(), uri=True)) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "between_meta" not in tables:
                if tables and "stored_events" not in tables:
                    raise StoreError(
                        f"{path} is a SQLite database of something else (it has tables, none of "
                        "them Between's); choose a new file for the store"
                    )
                return None
            meta = dict(db.execute("SELECT key, value FROM between_meta").fetchall())
    except sqlite3.Error as e:
        raise sqlite_problem(store, e) from None
    return meta or None


def _postgres_meta(conn: Any, store: Store) -> dict[str, str] | None:
    import psycopg
    from psycopg import sql

    query = sql.SQL("SELECT key, value FROM {}.between_meta").format(sql.Identifier(store.schema))
    try:
        rows = conn.execute(query).fetchall()
    except psycopg.errors.UndefinedTable:
        return None
    except psycopg.Error as e:
        raise StoreError(f"cannot read {store.describe()}: {' '.join(str(e).split())}") from None
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
            f"cannot create the schema {store.schema!r} in {store.dbname!r} as {store.user!r} "
            f"({' '.join(str(e).split())}); ask the database owner to create it"
        ) from None


def _busy(where: str) -> str:
    return (
        f"another 'between init' on {where} has not finished after {LOCK_WAIT} s; "
        "nothing was created — try again when it has"
    )
