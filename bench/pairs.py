"""Paired measurement: every figure alternated with its baseline, run by run.

A machine shared with other work speeds up and slows down from one second to the next, so
a figure measured a minute apart from its baseline compares two different machines. Here
each run of Between's side is followed at once by a run of the baseline (A, B, A, B …), each
pair gives one ratio, and the figure is the median of those ratios — with the medians of
each side beside it, for scale.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Figure:
    """One row of the report."""

    name: str
    ours: float  # median of Between's runs
    baseline: float  # median of the baseline's runs
    ratio: float  # median of the pairwise ratios (Between / baseline)
    unit: str
    target: str  # "≥ 0.6×", "≤ 1.5×", or "" (shown for scale, no target)
    against: str = ""  # what the baseline is
    ratios: list[float] = field(default_factory=list)

    def met(self) -> bool | None:
        if not self.target:
            return None
        bound = float(self.target.strip("≤≥× "))
        return self.ratio >= bound if self.target.startswith("≥") else self.ratio <= bound

    def row(self) -> str:
        met = {True: "yes", False: "no", None: "—"}[self.met()]
        spread = f"{min(self.ratios):.2f}–{max(self.ratios):.2f}" if self.ratios else ""
        return (
            f"| {self.name} | {_number(self.ours)} {self.unit} | {_number(self.baseline)} "
            f"{self.unit} ({self.against}) | {self.ratio:.2f}× ({spread}) | {self.target or '—'} "
            f"| {met} |"
        )


HEADER = (
    "| figure | Between (median) | baseline (median) | ratio: median of pairs (range) "
    "| target | met |\n| --- | ---: | ---: | ---: | --- | --- |"
)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def paired(
    name: str,
    runs: int,
    ours: Callable[[], float],
    baseline: Callable[[], float],
    *,
    unit: str,
    target: str,
    against: str,
) -> Figure:
    """Run ``ours`` and ``baseline`` alternately ``runs`` times; the median of the ratios."""
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(runs):
        mine.append(ours())
        theirs.append(baseline())
    ratios = [a / b if b else float("nan") for a, b in zip(mine, theirs, strict=True)]
    figure = Figure(
        name,
        statistics.median(mine),
        statistics.median(theirs),
        statistics.median(ratios),
        unit,
        target,
        against,
        ratios,
    )
    print(figure.row(), file=sys.stderr, flush=True)  # as it comes, for a long run
    return figure


def process_seconds(command: Sequence[str], env: dict[str, str]) -> float:
    """Wall time of one whole process (its start-up included)."""
    started = time.perf_counter()
    run_quietly(command, env)
    return time.perf_counter() - started


def run_quietly(command: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a command, output discarded; a failure stops the benchmark, saying what failed."""
    done = subprocess.run(
        list(command), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{done.stderr}")
    return done


@dataclass
class Measured:
    """One run of a ``between`` command under ``bench.peak``: wall time and peak memory."""

    seconds: float
    peak_mb: float


def measured(arguments: Sequence[str], env: dict[str, str]) -> Measured:
    """Run ``between ARGUMENTS`` (in its own process) and measure it."""
    started = time.perf_counter()
    done = run_quietly([sys.executable, "-m", "bench.peak", *arguments], env)
    seconds = time.perf_counter() - started
    return Measured(seconds, int(done.stderr.rsplit("peak-kb ", 1)[1]) / 1024)


def rate_of(events: int, work: Callable[[], Any]) -> float:
    """Events per second of ``work``."""
    started = time.perf_counter()
    work()
    return events / (time.perf_counter() - started)
