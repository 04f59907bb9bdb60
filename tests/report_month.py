"""A month of one client's homework, scripted through the engine API, for the report tests;
and the same facts recomputed straight from ``between log --json`` records."""

from __future__ import annotations

import json
from typing import Any

from helpers import cli_stdout

ACTOR = {"actor": "dr.lee"}
HIERARCHY = (
    "look at photos of dogs",
    "watch a dog across the street",
    "stand near a leashed dog",
    "pet a calm dog",
)
#: Every personal text the month records: none may survive the client's erasure.
PERSONAL = (
    "C-104",
    "Alex Rivera",
    "Sam",
    "partner",
    "nail biting",
    "meeting",
    "busy workdays",
    "forgot on Sunday",
    "noisy flat",
    "too much writing",
    "travelling",
    "dog",
    "diaphragmatic",
    "sunshine",
)


def propose(
    app: Any, task_type: str, stage: str, difficulty: int, entries: int, **more: Any
) -> str:
    fields = {"instructions": "do it", "rationale": "why", "due": "+7", **more}
    return app.propose(
        "C-104",
        task_type,
        stage=stage,
        difficulty=difficulty,
        expected_entries=entries,
        **fields,
        **ACTOR,
    ).result


def month(app: Any, clock: Any) -> dict[str, Any]:
    """Baseline self-monitoring (the partner records too), relaxation practice, a declined
    thought record, a four-step exposure hierarchy by step-ups, a cancelled reflective
    writing, and a gratitude list (the example plugin's type) for relapse prevention."""
    app.register_client("C-104", "Alex Rivera", "dr.lee", **ACTOR)
    app.add_collaborator("C-104", "Sam", "partner", **ACTOR)
    ids: dict[str, Any] = {}
    ids["monitor"] = propose(
        app,
        "self-monitoring",
        "baseline",
        2,
        6,
        parameters={"target": "nail biting"},
        observers=["Sam"],
    )
    app.agree(ids["monitor"], confidence=7, obstacles="busy workdays", **ACTOR)
    for n, (who, intensity) in enumerate(
        [("client", 70), ("client", 55), ("Sam", 30), ("client", 65), ("Sam", 40), ("client", 50)]
    ):
        clock.advance(days=1)
        app.submit(
            ids["monitor"], {"situation": f"meeting {n}", "intensity": intensity}, by=who, **ACTOR
        )
    clock.advance(days=1)
    app.review(
        ids["monitor"],
        quantity=4,
        quality=3,
        difficulty=2,
        next_step="step-up",
        obstacles="forgot on Sunday",
        **ACTOR,
    )
    ids["relax"] = propose(
        app,
        "relaxation",
        "practice",
        3,
        5,
        steps_up_from=ids["monitor"],
        parameters={"technique": "diaphragmatic-breathing"},
    )
    clock.advance(hours=20)
    app.agree(ids["relax"], confidence=6, **ACTOR)
    for before, after in [(7, 3), (6, 3), (8, 4), (5, 2)]:
        clock.advance(days=1)
        app.submit(
            ids["relax"], {"minutes": 10, "tension_before": before, "tension_after": after}, **ACTOR
        )
    clock.advance(days=2)
    app.review(
        ids["relax"],
        quantity=3,
        quality=3,
        difficulty=2,
        next_step="step-up",
        obstacles="noisy flat",
        **ACTOR,
    )
    ids["thought"] = propose(app, "thought-record", "practice", 4, 3)
    app.decline(ids["thought"], reason="too much writing right now", **ACTOR)
    previous, ids["steps"] = ids["relax"], []
    for n, item in enumerate(HIERARCHY, 1):
        step = propose(
            app,
            "graded-exposure",
            "practice",
            4 + n,
            2,
            steps_up_from=previous,
            parameters={"hierarchy_item": item},
        )
        app.agree(step, confidence=5, **ACTOR)
        for k in range(2):
            clock.advance(days=1)
            peak = 80 - 10 * n - 5 * k
            app.submit(
                step,
                {
                    "suds_before": peak - 20,
                    "suds_peak": peak,
                    "suds_after": peak - 30,
                    "minutes": 20 + k,
                },
                **ACTOR,
            )
        if n < len(HIERARCHY):
            clock.advance(days=1)
            app.review(
                step, quantity=4, quality=3, difficulty=3 - n // 2, next_step="step-up", **ACTOR
            )
        ids["steps"].append(step)
        previous = step
    ids["writing"] = propose(
        app, "reflective-writing", "practice", 3, 2, parameters={"prompt": "a good day"}
    )
    app.cancel(ids["writing"], reason="travelling for work", **ACTOR)
    ids["gratitude"] = propose(app, "gratitude-list", "relapse-prevention", 2, 3)
    app.agree(ids["gratitude"], **ACTOR)
    for items in (["sunshine", "tea"], ["a call", "a walk", "sleep"]):
        clock.advance(days=1)
        app.submit(ids["gratitude"], {"items": items}, **ACTOR)
    return ids


def cli(store: str, *args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
    """Run ``between --store STORE ARGS``; its standard output."""
    return cli_stdout(env, "--store", store, *args, code=code)


def log_records(store: str, *args: str) -> list[dict[str, Any]]:
    """``between log --json`` (JSON Lines) as a list."""
    return [json.loads(line) for line in cli(store, "log", "--json", *args).splitlines()]


def homework_from_log(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each assignment's facts, folded from the log export by the log's own field names."""
    out: dict[str, dict[str, Any]] = {}
    status = {
        "AssignmentProposed": "proposed",
        "AssignmentAgreed": "agreed",
        "AssignmentDeclined": "declined",
        "AssignmentCancelled": "cancelled",
        "AssignmentClosed": "closed",
    }
    for r in records:
        if r["kind"] != "assignment":
            continue
        d, t = r["data"], r["type"]
        h = out.setdefault(r["aggregate"], {"entries": [], "reviews": [], "agreements": []})
        if t == "AssignmentProposed":
            h.update(d, id=r["aggregate"], proposed_at=r["time"])
        elif t == "AssignmentAgreed":
            h["agreements"].append({"at": r["time"], **d})
        elif t == "EntrySubmitted":
            h["entries"].append({**d, "recorded_at": r["time"]})
        elif t == "AssignmentReviewed":
            h["reviews"].append({**d, "at": r["time"]})
            if d["next_step"] == "modify":
                h["status"] = "proposed"
            if d["next_due"]:
                h["due"] = d["next_due"]
            continue
        elif t in ("AssignmentDeclined", "AssignmentCancelled"):
            h.update(reason=d["reason"], ended=r["time"])
        if t in status:
            h["status"] = status[t]
    return out
