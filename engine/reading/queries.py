"""Reading the read model: the queries behind ``list``, ``agenda`` and ``client list``.

Light on purpose (no event classes, no eventsourcing): the command line answers these from a
store's read model directly when it is current (``engine.reading.light``), so they start as quickly
as the interpreter does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from between.engine import validate
from between.engine.errors import NotFound
from between.engine.reading.views import (
    ASSIGNMENT_STATUSES,
    OPEN_STATUSES,
    STAGES,
    with_timeliness,
)
from between.engine.reading.zoned import overdue_filter, timely
from between.engine.storage.dialect import Dialect

if TYPE_CHECKING:
    from between.engine.reading.clock_zones import Days

TRACKING_NAME = "homework"
#: Rows fetched at a time when a listing is streamed (``list --all``).
BATCH = 1000


def _where(conditions: list[str]) -> str:
    return " WHERE " + " AND ".join(conditions) if conditions else ""


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
        """Ids starting with ``prefix`` (lowercase hex digits): a range of the primary key's
        index (``LIKE`` would read the whole table, as it ignores case)."""
        c.execute(
            self.dialect.sql(
                "SELECT id FROM rm_assignments WHERE id >= ? AND id < ? ORDER BY id LIMIT ?"
            ),
            (prefix, prefix + "g", limit),  # 'g' sorts after every hex digit
        )
        return [r["id"] for r in c.fetchall()]

    def assignments(
        self,
        c: Any,
        *,
        limit: int | None = None,
        after: tuple[str, str, str] | None = None,
        **filters: Any,
    ) -> list[dict]:
        """Assignment rows in list order (due, client, id), filtered; at most ``limit``,
        and only those after the ``(due, client, id)`` of ``after`` (for paging)."""
        statuses = filters.pop("statuses", ()) or ()
        where, params = self._assignment_filters(**filters)
        if after is not None:
            where.append("(due > ? OR (due = ? AND (client > ? OR (client = ? AND id > ?))))")
            params.extend((after[0], after[0], after[1], after[1], after[2]))
        order = " ORDER BY due, client, id"
        if limit is None:
            if statuses:
                where.append(f"status IN ({','.join('?' * len(statuses))})")
                params.extend(statuses)
            sql = "SELECT row FROM rm_assignments" + _where(where) + order
        else:
            # The first rows of each status from the (status, due) index, then the first of
            # those: no index orders the whole table by due date, and sorting every row to
            # page through the first few would read the whole table.
            top = f"{order} LIMIT {int(limit)}"
            parts, values = [], []
            for n, status in enumerate(statuses or ASSIGNMENT_STATUSES):
                parts.append(
                    f"SELECT * FROM (SELECT row, due, client, id FROM rm_assignments"
                    f"{_where([*where, 'status = ?'])}{top}) AS s{n}"
                )
                values += [*params, status]
            sql, params = " UNION ALL ".join(parts) + top, values
        c.execute(self.dialect.sql(sql), params)
        return [json.loads(r["row"]) for r in c.fetchall()]

    def count_assignments(self, c: Any, **filters: Any) -> int:
        where, params = self._assignment_filters(**filters)
        c.execute(
            self.dialect.sql("SELECT COUNT(*) AS n FROM rm_assignments" + _where(where)), params
        )
        return int(c.fetchone()["n"])

    @staticmethod
    def _assignment_filters(
        *,
        client_id: str | None = None,
        statuses: Sequence[str] = (),
        stage: str | None = None,
        due_before: str | None = None,
        overdue: tuple[str, list[Any]] | None = None,
        steps_up_from: str | None = None,
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
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
        if overdue:  # the clients' own days (engine.reading.zoned)
            where.append(overdue[0])
            params.extend(overdue[1])
        if steps_up_from:
            where.append("steps_up_from = ?")
            params.append(steps_up_from)
        return where, params

    def client(self, c: Any, code: str) -> dict | None:
        c.execute(self.dialect.sql("SELECT row FROM rm_clients WHERE code = ?"), (code,))
        r = c.fetchone()
        return json.loads(r["row"]) if r else None

    def client_by_id(self, c: Any, client_id: UUID) -> dict | None:
        c.execute(self.dialect.sql("SELECT row FROM rm_clients WHERE id = ?"), (client_id.hex,))
        r = c.fetchone()
        return json.loads(r["row"]) if r else None

    def clients(self, c: Any, status: str | None = None, limit: int | None = None) -> list[dict]:
        """Client rows by code (all, or at most ``limit``)."""
        return list(self.client_rows(c, status, limit))

    def client_rows(
        self, c: Any, status: str | None = None, limit: int | None = None
    ) -> Iterator[dict]:
        """Client rows by code, compared byte by byte, then erased clients (who keep no code)
        by id: the same order on every store, whatever its collation or place for NULL."""
        sql = "SELECT row FROM rm_clients"
        params: tuple[str, ...] = ()
        if status:
            sql, params = sql + " WHERE status = ?", (status,)
        by_bytes = ' COLLATE "C"' if self.dialect.name == "postgresql" else ""  # SQLite's BINARY
        order = f" ORDER BY code IS NULL, code{by_bytes}, id LIMIT ? OFFSET ?"
        sql = self.dialect.sql(sql + order)
        offset = 0
        while limit is None or offset < limit:
            size = BATCH if limit is None else min(BATCH, limit - offset)
            c.execute(sql, (*params, size, offset))
            rows = c.fetchall()
            yield from (json.loads(r["row"]) for r in rows)
            if len(rows) < size:
                return
            offset += size

    def count_clients(self, c: Any, status: str | None = None) -> int:
        sql = "SELECT COUNT(*) AS n FROM rm_clients"
        params: tuple[str, ...] = ()
        if status:
            sql, params = sql + " WHERE status = ?", (status,)
        c.execute(self.dialect.sql(sql), params)
        return int(c.fetchone()["n"])

    def open_assignments(self, c: Any, client_id: str) -> list[str]:
        rows = self.assignments(c, client_id=client_id, statuses=OPEN_STATUSES)
        return [r["id"][:8] for r in rows]

    def notifications(self, c: Any, status: str | None = None) -> list[dict]:
        sql = "SELECT row FROM rm_notifications"
        params: tuple[str, ...] = ()
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


def assignment_filters(
    q: Queries,
    c: Any,
    *,
    days: Days,
    client: str | None = None,
    status: str | None = None,
    stage: str | None = None,
    overdue: bool = False,
    due_before: str | None = None,
) -> dict[str, Any]:
    """``between list``'s options (client, status, stage, overdue, due_before), checked, as
    the filters of ``Queries.assignments``."""
    filters: dict[str, Any] = {}
    if client:
        found = q.client(c, validate.code(client))
        if found is None:
            raise NotFound("no client with code %(code)r", code=client)
        filters["client_id"] = hex_id(found["id"])
    if status:
        validate.choice("status", status, (*ASSIGNMENT_STATUSES, "open"))
        filters["statuses"] = OPEN_STATUSES if status == "open" else (status,)
    if stage:
        filters["stage"] = validate.choice("stage", stage, STAGES)
    if due_before:
        filters["due_before"] = validate.due_date(due_before, days.of())
    if overdue:
        filters["overdue"] = overdue_filter(q, c, days)
    return filters


def list_assignments(
    q: Queries, c: Any, *, days: Days, limit: int | None = None, **options: Any
) -> list[dict]:
    """``between list``: assignment rows, filtered, with timeliness as of each client's
    today (at most ``limit`` of them)."""
    filters = assignment_filters(q, c, days=days, **options)
    return timely(q, c, q.assignments(c, limit=limit, **filters), days)


def count_assignments(q: Queries, c: Any, *, days: Days, **options: Any) -> int:
    """How many rows ``list`` with these options has in all."""
    return q.count_assignments(c, **assignment_filters(q, c, days=days, **options))


def stream_assignments(q: Queries, c: Any, *, days: Days, **options: Any) -> Iterator[dict]:
    """Every row ``list`` with these options has, read a page at a time (memory stays flat)."""
    filters = assignment_filters(q, c, days=days, **options)
    after = None
    while rows := q.assignments(c, limit=BATCH, after=after, **filters):
        yield from timely(q, c, rows, days)
        last = rows[-1]
        after = (last["due"], last["client"], hex_id(last["id"]) or "")
        if len(rows) < BATCH:
            return


def agenda(q: Queries, c: Any, code: str, *, days: Days) -> dict:
    """``between agenda``: what to go over at the start of this client's next session (their
    homework's lateness by their own calendar)."""
    client = q.client(c, validate.code(code))
    if client is None:
        raise NotFound("no client with code %(code)r", code=code)
    today = days.of(client.get("timezone"))
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


def list_clients(
    q: Queries, c: Any, status: str | None = None, limit: int | None = None
) -> list[dict]:
    """``between client list``: client rows by code (at most ``limit``)."""
    return list(stream_clients(q, c, status, limit))


def stream_clients(
    q: Queries, c: Any, status: str | None = None, limit: int | None = None
) -> Iterator[dict]:
    if status:
        validate.choice("status", status, ("active", "discharged", "erased"))
    return q.client_rows(c, status, limit)


def count_clients(q: Queries, c: Any, status: str | None = None) -> int:
    return q.count_clients(c, status)
