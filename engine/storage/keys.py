"""Keys: the store's master key (encryption at rest) and each client's own data key.

* The **master key** (AES-256) encrypts every event's stored state when the store was created
  with ``between init --encrypt``. It lives outside the store: in ``BETWEEN_KEY`` (base64), in
  the file named by ``--key-file``/``BETWEEN_KEY_FILE``, or by default in
  ``$XDG_CONFIG_HOME/between/keys/<store id>.key`` (created with owner-only permissions).
* A **client key** seals that client's personal fields (see ``engine.storage.sealing_mapper``).
Client keys
  live in a key store apart from the log — ``<store>.keys`` beside a SQLite store, the table
  ``between_client_keys`` on PostgreSQL — wrapped with the master key when there is one.
  Erasing a client destroys their key and leaves a tombstone, so "erased" can be told apart
  from "missing".
"""

from __future__ import annotations

import base64
import os
import sqlite3
from contextlib import closing, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from uuid import UUID

from between.engine.errors import InvalidInput, StoreError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
else:
    try:  # the class itself, without the cipher registry its public module imports (~6 ms)
        from cryptography.hazmat.bindings._rust import openssl as _rust

        AESGCM = _rust.aead.AESGCM
    except (ImportError, AttributeError):  # a cryptography laid out otherwise
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_CHECK = b"between: this is the right key"
INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL's SQLSTATE for "permission denied"
KEY_CACHE = 1024  # client keys kept in memory by one process


def is_invalid_tag(error: BaseException) -> bool:
    """Whether ``error`` is AES-GCM's refusal to open (``cryptography.exceptions`` is
    imported only then: it costs a few milliseconds that a successful read need not pay)."""
    from cryptography.exceptions import InvalidTag

    return isinstance(error, InvalidTag)


def config_keys_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "between" / "keys"


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise StoreError("the key in %(where)s is not base64 text", where=where) from None
    if len(key) != 32:
        raise StoreError(
            "the key in %(where)s is %(size)s bytes; a Between key is 32 bytes",
            where=where,
            size=len(key),
        )
    return key


def default_key_file(store_id: str) -> Path:
    return config_keys_dir() / f"{store_id}.key"


def check_new_key_file(path: Path) -> None:
    """Refuse, before anything is created, a place a new key file cannot be written to."""
    try:
        if path.is_dir():
            raise InvalidInput(
                "key file %(path)s is a folder; name a file, e.g. %(path)s/between.key", path=path
            )
        if path.exists():
            raise StoreError(
                "key file %(path)s already exists; a new key never overwrites one: name another "
                "file, or move that one away (to open a store with it, use --key-file)",
                path=path,
            )
    except OSError as e:
        raise InvalidInput("key file %(path)s: %(reason)s", path=path, reason=e.strerror) from None


def write_key_file(path: Path, key: bytes) -> None:
    """Write a key readable by its owner only (the folder too); never over an existing file."""
    check_new_key_file(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise StoreError(
            "cannot write the key file %(path)s: %(reason)s", path=path, reason=e.strerror
        ) from None
    with os.fdopen(fd, "w") as f:
        f.write(encode_key(key) + "\n")


def create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only, unless it exists. SQLite gives a
    database's side files (``-wal``, ``-shm``, ``-journal``) the database file's mode."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def find_master_key(store_id: str, environ: dict[str, str], key_file: Path | None) -> bytes:
    """The master key from BETWEEN_KEY, a key file, or the default key file."""
    if environ.get("BETWEEN_KEY"):
        return decode_key(environ["BETWEEN_KEY"], "BETWEEN_KEY")
    path = key_file or (
        Path(environ["BETWEEN_KEY_FILE"]) if environ.get("BETWEEN_KEY_FILE") else None
    )
    path = path or default_key_file(store_id)
    try:
        if path.is_dir():
            raise InvalidInput("key file %(path)s is a folder; name the key file itself", path=path)
        if not path.exists():
            raise StoreError(
                "this store is encrypted and its key was not found at %(path)s; give it with "
                "--key-file, BETWEEN_KEY_FILE or BETWEEN_KEY (nothing was read or written)",
                path=path,
            )
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as e:
        raise StoreError(
            "cannot read the key file %(path)s: %(reason)s", path=path, reason=e.strerror
        ) from None
    return decode_key(text, str(path))


def key_check(master: bytes) -> str:
    """A value stored with the store that only the right master key opens."""
    nonce = os.urandom(12)
    return encode_key(nonce + AESGCM(master).encrypt(nonce, KEY_CHECK, None))


def check_master_key(master: bytes, check: str) -> None:
    raw = base64.b64decode(check)
    try:
        AESGCM(master).decrypt(raw[:12], raw[12:], None)
    except Exception as e:
        if not is_invalid_tag(e):
            raise
        raise StoreError(
            "the key given does not open this store (wrong key); nothing was read or written"
        ) from None


class KeysUnavailable(StoreError):
    """This reader may not read the key store (e.g. a database role without access to it)."""


class KeyStore:
    """Client keys by client id, cached for the life of the process."""

    def __init__(self, backend: Any, master: bytes | None) -> None:
        self.backend = backend
        self.wrap_key = master
        self.wrap = AESGCM(master) if master else None
        self._cache: dict[UUID, bytes | None] = {}
        self._unavailable: KeysUnavailable | None = None  # once denied, not asked again
        #: While not None, new keys wait here until ``flush`` (bulk imports).
        self.deferred: list[tuple[UUID, bytes]] | None = None

    def key(self, client_id: UUID) -> bytes | None:
        """The client's key, or None once erased; a key that was never stored is an error,
        and ``KeysUnavailable`` says this reader may not read keys at all."""
        if client_id not in self._cache:
            if self._unavailable is not None:
                raise self._unavailable
            if len(self._cache) >= KEY_CACHE:  # bounded: memory stays flat over a long log
                del self._cache[next(iter(self._cache))]
            try:
                found, stored = self.backend.get(client_id)
            except KeysUnavailable as denied:
                self._unavailable = denied
                raise
            if not found:
                raise StoreError(
                    "the key store has no key for client %(client)s: it is damaged or belongs "
                    "to another store; restore it from the backup taken with the store",
                    client=client_id,
                )
            self._cache[client_id] = None if stored is None else self._unwrap(client_id, stored)
        return self._cache[client_id]

    @property
    def restricted(self) -> bool:
        """Whether this reader was denied the key store (personal fields read restricted)."""
        return self._unavailable is not None

    def create(self, client_id: UUID) -> bytes:
        """A new key for a new client, stored at once (or at ``flush`` while deferring)."""
        key = new_key()
        self._cache[client_id] = key
        if self.deferred is not None:
            self.deferred.append((client_id, self._wrap(client_id, key)))
        else:
            self.backend.put_many([(client_id, self._wrap(client_id, key))])
        return key

    def flush(self) -> None:
        """Store the keys created while deferring (before the events that use them)."""
        if self.deferred:
            self.backend.put_many(self.deferred)
            self.deferred.clear()

    def destroy(self, client_id: UUID) -> None:
        """Destroy the key for good (overwritten on disk), leaving a tombstone."""
        self.backend.destroy(client_id)
        self._cache[client_id] = None

    def rewrapped_for(self, master: bytes | None) -> list[tuple[UUID, bytes | None]]:
        """Every entry, re-wrapped with another master key (for key rotation)."""
        other = KeyStore(None, master)
        out = []
        for client_id, stored in self.backend.all():
            key = None if stored is None else self._unwrap(client_id, stored)
            out.append((client_id, None if key is None else other._wrap(client_id, key)))
        return out

    def _wrap(self, client_id: UUID, key: bytes) -> bytes:
        if self.wrap is None:
            return key
        nonce = os.urandom(12)
        return nonce + self.wrap.encrypt(nonce, key, client_id.bytes)

    def _unwrap(self, client_id: UUID, stored: bytes) -> bytes:
        if self.wrap is None:
            return stored
        try:
            return self.wrap.decrypt(stored[:12], stored[12:], client_id.bytes)
        except Exception as e:
            if not is_invalid_tag(e):
                raise
            raise StoreError(
                "the key of client %(client)s does not open with this master key",
                client=client_id,
            ) from None


class SQLiteKeys:
    """Client keys in their own SQLite file: rollback journal (no WAL), secure_delete on."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            if not self.path.exists():
                raise StoreError(
                    "the key store %(path)s is missing; restore it from the backup taken "
                    "with the store (without it, personal data cannot be read)",
                    path=self.path,
                )
            mode = "ro" if self.read_only else "rw"
            self._db = sqlite3.connect(
                f"file:{quote(str(self.path))}?mode={mode}",
                uri=True,
                isolation_level=None,
                timeout=10,
                check_same_thread=False,
            )
            if not self.read_only:
                self._db.execute("PRAGMA secure_delete = ON")
        return self._db

    def create(self) -> None:
        create_private_file(self.path)
        with closing(sqlite3.connect(self.path)) as db:
            db.execute("PRAGMA journal_mode = DELETE")
            db.execute(
                "CREATE TABLE IF NOT EXISTS client_keys "
                "(client_id TEXT PRIMARY KEY, key BLOB, erased INTEGER NOT NULL DEFAULT 0)"
            )
        os.chmod(self.path, 0o600)

    def get(self, client_id: UUID) -> tuple[bool, bytes | None]:
        row = (
            self._connect()
            .execute("SELECT key FROM client_keys WHERE client_id = ?", (client_id.hex,))
            .fetchone()
        )
        return (row is not None, row[0] if row else None)

    def put_many(self, entries: list[tuple[UUID, bytes]]) -> None:
        db = self._connect()
        with db:  # one transaction
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT INTO client_keys (client_id, key) VALUES (?, ?)",
                [(client_id.hex, key) for client_id, key in entries],
            )

    def put(self, client_id: UUID, key: bytes) -> None:
        self.put_many([(client_id, key)])

    def destroy(self, client_id: UUID) -> None:
        db = self._connect()
        db.execute(
            "UPDATE client_keys SET key = NULL, erased = 1 WHERE client_id = ?", (client_id.hex,)
        )
        db.execute("VACUUM")  # rewrite the file: no free page keeps the old key

    def all(self) -> list[tuple[UUID, bytes | None]]:
        rows = self._connect().execute("SELECT client_id, key FROM client_keys").fetchall()
        return [(UUID(r[0]), r[1]) for r in rows]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class PostgresKeys:
    """Client keys in the table ``between_client_keys`` of the store's own schema."""

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore

    def create(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "CREATE TABLE IF NOT EXISTS between_client_keys "
                "(client_id uuid PRIMARY KEY, key bytea, erased boolean NOT NULL DEFAULT false)"
            )

    def get(self, client_id: UUID) -> tuple[bool, bytes | None]:
        try:
            with self.datastore.transaction(commit=False) as c:
                c.execute("SELECT key FROM between_client_keys WHERE client_id = %s", (client_id,))
                row = c.fetchone()
        except Exception as e:
            from eventsourcing.persistence import PersistenceError  # only once reading failed

            denied = getattr(e.__cause__, "sqlstate", None) == INSUFFICIENT_PRIVILEGE
            if isinstance(e, PersistenceError) and denied:
                raise KeysUnavailable(
                    "this database role may not read client keys (between_client_keys): "
                    "personal fields read as [restricted], and nothing can be written"
                ) from None
            raise
        return (row is not None, bytes(row["key"]) if row and row["key"] is not None else None)

    def put_many(self, entries: list[tuple[UUID, bytes]]) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.executemany(
                "INSERT INTO between_client_keys (client_id, key) VALUES (%s, %s)", entries
            )

    def put(self, client_id: UUID, key: bytes) -> None:
        self.put_many([(client_id, key)])

    def destroy(self, client_id: UUID) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "UPDATE between_client_keys SET key = NULL, erased = true WHERE client_id = %s",
                (client_id,),
            )
        with self.datastore.get_connection() as conn:  # autocommit: VACUUM cannot run in a block
            conn.execute("VACUUM FULL between_client_keys")

    def close(self) -> None:
        pass

    def all(self) -> list[tuple[UUID, bytes | None]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT client_id, key FROM between_client_keys")
            return [
                (r["client_id"], None if r["key"] is None else bytes(r["key"]))
                for r in c.fetchall()
            ]
