"""One client's week, through the engine API, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from helpers import count_events, relaxation

from between.engine.errors import InvalidInput, NotFound, RuleViolation

ACTOR = {"actor": "dr.lee"}


def week(app, clock):
    """Register, propose, adjust, agree, five entries, review with step-up, follow-up."""
    app.register_client("C-104", "Alex Rivera", "dr.lee", **ACTOR)
    app.add_collaborator("C-104", "Sam", "partner", **ACTOR)
    first = app.propose(
        "C-104",
        "self-monitoring",
        instructions="Note each time you bite your nails",
        rationale="Baseline of the habit",
        stage="baseline",
        difficulty=2,
        due="+7",
        expected_entries=5,
        parameters={"target": "nail biting"},
        observers=["Sam"],
        **ACTOR,
    ).result
    app.adjust(first[:8], {"expected_entries": 5, "parameters": {"per_day": "1"}}, **ACTOR)
    app.agree(first[:8], confidence=7, obstacles="busy workdays", **ACTOR)
    for day, (who, intensity) in enumerate(
        [("client", 70), ("client", 55), ("Sam", 30), ("client", 65), ("client", 50)]
    ):
        clock.advance(days=1)
        app.submit(first[:8], {"situation": f"day {day}", "intensity": intensity}, by=who, **ACTOR)
    clock.advance(days=1)
    app.review(
        first[:8], quantity=4, quality=3, difficulty=2, next_step="step-up", notes="ok", **ACTOR
    )
    second = relaxation(
        app,
        "C-104",
        instructions="Breathe slowly",
        rationale="Competing response",
        difficulty=3,
        due="+7",
        expected_entries=7,
        steps_up_from=first[:8],
        parameters={"technique": "diaphragmatic-breathing"},
    )
    return first, second


def test_a_week_reads_back_through_show_list_and_agenda(app, clock):
    first, second = week(app, clock)

    shown = app.show(first)
    assert shown["status"] == "closed"
    assert shown["entries"] == 5 and shown["expected_entries"] == 5
    assert shown["parameters"] == {"target": "nail biting", "per_day": 1}
    assert [e["by"] for e in shown["entry_list"]] == ["client", "client", "Sam", "client", "client"]
    assert shown["review_list"][0]["next_step"] == "step-up"
    assert shown["summary"]["mean_intensity"] == 54.0
    assert shown["summary"]["by"] == {"client": 4, "Sam": 1}
    assert shown["completion"]["complete"] is True
    assert shown["follow_ups"] == [second]

    follow = app.show(second)
    assert follow["steps_up_from"] == first and follow["status"] == "proposed"

    listed = {r["id"]: r for r in app.list_assignments(client="C-104")}
    assert listed[first]["status"] == "closed" and listed[second]["status"] == "proposed"
    assert {k: shown[k] for k in listed[first]} == listed[first]  # list rows are show's subset

    agenda = app.agenda("C-104")
    assert [r["id"] for r in agenda["awaiting_agreement"]] == [second]
    assert agenda["to_review"] == []


def test_overdue_homework_is_listed_with_days_late(app, clock):
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    aid = relaxation(
        app,
        "C1",
        instructions="breathe",
        rationale="calm",
        expected_entries=3,
        parameters={"technique": "mindfulness"},
    )
    app.agree(aid, **ACTOR)
    assert app.list_assignments(overdue=True) == []
    clock.advance(days=5)
    [row] = app.list_assignments(overdue=True)
    assert row["id"] == aid and row["overdue"] and row["days_late"] == 3
    assert app.agenda("C1")["to_review"][0]["days_late"] == 3


def test_rebuilding_the_read_model_gives_identical_answers(app, clock):
    week(app, clock)
    before = (app.list_assignments(), app.list_clients(), app.agenda("C-104"))
    with app.writing() as c:
        snapshot = app.readmodel.snapshot(c)
        for table in ("rm_assignments", "rm_clients"):
            c.execute(f"DELETE FROM {table}")
    assert app.list_assignments() == []  # deleted, and the position still says "caught up"
    applied = app.rebuild()
    assert applied == count_events(app)
    assert (app.list_assignments(), app.list_clients(), app.agenda("C-104")) == before
    with app.reading() as c:
        assert app.readmodel.snapshot(c) == snapshot


@pytest.mark.parametrize(
    ("command", "error", "message"),
    [
        (
            lambda app, a: app.submit(a, {"situation": "x"}, **ACTOR),
            RuleViolation,
            "no entries before agreement",
        ),
        (
            lambda app, a: app.review(
                a, quantity=1, quality=1, difficulty=1, next_step="close", **ACTOR
            ),
            RuleViolation,
            "a review needs an agreed assignment",
        ),
        (lambda app, a: app.close_assignment(a, **ACTOR), RuleViolation, "it is proposed"),
        (
            lambda app, a: app.agree(a, confidence=11, **ACTOR),
            InvalidInput,
            "confidence must be from 0 to 10",
        ),
        (
            lambda app, a: app.adjust(a, {"difficulty": 0}, **ACTOR),
            InvalidInput,
            "difficulty must be from 1 to 10",
        ),
        (
            lambda app, a: app.adjust(a, {"parameters": {"minutes": "lots"}}, **ACTOR),
            InvalidInput,
            "minutes must be a whole number",
        ),
        (lambda app, a: app.adjust(a, {"colour": "red"}, **ACTOR), InvalidInput, "unknown colour"),
        (lambda app, a: app.agree(a, actor=""), InvalidInput, "pass --actor"),
        (lambda app, a: app.agree("zz", **ACTOR), InvalidInput, "not an assignment id"),
        (lambda app, a: app.agree("0000000", **ACTOR), NotFound, "no assignment id starts with"),
        (
            lambda app, a: app.propose(
                "C9",
                "relaxation",
                instructions="i",
                rationale="r",
                stage="practice",
                difficulty=1,
                due="+1",
                expected_entries=1,
                parameters={"technique": "mindfulness"},
                **ACTOR,
            ),
            NotFound,
            "no client with code 'C9'",
        ),
        (
            lambda app, a: app.propose(
                "C1",
                "yoga",
                instructions="i",
                rationale="r",
                stage="practice",
                difficulty=1,
                due="+1",
                expected_entries=1,
                **ACTOR,
            ),
            InvalidInput,
            "unknown task type 'yoga'",
        ),
        (
            lambda app, a: app.propose(
                "C1",
                "relaxation",
                instructions="i",
                rationale="r",
                stage="middle",
                difficulty=1,
                due="+1",
                expected_entries=1,
                parameters={"technique": "mindfulness"},
                **ACTOR,
            ),
            InvalidInput,
            "stage must be one of",
        ),
        (
            lambda app, a: app.propose(
                "C1",
                "relaxation",
                instructions="i",
                rationale="r",
                stage="practice",
                difficulty=1,
                due="someday",
                expected_entries=1,
                parameters={"technique": "mindfulness"},
                **ACTOR,
            ),
            InvalidInput,
            "is not a date",
        ),
        (
            lambda app, a: app.register_client("C1", "Other", "dr.lee", **ACTOR),
            RuleViolation,
            "already registered",
        ),
    ],
)
def test_refused_commands_name_the_problem_and_record_nothing(app, command, error, message):
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    aid = relaxation(
        app,
        "C1",
        instructions="breathe",
        rationale="calm",
        expected_entries=3,
        parameters={"technique": "mindfulness"},
    )[:8]
    before = count_events(app)
    with pytest.raises(error, match=message):
        command(app, aid)
    assert count_events(app) == before


def test_collaborator_entries_need_a_collaborator_the_client_added(app):
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    aid = app.propose(
        "C1",
        "self-monitoring",
        instructions="i",
        rationale="r",
        stage="baseline",
        difficulty=1,
        due="+2",
        expected_entries=3,
        parameters={"target": "t"},
        **ACTOR,
    ).result
    app.agree(aid, **ACTOR)
    before = count_events(app)
    with pytest.raises(RuleViolation, match="'Kim' is not a collaborator of client C1"):
        app.submit(aid, {"situation": "x"}, by="Kim", **ACTOR)
    with pytest.raises(InvalidInput, match="intensity must be at most 100"):
        app.submit(aid, {"situation": "x", "intensity": 200}, **ACTOR)
    assert count_events(app) == before


def test_idempotency_key_repeats_report_the_first_result(app):
    app.register_client("C1", "Ana", "dr.lee", **ACTOR, request_key="reg-1")
    again = app.register_client("C1", "Ana", "dr.lee", **ACTOR, request_key="reg-1")
    assert again.repeated
    proposed = app.propose(
        "C1",
        "relaxation",
        instructions="i",
        rationale="r",
        stage="practice",
        difficulty=1,
        due="+2",
        expected_entries=3,
        parameters={"technique": "mindfulness"},
        **ACTOR,
        request_key="p-1",
    )
    repeat = app.propose(
        "C1",
        "relaxation",
        instructions="i",
        rationale="r",
        stage="practice",
        difficulty=1,
        due="+2",
        expected_entries=3,
        parameters={"technique": "mindfulness"},
        **ACTOR,
        request_key="p-1",
    )
    assert repeat.repeated and repeat.result == proposed.result
    app.agree(proposed.result, **ACTOR, request_key="a-1")
    first = app.submit(
        proposed.result,
        {"minutes": 5, "tension_before": 6, "tension_after": 3},
        **ACTOR,
        request_key="e-1",
    )
    before = count_events(app)
    second = app.submit(
        proposed.result,
        {"minutes": 5, "tension_before": 6, "tension_after": 3},
        **ACTOR,
        request_key="e-1",
    )
    assert second.repeated and second.result == first.result
    assert count_events(app) == before
    with pytest.raises(RuleViolation, match="already used for AssignmentAgreed"):
        app.submit(
            proposed.result,
            {"minutes": 5, "tension_before": 6, "tension_after": 3},
            **ACTOR,
            request_key="a-1",
        )


def test_unicode_round_trips_byte_for_byte(app):
    texts = [
        "Ñandú 🌱 — «ok»",
        "עברית and العربية",
        "e\u0301 vs é",
        "tab\tnew\nline",
        "\u0000nul",
        "𝔘𝔫𝔦",
    ]
    app.register_client("C1", texts[0], "dr.lee", **ACTOR)
    aid = app.propose(
        "C1",
        "reflective-writing",
        instructions=texts[1],
        rationale=texts[2],
        stage="baseline",
        difficulty=1,
        due="+2",
        expected_entries=9,
        parameters={"prompt": texts[3]},
        **ACTOR,
    ).result
    app.agree(aid, **ACTOR)
    for text in texts:
        app.submit(aid, {"text": text}, **ACTOR)
    shown = app.show(aid)
    assert [e["fields"]["text"] for e in shown["entry_list"]] == texts
    assert shown["instructions"].encode() == texts[1].encode()
    assert shown["rationale"] == "e\u0301 vs é"
    assert app.show_client("C1")["name"] == texts[0]


def test_oversized_input_is_refused_up_front(app):
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    aid = app.propose(
        "C1",
        "reflective-writing",
        instructions="i",
        rationale="r",
        stage="baseline",
        difficulty=1,
        due="+2",
        expected_entries=2,
        parameters={"prompt": "p"},
        **ACTOR,
    ).result
    app.agree(aid, **ACTOR)
    before = count_events(app)
    with pytest.raises(InvalidInput, match="the limit is 262,144 bytes"):
        app.submit(aid, {"text": "x" * 3_000_000}, **ACTOR)
    with pytest.raises(InvalidInput, match="not valid Unicode"):
        app.submit(aid, {"text": "bad \udcff bytes"}, **ACTOR)
    assert count_events(app) == before


def test_discharge_refuses_while_homework_is_open_then_blocks_new_homework(app):
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    aid = relaxation(app, "C1", expected_entries=3, parameters={"technique": "mindfulness"})
    with pytest.raises(RuleViolation, match=f"still has open homework \\({aid[:8]}\\)"):
        app.discharge("C1", "finished", **ACTOR)
    app.cancel(aid, reason="ending therapy", **ACTOR)
    app.discharge("C1", "finished", **ACTOR)
    with pytest.raises(RuleViolation, match="client C1 is discharged"):
        app.propose(
            "C1",
            "relaxation",
            instructions="i",
            rationale="r",
            stage="practice",
            difficulty=1,
            due="+2",
            expected_entries=3,
            parameters={"technique": "mindfulness"},
            **ACTOR,
        )
