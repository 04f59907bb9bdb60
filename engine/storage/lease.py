"""One dispatcher per store: a lease that a crashed holder loses at once, a hung one in time.

* **SQLite**: an exclusive ``flock`` on the lock file ``<store>.notify-lock`` beside the store
  (mode 600). It holds no data — one line naming the holder (pid, host, since when, its lease
  time) — and may be deleted whenever no dispatcher runs; it is not part of the store or its
  backups. The kernel releases the lock when the holder's process ends, however it ends.
* **PostgreSQL**: a session advisory lock (``pg_try_advisory_lock``, keyed by the store's
  schema) on a connection of its own, held for the dispatcher's life. The server releases
  it when that session ends — a killed holder's connection closes with its process.

**Renewed by progress.** The holder renews the lease as it works — between messages, while
it waits for a channel, between queuing transactions and while it sleeps between passes —
never from a free-running thread: a dispatcher that is stopped or hung renews nothing. When
a holder has not renewed for its lease time (``[notify] lease_seconds``, default 60; written
beside its name) another dispatcher takes the lease over: on SQLite it removes the stale lock
file and locks a new one, on PostgreSQL it ends the stale holder's lease session
(``pg_terminate_backend``). A holder that wakes up finds its lease gone at its next renewal
(``LeaseLost``) and stops before sending anything more.

A second dispatcher waits for the lease (``notify --follow``) or stops at once with
``DispatcherBusy`` (exit code 4).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from between.engine.errors import BetweenError, StoreError
from between.language import gettext as _

if TYPE_CHECKING:
    from between.engine.storage.store import Store

EXIT_BUSY = 4
#: Seconds a holder may go without renewing before another dispatcher takes over.
DEFAULT_LEASE_SECONDS = 60.0
#: A holder renews at most this often per lease time (the heartbeat is a write or a query).
RENEWALS_PER_LEASE = 5
_LEASE_IN_NAME = re.compile(r"^between notify(?:/(\d+(?:\.\d+)?)s)? ")


class DispatcherBusy(BetweenError):
    """Another dispatcher holds the store's lease."""

    exit_code = EXIT_BUSY


class LeaseLost(StoreError):
    """The lease was lost since it was taken (ended, or taken over after it lapsed)."""


def holder_label() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


class Lease:
    """Held by at most one dispatcher of a store at a time."""

    def __init__(self, store: Store, seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        self.store = store
        self.seconds = seconds
        self.held = False
        self.renewed = 0.0  # time.monotonic() of the last renewal (it counts stopped time too)
        self.took_over = ""  # what a takeover of a lapsed lease found, to tell

    def acquire(
        self, wait: bool = False, on_wait: Callable[[str], None] | None = None, poll: float = 1.0
    ) -> None:
        """Take the lease; if another dispatcher has it, wait (``wait``) or raise."""
        told = False
        while not self.try_acquire():
            busy = {"where": self.store.describe(), "holder": self.holder()}
            if not wait:
                self.release()
                raise DispatcherBusy(
                    "another dispatcher is working %(where)s (%(holder)s); this one sent nothing",
                    **busy,
                )
            if on_wait is not None and not told:
                on_wait(
                    _(
                        "waiting: another dispatcher is working %(where)s (%(holder)s); this one "
                        "takes over when it stops",
                        **busy,
                    )
                )
                told = True
            time.sleep(poll)
        if self.took_over and on_wait is not None:
            on_wait(_("took over the dispatcher's lease: %(how)s", how=self.took_over))
        self.held = True
        self.renewed = time.monotonic()

    def renew(self, force: bool = False) -> None:
        """Renew the held lease (at most ``RENEWALS_PER_LEASE`` times per lease time unless
        ``force``); ``LeaseLost`` if it was lost meanwhile. Called as work progresses."""
        if not self.held:
            return
        if force or time.monotonic() - self.renewed >= self.seconds / RENEWALS_PER_LEASE:
            self.heartbeat()
            self.renewed = time.monotonic()

    def check(self) -> None:
        """Raise ``LeaseLost`` if the lease was lost since it was taken; renew it."""
        self.renew(force=True)

    def lapsed(self, age: float, theirs: float | None) -> str | None:
        """Why a holder silent for ``age`` seconds lost its lease (None: it has not)."""
        limit = theirs or self.seconds
        if age <= limit:
            return None
        return _(
            "its holder has not renewed it for %(age)s s (lease %(limit)s s)",
            age=format(age, ".0f"),
            limit=format(limit, "g"),
        )

    def try_acquire(self) -> bool:
        raise NotImplementedError

    def heartbeat(self) -> None:
        raise NotImplementedError

    def holder(self) -> str:
        """Who holds the lease, as far as can be told."""
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def _lost(self, why: str) -> LeaseLost:
        self.release()
        return LeaseLost(
            "%(why)s; stopped before sending more (start it again: it takes the lease back "
            "when it is free)",
            why=why,
        )


class FileLease(Lease):
    """An exclusive ``flock`` on ``<store>.notify-lock``; its mtime is the heartbeat."""

    def __init__(self, store: Store, seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        super().__init__(store, seconds)
        self.path = Path(f"{store.path}.notify-lock")
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        for _attempt in range(3):  # the file may be replaced by a takeover between the steps
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if self._take_over_if_lapsed(fd):
                    continue
                return False
            if not self._current(fd):  # locked a file taken over (and removed) meanwhile
                self._close()
                continue
            since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            line = (
                f"between notify {holder_label()} since {since}; lease {self.seconds:g} s "
                "(lock file; holds no data)\n"
            )
            os.ftruncate(fd, 0)
            os.pwrite(fd, line.encode(), 0)
            return True
        return False

    def heartbeat(self) -> None:
        if self.fd is None or not self._current(self.fd):
            raise self._lost(
                _(
                    "the dispatcher's lease was taken over by another dispatcher (this one had "
                    "not renewed it within its lease of %(seconds)s s)",
                    seconds=format(self.seconds, "g"),
                )
            )
        os.utime(self.fd)  # the lock file's mtime: when it was last renewed

    def holder(self) -> str:
        text = self._line()
        text = text.removeprefix("between notify ").split(" (lock file", 1)[0]
        return text.split("; lease ", 1)[0] or _("unknown")

    def release(self) -> None:
        self._close()  # closing the file releases the lock
        self.held = False

    def _open(self) -> int:
        if self.fd is not None and not self._current(self.fd):
            self._close()
        if self.fd is None:
            try:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as e:
                raise StoreError(
                    "cannot open the dispatcher's lock %(path)s: %(reason)s",
                    path=self.path,
                    reason=e,
                ) from None
            if os.fstat(self.fd).st_mode & 0o077:  # made by hand, or under another umask
                with contextlib.suppress(PermissionError):
                    os.fchmod(self.fd, 0o600)
        return self.fd

    def _close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def _current(self, fd: int) -> bool:
        """Whether ``fd`` is still the file at the lock's path (not replaced by a takeover)."""
        try:
            st, mine = os.stat(self.path), os.fstat(fd)
        except OSError:
            return False
        return (st.st_ino, st.st_dev) == (mine.st_ino, mine.st_dev)

    def _take_over_if_lapsed(self, fd: int) -> bool:
        """Remove the lock file of a holder whose lease lapsed (True: removed, lock anew)."""
        guard = _guard(self.path.parent)
        if guard is None:
            return False  # another dispatcher is deciding this very moment
        try:
            if not self._current(fd):
                return True  # replaced meanwhile: try the new one
            why = self.lapsed(time.time() - os.fstat(fd).st_mtime, _lease_in(self._line()))
            if why is None:
                return False
            holder = self.holder()
            os.unlink(self.path)  # the stale holder's next renewal finds its file gone
        finally:
            os.close(guard)
        self._close()
        self.took_over = f"{why} ({holder})"
        return True

    def _line(self) -> str:
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                return f.read(300).strip()
        except OSError:
            return ""


class AdvisoryLease(Lease):
    """A PostgreSQL session advisory lock on a dedicated connection; the session's last
    activity (``pg_stat_activity.state_change``, by the server's clock) is the heartbeat."""

    HOLDER = (
        "SELECT a.application_name, a.backend_start, a.pid, "
        "EXTRACT(EPOCH FROM clock_timestamp() - a.state_change) FROM pg_locks l "
        "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid"
    )

    def __init__(self, store: Store, seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        super().__init__(store, seconds)
        digest = hashlib.sha256(f"between notify {store.schema}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self.conn: Any = None

    def try_acquire(self) -> bool:
        import psycopg

        try:
            if self._lock():
                return True
            found = self._found()
            if not found or not str(found[0] or "").startswith("between notify"):
                return False  # not a dispatcher's session: never ended from here
            why = None if found[3] is None else self.lapsed(float(found[3]), _lease_in(found[0]))
            if why is None:
                return False
            holder = self.holder()
            try:
                self._session().execute("SELECT pg_terminate_backend(%s)", (found[2],))
            except psycopg.errors.InsufficientPrivilege:
                return False  # another role's session: wait until it ends
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:  # its locks go when its session has ended
                if self._lock():
                    self.took_over = _(
                        "%(why)s (%(holder)s); ended its lease session", why=why, holder=holder
                    )
                    return True
                time.sleep(0.05)
            return False
        except psycopg.Error as e:
            self.release()
            raise StoreError(
                "cannot take the dispatcher's lease: %(reason)s", reason=_first_line(e)
            ) from None

    def _lock(self) -> bool:
        row = self._session().execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
        return bool(row.fetchone()[0])

    def _found(self) -> Any:
        unsigned = self.key & 0xFFFF_FFFF_FFFF_FFFF
        row = self._session().execute(self.HOLDER, (unsigned >> 32, unsigned & 0xFFFF_FFFF))
        return row.fetchone()

    def _session(self) -> Any:
        import psycopg

        if self.conn is None:
            self.conn = psycopg.connect(
                **self.store.connect_args(),
                autocommit=True,
                application_name=f"between notify/{self.seconds:g}s {holder_label()}"[:63],
            )
        return self.conn

    def holder(self) -> str:
        import psycopg

        try:
            found = self._found()
        except psycopg.Error:
            return _("unknown")
        if not found:
            return _("no one now")
        if not found[0]:
            return _("a session of another program")
        name = _LEASE_IN_NAME.sub("", str(found[0]))
        if found[1] is None:
            return name
        return f"{name} since {found[1].astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"

    def heartbeat(self) -> None:
        import psycopg

        try:
            self.conn.execute("SELECT 1")  # the session's activity is the heartbeat
        except (psycopg.Error, AttributeError):
            raise self._lost(
                _(
                    "lost the database session that held the dispatcher's lease (ended by the "
                    "server, or by another dispatcher after this one had not renewed it within "
                    "%(seconds)s s)",
                    seconds=format(self.seconds, "g"),
                )
            ) from None

    def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()  # ending the session releases the lock
            self.conn = None
        self.held = False


def _lease_in(text: str | None) -> float | None:
    """The lease time a holder wrote beside its name (None: not given)."""
    found = re.search(r"(?:; lease |^between notify/)(\d+(?:\.\d+)?)(?: |s)", text or "")
    return float(found.group(1)) if found else None


def _guard(folder: Path) -> int | None:
    """A short exclusive lock on the lock file's folder, so only one dispatcher at a time
    decides on a takeover (None: another one is)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
