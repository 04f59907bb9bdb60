"""Why a store cannot be opened, in one line that says what to do.

PostgreSQL: ``probe_postgres`` connects once, directly, before the connection pool is used,
so that a refused connection, an unknown database, a failed login or an unknown host is
reported at once and for what it is (the pool would only time out). SQLite: ``sqlite_problem``
and ``check_sqlite_path`` explain the file given as ``--store``. Only a reachable database
without Between's tables is "not a Between store" (see ``engine.app``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from between.engine.errors import InvalidInput, StoreError

if TYPE_CHECKING:
    from between.engine.storage.store import Store


def probe_postgres(store: Store) -> None:
    """Connect to the store's server and database once, or raise a ``StoreError`` with advice."""
    import psycopg

    try:
        psycopg.connect(**store.connect_args()).close()
    except psycopg.Error as e:
        raise postgres_problem(store, e) from None


def postgres_problem(store: Store, error: BaseException) -> StoreError:
    """A failed connection, diagnosed from libpq's message."""
    text = " ".join(str(error).split())
    low = text.lower()
    where = store.describe()
    server = f"{store.host}:{store.port}"
    if "connection refused" in low:
        return StoreError(
            "cannot connect to %(where)s: nothing is listening at %(server)s: is the PostgreSQL "
            "server running there, and is the port right?",
            where=where,
            server=server,
        )
    if "resolve host" in low or "translate host name" in low or "name or service" in low:
        return StoreError(
            "cannot connect to %(where)s: unknown host %(host)s: check the host name in the "
            "store address",
            where=where,
            host=repr(store.host),
        )
    if re.search(r'database ".*" does not exist', low):
        return StoreError(
            "cannot connect to %(where)s: the server at %(server)s has no database %(name)s: "
            "create it (%(command)s) or correct the name",
            where=where,
            server=server,
            name=repr(store.dbname),
            command=f"createdb -h {store.host} -p {store.port} {store.dbname}",
        )
    if re.search(r'role ".*" does not exist', low):
        return StoreError(
            "cannot connect to %(where)s: the server at %(server)s has no role %(user)s: "
            "correct the user in the store address, or ask the database administrator to "
            "create the role",
            where=where,
            server=server,
            user=repr(store.user),
        )
    if "authentication failed" in low or "no password supplied" in low or "pg_hba" in low:
        return StoreError(
            "cannot connect to %(where)s: the server refused the login of %(user)s: check the "
            "user and password (in the address, PGPASSWORD or ~/.pgpass) and the server's "
            "pg_hba.conf",
            where=where,
            user=repr(store.user),
        )
    if "timeout" in low or "timed out" in low:
        return StoreError(
            "cannot connect to %(where)s: no answer from %(server)s within %(seconds)s s: is "
            "the host reachable (network, firewall, VPN)? On a slow network raise "
            "?connect_timeout=N",
            where=where,
            server=server,
            seconds=store.connect_timeout,
        )
    if "no route to host" in low or "network is unreachable" in low:
        return StoreError(
            "cannot connect to %(where)s: the host %(host)s is unreachable from here (network, "
            "firewall, VPN)",
            where=where,
            host=repr(store.host),
        )
    return StoreError("cannot connect to %(where)s: %(reason)s", where=where, reason=text)


def check_sqlite_path(store: Store) -> None:
    """Refuse a ``--store`` that names a folder (exit 2)."""
    assert store.path is not None
    if store.path.is_dir():
        raise InvalidInput(
            "--store %(path)s is a folder; give the store's file, e.g. %(example)s",
            path=store.path,
            example=store.path / "between.db",
        )


def sqlite_problem(store: Store, error: BaseException) -> StoreError:
    """A SQLite file that cannot be opened or read, explained."""
    path = store.path
    assert path is not None
    low = str(error).lower()
    if "not a database" in low or "malformed" in low:
        return StoreError(
            "%(path)s is not a SQLite database (or is damaged): point --store at a Between "
            "store, or at a new file for 'between init'",
            path=path,
        )
    if "readonly" in low or "read-only" in low:
        return StoreError(
            "the store %(path)s is read-only here; nothing was recorded (copy it somewhere "
            "writable, or fix the permissions of the file and its folder)",
            path=path,
        )
    if "locked" in low or "busy" in low:
        return StoreError(
            "the store %(path)s is busy (locked by another program); try again", path=path
        )
    if "unable to open" in low:
        return unopenable(path)
    reason = " ".join(str(error).split())
    return StoreError("cannot open the store %(path)s: %(reason)s", path=path, reason=reason)


def unopenable(path: Path) -> StoreError:
    """Why the SQLite file at ``path`` cannot be opened: what is wrong with its place."""
    blocker = file_in_the_way(path)
    if blocker is not None:
        return StoreError(
            "cannot open the store %(path)s: %(parent)s is a file, not a folder",
            path=path,
            parent=blocker,
        )
    if not path.parent.exists():
        return StoreError(
            "cannot open the store %(path)s: the folder %(folder)s does not exist",
            path=path,
            folder=path.parent,
        )
    return StoreError(
        "cannot open the store %(path)s: the file cannot be created or opened there "
        "(permissions, or a read-only or special file system); choose a writable place "
        "with --store",
        path=path,
    )


def file_in_the_way(path: Path) -> Path | None:
    """The nearest existing folder above ``path`` when it is a file instead, if it is."""
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None
