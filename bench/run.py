"""The benchmark runner: each figure of Between beside a baseline measured in the same run.

    python -m bench.run --clients 5000                 # SQLite, ~1M events
    python -m bench.run --clients 500 --store postgresql://postgres@127.0.0.1/test?schema=bench
    python -m bench.run --clients 5000 --memory-against 500

Prints, for each figure, Between's number, the baseline's, their ratio and the target. Every
timed figure is the median of ``--runs`` runs. The store is generated once per scale and
seed (``bench.generate``) and reused when it exists (SQLite) — delete it to regenerate.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from between.engine.app import Homework
from between.engine.errors import StoreError
from between.engine.store import Store

BETWEEN = (
    [sys.executable, "-m", "between.cli"]
    if not shutil.which("between")
    else [shutil.which("between")]
)


@dataclass
class Figure:
    name: str
    ours: float
    baseline: float
    unit: str
    target: str
    higher_is_better: bool = True

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("nan")

    def met(self) -> bool:
        bound = float(self.target.strip("≤≥× "))
        return self.ratio >= bound if self.target.startswith("≥") else self.ratio <= bound


def median_of(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


# -- stores -----------------------------------------------------------------------------


def prepare(address: str, clients: int, seed: int, until: date) -> tuple[Store, int, float | None]:
    """The generated store (made now, or reused): (store, events, generation events/s)."""
    from bench.generate import generate

    store = Store.parse(address)
    if not store.is_sqlite:
        import psycopg

        with psycopg.connect(host=store.host, port=store.port, user=store.user,
                             dbname=store.dbname, autocommit=True) as conn:  # fmt: skip
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{store.schema}"')
    if not store.is_sqlite or store.path.exists():
        try:
            app = Homework(store, read_only=True)
        except StoreError:
            pass  # nothing there yet: generate it
        else:
            events = app.recorder.max_notification_id() or 0
            app.close()
            return store, events, None
    print(f"generating {clients} clients into {store.describe()} …", flush=True)
    events, seconds = generate(store, clients, seed, until)
    return store, events, events / seconds


# -- baselines ---------------------------------------------------------------------------


def library_app(folder: Path, store: Store) -> Any:
    """eventsourcing's own application, as the library ships it, on the same kind of store."""
    from eventsourcing.application import Application

    if store.is_sqlite:
        return Application(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                "SQLITE_DBNAME": str(folder / f"baseline-{time.time_ns()}.db")})  # fmt: skip
    import psycopg

    schema = f"baseline_{time.time_ns()}"
    with psycopg.connect(host=store.host, port=store.port, user=store.user, dbname=store.dbname,
                         autocommit=True) as conn:  # fmt: skip
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return Application(env={
        "PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": store.dbname,
        "POSTGRES_HOST": store.host, "POSTGRES_PORT": store.port, "POSTGRES_USER": store.user,
        "POSTGRES_PASSWORD": store.password, "POSTGRES_SCHEMA": schema,
    })  # fmt: skip


class Diary(Aggregate):
    """The baseline's aggregate: one small event type, as in eventsourcing's own examples."""

    @event("Noted")
    def note(self, situation: str, intensity: int, when: datetime) -> None:
        pass


def baseline_single_saves(folder: Path, store: Store, n: int) -> float:
    app, diary = library_app(folder, store), Diary()
    app.save(diary)
    started = time.perf_counter()
    for i in range(n):
        diary.note(situation="bus", intensity=i % 100, when=datetime.now(UTC))
        app.save(diary)
    rate = n / (time.perf_counter() - started)
    app.close()
    return rate


def baseline_batched_saves(folder: Path, store: Store, events: int) -> float:
    app, cls = library_app(folder, store), Diary
    started = time.perf_counter()
    for _ in range(events // 1000):
        diaries = [cls() for _ in range(100)]
        for d in diaries:
            for i in range(9):
                d.note(situation="waiting room", intensity=i * 10, when=datetime.now(UTC))
        app.save(*diaries)  # 100 aggregates × 10 events = 1,000 events a transaction
    rate = (events // 1000) * 1000 / (time.perf_counter() - started)
    app.close()
    return rate


def baseline_read_decode(app: Homework) -> float:
    """Read and decode every event with eventsourcing's recorder and (plain) mapper."""
    from eventsourcing.persistence import Mapper

    mapper = Mapper(app.construct_transcoder(), cipher=app.mapper.cipher)
    started, position, count = time.perf_counter(), 0, 0
    while True:
        batch = app.recorder.select_notifications(
            start=position, limit=1000, inclusive_of_start=False
        )
        if not batch:
            break
        for n in batch:
            mapper.to_domain_event(n)
        count += len(batch)
        position = batch[-1].id
    return count / (time.perf_counter() - started)


def baseline_raw_scan(app: Homework) -> float:
    """A raw SELECT of every stored row in order."""
    started, count = time.perf_counter(), 0
    if app.store.is_sqlite:
        with sqlite3.connect(f"file:{app.store.path}?mode=ro", uri=True) as db:
            cursor = db.execute("SELECT * FROM stored_events ORDER BY rowid")
            while rows := cursor.fetchmany(5000):
                count += len(rows)
        db.close()
    else:
        import psycopg

        s = app.store
        with (
            psycopg.connect(host=s.host, port=s.port, user=s.user, dbname=s.dbname) as conn,
            conn.cursor(name="scan") as cursor,
        ):
            cursor.itersize = 5000
            cursor.execute(f'SELECT * FROM "{s.schema}".stored_events ORDER BY notification_id')
            for _ in cursor:
                count += 1
    return count / (time.perf_counter() - started)


def process_seconds(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    return time.perf_counter() - started


def peak_memory_mb(command: list[str], env: dict[str, str]) -> float:
    """Peak resident memory of one ``between`` command (its own ru_maxrss), in MB."""
    done = subprocess.run([sys.executable, "-m", "bench.peak", *command], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)  # fmt: skip
    return int(done.stderr.rsplit("peak-kb ", 1)[1]) / 1024


# -- Between's figures --------------------------------------------------------------------


def single_writes(app: Homework, n: int) -> float:
    """``submit`` through the engine API, one transaction (and fsync) each, spread over 20
    agreed assignments as a clinic's day would be."""
    code = f"bench-{time.time_ns()}"
    app.register_client(code, "Bench Client", "dr.bench", actor="bench")
    assignments = []
    for _ in range(20):
        aid = UUID(app.propose(
            code, "relaxation", instructions="breathe", rationale="bench", stage="practice",
            difficulty=1, due="+7", expected_entries=n, parameters={"technique": "other"}, actor="bench",
        ).result)  # fmt: skip
        app.agree(aid, actor="bench")
        assignments.append(aid)
    entry = {"minutes": 10, "tension_before": 7, "tension_after": 3}
    started = time.perf_counter()
    for i in range(n):
        app.submit(assignments[i % 20], entry, actor="bench")
    return n / (time.perf_counter() - started)


def client_with_open_homework(app: Homework) -> str:
    with app.reading() as c:
        c.execute("SELECT client FROM rm_assignments WHERE status = 'agreed' ORDER BY due LIMIT 1")
        row = c.fetchone()
        if row is None:  # a tiny clinic may have none open: any client will do
            c.execute("SELECT code AS client FROM rm_clients WHERE code IS NOT NULL LIMIT 1")
            row = c.fetchone()
    return row["client"]


def run(args: argparse.Namespace) -> list[Figure]:
    folder = Path(args.work_dir)
    folder.mkdir(parents=True, exist_ok=True)
    address = args.store or str(folder / f"clinic-{args.clients}-seed{args.seed}.db")
    store, events, generated_rate = prepare(address, args.clients, args.seed, args.until)
    print(f"store: {store.describe()} ({events:,} events)", flush=True)
    env = {**os.environ, "BETWEEN_STORE": address, "BETWEEN_PLUGINS": ""}
    app = Homework(store)
    figures: list[Figure] = []

    baseline_cli = median_of(args.runs, lambda: process_seconds(
        [sys.executable, "-c", "import click, pluggy, eventsourcing.application"], env))  # fmt: skip
    code = client_with_open_homework(app)
    for label, command in (("CLI list --overdue --json", ["list", "--overdue", "--json"]),
                           ("CLI agenda CLIENT --json", ["agenda", code, "--json"])):  # fmt: skip
        ours = median_of(args.runs, lambda c=command: process_seconds([*BETWEEN, *c], env))
        figures.append(
            Figure(label, ours * 1000, baseline_cli * 1000, "ms (p50 process)", "≤ 1.5×", False)
        )

    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        ours = median_of(args.runs, lambda: single_writes(app, args.writes))
        base = median_of(
            args.runs, lambda: baseline_single_saves(Path(scratch), store, args.writes)
        )
        figures.append(Figure("single write (submit, fsync)", ours, base, "writes/s", "≥ 0.6×"))
        batched = 50_000 if store.is_sqlite else 20_000
        base = median_of(args.runs, lambda: baseline_batched_saves(Path(scratch), store, batched))
        if generated_rate is None:
            generated_rate = median_of(
                1, lambda: bulk_rate(folder, max(args.clients // 10, 20), args.seed)
            )
        figures.append(
            Figure(
                "bulk generation (validated, chained)", generated_rate, base, "events/s", "≥ 1.0×"
            )
        )

    decode = median_of(args.runs, lambda: baseline_read_decode(app))
    ours = median_of(args.runs, lambda: timed_rate(events, app.rebuild))
    figures.append(Figure("read-model rebuild", ours, decode, "events/s", "≥ 0.4×"))

    from between.audit.auditor import verify_log
    from between.audit.replay import rows_at

    raw = median_of(args.runs, lambda: baseline_raw_scan(app))
    ours = median_of(args.runs, lambda: timed_rate(events, lambda: verify_log(app, None)))
    figures.append(Figure("verify", ours, raw, "events/s", "≥ 0.4×"))
    far = datetime.now(UTC) + timedelta(days=3650)
    ours = median_of(
        args.runs, lambda: timed_rate(events, lambda: sum(1 for _ in rows_at(app, far)))
    )
    figures.append(Figure("replay --at", ours, decode, "events/s", "≥ 0.7×"))
    app.close()

    if args.memory_against:
        small, small_events, _ = prepare(str(folder / f"clinic-{args.memory_against}-seed{args.seed}.db"),
                                         args.memory_against, args.seed, args.until)  # fmt: skip
        small_env = {**env, "BETWEEN_STORE": str(small.path)}
        for label, command in (
            ("verify", ["verify"]),
            ("replay", ["replay", "--at", "2100-01-01", "--json"]),
        ):
            big = peak_memory_mb(command, env)
            little = peak_memory_mb(command, small_env)
            figures.append(Figure(f"peak memory of {label}, {events:,} vs {small_events:,} events",
                                  big, little, "MB", "≤ 1.2×", False))  # fmt: skip
    return figures


def timed_rate(events: int, work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return events / (time.perf_counter() - started)


def bulk_rate(folder: Path, clients: int, seed: int) -> float:
    """Generation throughput on a fresh store (when the main store was reused)."""
    from bench.generate import generate

    with tempfile.TemporaryDirectory(dir=folder) as scratch, open(os.devnull, "w") as quiet:
        events, seconds = generate(
            Store.parse(str(Path(scratch) / "g.db")), clients, seed, date.today(), out=quiet
        )
    return events / seconds


def compile_between() -> None:
    """Byte-compile Between as ``pip install`` would (an editable install under
    PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every module at each start)."""
    import compileall

    root = Path(__file__).resolve().parent.parent
    compileall.compile_dir(root, quiet=1, rx=re.compile(r"/(tests|docs|build|\.\w+)/"))


def report(figures: list[Figure]) -> str:
    lines = ["| figure | Between | baseline (same run) | ratio | target | met |",
             "| --- | ---: | ---: | ---: | --- | --- |"]  # fmt: skip
    for f in figures:
        lines.append(
            f"| {f.name} | {f.ours:,.1f} {f.unit} | {f.baseline:,.1f} | {f.ratio:.2f}× | {f.target} | "
            f"{'yes' if f.met() else 'no'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200, help="scale (~200 events a client)")
    parser.add_argument("--store", help="default: a SQLite file in --work-dir; or postgresql://…")
    parser.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "between-bench"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--until", type=date.fromisoformat, default=date.today())
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (the median is shown)")
    parser.add_argument("--writes", type=int, default=200, help="writes per single-write run")
    parser.add_argument(
        "--memory-against", type=int, help="a smaller scale to compare peak memory with"
    )
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    compile_between()
    figures = run(args)
    print(report(figures))
    if args.json:
        print(json.dumps([{**vars(f), "ratio": f.ratio, "met": f.met()} for f in figures]))


if __name__ == "__main__":
    main()
