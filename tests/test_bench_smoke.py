"""The benchmark runs end to end at a tiny scale and prints every figure (no timing asserted:
speed is judged by the ratios it prints, on a quiet machine, not by tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FIGURES = (
    "show ID",
    "list (default paging)",
    "list --overdue --json",
    "agenda CLIENT --json",
    "--help",
    "single write (submit, fsync)",
    "bulk: generator",
    "replay --check",
    "log --json",
    "rebuild",
    "replay --at",
    "verify",
    "peak memory of replay --check",
    "peak memory of log --json",
    "peak memory of rebuild",
    "peak memory of replay --at",
    "peak memory of verify",
    "peak memory of list --all",
)


def test_the_benchmark_completes_and_prints_every_figure(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--clients", "12", "--runs", "1", "--writes", "20",
         "--cli-runs", "1", "--bulk-clients", "5", "--bulk-events", "2000",
         "--memory-against", "6", "--work-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, env=os.environ,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    for figure in FIGURES:
        assert any(line.startswith(f"| {figure}") for line in table), figure
    assert all(line.count("|") == 7 for line in table)


def test_the_generator_is_deterministic_for_a_seed(tmp_path, monkeypatch):
    from datetime import date

    monkeypatch.syspath_prepend(str(Path(__file__).parent.parent))  # bench/ is not installed
    from bench.generate import generate
    from between.engine.app import Homework
    from between.engine.storage.store import Store

    shapes = []
    for name in ("a.db", "b.db"):
        store = Store.parse(str(tmp_path / name))
        generate(store, 5, seed=3, until=date(2026, 6, 1), out=open(os.devnull, "w"))  # noqa: SIM115
        app = Homework(store, read_only=True)
        with app.reading() as c:
            c.execute(
                "SELECT originator_id, originator_version, topic FROM stored_events ORDER BY rowid"
            )
            shapes.append([tuple(r) for r in c.fetchall()])
        app.close()
    assert shapes[0] == shapes[1] and len(shapes[0]) > 300
