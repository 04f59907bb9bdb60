"""The lifecycle rules, on aggregates alone (in memory, no store)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from helpers import envelope

from between.engine.aggregates.assignments import Assignment
from between.engine.aggregates.clients import Client
from between.engine.errors import RuleViolation

ENVELOPE = envelope("dr.lee")
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
CLIENT = uuid4()


def proposal(**changes) -> Assignment:
    fields = dict(
        client_id=CLIENT,
        client="C1",
        task_type="self-monitoring",
        instructions="log it",
        parameters={"target": "urges"},
        stage="baseline",
        difficulty=2,
        rationale="baseline",
        due="2026-03-09",
        expected_entries=3,
        steps_up_from=None,
        observers=[],
    )
    return Assignment.propose(ENVELOPE, **{**fields, **changes})


def agreed() -> Assignment:
    a = proposal()
    a.agree(7, "busy week", ENVELOPE)
    return a


def test_a_proposal_is_not_due_until_agreed():
    a = proposal()
    assert a.status == "proposed"
    with pytest.raises(RuleViolation, match="it is proposed \\(no entries before agreement\\)"):
        a.submit("client", NOW, {"situation": "x"}, 1, ENVELOPE)


def test_adjusting_is_only_before_agreement():
    a = proposal()
    a.adjust({"difficulty": 3}, ENVELOPE)
    assert a.row["difficulty"] == 3
    a.agree(None, "", ENVELOPE)
    with pytest.raises(RuleViolation, match="cannot adjust assignment .*: it is agreed"):
        a.adjust({"difficulty": 4}, ENVELOPE)


def test_a_review_needs_an_agreed_assignment():
    a = proposal()
    with pytest.raises(RuleViolation, match="a review needs an agreed assignment"):
        a.review(
            "continue", None, ENVELOPE, quantity=1, quality=1, difficulty=1, obstacles="", notes=""
        )


def test_step_up_review_closes_and_nothing_changes_after_close():
    a = agreed()
    a.submit("client", NOW, {"situation": "bus"}, 1, ENVELOPE)
    a.review("step-up", None, ENVELOPE, quantity=4, quality=3, difficulty=2, obstacles="", notes="")
    assert a.status == "closed"
    assert [type(e).__name__ for e in a.collect_events()][-2:] == [
        "AssignmentReviewed",
        "AssignmentClosed",
    ]
    for attempt in (
        lambda: a.submit("client", NOW, {}, 1, ENVELOPE),
        lambda: a.cancel("x", ENVELOPE),
        lambda: a.close("x", ENVELOPE),
        lambda: a.agree(None, "", ENVELOPE),
    ):
        with pytest.raises(RuleViolation, match="it is closed \\(no changes after it has ended\\)"):
            attempt()


def test_modify_review_sends_homework_back_to_proposal():
    a = agreed()
    a.review(
        "modify",
        None,
        ENVELOPE,
        quantity=1,
        quality=1,
        difficulty=4,
        obstacles="too hard",
        notes="",
    )
    assert a.status == "proposed"
    a.adjust({"difficulty": 1}, ENVELOPE)
    a.agree(5, "", ENVELOPE)
    assert a.status == "agreed"


def test_declined_homework_stays_visible_and_final():
    a = proposal()
    a.decline("no time", ENVELOPE)
    assert a.status == "declined" and a.decline_reason == "no time"
    with pytest.raises(RuleViolation, match="it is declined"):
        a.agree(None, "", ENVELOPE)


def test_cancel_is_for_open_homework_and_close_for_agreed():
    a = proposal()
    with pytest.raises(RuleViolation, match="only agreed homework is closed"):
        a.close("done", ENVELOPE)
    a.cancel("plans changed", ENVELOPE)
    assert a.status == "cancelled"


def test_a_discharged_client_gets_no_new_homework_or_changes():
    c = Client.register("C1", "Ana", "dr.lee", ENVELOPE)
    c.discharge("finished therapy", [], ENVELOPE)
    with pytest.raises(RuleViolation, match="client C1 is discharged"):
        c.require_active("propose homework")
    with pytest.raises(RuleViolation, match="is discharged"):
        c.add_collaborator("Bo", "partner", ENVELOPE)


def test_discharge_waits_for_open_homework():
    c = Client.register("C1", "Ana", "dr.lee", ENVELOPE)
    with pytest.raises(RuleViolation, match="still has open homework \\(abc\\)"):
        c.discharge("done", ["abc"], ENVELOPE)


def test_collaborators_are_named_once_and_contacts_need_a_known_person():
    c = Client.register("C1", "Ana", "dr.lee", ENVELOPE)
    c.add_collaborator("Bo", "partner", ENVELOPE)
    with pytest.raises(RuleViolation, match="already has a collaborator called 'Bo'"):
        c.add_collaborator("Bo", "friend", ENVELOPE)
    with pytest.raises(RuleViolation, match="no collaborator called 'Cy'"):
        c.change_contacts("Cy", {"email": "cy@example.org"}, ENVELOPE)
    c.change_contacts("Bo", {"email": "bo@example.org"}, ENVELOPE)
    assert c.contacts == {"Bo": {"email": "bo@example.org"}}


def test_every_event_carries_actor_and_utc_time():
    a = agreed()
    for event in a.collect_events():
        assert event.actor == "dr.lee"
        assert (
            event.timestamp.tzinfo is not None and event.timestamp.utcoffset().total_seconds() == 0
        )
