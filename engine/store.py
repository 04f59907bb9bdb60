"""Where the log lives: parse a store address into eventsourcing settings.

A store is a SQLite file (the default, at ``default_sqlite_path()``) or a PostgreSQL
database: ``postgresql://user[:password]@host[:port]/dbname[?schema=name]``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from between.engine.errors import InvalidInput


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
                f"unknown store address {address!r}: use a file path for SQLite or "
                "postgresql://user@host:port/dbname"
            )
        return cls("sqlite", path=Path(address).expanduser().absolute())

    @classmethod
    def _parse_postgres(cls, address: str) -> Store:
        parts = urlsplit(address)
        dbname = unquote(parts.path.lstrip("/"))
        if not parts.hostname or not dbname:
            raise InvalidInput(
                f"incomplete PostgreSQL address {address!r}: "
                "expected postgresql://user@host:port/dbname"
            )
        schema = parse_qs(parts.query).get("schema", ["public"])[0]
        return cls(
            "postgresql",
            host=parts.hostname,
            port=str(parts.port or 5432),
            user=unquote(parts.username or os.environ.get("USER", "postgres")),
            password=unquote(parts.password or ""),
            dbname=dbname,
            schema=schema,
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
                POSTGRES_CONNECT_TIMEOUT="5",
                POSTGRES_LOCK_TIMEOUT="10",
                POSTGRES_POOL_SIZE="2",
            )
        return env
