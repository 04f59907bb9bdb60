"""Properties an auditor relies on: replay --at equals what was true then, for any sequence
of commands; and a writer killed at any moment never leaves a log that fails verify."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from helpers import Clock, relaxation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from between.audit.auditor import verify_log
from between.audit.replay import check_read_model, rows_at
from between.engine.app import Homework
from between.engine.errors import BetweenError
from between.engine.storage.store import Store

ACTOR = {"actor": "dr.lee"}
ENTRY = {"minutes": 5, "tension_before": 6, "tension_after": 3}

operations = st.lists(
    st.one_of(
        st.tuples(st.just("register"), st.integers(0, 2)),
        st.tuples(st.just("propose"), st.integers(0, 2)),
        st.tuples(
            st.sampled_from(["agree", "decline", "submit", "cancel", "close"]), st.integers(0, 5)
        ),
        st.tuples(
            st.just("review"),
            st.integers(0, 5),
            st.sampled_from(["continue", "step-up", "modify", "close"]),
        ),
        st.tuples(st.just("advance"), st.integers(1, 72)),
    ),
    min_size=1,
    max_size=25,
)


def apply(app: Homework, clock: Clock, ids: list[str], op: tuple) -> None:
    kind = op[0]
    if kind == "advance":
        clock.advance(hours=op[1])
        return
    if kind == "register":
        app.register_client(f"C{op[1]}", f"Client {op[1]}", "dr.lee", **ACTOR)
        return
    if kind == "propose":
        ids.append(relaxation(app, f"C{op[1]}"))
        return
    if not ids:
        return
    aid = ids[op[1] % len(ids)]
    if kind == "agree":
        app.agree(aid, **ACTOR)
    elif kind == "decline":
        app.decline(aid, reason="no", **ACTOR)
    elif kind == "submit":
        app.submit(aid, ENTRY, **ACTOR)
    elif kind == "cancel":
        app.cancel(aid, reason="stop", **ACTOR)
    elif kind == "close":
        app.close_assignment(aid, **ACTOR)
    elif kind == "review":
        app.review(aid, quantity=2, quality=2, difficulty=2, next_step=op[2], **ACTOR)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_replay_at_t_equals_the_state_after_the_commands_up_to_t(ops):
    with tempfile.TemporaryDirectory() as folder:
        store = Store.parse(str(Path(folder) / "p.db"))
        Homework.initialise(store)
        clock = Clock()
        app = Homework(store, clock=clock)
        ids: list[str] = []
        seen = []
        for op in [("register", 0), ("propose", 0), *ops]:
            with contextlib.suppress(BetweenError):  # a refused command records nothing
                apply(app, clock, ids, op)
            seen.append((clock.moment, {r["id"]: r for r in app.list_assignments()}))
        for moment, state in seen:
            assert {r["id"]: r for r in rows_at(app, moment)} == state
        assert check_read_model(app) == []
        app.close()


WRITER = textwrap.dedent(
    """
    import itertools, sys
    from between.engine.app import Homework
    from between.engine.storage.store import Store
    app = Homework(Store.parse(sys.argv[1]))
    a = {"actor": "w"}
    for n in itertools.count(int(sys.argv[2])):
        code = f"K{n}"
        app.register_client(code, f"Writer {n}", "w", **a)
        aid = app.propose(code, "relaxation", instructions="i", rationale="r", stage="practice",
                          difficulty=1, due="+2", expected_entries=9,
                          parameters={"technique": "other"}, **a).result
        app.agree(aid, **a)
        for _ in range(3):
            app.submit(aid, {"minutes": 5, "tension_before": 6, "tension_after": 3}, **a)
        print(n, flush=True)
    """
)


def test_a_writer_killed_at_random_moments_never_breaks_the_log(tmp_path):
    url = str(tmp_path / "crash.db")
    Homework.initialise(Store.parse(url))
    rng = random.Random(7)
    start = 0
    for _ in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(start)],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ,
        )
        proc.stdout.readline()  # the writer is running and has committed at least once
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        start += 10_000
        auditor = Homework(Store.parse(url), read_only=True)
        result = verify_log(auditor, None)
        assert result.intact, result.first_break
        auditor.close()
    app = Homework(Store.parse(url))
    app.refresh()
    assert check_read_model(app) == []
    assert verify_log(app, None).events > 30
