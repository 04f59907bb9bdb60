"""The SQLite backend: a store in one file, its client keys in ``<store>.keys`` beside it.

eventsourcing's SQLite module and the chaining recorder are imported only when the
application is constructed: the light reading path opens the file with ``sqlite3`` alone.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
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
from between.engine.storage.diagnosis import check_sqlite_path, file_in_the_way, sqlite_problem
from between.engine.storage.dialect import Dialect
from between.language import gettext as _

if TYPE_CHECKING:
    from between.engine.storage.lease import Lease
    from between.engine.storage.store import Store

DIALECT = Dialect("sqlite", "?", "rowid", "", "substr({column}, {start}, {length})", "X'{hex}'")


class SQLiteBackend(Backend):
    """A SQLite file store."""

    dialect = DIALECT

    def check(self, store: Store, *, initialising: bool, read_only: bool) -> str | None:
        """A SQLite store must be a file; one this process cannot write opens read-only."""
        path = store.path
        check_sqlite_path(store)
        if initialising:
            return None
        assert path is not None
        if not path.exists():
            raise StoreError(
                "no store at %(path)s; create one with 'between init' "
                "(or point --store / BETWEEN_STORE at an existing store)",
                path=path,
            )
        problem = None if read_only else store.write_problem()
        if problem:
            return _(
                "the store %(path)s is read-only here (%(problem)s); nothing was recorded — "
                "copy it somewhere writable, or fix the permissions",
                path=path,
                problem=problem,
            )
        return None

    def configure(self, factory: Any, store: Store, *, read_only: bool) -> None:
        if read_only:
            # Leave the journal mode alone: a read-only connection cannot switch it to WAL.
            factory.datastore.pool.is_journal_mode_wal = True

    def recorder(self, datastore: Any) -> Any:
        from between.engine.storage.recorders import ChainedSQLiteRecorder

        return ChainedSQLiteRecorder(datastore)

    def keys(self, store: Store, datastore: Any, *, read_only: bool) -> Any:
        from between.engine.storage.keys import SQLiteKeys

        assert store.path is not None
        return SQLiteKeys(store.path.with_suffix(".keys"), read_only=read_only)

    def read_problem(self, store: Store, error: BaseException, text: str) -> StoreError:
        return sqlite_problem(store, error)

    def write_transaction(self, recorder: Any, datastore: Any) -> Any:
        return recorder.write()  # holds SQLite's write lock from its first statement

    def write_problem(self, store: Store, error: BaseException) -> StoreError | None:
        return sqlite_problem(store, error) if "readonly" in str(error) else None

    def flush(self, store: Store) -> None:
        """Flush replaced pages out of the WAL."""
        assert store.path is not None
        with closing(sqlite3.connect(store.path)) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def lease(self, store: Store, seconds: float) -> Lease:
        from between.engine.storage.lease import FileLease

        return FileLease(store, seconds)

    # -- creating ------------------------------------------------------------------------

    @contextmanager
    def creation_lock(self, store: Store) -> Iterator[Callable[[], Any]]:
        with _folder_lock(_folder(store)):
            yield lambda: _meta(store)

    def create_file(self, store: Store) -> None:
        """The file, owner-only (and so its -wal and -shm files)."""
        from between.engine.storage.keys import create_private_file

        assert store.path is not None
        try:
            create_private_file(store.path)
        except OSError as e:
            raise StoreError(
                "cannot create the store at %(path)s: %(reason)s (choose a writable "
                "place with --store)",
                path=store.path,
                reason=e.strerror,
            ) from None

    def creation_problem(self, store: Store, error: BaseException) -> StoreError:
        return sqlite_problem(store, error)

    # -- reading rows --------------------------------------------------------------------

    @contextmanager
    def open_light(self, store: Store) -> Iterator[LightFound | None]:
        """A cursor on the file, opened as every reader opens it (works in a read-only place
        and leaves no file behind)."""
        try:
            is_file = store.path is not None and store.path.is_file()
            db = sqlite3.connect(store.read_only_uri(), uri=True) if is_file else None
        except (OSError, sqlite3.Error):
            db = None
        if db is None:
            yield None
            return
        with closing(db):
            db.row_factory = sqlite3.Row
            try:
                meta = dict(db.execute("SELECT key, value FROM between_meta").fetchall())
                position = db.execute("SELECT position FROM rm_position").fetchone()[0]
                head = db.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0]
            except (sqlite3.Error, TypeError):
                meta, position, head = {}, None, None  # not a store, an older one, or unreadable
            yield (db.cursor(), meta, None) if read_model_current(meta, position, head) else None

    def light_keys(self, store: Store, connection: Any) -> Any:
        return self.keys(store, None, read_only=True)

    def stored_id(self, aggregate_id: UUID) -> Any:
        return aggregate_id.hex

    def id_bytes(self, stored: Any) -> bytes:
        return bytes.fromhex(stored)

    def scan(self, store: Store, datastore: Any, sql: str, batch: int) -> Iterator[list[tuple]]:
        """From a read-only connection of its own (closed by whichever thread finishes the
        scan: a scan left unfinished is closed when the garbage collector reaches it)."""
        uri = store.read_only_uri()
        with closing(sqlite3.connect(uri, uri=True, check_same_thread=False)) as db:
            db.text_factory = _lenient_text  # a tampered text column must not stop the scan
            cursor = db.execute(sql)
            while rows := cursor.fetchmany(batch):
                yield rows


BACKEND = SQLiteBackend()


def _lenient_text(raw: bytes) -> str:
    """Text as stored; bytes that are not UTF-8 survive as surrogates (and fail the chain)."""
    return raw.decode("utf-8", "surrogateescape")


def _folder(store: Store) -> Path:
    """The store's folder, created if need be; a place that cannot hold it is refused."""
    path = store.path
    assert path is not None
    check_sqlite_path(store)
    blocker = file_in_the_way(path)
    if blocker is not None:
        raise StoreError(
            "cannot create the store at %(path)s: %(parent)s is a file, not a folder",
            path=path,
            parent=blocker,
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(
            "cannot create the folder %(folder)s for the store: %(reason)s",
            folder=path.parent,
            reason=e.strerror,
        ) from None
    if not path.exists() and not os.access(path.parent, os.W_OK):
        raise StoreError(
            "cannot create the store at %(path)s: its folder cannot be written (permissions, "
            "or a read-only file system); choose a writable place with --store",
            path=path,
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
        deadline = time.monotonic() + CREATION_LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise creation_busy(str(folder)) from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # releases the lock


def _meta(store: Store) -> dict[str, str] | None:
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
                        "%(path)s is a SQLite database of something else (it has tables, none "
                        "of them Between's); choose a new file for the store",
                        path=path,
                    )
                return None
            meta = dict(db.execute("SELECT key, value FROM between_meta").fetchall())
    except sqlite3.Error as e:
        raise sqlite_problem(store, e) from None
    return meta or None
