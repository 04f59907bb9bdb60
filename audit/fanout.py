"""The log's batches worked on by several processes, the results in the log's order.

Exporting or checking a whole log decodes every event: pure Python, one core, at about the
speed of the library's own decoder. On a machine with more cores, ``ordered`` hands each
batch of stored rows to a pool of worker processes — each with the store opened read-only
on its own connections (``worker_app``) — and gives back their results in the order the
batches were read. At most two batches per worker are in flight, so memory stays flat
however long the log is. A short log, ``BETWEEN_WORKERS=1`` or a single core keep the work
in this process.

Workers are started fresh (``spawn``), not forked: a forked child would inherit this
process's open SQLite and PostgreSQL connections.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

from between.audit.log_source import LogSource
from between.engine.errors import InvalidInput

T = TypeVar("T")
R = TypeVar("R")

#: Below this many events the work stays in this process: starting workers costs more.
MIN_EVENTS = 20_000
#: Workers used at most, however many cores the machine has.
MAX_WORKERS = 4
VARIABLE = "BETWEEN_WORKERS"

_app: LogSource | None = None  # the store, opened read-only in a worker process (``_open``)


def workers_for(events: int, environ: dict[str, str] | None = None) -> int:
    """How many worker processes to use for a log of ``events``: ``BETWEEN_WORKERS`` when
    set (1 keeps the work in this process), else one per usable core, up to ``MAX_WORKERS``;
    1 for a short log."""
    text = (os.environ if environ is None else environ).get(VARIABLE, "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise InvalidInput(
                "%(variable)s=%(text)s is not a number of processes (1 or more)",
                variable=VARIABLE,
                text=repr(text),
            )
        return int(text)
    if events < MIN_EVENTS:
        return 1
    try:  # a pool needs working semaphores, which some sandboxes lack
        import multiprocessing.synchronize  # noqa: F401
    except ImportError:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), MAX_WORKERS))


def worker_app() -> LogSource:
    """The store as this worker opened it (read-only, its own connections)."""
    if _app is None:
        raise RuntimeError("worker_app() is for the work that ordered() gives its workers")
    return _app


def _open(opened_with: dict[str, Any]) -> None:
    from between.engine.app import Homework

    global _app
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    _app = Homework(**opened_with, read_only=True)


def ordered(
    app: LogSource, batches: Iterable[T], work: Callable[[T], R], workers: int
) -> Iterator[R]:
    """``work(batch)`` for each batch, in worker processes that open ``app``'s store
    read-only, yielded in the batches' order. ``work`` must be a module-level function; it
    reads the store through ``worker_app()``."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_open, initargs=(app.opened_with(),)
    ) as pool:
        pending: deque[Future[R]] = deque()
        try:
            for batch in batches:
                pending.append(pool.submit(work, batch))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:  # stopped early (a failure, a closed pipe): what is queued is dropped
            for future in pending:
                future.cancel()
