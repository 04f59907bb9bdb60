"""The benchmark runner: each figure of Between alternated with its baseline, run by run.

    python -m bench.run --clients 5000 --memory-against 500     # SQLite, ~1M vs ~100k events
    python -m bench.run --clients 500 --store "postgresql://postgres@127.0.0.1/test?schema=bench"

Every figure is measured in pairs — one run of Between, then one of its baseline, ``--runs``
times (``--cli-runs`` for the quick whole-process commands, ``--log-runs`` for those that read
the whole log) — and reported as the median of the pairwise ratios, beside the medians of
each side (see ``bench.pairs``). The
clinic is generated once per scale and seed (``bench.generate``) and reused when it exists:
delete the file (or drop the schema) to regenerate. Single writes add a few entries to it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

from bench import baselines
from bench.figures import BulkRuns, SingleWriter, ensure_schema, generated, open_or_none
from bench.pairs import HEADER, Figure, measured, paired, process_seconds
from between.engine.app import Homework
from between.engine.storage.store import Store

#: ``between`` itself: its script beside this interpreter (or the same entry point).
SCRIPT = Path(sys.executable).with_name("between")
BETWEEN = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "bench.peak"]
FAR = "2100-01-01"  # a moment after every event: replay --at shows the present
#: The whole-log commands: (figure, arguments, baseline, target).
WHOLE_LOG = (
    ("replay --check", ["replay", "--check"], "decode", "≥ 0.7×"),
    ("log --json", ["log", "--json"], "decode", "≥ 0.6×"),
    ("rebuild", ["rebuild"], "decode", "≥ 0.4×"),
    ("replay --at", ["replay", "--at", FAR, "--json"], "decode", "≥ 0.7×"),
    ("verify", ["verify"], "scan", "≥ 0.4×"),
)
AGAINST = {"decode": "library decode", "scan": "raw scan"}
LEGEND = """baselines: imports = python -c "import click, pluggy, eventsourcing.application"; \
click = python -c "import click"; psycopg = python -c "import click, psycopg; \
psycopg.connect(URL).execute('select 1')"; library save = eventsourcing's Application.save of \
one event; library 1,000/txn = its save of 100 aggregates x 10 events a transaction; library \
decode = its recorder and mapper reading and decoding every stored event; raw scan = a raw \
SELECT of every stored row in order; smaller clinic = the same command on the smaller store."""


def prepare(address: str, clients: int, seed: int, until: date) -> tuple[Store, int]:
    """The generated clinic (made now, or reused) and how many events it holds."""
    store = Store.parse(address)
    ensure_schema(store)
    app = open_or_none(store)
    if app is None:
        print(f"generating {clients} clients into {store.describe()} …", file=sys.stderr)
        generated(store, clients, seed, until)
        app = Homework(store, read_only=True)
    events = count_events(app)
    app.close()
    return store, events


def count_events(app: Homework) -> int:
    with app.reading() as c:
        c.execute("SELECT count(*) AS n FROM stored_events")
        return c.fetchone()["n"]


def samples(app: Homework) -> tuple[str, str]:
    """A client with open homework (for ``agenda``), and an assignment id prefix (``show``)."""
    with app.reading() as c:
        c.execute(
            "SELECT client, id FROM rm_assignments WHERE status = 'agreed' ORDER BY due LIMIT 1"
        )
        row = c.fetchone()
        if row is None:  # a tiny clinic may have none open: any will do
            c.execute("SELECT client, id FROM rm_assignments ORDER BY id LIMIT 1")
            row = c.fetchone()
    return row["client"], row["id"][:8]


def cli_figures(args: argparse.Namespace, store: Store, env: dict[str, str]) -> list[Figure]:
    """Whole ``between`` processes against the interpreter importing what they need."""
    app = Homework(store, read_only=True)
    client, assignment = samples(app)
    app.close()
    if store.path is not None:  # a file store
        base, against = baselines.IMPORTS, "imports"
    else:
        base, against = baselines.postgres_connect(store), "psycopg"
    commands = [
        ("show ID", ["show", assignment], base, against, "≤ 1.5×"),
        ("list (default paging)", ["list"], base, against, "≤ 1.5×"),
        ("list --overdue --json", ["list", "--overdue", "--json"], base, against, "≤ 1.5×"),
        ("agenda CLIENT --json", ["agenda", client, "--json"], base, against, "≤ 1.5×"),
        ("--help", ["--help"], baselines.CLICK, "click", "≤ 1.3×"),
    ]
    return [
        paired(
            name,
            args.cli_runs,
            lambda a=arguments: process_seconds([*BETWEEN, *a], env) * 1000,
            lambda b=baseline: process_seconds(b, env) * 1000,
            unit="ms",
            target=target,
            against=against,
        )
        for name, arguments, baseline, against, target in commands
    ]


def write_figures(args: argparse.Namespace, store: Store, folder: Path) -> list[Figure]:
    """Single writes and bulk generation, against eventsourcing's saves."""
    app = Homework(store)
    writer = SingleWriter(app)
    library = baselines.Library(folder, store)
    try:
        single = paired(
            "single write (submit, fsync)",
            args.runs,
            lambda: writer.rate(args.writes),
            lambda: library.single_saves(args.writes),
            unit="writes/s",
            target="≥ 0.6×",
            against="library save",
        )
        bulk = BulkRuns(folder, store, args.bulk_clients, args.seed, args.until)
        batched = paired(
            f"bulk: generator, {args.bulk_clients} clients (validated, sealed, chained)",
            args.runs,
            bulk.rate,
            lambda: library.batched_saves(args.bulk_events),
            unit="events/s",
            target="≥ 1.0×",
            against="library 1,000/txn",
        )
    finally:
        library.close()
        app.close()
    return [single, batched]


def log_figures(
    args: argparse.Namespace, store: Store, env: dict[str, str], small: tuple[Store, int] | None
) -> list[Figure]:
    """The whole-log commands (events/s), and their peak memory at two scales."""
    app = Homework(store, read_only=True)
    events = count_events(app)
    baseline = {"decode": lambda: baselines.decode_rate(app),
                "scan": lambda: baselines.scan_rate(store)}  # fmt: skip
    small_env = {**env, "BETWEEN_STORE": str(small[0].path)} if small else None
    figures, memory = [], []
    commands = [*WHOLE_LOG, ("list --all", ["list", "--all", "--json"], None, "")]
    for name, arguments, against, target in commands:
        big: list[float] = []
        little: list[float] = []

        def ours(arguments: list[str] = arguments, big: list[float] = big) -> float:
            run = measured(arguments, env)
            big.append(run.peak_mb)
            return events / run.seconds

        def base(
            against: str | None = against, arguments: list[str] = arguments, little: list = little
        ) -> float:
            rate = baseline[against]() if against else 1.0
            if small_env is not None:
                little.append(measured(arguments, small_env).peak_mb)
            return rate

        if against:
            figures.append(paired(name, args.log_runs, ours, base, unit="events/s", target=target,
                                  against=AGAINST[against]))  # fmt: skip
        elif small_env is not None:
            for _ in range(args.log_runs):
                ours(), base()
        if small_env is not None:
            ratios = [b / s for b, s in zip(big, little, strict=True)]
            memory.append(Figure(
                f"peak memory of {name}, {events:,} vs {small[1]:,} events",
                statistics.median(big), statistics.median(little), statistics.median(ratios),
                "MB", "≤ 1.2×", "smaller clinic", ratios,
            ))  # fmt: skip
            print(memory[-1].row(), file=sys.stderr, flush=True)
    app.close()
    return figures + memory


def run(args: argparse.Namespace) -> list[Figure]:
    folder = Path(args.work_dir)
    folder.mkdir(parents=True, exist_ok=True)
    address = args.store or str(folder / f"clinic-{args.clients}-seed{args.seed}.db")
    store, events = prepare(address, args.clients, args.seed, args.until)
    print(f"store: {store.describe()} ({events:,} events)", file=sys.stderr, flush=True)
    small = None
    if args.memory_against and store.path is not None:
        name = f"clinic-{args.memory_against}-seed{args.seed}.db"
        small = prepare(str(folder / name), args.memory_against, args.seed, args.until)
    env = {**os.environ, "BETWEEN_STORE": address, "BETWEEN_PLUGINS": "", "BETWEEN_ACTOR": "bench"}
    figures = []
    if args.only in (None, "cli"):
        figures += cli_figures(args, store, env)
    if args.only in (None, "writes"):
        figures += write_figures(args, store, folder)
    if args.only in (None, "log"):
        figures += log_figures(args, store, env, small)
    if store.path is None:  # a PostgreSQL store
        for f in figures:
            f.name = f"PostgreSQL {f.name}"
    return figures


def machine() -> str:
    """Where the figures were measured."""
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    from importlib.metadata import version

    return (
        f"{os.cpu_count()} cores, {platform.machine()}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, eventsourcing {version('eventsourcing')}; load {load}"
    )


def compile_between() -> None:
    """Byte-compile Between as ``pip install`` would (an editable install under
    PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every module at each start)."""
    import compileall

    root = Path(__file__).resolve().parent.parent
    compileall.compile_dir(root, quiet=1, rx=re.compile(r"/(tests|docs|build|\.\w+)/"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200, help="scale (~200 events a client)")
    parser.add_argument("--store", help="default: a SQLite file in --work-dir; or postgresql://…")
    parser.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "between-bench"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--until", type=date.fromisoformat, default=date.today())
    parser.add_argument("--runs", type=int, default=5, help="pairs per figure (default 5)")
    parser.add_argument("--cli-runs", type=int, default=15, help="pairs per process figure")
    parser.add_argument("--log-runs", type=int, help="pairs per whole-log figure (--runs)")
    parser.add_argument("--writes", type=int, default=200, help="writes per single-write run")
    parser.add_argument("--bulk-clients", type=int, default=100, help="clients per bulk run")
    parser.add_argument("--bulk-events", type=int, default=20_000, help="baseline bulk events")
    parser.add_argument("--memory-against", type=int, help="a smaller scale for peak memory")
    parser.add_argument("--only", choices=("cli", "writes", "log"), help="one group of figures")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    args.log_runs = args.log_runs or args.runs
    compile_between()
    started = machine()
    figures = run(args)
    print(f"machine: {started} (at the start); load at the end {machine().rsplit('load ')[1]}")
    print(HEADER)
    for figure in figures:
        print(figure.row())
    print(LEGEND)
    if args.json:
        print(json.dumps([{**vars(f), "met": f.met()} for f in figures]))


if __name__ == "__main__":
    main()
