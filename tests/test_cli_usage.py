"""Mistakes click finds while reading the command line (a bad option value, a missing
argument) are refused like every other bad input: one line, exit 2, nothing recorded."""

from __future__ import annotations

from pathlib import Path

from helpers import assign_args, count_events, run_installed

from between.engine.app import Homework
from between.engine.storage.store import Store


def events(store: str) -> int:
    app = Homework(Store.parse(store), read_only=True)
    try:
        return count_events(app)
    finally:
        app.close()


def test_usage_mistakes_are_one_line_exit_2_and_record_nothing(tmp_path: Path):
    store = str(tmp_path / "usage.db")
    env = {"BETWEEN_STORE": store, "BETWEEN_ACTOR": "dr.lee"}
    run_installed(env, "init", check=True)
    run_installed(env, "client", "add", "C-1", "--name", "Ana", "--therapist", "dr.lee", check=True)
    before = events(store)
    stage = [a if a != "practice" else "nope" for a in assign_args("C-1", "self-monitoring")]
    difficulty = [a if a != "1" else "abc" for a in assign_args("C-1", "self-monitoring")]
    mistakes = {
        tuple(stage): "error: Invalid value for '--stage': 'nope' is not one of 'baseline', "
        "'practice', 'relapse-prevention' (see 'between assign --help')\n",
        tuple(difficulty): "error: Invalid value for '--difficulty': 'abc' is not a valid "
        "integer (see 'between assign --help')\n",
    }
    for args, said in mistakes.items():
        done = run_installed(env, *args)
        assert (done.returncode, done.stderr, done.stdout) == (2, said, ""), args
    assert events(store) == before
    assert "Usage: between assign" in run_installed(env, "assign", "--help", check=True).stdout
