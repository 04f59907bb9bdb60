"""Reading the read model: the queries behind ``list``, ``agenda`` and ``client list``.

Light on purpose (no event classes, no eventsourcing): the command line answers these from a
SQLite store's read model directly when it is current (``fast_reader``), so they start as
quickly as the interpreter does.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from between.engine import validate
from between.engine.errors import NotFound
from between.engine.store import Store
from between.engine.views import ASSIGNMENT_STATUSES, OPEN_STATUSES, STAGES, with_timeliness

TRACKING_NAME = "homework"


@dataclass(frozen=True)
class Dialect:
    """What differs between SQLite and PostgreSQL in the SQL we write."""

    name: str
    param: str
    position: str
    for_update: str

    def sql(self, text: str) -> str:
        return text.replace("?", self.param) if self.param != "?" else text


SQLITE = Dialect("sqlite", "?", "rowid", "")
POSTGRES = Dialect("postgresql", "%s", "notification_id", " FOR UPDATE")


def hex_id(value: str | UUID | None) -> str | None:
    """Ids are indexed as 32 hex digits, so a prefix of a printed id finds its record."""
    if value is None:
        return None
    return value.hex if isinstance(value, UUID) else value.replace("-", "")


class Queries:
    """Queries over the read-model tables, for either dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    def assignment_ids(self, c: Any, prefix: str, limit: int = 6) -> list[str]:
        c.execute(
            self.dialect.sql("SELECT id FROM rm_assignments WHERE id LIKE ? ORDER BY id LIMIT ?"),
            (prefix + "%", limit),
        )
        return [r["id"] for r in c.fetchall()]

    def assignments(
        self,
        c: Any,
        *,
        client_id: str | None = None,
        statuses: Sequence[str] = (),
        stage: str | None = None,
        due_before: str | None = None,
        overdue_on: str | None = None,
        steps_up_from: str | None = None,
    ) -> list[dict]:
        where, params = [], []
        if client_id:
            where.append("client_id = ?")
            params.append(client_id)
        if statuses:
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            params.extend(statuses)
        if stage:
            where.append("stage = ?")
            params.append(stage)
        if due_before:
            where.append("due < ?")
            params.append(due_before)
        if overdue_on:
            where.append("status = 'agreed' AND due < ? AND entries < expected_entries")
            params.append(overdue_on)
        if steps_up_from:
            where.append("steps_up_from = ?")
            params.append(steps_up_from)
        sql = "SELECT row FROM rm_assignments"
        if where:
            sql += " WHERE " + " AND ".join(where)
        c.execute(self.dialect.sql(sql + " ORDER BY due, client, id"), params)
        return [json.loads(r["row"]) for r in c.fetchall()]

    def client(self, c: Any, code: str) -> dict | None:
        c.execute(self.dialect.sql("SELECT row FROM rm_clients WHERE code = ?"), (code,))
        r = c.fetchone()
        return json.loads(r["row"]) if r else None

    def clients(self, c: Any, status: str | None = None) -> list[dict]:
        if status:
            c.execute(
                self.dialect.sql("SELECT row FROM rm_clients WHERE status = ? ORDER BY code"),
                (status,),
            )
        else:
            c.execute("SELECT row FROM rm_clients ORDER BY code")
        return [json.loads(r["row"]) for r in c.fetchall()]

    def open_assignments(self, c: Any, client_id: str) -> list[str]:
        rows = self.assignments(c, client_id=client_id, statuses=OPEN_STATUSES)
        return [r["id"][:8] for r in rows]

    def notifications(self, c: Any, status: str | None = None) -> list[dict]:
        sql, params = "SELECT row FROM rm_notifications", ()
        if status:
            sql, params = sql + " WHERE status = ?", (status,)
        c.execute(self.dialect.sql(sql), params)
        return [json.loads(r["row"]) for r in c.fetchall()]

    def due_notifications(self, c: Any, now: str, limit: int) -> list[UUID]:
        """Pending notifications whose next attempt is due by ``now``, earliest first."""
        c.execute(
            self.dialect.sql(
                "SELECT id FROM rm_notifications WHERE status = 'pending' "
                "AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?"
            ),
            (now, limit),
        )
        return [UUID(r["id"]) for r in c.fetchall()]


def list_assignments(
    q: Queries,
    c: Any,
    *,
    today: date,
    client: str | None = None,
    status: str | None = None,
    stage: str | None = None,
    overdue: bool = False,
    due_before: str | None = None,
) -> list[dict]:
    """``between list``: assignment rows, filtered, with timeliness as of ``today``."""
    filters: dict[str, Any] = {}
    if client:
        found = q.client(c, validate.code(client))
        if found is None:
            raise NotFound(f"no client with code {client!r}")
        filters["client_id"] = hex_id(found["id"])
    if status:
        validate.choice("status", status, (*ASSIGNMENT_STATUSES, "open"))
        filters["statuses"] = OPEN_STATUSES if status == "open" else (status,)
    if stage:
        filters["stage"] = validate.choice("stage", stage, STAGES)
    if due_before:
        filters["due_before"] = validate.due_date(due_before, today)
    if overdue:
        filters["overdue_on"] = today.isoformat()
    return [with_timeliness(r, today) for r in q.assignments(c, **filters)]


def agenda(q: Queries, c: Any, code: str, *, today: date) -> dict:
    """``between agenda``: what to go over at the start of this client's next session."""
    client = q.client(c, validate.code(code))
    if client is None:
        raise NotFound(f"no client with code {code!r}")
    rows = [with_timeliness(r, today) for r in q.assignments(c, client_id=hex_id(client["id"]))]
    last_review = max((r["last_review"]["at"] for r in rows if r["last_review"]), default="")
    return {
        "client": client["code"],
        "as_of": today.isoformat(),
        "last_review_at": last_review or None,
        "to_review": [r for r in rows if r["status"] == "agreed"],
        "awaiting_agreement": [r for r in rows if r["status"] == "proposed"],
        "declined_since_last_review": [
            r for r in rows if r["status"] == "declined" and r["declined_at"] > last_review
        ],
    }


def list_clients(q: Queries, c: Any, status: str | None = None) -> list[dict]:
    if status:
        validate.choice("status", status, ("active", "discharged", "erased"))
    return q.clients(c, status)


@contextmanager
def fast_reader(store: Store, environ: dict[str, str], key_file: Any) -> Iterator[Any]:
    """A read-only cursor on a SQLite store whose read model is current, else None.

    Opened at ``Store.read_only_uri()``, as every reader opens it (so it works in a read-only
    place and leaves no file behind). An encrypted store still needs its key (checked, as any
    command would); a store that cannot be read here, or whose read model lags the log, yields
    None, and the caller takes the full path (which explains, or catches the model up first).
    """
    try:
        uri = store.read_only_uri() if store.path is not None and store.path.is_file() else None
    except OSError:
        uri = None
    try:
        db = sqlite3.connect(uri, uri=True) if uri else None
    except sqlite3.Error:
        db = None
    if db is None:
        yield None
        return
    with closing(db):
        db.row_factory = sqlite3.Row
        try:
            meta = dict(db.execute("SELECT key, value FROM between_meta").fetchall())
            position = db.execute("SELECT position FROM rm_position").fetchone()[0]
            head = db.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0] or 0
        except sqlite3.Error:
            meta, position, head = {}, None, 0  # not a store, an older one, or unreadable
        if position != head or not meta:
            yield None
            return
        if meta.get("encrypted") == "yes":
            from between.engine.keys import check_master_key, find_master_key

            master = find_master_key(meta["store_id"], environ, key_file)
            check_master_key(master, meta["key_check"])
        yield db.cursor()
