"""The clinic's figures — ``report --clinic --json`` — from the summary rows and four event
types: reviews (their ratings), declines (their reasons), agreements (when first given) and
proposals (only the template version they record: nothing sealed is opened).

Clients appear only as their codes, and only where a homework needs chasing (overdue); every
other figure is a count, a rate or a median over a group.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from statistics import fmean, median
from typing import Any
from uuid import UUID

from between.audit.log import events_of
from between.engine.reading.clock_zones import date_in
from between.engine.reading.views import ASSIGNMENT_STATUSES, ERASED, STAGES, with_timeliness
from between.events import assignments as ev
from between.reports.source import ReportSource, summary_rows

FORMAT = 1
NOTHING: frozenset[str] = frozenset()
#: The events read, and the sealed fields opened on each (only declines' reasons).
READ: dict[type, frozenset[str]] = {
    ev.AssignmentReviewed: NOTHING,
    ev.AssignmentDeclined: frozenset({"reason"}),
    ev.AssignmentAgreed: NOTHING,
    ev.AssignmentProposed: NOTHING,
}
#: The group of homework assigned without a template (``by_template``).
NO_TEMPLATE = "(no template)"


def read_clinic(app: ReportSource, now: datetime) -> dict[str, Any]:
    """Read what the clinic report needs from the store and compute its figures."""
    clients, rows = summary_rows(app)
    reviews: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    reasons: dict[str, str] = {}
    agreed: dict[str, datetime] = {}
    versions: dict[str, str] = {}
    for e in events_of(app, READ):
        key = str(e.originator_id)
        if isinstance(e, ev.AssignmentProposed):
            if e.template_version:
                versions[key] = e.template_version
        elif isinstance(e, ev.AssignmentReviewed):
            reviews[key].append((e.quantity, e.quality, e.difficulty))
        elif isinstance(e, ev.AssignmentDeclined):
            reasons[key] = e.reason
        else:
            agreed.setdefault(key, e.timestamp)
    return clinic_figures(clients, rows, reviews, reasons, agreed, now, versions)


def clinic_figures(
    clients: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    reviews: dict[str, list[tuple[int, int, int]]],
    reasons: dict[str, str],
    agreed: dict[str, datetime],
    now: datetime,
    versions: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Every figure of the clinic report (``versions``: each homework's template version)."""
    today = now.date()
    therapist = {_uid(c["id"]): c["therapist"] for c in clients}
    zone = {_uid(c["id"]): c.get("timezone") for c in clients}  # the client's own days
    rows = [
        {
            **with_timeliness(r, date_in(now, zone.get(_uid(r["client_id"])))),
            "therapist": therapist.get(_uid(r["client_id"]), "?"),
        }
        for r in rows
    ]

    def group(key: Callable[[dict[str, Any]], str], order: Iterable[str] = ()) -> list[dict]:
        groups: dict[str, list[dict[str, Any]]] = {k: [] for k in order}
        for r in rows:
            groups.setdefault(key(r), []).append(r)
        listed = groups if order else dict(sorted(groups.items()))
        return [{"key": k, **_stats(v, reviews, agreed)} for k, v in listed.items()]

    return {
        "report": "clinic",
        "format": FORMAT,
        "generated_at": now.isoformat(),
        "as_of": today.isoformat(),
        "clients": _clients(clients),
        "totals": _stats(rows, reviews, agreed),
        "by_task_type": group(lambda r: r["task_type"]),
        "by_stage": group(lambda r: r["stage"], STAGES),
        "by_therapist": group(lambda r: r["therapist"]),
        "by_template": _by_template(rows, reviews, agreed, versions or {}),
        "declines": _declines(rows, reasons),
        "overdue": _overdue(rows),
    }


def _clients(clients: list[dict[str, Any]]) -> dict[str, int]:
    """Clients by status. A client is erased only once discharged, so ``discharged`` counts
    the erased too and ``erased`` is the part of them whose personal data is gone."""
    status = Counter(c["status"] for c in clients)
    return {
        "active": status["active"],
        "discharged": status["discharged"] + status["erased"],
        "erased": status["erased"],
    }


def _stats(
    rows: list[dict[str, Any]],
    reviews: dict[str, list[tuple[int, int, int]]],
    agreed: dict[str, datetime],
) -> dict[str, Any]:
    """Counts and rates for a group of homework (the keys are the same for every group)."""
    ever = [r for r in rows if r["agreed_at"]]
    declined = sum(r["status"] == "declined" for r in rows)
    done = sum(min(r["entries"], r["expected_entries"]) for r in ever)
    expected = sum(r["expected_entries"] for r in ever)
    complete = sum(r["entries"] >= r["expected_entries"] for r in ever)
    ratings = [t for r in rows for t in reviews.get(r["id"], ())]
    waits = [
        (agreed[r["id"]] - datetime.fromisoformat(r["proposed_at"])).total_seconds() / 3600
        for r in rows
        if r["id"] in agreed
    ]
    return {
        "homework": len(rows),
        "statuses": {s: sum(r["status"] == s for r in rows) for s in ASSIGNMENT_STATUSES},
        "agreed": len(ever),
        "declined": declined,
        "agreement_rate": _rate(len(ever), len(ever) + declined),
        "entries_done": done,
        "entries_expected": expected,
        "entry_rate": _rate(done, expected),
        "complete": complete,
        "completion_rate": _rate(complete, len(ever)),
        "reviews": len(ratings),
        "mean_quantity": _mean(t[0] for t in ratings),
        "mean_quality": _mean(t[1] for t in ratings),
        "mean_difficulty": _mean(t[2] for t in ratings),
        "overdue": sum(r["overdue"] for r in rows),
        "median_hours_to_agree": round(median(waits), 2) if waits else None,
    }


def _by_template(
    rows: list[dict[str, Any]],
    reviews: dict[str, list[tuple[int, int, int]]],
    agreed: dict[str, datetime],
    versions: dict[str, str],
) -> list[dict[str, Any]]:
    """Homework by the template it was assigned from (by name, with every version seen),
    templates by name, then ``NO_TEMPLATE``."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r.get("template") or NO_TEMPLATE].append(r)
    names = sorted(k for k in groups if k != NO_TEMPLATE)
    names += [NO_TEMPLATE] if NO_TEMPLATE in groups else []
    return [
        {
            "key": name,
            "template": None if name == NO_TEMPLATE else name,
            "versions": sorted({versions[r["id"]] for r in groups[name] if r["id"] in versions}),
            **_stats(groups[name], reviews, agreed),
        }
        for name in names
    ]


def _declines(rows: list[dict[str, Any]], reasons: dict[str, str]) -> list[dict[str, Any]]:
    """Declined homework by task type, with the clients' reasons (most given first)."""
    declined = [r for r in rows if r["status"] == "declined"]
    out = []
    for kind in sorted({r["task_type"] for r in declined}):
        texts = [reasons.get(r["id"], ERASED) for r in declined if r["task_type"] == kind]
        counts = Counter(t.strip() for t in texts if t != ERASED)
        out.append(
            {
                "task_type": kind,
                "declined": len(texts),
                "reasons": [
                    {"reason": text, "count": n}
                    for text, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
                ],
                "erased": len(texts) - sum(counts.values()),
            }
        )
    return out


def _overdue(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Agreed homework past its due date with entries missing, latest first."""
    late = [r for r in rows if r["overdue"]]
    late.sort(key=lambda r: (-r["days_late"], r["client"], r["id"]))
    return [
        {
            "assignment": r["id"],
            "client": r["client"],
            "therapist": r["therapist"],
            "task_type": r["task_type"],
            "stage": r["stage"],
            "due": r["due"],
            "days_late": r["days_late"],
            "entries": r["entries"],
            "expected_entries": r["expected_entries"],
        }
        for r in late
    ]


def _uid(value: str) -> str:
    return str(UUID(value))


def _mean(values: Iterable[float]) -> float | None:
    found = list(values)
    return round(fmean(found), 2) if found else None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
