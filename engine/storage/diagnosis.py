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
    server = f"{store.host}:{store.port}"
    where = f"cannot connect to {store.describe()}"
    if "connection refused" in low:
        advice = (
            f"nothing is listening at {server}: is the PostgreSQL server running there, "
            "and is the port right?"
        )
    elif "resolve host" in low or "translate host name" in low or "name or service" in low:
        advice = f"unknown host {store.host!r}: check the host name in the store address"
    elif re.search(r'database ".*" does not exist', low):
        advice = (
            f"the server at {server} has no database {store.dbname!r}: create it "
            f"(createdb -h {store.host} -p {store.port} {store.dbname}) or correct the name"
        )
    elif re.search(r'role ".*" does not exist', low):
        advice = (
            f"the server at {server} has no role {store.user!r}: correct the user in the "
            "store address, or ask the database administrator to create the role"
        )
    elif "authentication failed" in low or "no password supplied" in low or "pg_hba" in low:
        advice = (
            f"the server refused the login of {store.user!r}: check the user and password "
            "(in the address, PGPASSWORD or ~/.pgpass) and the server's pg_hba.conf"
        )
    elif "timeout" in low or "timed out" in low:
        advice = (
            f"no answer from {server} within {store.connect_timeout} s: is the host "
            "reachable (network, firewall, VPN)? On a slow network raise ?connect_timeout=N"
        )
    elif "no route to host" in low or "network is unreachable" in low:
        advice = f"the host {store.host!r} is unreachable from here (network, firewall, VPN)"
    else:
        advice = text
    return StoreError(f"{where}: {advice}")


def check_sqlite_path(store: Store) -> None:
    """Refuse a ``--store`` that names a folder (exit 2)."""
    assert store.path is not None
    if store.path.is_dir():
        raise InvalidInput(
            f"--store {store.path} is a folder; give the store's file, "
            f"e.g. {store.path / 'between.db'}"
        )


def sqlite_problem(store: Store, error: BaseException) -> StoreError:
    """A SQLite file that cannot be opened or read, explained."""
    path = store.path
    assert path is not None
    low = str(error).lower()
    if "not a database" in low or "malformed" in low:
        return StoreError(
            f"{path} is not a SQLite database (or is damaged): point --store at a Between "
            "store, or at a new file for 'between init'"
        )
    if "readonly" in low or "read-only" in low:
        return StoreError(
            f"the store {path} is read-only here; nothing was recorded (copy it somewhere "
            "writable, or fix the permissions of the file and its folder)"
        )
    if "locked" in low or "busy" in low:
        return StoreError(f"the store {path} is busy (locked by another program); try again")
    if "unable to open" in low:
        reason = location_problem(path) or (
            "the file cannot be created or opened there (permissions, or a read-only or "
            "special file system); choose a writable place with --store"
        )
        return StoreError(f"cannot open the store {path}: {reason}")
    return StoreError(f"cannot open the store {path}: {' '.join(str(error).split())}")


def location_problem(path: Path) -> str | None:
    """What is wrong with the place a file is (or would be) at, if anything."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"{parent} is a file, not a folder"
            break
    if not path.parent.exists():
        return f"the folder {path.parent} does not exist"
    return None
