"""The session agenda as a therapist opens it: each homework to review with its figures,
its last review and what the client expected to get in the way."""

from __future__ import annotations

import json

from click.testing import CliRunner
from helpers import relaxation

from between.cli import build_cli
from between.engine.app import Homework
from between.engine.store import Store

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

    run = CliRunner().invoke
    result = run(build_cli(), ["agenda", "C1", "--json"], env={"BETWEEN_STORE": url})
    assert result.exit_code == 0, result.output
    agenda = json.loads(result.stdout)
    [row] = agenda["to_review"]
    assert row["id"] == aid
    assert row["summary"] == shown["summary"] and row["summary"]["mean_tension_drop"] == 3.0
    assert row["completion"] == shown["completion"]
    assert row["anticipated_obstacles"] == "busy evenings"
    assert (row["last_review"]["quality"], row["last_review"]["obstacles"]) == (3, "late shifts")
    assert [r["id"] for r in agenda["awaiting_agreement"]] == [waiting]

    text = run(build_cli(), ["agenda", "C1"], env={"BETWEEN_STORE": url}).stdout
    assert "mean tension drop 3.0" in text
    assert "quality 3/4" in text and "in the way: late shifts" in text
    assert "anticipated when agreeing: busy evenings" in text
