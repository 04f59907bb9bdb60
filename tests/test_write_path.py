"""The single-write path: one transaction of few statements, with every guarantee kept when
another process writes between two of ours (the operator list, the record, the read model)."""

from __future__ import annotations

from uuid import UUID

import pytest
from helpers import Clock, count_events, relaxation

from between.audit.auditor import verify_log
from between.engine.app import Homework
from between.engine.errors import RuleViolation
from between.engine.storage.store import Store

ENTRY = {"minutes": 5, "tension_before": 5, "tension_after": 2}


def two_operators(url: str) -> tuple[Homework, Homework, str]:
    """Two processes' worth of applications on one store, and agreed homework."""
    store = Store.parse(url)
    Homework.initialise(store)
    mine, theirs = Homework(store, clock=Clock()), Homework(store, clock=Clock())
    mine.register_client("C1", "Ana", "dr.lee", actor="dr.lee")
    aid = relaxation(mine, "C1", expected_entries=50)
    mine.agree(aid, actor="dr.lee")
    return mine, theirs, aid


def statements_of(app: Homework, work) -> list[str]:
    """The SQL statements ``work`` runs on the store's connections (SQLite)."""
    seen: list[str] = []
    app.recorder._connection()  # the recorder's own, and the pool's (all idle here)
    connections = [*app.recorder._opened, *app.factory.datastore.pool._pool]
    for conn in connections:
        conn._sqlite_conn.set_trace_callback(seen.append)
    work()
    for conn in connections:
        conn._sqlite_conn.set_trace_callback(None)
    return seen


def test_a_submit_is_one_transaction_of_seven_statements(tmp_path):
    mine, _, aid = two_operators(str(tmp_path / "s.db"))
    mine.submit(aid, ENTRY, actor="dr.lee")  # warms the caches: the operator list, the record
    seen = statements_of(mine, lambda: mine.submit(aid, ENTRY, actor="dr.lee"))
    assert seen[0] == "BEGIN IMMEDIATE" and seen[-1] == "COMMIT", seen
    assert len(seen) <= 7, seen
    assert sum(s.startswith("BEGIN") for s in seen) == 1, seen


def test_a_record_saved_meanwhile_by_another_process_is_read_and_nothing_is_lost(store_url):
    mine, theirs, aid = two_operators(store_url)
    for _ in range(3):
        mine.submit(aid, ENTRY, actor="dr.lee")  # mine keeps the record in memory …
        theirs.submit(aid, ENTRY, actor="dr.lee")  # … which this makes stale
    shown = mine.show(aid)
    assert shown["entries"] == 6 and shown["version"] == 2 + 6
    assert [r["entries"] for r in theirs.list_assignments()] == [6]
    assert verify_log(mine, None).intact


def test_a_command_refused_by_a_stale_copy_is_decided_again_on_the_stored_record(store_url):
    store = Store.parse(store_url)
    Homework.initialise(store)
    mine, theirs = Homework(store, clock=Clock()), Homework(store, clock=Clock())
    mine.register_client("C1", "Ana", "dr.lee", actor="dr.lee")
    aid = relaxation(mine, "C1", expected_entries=5)  # mine remembers it as proposed …
    theirs.agree(aid, actor="dr.lee")  # … and the client agreed elsewhere
    mine.submit(aid, ENTRY, actor="dr.lee")  # allowed: the stored record is agreed
    assert theirs.show(aid)["entries"] == 1
    theirs.cancel(aid, reason="plans changed", actor="dr.lee")
    with pytest.raises(RuleViolation):  # refused by the stored record too: said once
        mine.submit(aid, ENTRY, actor="dr.lee")
    assert theirs.show(aid)["entries"] == 1


def test_an_operator_list_changed_by_another_process_is_enforced_at_once(store_url):
    mine, theirs, aid = two_operators(store_url)
    mine.submit(aid, ENTRY, actor="intruder")  # no list yet: anyone may write (and mine knows)
    theirs.set_operator("dr.lee", "therapist", actor="dr.lee")
    theirs.require_operators(True, actor="dr.lee")
    before = count_events(mine)
    with pytest.raises(RuleViolation, match="'intruder' is not an operator"):
        mine.submit(aid, ENTRY, actor="intruder")
    assert count_events(mine) == before
    mine.submit(aid, ENTRY, actor="dr.lee")  # checked again against the list as it now is
    theirs.set_operator("dr.lee", "auditor", actor="dr.lee")
    with pytest.raises(RuleViolation, match=r"dr.lee \(auditor\) may not submit"):
        mine.submit(aid, ENTRY, actor="dr.lee")
    assert count_events(mine) == before + 2  # the allowed entry and the role change


def test_the_read_model_stays_right_after_another_process_rebuilds_it(store_url):
    mine, theirs, aid = two_operators(store_url)
    mine.submit(aid, ENTRY, actor="dr.lee")
    theirs.rebuild()
    mine.submit(aid, ENTRY, actor="dr.lee")
    with theirs.writing() as c:  # emptied, as by a rebuild interrupted after its first step
        theirs.readmodel.reset(c)
    mine.submit(aid, ENTRY, actor="dr.lee")  # … and caught up in the write's transaction
    assert [r["entries"] for r in theirs.list_assignments()] == [3]
    rows = theirs.list_assignments()
    theirs.rebuild()
    assert theirs.list_assignments() == rows


def test_loading_a_record_is_one_statement_outside_a_transaction(tmp_path):
    mine, _, aid = two_operators(str(tmp_path / "s.db"))
    found: list = []
    seen = statements_of(mine, lambda: found.extend(mine.recorder.select_events(UUID(aid))))
    assert len(seen) == 1 and seen[0].startswith("SELECT"), seen
    assert [e.originator_version for e in found] == [1, 2]  # proposed, agreed
