"""One dispatcher per store: a lease that a crashed holder loses at once.

* **SQLite**: an exclusive ``flock`` on the lock file ``<store>.notify-lock`` beside the store
  (mode 600). It holds no data — one line naming the holder (pid, host, since when) — and
  may be deleted whenever no dispatcher runs; it is not part of the store or its backups.
  The kernel releases the lock when the holder's process ends, however it ends.
* **PostgreSQL**: a session advisory lock (``pg_try_advisory_lock``, keyed by the store's
  schema) on a connection of its own, held for the dispatcher's life. The server releases
  it when that session ends — a killed holder's connection closes with its process.

A second dispatcher waits for the lease (``notify --follow``) or stops at once with
``DispatcherBusy`` (exit code 4).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from between.engine.errors import BetweenError, StoreError
from between.engine.store import Store

EXIT_BUSY = 4


class DispatcherBusy(BetweenError):
    """Another dispatcher holds the store's lease."""

    exit_code = EXIT_BUSY


def lease_for(store: Store) -> Lease:
    return FileLease(store) if store.is_sqlite else AdvisoryLease(store)


def holder_label() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


class Lease:
    """Held by at most one dispatcher of a store at a time."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.held = False

    def acquire(
        self, wait: bool = False, on_wait: Callable[[str], None] | None = None, poll: float = 1.0
    ) -> None:
        """Take the lease; if another dispatcher has it, wait (``wait``) or raise."""
        told = False
        while not self.try_acquire():
            busy = f"another dispatcher is working {self.store.describe()} ({self.holder()})"
            if not wait:
                self.release()
                raise DispatcherBusy(f"{busy}; this one sent nothing")
            if on_wait is not None and not told:
                on_wait(f"waiting: {busy}; this one takes over when it stops")
                told = True
            time.sleep(poll)
        self.held = True

    def try_acquire(self) -> bool:
        raise NotImplementedError

    def holder(self) -> str:
        """Who holds the lease, as far as can be told."""
        raise NotImplementedError

    def check(self) -> None:
        """Raise ``StoreError`` if the lease was lost since it was taken."""

    def release(self) -> None:
        raise NotImplementedError


class FileLease(Lease):
    """An exclusive ``flock`` on ``<store>.notify-lock``."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.path = Path(f"{store.path}.notify-lock")
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        if self.fd is None:
            try:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as e:
                raise StoreError(f"cannot open the dispatcher's lock {self.path}: {e}") from None
            if os.fstat(self.fd).st_mode & 0o077:  # made by hand, or under another umask
                with contextlib.suppress(PermissionError):
                    os.fchmod(self.fd, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        line = f"between notify {holder_label()} since {since} (lock file; holds no data)\n"
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, line.encode(), 0)
        return True

    def holder(self) -> str:
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                text = f.read(300).strip()
        except OSError:
            text = ""
        return text.removeprefix("between notify ").split(" (lock file", 1)[0] or "unknown"

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the file releases the lock
            self.fd = None
        self.held = False


class AdvisoryLease(Lease):
    """A PostgreSQL session advisory lock on a dedicated connection."""

    HOLDER = (
        "SELECT a.application_name, a.backend_start FROM pg_locks l "
        "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid"
    )

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        digest = hashlib.sha256(f"between notify {store.schema}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self.conn: Any = None

    def try_acquire(self) -> bool:
        import psycopg

        try:
            row = self._session().execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
            return bool(row.fetchone()[0])
        except psycopg.Error as e:
            self.release()
            raise StoreError(f"cannot take the dispatcher's lease: {_first_line(e)}") from None

    def _session(self) -> Any:
        import psycopg

        if self.conn is None:
            self.conn = psycopg.connect(
                **self.store.connect_args(),
                autocommit=True,
                application_name=f"between notify {holder_label()}"[:63],
            )
        return self.conn

    def holder(self) -> str:
        import psycopg

        unsigned = self.key & 0xFFFF_FFFF_FFFF_FFFF
        try:
            row = self._session().execute(self.HOLDER, (unsigned >> 32, unsigned & 0xFFFF_FFFF))
            found = row.fetchone()
        except psycopg.Error:
            return "unknown"
        if not found:
            return "no one now"
        if not found[0]:
            return "a session of another program"
        name = str(found[0]).removeprefix("between notify ")
        if found[1] is None:
            return name
        return f"{name} since {found[1].astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"

    def check(self) -> None:
        import psycopg

        try:
            self.conn.execute("SELECT 1")
        except (psycopg.Error, AttributeError):
            self.release()
            raise StoreError(
                "lost the database session that held the dispatcher's lease; stopped "
                "(start it again: it takes the lease back when it is free)"
            ) from None

    def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()  # ending the session releases the lock
            self.conn = None
        self.held = False


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
