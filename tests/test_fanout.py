"""The whole-log commands on worker processes (``audit.fanout``): ``log --json`` and
``replay --check`` say exactly what they say in one process — the same lines in the same
order, the same differences, the same failure after the same lines."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from itertools import pairwise

import pytest
from helpers import Clock, invoke
from test_read_paths import app_writing, populate

from between.audit import export, replay
from between.audit.fanout import MIN_EVENTS, workers_for
from between.engine.app import Homework
from between.engine.storage.store import Store


def run(url: str, workers: int | str, *args: str) -> tuple[int, str, str]:
    env = {"BETWEEN_STORE": url, "BETWEEN_WORKERS": str(workers)}
    result = invoke(env, *args)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store(store_url: str, clock: Clock) -> str:
    s = Store.parse(store_url)
    Homework.initialise(s)
    app = Homework(s, clock=clock)
    populate(app)
    app.close()
    return store_url


def test_log_json_on_workers_is_the_export_of_one_process(store, monkeypatch):
    monkeypatch.setattr(export, "FANOUT_BATCH", 4)  # many batches: their order must hold
    one = run(store, 1, "log", "--json")
    assert one[0] == 0 and one[1].count("\n") > 30
    assert run(store, 2, "log", "--json") == one


def test_replay_check_on_workers_finds_what_one_process_finds(store):
    assert run(store, 2, "replay", "--check") == (0, "read models match the log\n", "")
    with app_writing(store) as c:
        c.execute("UPDATE rm_assignments SET entries = entries + 1 WHERE status = 'declined'")
        c.execute("DELETE FROM rm_clients WHERE code = 'C-0'")
    one = run(store, 1, "replay", "--check")
    assert one[0] == 1 and one[1].count("differs in column entries") == 3
    assert run(store, 2, "replay", "--check") == one


def test_chunks_hold_whole_records_in_key_order(store):
    app = Homework(Store.parse(store), read_only=True)
    every = [row for rows in replay.record_chunks(app) for row in rows]
    chunks = list(replay.record_chunks(app, batch=3))
    assert [row for rows in chunks for row in rows] == every and len(chunks) >= 5
    ends = [(rows[0][0], rows[-1][0]) for rows in chunks]
    assert all(last < first for (_, last), (first, _) in pairwise(ends))  # no record split
    app.close()


def test_an_unreadable_row_ends_the_export_after_the_lines_before_it(sqlite_url, clock):
    Homework.initialise(Store.parse(sqlite_url))
    app = Homework(Store.parse(sqlite_url), clock=clock)
    populate(app)
    app.close()
    with closing(sqlite3.connect(sqlite_url)) as db, db:
        db.execute("UPDATE stored_events SET state = x'00ff' WHERE rowid = 30")
    one = run(sqlite_url, 1, "log", "--json")
    assert one[0] == 1 and one[1].count("\n") == 29
    assert "the event at position 30 cannot be read" in one[2]
    assert run(sqlite_url, 2, "log", "--json") == one


@pytest.mark.parametrize("text", ["0", "two", "-1"])
def test_workers_is_a_number_of_processes(sqlite_url, clock, text):
    Homework.initialise(Store.parse(sqlite_url))
    code, out, err = run(sqlite_url, text, "log", "--json")
    assert code == 2 and out == ""
    assert err.strip().endswith(
        f"BETWEEN_WORKERS={text!r} is not a number of processes (1 or more)"
    )


def test_a_short_log_stays_in_one_process():
    assert workers_for(MIN_EVENTS - 1, {}) == 1
    assert workers_for(10**6, {"BETWEEN_WORKERS": "1"}) == 1
    assert workers_for(10**6, {"BETWEEN_WORKERS": "3"}) == 3
