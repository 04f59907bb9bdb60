"""The session agenda as a therapist opens it: each homework to review with its figures,
its last review and what the client expected to get in the way."""

from __future__ import annotations

import json

from helpers import invoke, relaxation

from between.engine.app import Homework
from between.engine.storage.store import Store

ACTOR = {"actor": "dr.lee"}


def test_the_agenda_brings_figures_reviews_and_anticipated_obstacles(tmp_path, clock):
    url = str(tmp_path / "agenda.db")
    Homework.initialise(Store.parse(url))
    app = Homework(Store.parse(url), clock=clock)
    app.register_client("C1", "Client One", "dr.lee", **ACTOR)
    aid = relaxation(app, "C1", expected_entries=3)
    app.agree(aid, confidence=6, obstacles="busy evenings", **ACTOR)
    for drop in (4, 2):
        clock.advance(days=1)
        fields = {"minutes": 10, "tension_before": 7, "tension_after": 7 - drop}
        app.submit(aid, fields, **ACTOR)
    app.review(aid, quantity=2, quality=3, difficulty=1, next_step="continue",
               obstacles="late shifts", **ACTOR)  # fmt: skip
    waiting = relaxation(app, "C1")
    shown = app.show(aid)
    app.close()

    result = invoke(url, "agenda", "C1", "--json")
    assert result.exit_code == 0, result.output
    agenda = json.loads(result.stdout)
    [row] = agenda["to_review"]
    assert row["id"] == aid
    assert row["summary"] == shown["summary"] and row["summary"]["mean_tension_drop"] == 3.0
    assert row["completion"] == shown["completion"]
    assert row["anticipated_obstacles"] == "busy evenings"  # the latest agreement's
    assert [(a["obstacles"], a["at"][:10]) for a in row["anticipated_obstacles_list"]] == [
        ("busy evenings", "2026-03-02")
    ]
    assert (row["last_review"]["quality"], row["last_review"]["obstacles"]) == (3, "late shifts")
    assert [r["id"] for r in agenda["awaiting_agreement"]] == [waiting]

    text = invoke(url, "agenda", "C1").stdout
    assert "mean tension drop 3.0" in text
    assert "quality 3/4" in text and "in the way: late shifts" in text
    assert "anticipated when agreeing (2026-03-02): busy evenings" in text


def test_every_agreements_anticipated_obstacles_are_kept_after_a_modify_review(tmp_path, clock):
    """A ``modify`` review sends homework back for agreement: the obstacles anticipated at the
    first agreement stay beside the new ones — in show, the agenda and the report."""
    url = str(tmp_path / "again.db")
    Homework.initialise(Store.parse(url))
    app = Homework(Store.parse(url), clock=clock)
    app.register_client("C1", "Client One", "dr.lee", **ACTOR)
    aid = relaxation(app, "C1", expected_entries=1)
    app.agree(aid, confidence=6, obstacles="busy evenings", **ACTOR)
    clock.advance(days=1)
    app.submit(aid, {"minutes": 10, "tension_before": 7, "tension_after": 4}, **ACTOR)
    app.review(aid, quantity=2, quality=3, difficulty=1, next_step="modify", **ACTOR)
    clock.advance(days=1)
    app.agree(aid, confidence=8, obstacles="", **ACTOR)  # agreed again, nothing anticipated
    clock.advance(days=1)
    app.review(aid, quantity=3, quality=3, difficulty=1, next_step="modify", **ACTOR)
    clock.advance(days=1)
    app.agree(aid, confidence=7, obstacles="the kids' holiday", **ACTOR)
    clock.advance(days=1)
    app.submit(aid, {"minutes": 12, "tension_before": 6, "tension_after": 3}, **ACTOR)
    shown = app.show(aid)
    app.close()

    assert [(a["confidence"], a["obstacles"]) for a in shown["agreements"]] == [
        (6, "busy evenings"),
        (8, ""),
        (7, "the kids' holiday"),
    ]
    assert shown["agreement"] == {"confidence": 7, "obstacles": "the kids' holiday"}  # the latest
    assert [a["at"] for a in shown["agreements"]] == sorted(a["at"] for a in shown["agreements"])

    agenda = json.loads(invoke(url, "agenda", "C1", "--json").stdout)
    [row] = agenda["to_review"]
    assert row["anticipated_obstacles"] == "the kids' holiday"
    assert [a["obstacles"] for a in row["anticipated_obstacles_list"]] == [
        "busy evenings",
        "the kids' holiday",
    ]
    text = invoke(url, "agenda", "C1").stdout
    assert "(2026-03-02): busy evenings" in text and "(2026-03-06): the kids' holiday" in text
    shown_text = invoke(url, "show", aid).stdout
    assert "obstacles: busy evenings" in shown_text and "obstacles: the kids' holiday" in shown_text

    report = json.loads(invoke(url, "report", "C1", "--json").stdout)
    assert [(o["source"], o["text"]) for o in report["obstacles"]] == [
        ("agreement", "busy evenings"),
        ("agreement", "the kids' holiday"),
    ]
