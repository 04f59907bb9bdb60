"""`between report --clinic`: its rates recounted from `between log --json`, and no client
identified beyond their code."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from statistics import fmean, median

import pytest
from helpers import Clock
from report_month import cli, homework_from_log, log_records, month

from between.engine.app import Homework
from between.engine.storage.store import Store
from between.reports.clinic_page import SECTIONS

KIM = {"actor": "dr.kim"}


def second_client(app: Homework, clock: Clock) -> None:
    """Another therapist's client: one homework agreed a day later and left overdue, two
    declined (one reason shared with nobody, one given twice across the clinic)."""
    app.register_client("C-200", "Bo Chen", "dr.kim", **KIM)
    common = {"instructions": "i", "rationale": "r", "difficulty": 2, "due": "+2", **KIM}
    late = app.propose(
        "C-200",
        "relaxation",
        stage="practice",
        expected_entries=3,
        parameters={"technique": "mindfulness"},
        **common,
    ).result
    clock.advance(hours=30)
    app.agree(late, confidence=4, obstacles="night shifts", **KIM)
    app.submit(late, {"minutes": 5, "tension_before": 6, "tension_after": 5}, **KIM)
    for kind, stage, params, reason in [
        ("self-monitoring", "baseline", {"target": "worry"}, "no time this week"),
        ("thought-record", "practice", {}, "too much writing right now"),
    ]:
        aid = app.propose(
            "C-200", kind, stage=stage, expected_entries=4, parameters=params, **common
        ).result
        app.decline(aid, reason=reason, **KIM)
    worry = {"parameters": {"target": "worry"}, "stage": "baseline", **common}
    for version, outcome in (("1", "complete"), ("2", "complete"), ("2", "declined")):
        aid = app.propose(
            "C-200",
            "self-monitoring",
            expected_entries=1,
            template="worry-1-notice",
            template_version=version,
            **worry,
        ).result
        if outcome == "declined":
            app.decline(aid, reason="no time this week", **KIM)
            continue
        app.agree(aid, confidence=6, obstacles="", **KIM)
        app.submit(aid, {"situation": "at work"}, **KIM)
        quality = int(version) + 1
        app.review(aid, quantity=4, quality=quality, difficulty=1, next_step="continue", **KIM)


@pytest.fixture
def clinic(tmp_path: Path) -> str:
    url = str(tmp_path / "clinic.db")
    store = Store.parse(url)
    Homework.initialise(store)
    app = Homework(store, clock=Clock())
    month(app, app.clock)
    second_client(app, app.clock)
    app.close()
    return url


def stats(group: list[dict], as_of: date) -> dict:
    """A group's figures, by the definitions in docs/reports.md, from log-derived homework."""
    agreed = [h for h in group if h["agreements"]]
    declined = sum(h["status"] == "declined" for h in group)
    done = sum(min(len(h["entries"]), h["expected_entries"]) for h in agreed)
    expected = sum(h["expected_entries"] for h in agreed)
    complete = sum(len(h["entries"]) >= h["expected_entries"] for h in agreed)
    reviews = [r for h in group for r in h["reviews"]]
    waits = [
        (
            datetime.fromisoformat(h["agreements"][0]["at"])
            - datetime.fromisoformat(h["proposed_at"])
        ).total_seconds()
        / 3600
        for h in agreed
    ]

    def rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    def mean(name: str) -> float | None:
        return round(fmean(r[name] for r in reviews), 2) if reviews else None

    return {
        "homework": len(group),
        "statuses": {
            s: sum(h["status"] == s for h in group)
            for s in ("proposed", "agreed", "declined", "cancelled", "closed")
        },
        "agreed": len(agreed),
        "declined": declined,
        "agreement_rate": rate(len(agreed), len(agreed) + declined),
        "entries_done": done,
        "entries_expected": expected,
        "entry_rate": rate(done, expected),
        "complete": complete,
        "completion_rate": rate(complete, len(agreed)),
        "reviews": len(reviews),
        "mean_quantity": mean("quantity"),
        "mean_quality": mean("quality"),
        "mean_difficulty": mean("difficulty"),
        "overdue": sum(overdue(h, as_of) for h in group),
        "median_hours_to_agree": round(median(waits), 2) if waits else None,
    }


def overdue(h: dict, as_of: date) -> bool:
    late = h["status"] == "agreed" and date.fromisoformat(h["due"]) < as_of
    return late and len(h["entries"]) < h["expected_entries"]


def test_clinic_rates_match_counts_from_the_log(clinic):
    got = json.loads(cli(clinic, "report", "--clinic", "--json"))
    records = log_records(clinic)
    homework = list(homework_from_log(records).values())
    therapists = {
        r["aggregate"]: r["data"]["therapist"] for r in records if r["type"] == "ClientRegistered"
    }
    as_of = date.fromisoformat(got["as_of"])

    assert got["totals"] == stats(homework, as_of)
    for name, key in [
        ("by_task_type", lambda h: h["task_type"]),
        ("by_stage", lambda h: h["stage"]),
        ("by_therapist", lambda h: therapists[h["client_id"]]),
    ]:
        groups: dict[str, list] = {}
        for h in homework:
            groups.setdefault(key(h), []).append(h)
        shown = {g["key"]: {k: v for k, v in g.items() if k != "key"} for g in got[name]}
        assert shown == {k: stats(v, as_of) for k, v in groups.items()}, name
    by_template: dict[str, list] = {}
    for h in homework:
        by_template.setdefault(h.get("template") or "(no template)", []).append(h)
    assert [g["key"] for g in got["by_template"]] == ["worry-1-notice", "(no template)"]
    assert {
        g["key"]: {k: v for k, v in g.items() if k not in ("key", "template", "versions")}
        for g in got["by_template"]
    } == {k: stats(v, as_of) for k, v in by_template.items()}
    worry, untemplated = got["by_template"]
    assert (worry["template"], worry["versions"]) == ("worry-1-notice", ["1", "2"])
    assert (untemplated["template"], untemplated["versions"]) == (None, [])
    assert (worry["homework"], worry["agreed"], worry["declined"], worry["complete"]) == (
        3,
        2,
        1,
        2,
    )
    assert (worry["completion_rate"], worry["mean_quality"]) == (1.0, 2.5)
    assert got["clients"] == {"active": 2, "discharged": 0, "erased": 0}
    assert got["totals"]["median_hours_to_agree"] is not None

    declined = [h for h in homework if h["status"] == "declined"]
    assert got["declines"] == [
        {
            "task_type": kind,
            "declined": len(mine),
            "erased": 0,
            "reasons": [
                {"reason": r, "count": sum(h["reason"] == r for h in mine)}
                for r in sorted({h["reason"] for h in mine})
            ],
        }
        for kind in sorted({h["task_type"] for h in declined})
        for mine in [[h for h in declined if h["task_type"] == kind]]
    ]
    assert [d["reasons"] for d in got["declines"] if d["task_type"] == "thought-record"] == [
        [{"reason": "too much writing right now", "count": 2}]
    ]
    late = sorted(
        (h for h in homework if overdue(h, as_of)),
        key=lambda h: (date.fromisoformat(h["due"]) - as_of, h["client"], h["id"]),
    )
    assert [(o["assignment"], o["client"], o["therapist"], o["due"]) for o in got["overdue"]] == [
        (h["id"], h["client"], therapists[h["client_id"]], h["due"]) for h in late
    ]
    assert {o["client"] for o in got["overdue"]} == {"C-104", "C-200"}


def test_the_clinic_page_names_clients_by_code_only(clinic):
    page = cli(clinic, "report", "--clinic", "-o", "-")
    figures = cli(clinic, "report", "--clinic", "--json")
    for ident in SECTIONS:
        assert f'<section id="{ident}">' in page
    assert page.count("<svg") == 3 and "<script" not in page
    assert "<caption>Homework by the template it was assigned from" in page
    assert "<td>worry-1-notice</td><td>1, 2</td>" in page and "<td>(no template)</td>" in page
    for text in (page, figures):
        for personal in (
            "Alex Rivera",
            "Bo Chen",
            "Sam",
            "busy workdays",
            "night shifts",
            "nail biting",
            "sunshine",
            "do it",
            "noisy flat",
        ):
            assert personal not in text, personal
    assert "C-200" in page and "no time this week" in page  # a code; a reason, unattributed


def test_a_clinic_without_homework(tmp_path: Path):
    url = str(tmp_path / "empty.db")
    Homework.initialise(Store.parse(url))
    got = json.loads(cli(url, "report", "--clinic", "--json"))
    assert got["totals"]["homework"] == 0 and got["totals"]["agreement_rate"] is None
    assert [g["key"] for g in got["by_stage"]] == ["baseline", "practice", "relapse-prevention"]
    assert got["by_task_type"] == [] and got["overdue"] == [] and got["declines"] == []
    assert "No homework yet." in cli(url, "report", "--clinic", "-o", "-")


def test_erased_clients_are_counted_among_the_discharged(tmp_path: Path):
    url = str(tmp_path / "gone.db")
    store = Store.parse(url)
    Homework.initialise(store)
    app = Homework(store, clock=Clock())
    for code in ("C-1", "C-2", "C-3"):
        app.register_client(code, f"Client {code}", "dr.kim", **KIM)
    for code in ("C-2", "C-3"):
        app.discharge(code, reason="finished", **KIM)
    app.erase_client("C-3", reason="asked to be forgotten", **KIM)
    app.close()
    got = json.loads(cli(url, "report", "--clinic", "--json"))
    assert got["clients"] == {"active": 1, "discharged": 2, "erased": 1}
    page = cli(url, "report", "--clinic", "-o", "-")
    assert "Clients: 1 active, 2 discharged (1 of them erased)." in page
