"""Where the log lives: parse a store address into eventsourcing settings.

A store is a SQLite file (the default, at ``default_sqlite_path()``) or a PostgreSQL
database: ``postgresql://user[:password]@host[:port]/dbname[?schema=name&connect_timeout=N]``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from between.engine.errors import InvalidInput
from between.language import gettext as _

#: Seconds to wait for a PostgreSQL server to answer, unless the address says otherwise.
CONNECT_TIMEOUT = 5
#: What a PostgreSQL address may carry after ``?``.
POSTGRES_PARAMETERS = ("schema", "connect_timeout")
SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def default_sqlite_path() -> Path:
    """``$XDG_DATA_HOME/between/between.db`` (``~/.local/share/between/between.db``)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "between" / "between.db"


@dataclass(frozen=True)
class Store:
    """A parsed store address."""

    kind: str  # "sqlite" or "postgresql"
    path: Path | None = None
    host: str = ""
    port: str = "5432"
    user: str = ""
    password: str = field(default="", repr=False)
    dbname: str = ""
    schema: str = "public"
    connect_timeout: int = CONNECT_TIMEOUT

    @classmethod
    def parse(cls, address: str | None) -> Store:
        if not address:
            return cls("sqlite", path=default_sqlite_path())
        if address.startswith(("postgresql://", "postgres://")):
            return cls._parse_postgres(address)
        if address.startswith("sqlite:"):
            address = address.removeprefix("sqlite:").removeprefix("//")
        if "://" in address:
            raise InvalidInput(
                "unknown store address %(address)s: use a file path for SQLite or "
                "postgresql://user@host:port/dbname",
                address=repr(address),
            )
        return cls("sqlite", path=Path(address).expanduser().absolute())

    @classmethod
    def _parse_postgres(cls, address: str) -> Store:
        parts = urlsplit(address)
        dbname = unquote(parts.path.lstrip("/"))
        if not parts.hostname or not dbname:
            raise InvalidInput(
                "incomplete PostgreSQL address %(address)s: "
                "expected postgresql://user@host:port/dbname",
                address=repr(address),
            )
        try:
            port = str(parts.port or 5432)
        except ValueError:
            raise InvalidInput(
                "the port in %(address)s is not a port number (1–65535); the default is 5432",
                address=repr(address),
            ) from None
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = sorted(set(query) - set(POSTGRES_PARAMETERS))
        if unknown:
            raise InvalidInput(
                "unknown parameter %(unknown)s in the store address; it may carry "
                "%(known)s (e.g. ?schema=clinic&connect_timeout=10)",
                unknown=", ".join(unknown),
                known=" and ".join(POSTGRES_PARAMETERS),
            )
        schema = query.get("schema", ["public"])[-1]
        if not SCHEMA_NAME.fullmatch(schema):
            raise InvalidInput(
                "schema %(schema)s in the store address is not a plain PostgreSQL name: use "
                "up to 63 letters, digits and '_', not starting with a digit",
                schema=repr(schema),
            )
        return cls(
            "postgresql",
            host=parts.hostname,
            port=port,
            user=unquote(parts.username or os.environ.get("USER", "postgres")),
            password=unquote(parts.password or ""),
            dbname=dbname,
            schema=schema,
            connect_timeout=_timeout(query.get("connect_timeout", [str(CONNECT_TIMEOUT)])[-1]),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.kind == "sqlite"

    def describe(self) -> str:
        """The address without any password, for messages."""
        if self.is_sqlite:
            return str(self.path)
        schema = "" if self.schema == "public" else f"?schema={self.schema}"
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}{schema}"

    def uri(self) -> str:
        """The SQLite file as a URI (for ``sqlite3.connect(..., uri=True)``)."""
        return f"file:{quote(str(self.path))}"

    def read_only_uri(self) -> str:
        """How to open the SQLite file for reading without leaving a file behind.

        In use (a ``-wal`` file beside it): read-only, sharing the writers' WAL. Not in use,
        in a writable place: read-write but only read — SQLite removes the WAL files it makes
        when the connection closes. In a read-only place (a backup copy; no writer can work
        there, since a writer needs a ``-wal`` file): immutable, creating nothing.
        """
        assert self.path is not None
        uri = self.uri()
        if Path(f"{self.path}-wal").exists():
            return f"{uri}?mode=ro"
        if os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK):
            return uri
        return f"{uri}?mode=ro&immutable=1"

    def write_problem(self) -> str | None:
        """Why this process cannot write the SQLite store where it is (None if it can).

        A writer needs the file and its key store writable, and their folder too: SQLite
        makes ``-wal``, ``-shm`` and ``-journal`` files beside them while it writes.
        """
        assert self.path is not None
        keys = self.path.with_suffix(".keys")
        if not os.access(self.path, os.W_OK):
            return _("no permission to write %(name)s", name=self.path.name)
        if keys.exists() and not os.access(keys, os.W_OK):
            return _("no permission to write its key store %(name)s", name=keys.name)
        if not os.access(self.path.parent, os.W_OK):
            return _("its folder %(folder)s cannot be written", folder=self.path.parent)
        return None

    def connect_args(self) -> dict[str, Any]:
        """psycopg's connection arguments for this PostgreSQL store (password only if given)."""
        args: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": self.dbname,
            "connect_timeout": self.connect_timeout,
        }
        if self.password:
            args["password"] = self.password
        return args

    def settings(self, *, read_only: bool = False) -> dict[str, str]:
        """eventsourcing environment settings; tables are never created here (see init)."""
        env = {"CREATE_TABLE": "n"}
        if self.is_sqlite:
            assert self.path is not None
            env.update(
                PERSISTENCE_MODULE="eventsourcing.sqlite",
                SQLITE_DBNAME=self.read_only_uri()
                if read_only
                else f"file:{quote(str(self.path))}",
                SQLITE_LOCK_TIMEOUT="10",
            )
        else:
            env.update(
                PERSISTENCE_MODULE="eventsourcing.postgres",
                POSTGRES_DBNAME=self.dbname,
                POSTGRES_HOST=self.host,
                POSTGRES_PORT=self.port,
                POSTGRES_USER=self.user,
                POSTGRES_PASSWORD=self.password,
                POSTGRES_SCHEMA=self.schema,
                POSTGRES_CONNECT_TIMEOUT=str(self.connect_timeout),
                POSTGRES_LOCK_TIMEOUT="10",
                POSTGRES_POOL_SIZE="2",
            )
        return env


def _timeout(text: str) -> int:
    """``connect_timeout``: whole seconds from 1 to 600."""
    if not re.fullmatch(r"\d{1,3}", text.strip()) or not 1 <= int(text) <= 600:
        raise InvalidInput(
            "connect_timeout=%(text)s in the store address must be whole seconds from 1 to 600",
            text=repr(text),
        )
    return int(text)
