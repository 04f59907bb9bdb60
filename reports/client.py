"""The figures of one client's report — its ``--json`` shape — from their history.

Statuses, entry counts and due dates are as they stood at the end of the period; reviews,
declines, cancellations, obstacles and contributions are those recorded within it. Nothing
here reads the store or calls a plugin.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean
from typing import Any

from between.engine.reading.clock_zones import date_in
from between.engine.reading.views import ASSIGNMENT_STATUSES, OPEN_STATUSES, STAGES, with_timeliness
from between.reports.source import ClientHistory

FORMAT = 1


@dataclass(frozen=True)
class Period:
    """The report's period: ``[start, end)``; ``since``/``until`` as given (or None)."""

    since: datetime | None
    until: datetime | None
    start: datetime
    end: datetime

    def holds(self, moment: str | None) -> bool:
        """Whether an ISO 8601 time falls within the period."""
        if moment is None:
            return False
        when = datetime.fromisoformat(moment)
        return self.start <= when < self.end

    def as_json(self) -> dict[str, str | None]:
        return {
            "since": _iso(self.since),
            "until": _iso(self.until),
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
        }


def period_of(
    history: ClientHistory, since: datetime | None, until: datetime | None, now: datetime
) -> Period:
    """From ``since`` (or the client's registration) to ``until`` (or now)."""
    start = since or datetime.fromisoformat(history.client["registered_at"])
    return Period(since, until, start, until or now)


def in_period(history: ClientHistory, period: Period) -> list[dict[str, Any]]:
    """The homework the report covers — open at the end of the period or changed within it —
    with timeliness as of the period's end and only the entries recorded within it."""
    out = []
    for d in history.homework:
        changed = datetime.fromisoformat(d["updated_at"]) >= period.start
        if d["status"] not in OPEN_STATUSES and not changed:
            continue
        entries = [e for e in d["entry_list"] if period.holds(e["recorded_at"])]
        day = date_in(period.end, history.client.get("timezone"))  # the client's own day
        out.append({**with_timeliness(d, day), "entry_list": entries})
    return out


def client_figures(
    history: ClientHistory,
    homework: list[dict[str, Any]],
    period: Period,
    now: datetime,
    titles: Mapping[str, str],
) -> dict[str, Any]:
    """Every figure of the report except its charts (added by ``reports.charts``)."""
    erased = history.erased
    follow_ups: dict[str, list[str]] = {}
    for d in homework:
        if d["steps_up_from"]:
            follow_ups.setdefault(d["steps_up_from"], []).append(d["id"])
    return {
        "report": "client",
        "format": FORMAT,
        "generated_at": now.isoformat(),
        "client": _client(history),
        "period": period.as_json(),
        "homework": [_homework(d, follow_ups, titles) for d in homework],
        "statuses": {s: sum(d["status"] == s for d in homework) for s in ASSIGNMENT_STATUSES},
        "stages": [_stage(stage, homework, period) for stage in STAGES],
        "chains": chains(homework),
        "reviews": reviews_in(homework, period),
        "adherence": adherence(homework, period),
        "declined": _ended(homework, period, "declined", erased),
        "cancelled": _ended(homework, period, "cancelled", erased),
        "obstacles": [] if erased else obstacles(homework, period),
        "contributors": [] if erased else contributors(history, homework),
        "client_notes": [] if erased else client_notes(homework, period),
        "charts": [],
        "notes": [],
    }


def _client(history: ClientHistory) -> dict[str, Any]:
    c = history.client
    return {
        "id": c["id"],
        "code": None if history.erased else c["code"],
        "therapist": c["therapist"],
        "status": "erased" if history.erased else c["status"],
        "registered_at": c["registered_at"],
        "discharged_at": c["discharged_at"],
        "erased": history.erased,
        "collaborators": [] if history.erased else c["collaborators"],
    }


def _homework(
    d: dict[str, Any], follow_ups: dict[str, list[str]], titles: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "id": d["id"],
        "task_type": d["task_type"],
        "title": titles.get(d["task_type"], d["task_type"]),
        "stage": d["stage"],
        "difficulty": d["difficulty"],
        "status": d["status"],
        "proposed_at": d["proposed_at"],
        "agreed_at": d["agreed_at"],
        "declined_at": d["declined_at"],
        "ended_at": d["ended_at"],
        "updated_at": d["updated_at"],
        "due": d["due"],
        "overdue": d["overdue"],
        "days_late": d["days_late"],
        "confidence": d["confidence"],
        "expected_entries": d["expected_entries"],
        "entries": d["entries"],
        "entries_in_period": len(d["entry_list"]),
        "complete": d["entries"] >= d["expected_entries"],
        "steps_up_from": d["steps_up_from"],
        "follow_ups": follow_ups.get(d["id"], []),
        "template": d.get("template"),
        "template_version": d.get("template_version"),
        "protocol": d.get("protocol"),
        "protocol_step": d.get("protocol_step"),
        "protocol_steps": None,  # filled from the library by ``reports.command``
    }


def _stage(stage: str, homework: list[dict[str, Any]], period: Period) -> dict[str, Any]:
    mine = [d for d in homework if d["stage"] == stage]
    ends = [_end_of(d) or period.end.isoformat() for d in mine]
    return {
        "stage": stage,
        "homework": [d["id"] for d in mine],
        "from": min(d["proposed_at"] for d in mine) if mine else None,
        "to": max(ends) if ends else None,
    }


def _end_of(d: dict[str, Any]) -> str | None:
    return d["declined_at"] if d["status"] == "declined" else d["ended_at"]


def chains(homework: list[dict[str, Any]]) -> list[list[str]]:
    """Step-up chains, oldest step first: each path from a first step to a last one."""
    ids = {d["id"] for d in homework}
    parent = {d["id"]: d["steps_up_from"] for d in homework if d["steps_up_from"] in ids}
    has_child = set(parent.values())
    out = []
    for d in homework:
        if d["id"] in parent and d["id"] not in has_child:
            path = [d["id"]]
            while path[-1] in parent:
                path.append(parent[path[-1]])
            out.append(path[::-1])
    return sorted(out, key=lambda path: [_proposed(homework, i) for i in path])


def _proposed(homework: list[dict[str, Any]], ref: str) -> str:
    return next(d["proposed_at"] for d in homework if d["id"] == ref)


def reviews_in(homework: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    """Every review recorded within the period, oldest first."""
    out = [
        {
            "assignment": d["id"],
            "task_type": d["task_type"],
            "at": r["at"],
            "quantity": r["quantity"],
            "quality": r["quality"],
            "difficulty": r["difficulty"],
            "next_step": r["next_step"],
        }
        for d in homework
        for r in d["review_list"]
        if period.holds(r["at"])
    ]
    return sorted(out, key=lambda r: r["at"])


def adherence(homework: list[dict[str, Any]], period: Period) -> dict[str, Any]:
    """Agreement, entries against expectations, completion, and the review ratings."""
    reviews = reviews_in(homework, period)
    agreed = [d for d in homework if d["agreed_at"]]
    declined = sum(d["status"] == "declined" for d in homework)
    done = sum(min(d["entries"], d["expected_entries"]) for d in agreed)
    expected = sum(d["expected_entries"] for d in agreed)
    complete = sum(d["entries"] >= d["expected_entries"] for d in agreed)
    return {
        "reviews": len(reviews),
        "mean_quantity": _mean(r["quantity"] for r in reviews),
        "mean_quality": _mean(r["quality"] for r in reviews),
        "mean_difficulty": _mean(r["difficulty"] for r in reviews),
        "agreed": len(agreed),
        "declined": declined,
        "agreement_rate": _rate(len(agreed), len(agreed) + declined),
        "entries_in_period": sum(len(d["entry_list"]) for d in homework),
        "entries_done": done,
        "entries_expected": expected,
        "entry_rate": _rate(done, expected),
        "complete": complete,
        "completion_rate": _rate(complete, len(agreed)),
        "overdue": sum(d["overdue"] for d in homework),
    }


def _ended(
    homework: list[dict[str, Any]], period: Period, status: str, erased: bool
) -> list[dict[str, Any]]:
    out = []
    for d in homework:
        at = _end_of(d)
        if d["status"] == status and period.holds(at):
            reason = d["decline_reason"] if status == "declined" else d["end_reason"]
            out.append(
                {
                    "assignment": d["id"],
                    "task_type": d["task_type"],
                    "stage": d["stage"],
                    "at": at,
                    "reason": None if erased else reason,
                }
            )
    return out


def obstacles(homework: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    """What the client expected to get in the way (at agreement) and what did (at review)."""
    out = []
    for d in homework:
        for agreed in d["agreements"]:  # every agreement's: a modify review asks again
            if agreed["obstacles"] and period.holds(agreed["at"]):
                out.append(_obstacle(d, agreed["at"], "agreement", agreed["obstacles"]))
        for r in d["review_list"]:
            if r["obstacles"] and period.holds(r["at"]):
                out.append(_obstacle(d, r["at"], "review", r["obstacles"]))
    return sorted(out, key=lambda o: o["at"])


def _obstacle(d: dict[str, Any], at: str, source: str, text: str) -> dict[str, Any]:
    return {
        "assignment": d["id"],
        "task_type": d["task_type"],
        "at": at,
        "source": source,
        "text": text,
    }


def client_notes(homework: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    """What the client (or a collaborator) told the therapist between sessions, in order."""
    out = [
        {"at": n["at"], "assignment": d["id"], "task_type": d["task_type"], **n}
        for d in homework
        for n in d.get("client_notes_list") or ()
        if period.holds(n["at"])
    ]
    return sorted(out, key=lambda n: n["at"])


def contributors(history: ClientHistory, homework: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries within the period by who made them: the client, then each collaborator."""
    counts = Counter(e["by"] for d in homework for e in d["entry_list"])
    known = {c["name"]: c["relationship"] for c in history.client["collaborators"]}
    people = [("client", "client", None)]
    people += [(name, "collaborator", rel) for name, rel in known.items()]
    people += [(name, "collaborator", None) for name in sorted(set(counts) - {"client", *known})]
    return [
        {"who": who, "role": role, "relationship": rel, "entries": counts.get(who, 0)}
        for who, role, rel in people
    ]


def _mean(values: Any) -> float | None:
    values = list(values)
    return round(fmean(values), 2) if values else None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
