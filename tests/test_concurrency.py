"""Operators writing at the same time: one wins, the other retries or says so clearly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import count_events, relaxation

from between.engine.app import ATTEMPTS, Homework
from between.engine.errors import Conflict
from between.engine.storage.store import Store

ACTOR = {"actor": "dr.lee"}
WRITER = textwrap.dedent(
    """
    import json, sys, time
    from between.engine.app import Homework
    from between.engine.errors import Conflict
    from between.engine.storage.store import Store
    store, ref, n, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    app = Homework(Store.parse(store))
    while time.time() < start:
        time.sleep(0.001)
    done, conflicts = 0, 0
    for i in range(n):
        try:
            app.submit(ref, {"minutes": 5, "tension_before": 5, "tension_after": 2}, actor="w")
            done += 1
        except Conflict:
            conflicts += 1
    print(json.dumps({"done": done, "conflicts": conflicts}))
    """
)


def agreed_assignment(app: Homework) -> str:
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    aid = relaxation(app, "C1", due="+3", expected_entries=500)
    app.agree(aid, **ACTOR)
    return aid


def run_writers(store: str, ref: str, processes: int, each: int) -> list[dict]:
    import time

    start = time.time() + 1.5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, store, ref, str(each), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ,
        )
        for _ in range(processes)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    return results


@pytest.mark.parametrize("processes", [2])
def test_two_processes_on_one_sqlite_assignment_lose_and_duplicate_nothing(
    tmp_path: Path, processes
):
    store = str(tmp_path / "race.db")
    Homework.initialise(Store.parse(store))
    app = Homework(Store.parse(store))
    aid = agreed_assignment(app)
    before = count_events(app)
    results = run_writers(store, aid, processes, 40)
    done = sum(r["done"] for r in results)
    assert done + sum(r["conflicts"] for r in results) == processes * 40
    assert count_events(app) == before + done
    shown = app.show(aid)
    assert shown["entries"] == done == len({e["id"] for e in shown["entry_list"]})
    assert shown["version"] == 2 + done  # versions are contiguous: nothing lost or doubled
    assert app.list_assignments()[0]["entries"] == done


def test_a_writer_that_keeps_losing_gives_up_clearly_and_records_nothing(tmp_path: Path):
    store = Store.parse(str(tmp_path / "lose.db"))
    Homework.initialise(store)
    mine, theirs = Homework(store), Homework(store)
    aid = agreed_assignment(mine)

    load = mine._assignment

    def load_then_someone_else_writes(ref):
        loaded = load(ref)
        theirs.submit(aid, {"minutes": 1, "tension_before": 1, "tension_after": 1}, actor="other")
        return loaded

    mine._assignment = load_then_someone_else_writes
    before = count_events(mine)
    with pytest.raises(
        Conflict, match=f"changed by someone else .*\\({ATTEMPTS} attempts\\); nothing was recorded"
    ):
        mine.submit(aid, {"minutes": 9, "tension_before": 9, "tension_after": 9}, actor="me")
    after = Homework(store).show(aid)
    assert count_events(mine) == before + ATTEMPTS  # only the other operator's entries
    assert all(e["recorded_by"] == "other" for e in after["entry_list"])


@pytest.mark.postgres
def test_many_operators_starting_at_once_on_postgresql_all_succeed(pg_url: str):
    Homework.initialise(Store.parse(pg_url))
    app = Homework(Store.parse(pg_url))
    aid = agreed_assignment(app)
    results = run_writers(pg_url, aid, 6, 10)
    assert sum(r["done"] for r in results) + sum(r["conflicts"] for r in results) == 60
    done = sum(r["done"] for r in results)
    shown = app.show(aid)
    assert shown["entries"] == done and shown["version"] == 2 + done
    assert app.list_assignments()[0]["entries"] == done
