"""Due dates as the client's calendar days, read from the read model (see ``clock_zones``).

A client's zone is in their summary row (``timezone``, once recorded; else the clinic's). Homework
due on ``D`` is overdue once ``D`` has ended where the client is. In SQL, for ``list --overdue``:
at any instant a zone's date is the UTC date ``d``, the day before or the day after, so homework
due before ``d - 1`` is overdue everywhere, due after ``d`` nowhere, and only that due on ``d - 1``
or ``d`` depends on the zone — the few zones of that homework are read (from the ``(status,
due)`` index) and named in the condition. No record is loaded; rows are read as they are.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Any

from between.engine.reading.clock_zones import Days
from between.engine.reading.views import with_timeliness

OVERDUE = "status = 'agreed' AND entries < expected_entries"


def zone_sql(dialect_name: str) -> str:
    """The recorded zone of the client of an ``rm_assignments`` row ('' when none)."""
    extract = (
        "json_extract(k.row, '$.timezone')"
        if dialect_name == "sqlite"
        else "(k.row::json ->> 'timezone')"
    )
    return (
        f"COALESCE((SELECT {extract} FROM rm_clients k WHERE k.id = rm_assignments.client_id), '')"
    )


def overdue_filter(q: Any, c: Any, days: Days) -> tuple[str, list[Any]]:
    """The SQL condition (and its values) of homework overdue at ``days.now``."""
    d = days.now.astimezone(UTC).date()
    before, today = (d - timedelta(days=1)).isoformat(), d.isoformat()
    zone = zone_sql(q.dialect.name)
    c.execute(
        q.dialect.sql(
            f"SELECT DISTINCT {zone} AS tz FROM rm_assignments "
            f"WHERE status = 'agreed' AND due >= ? AND due <= ?"
        ),
        (before, today),
    )
    zones = [r["tz"] or "" for r in c.fetchall()]
    behind = [z for z in zones if days.of(z or None) < d]
    ahead = [z for z in zones if days.of(z or None) > d]
    parts, values = ["due < ?"], [before]
    if behind:
        parts.append(f"(due = ? AND {zone} NOT IN ({','.join('?' * len(behind))}))")
        values += [before, *behind]
    else:
        parts.append("due = ?")
        values.append(before)
    if ahead:
        parts.append(f"(due = ? AND {zone} IN ({','.join('?' * len(ahead))}))")
        values += [today, *ahead]
    return f"{OVERDUE} AND due <= ? AND ({' OR '.join(parts)})", [today, *values]


def client_zones(q: Any, c: Any, client_ids: set[str]) -> dict[str, str | None]:
    """The recorded zone of each client (by the id as rows hold it; None: the clinic's)."""
    found: dict[str, str | None] = {}
    ids = {i.replace("-", ""): i for i in client_ids}
    keys = list(ids)
    for n in range(0, len(keys), 500):
        chunk = keys[n : n + 500]
        marks = ",".join([q.dialect.param] * len(chunk))
        c.execute(f"SELECT id, row FROM rm_clients WHERE id IN ({marks})", chunk)
        for r in c.fetchall():
            found[ids[r["id"]]] = _zone_in(r["row"])
    return found


def _zone_in(row: str) -> str | None:
    """The ``timezone`` of a stored client row, without parsing the rest when it has none."""
    if '"timezone"' not in row:
        return None
    return json.loads(row).get("timezone")


def timely(q: Any, c: Any, rows: list[dict], days: Days) -> list[dict]:
    """``rows`` with ``overdue`` and ``days_late`` as of each client's own today."""
    if not rows:
        return rows
    zones = client_zones(q, c, {r["client_id"] for r in rows})
    return [with_timeliness(r, days.of(zones.get(r["client_id"]))) for r in rows]
