"""The session agenda as a therapist opens it: each homework to review with its figures,
its last review and what the client expected to get in the way."""

from __future__ import annotations

import json

from helpers import assign_args, invoke, relaxation

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


def test_the_agenda_says_why_homework_was_declined(tmp_path, clock):
    """The reason is in the homework's record (sealed where the store encrypts), not its row."""
    url = str(tmp_path / "declined.db")
    Homework.initialise(Store.parse(url))
    app = Homework(Store.parse(url), clock=clock)
    app.register_client("C1", "Client One", "dr.lee", **ACTOR)
    declined = relaxation(app, "C1")
    app.decline(declined, reason="no time for writing this month", **ACTOR)
    app.close()

    agenda = json.loads(invoke(url, "agenda", "C1", "--json").stdout)
    [row] = agenda["declined_since_last_review"]
    assert (row["id"], row["decline_reason"]) == (declined, "no time for writing this month")
    text = invoke(url, "agenda", "C1").stdout
    assert f"{declined[:8]} declined: no time for writing this month" in text


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


def test_show_and_agenda_print_plain_words_never_python_values(tmp_path):
    """Agreed without a confidence, entries by two people, one homework with none, a review
    without notes: the text says so in words — no None, no {…}, no quoted names, no dangling
    separator (the --json output keeps its values)."""
    env = {"BETWEEN_STORE": str(tmp_path / "plain.db"), "BETWEEN_ACTOR": "dr.lee"}
    invoke(env, "init", code=0)
    invoke(env, "client", "add", "C-1", "--name", "Ana", "--therapist", "dr.lee", code=0)
    invoke(env, "client", "collaborator", "C-1", "Sam", "--relationship", "partner", code=0)
    monitoring = assign_args("C-1", "self-monitoring", "target=nail biting")
    reviewed, counted, empty = (
        json.loads(invoke(env, *monitoring, "--json", code=0).stdout)["result"][:8]
        for _ in range(3)
    )
    for aid in (reviewed, counted, empty):
        invoke(env, "agree", aid, code=0)
    for aid, by in ((reviewed, "client"), (counted, "client"), (counted, "Sam")):
        entry = ("--field", "situation=meeting", "--field", "intensity=70")
        invoke(env, "submit", aid, "--by", by, *entry, code=0)
    review = ("--quantity", "4", "--quality", "3", "--difficulty", "2")
    invoke(env, "review", reviewed, *review, "--next-step", "step-up", code=0)

    shown = invoke(env, "show", reviewed, code=0).stdout
    assert "confidence not given, obstacles: -" in shown
    assert "quality 3, difficulty 2, next step step-up\n" in shown
    assert "mean intensity 70.0, by client 1\n" in shown
    agenda = invoke(env, "agenda", "C-1", code=0).stdout
    assert f"{counted} self-monitoring: entries 2," in agenda
    assert "by client 1, Sam 1; complete: yes" in agenda
    assert f"{empty} self-monitoring: entries 0, days 0, per day 0; complete: not yet" in agenda
    for text in (shown, invoke(env, "show", empty, code=0).stdout, agenda):
        for repr_of_python in ("None", "{", "}", "'", "; \n", ", \n", ": \n"):
            assert repr_of_python not in text, (repr_of_python, text)

    as_json = json.loads(invoke(env, "show", reviewed, "--json", code=0).stdout)
    assert as_json["agreement"]["confidence"] is None
    assert as_json["summary"]["by"] == {"client": 1}
    [counted_row, empty_row] = sorted(
        json.loads(invoke(env, "agenda", "C-1", "--json", code=0).stdout)["to_review"],
        key=lambda r: r["entries"],
        reverse=True,
    )
    assert counted_row["summary"]["by"] == {"client": 1, "Sam": 1}
    assert empty_row["summary"]["by"] == {} and empty_row["summary"]["mean_intensity"] is None
