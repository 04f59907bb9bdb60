"""Validating resources with the FHIR R4B models of ``fhir.resources``.

Validation is most of an export's work, so a large export hands it to worker processes in
batches while the main process goes on reading the log and writing; results are checked in
order, so the first invalid resource is always the same one. Either way, an invalid resource
stops the export with one line naming its record and the element.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context

from between.engine.errors import BetweenError

BATCH = 250  # resources sent to a worker at a time
AUTO_FROM = 5000  # events: below this, validating in process is quicker than starting workers
MAX_WORKERS = 8


class InvalidResource(BetweenError):
    """A resource does not validate against FHIR; nothing was written."""


def problem(kind: str, text: str) -> str | None:
    """None if ``text`` is a valid ``kind``, else ``Element.path: what is wrong``."""
    from fhir.resources.R4B import get_fhir_model_class  # heavy: only an export loads it
    from pydantic import ValidationError

    try:
        get_fhir_model_class(kind).model_validate_json(text)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join([kind, *(str(p) for p in first["loc"])])
        return f"{where}: {first['msg'].removeprefix('Value error, ').rstrip('.')}"
    return None


def _first_problem(batch: list[tuple[str, str]]) -> tuple[int, str] | None:
    for i, (kind, text) in enumerate(batch):
        found = problem(kind, text)
        if found is not None:
            return i, found
    return None


def workers_for(events: int, setting: str | None = None) -> int:
    """How many worker processes: ``setting`` (``BETWEEN_FHIR_WORKERS``) if given, else one
    per spare CPU (up to 8) for an export of at least ``AUTO_FROM`` events, else none."""
    if setting is not None and setting.strip():
        try:
            return max(0, int(setting))
        except ValueError:
            from between.engine.errors import InvalidInput

            raise InvalidInput(
                "BETWEEN_FHIR_WORKERS must be a whole number, not %(setting)s",
                setting=repr(setting),
            ) from None
    if events < AUTO_FROM:
        return 0
    return max(0, min((os.cpu_count() or 1) - 1, MAX_WORKERS))


class Validator:
    """Checks resources in order: in this process, or in ``workers`` processes."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers
        self.pool = (
            ProcessPoolExecutor(workers, mp_context=get_context("spawn")) if workers else None
        )
        self.batch: list[tuple[str, str]] = []
        self.about: list[str] = []
        self.pending: deque[tuple[Future, list[tuple[str, str]], list[str]]] = deque()

    def check(self, kind: str, text: str, about: str) -> None:
        """Validate one resource (``about`` names its record), now or soon."""
        if self.pool is None:
            found = problem(kind, text)
            if found is not None:
                raise invalid(kind, about, found)
            return
        self.batch.append((kind, text))
        self.about.append(about)
        if len(self.batch) >= BATCH:
            self._send()

    def _send(self) -> None:
        assert self.pool is not None
        future = self.pool.submit(_first_problem, self.batch)
        self.pending.append((future, self.batch, self.about))
        self.batch, self.about = [], []
        while len(self.pending) > 2 * self.workers:
            self._collect()

    def _collect(self) -> None:
        future, batch, about = self.pending.popleft()
        found = future.result()
        if found is not None:
            i, where = found
            raise invalid(batch[i][0], about[i], where)

    def finish(self) -> None:
        """Wait for every resource sent; raise for the first invalid one."""
        if self.pool is None:
            return
        if self.batch:
            self._send()
        while self.pending:
            self._collect()
        self.close()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def invalid(kind: str, about: str, found: str) -> InvalidResource:
    """The one-line error for a resource of ``about`` that has ``found`` wrong."""
    where, _, message = found.partition(": ")
    return InvalidResource(
        "the FHIR %(kind)s of %(about)s is invalid at %(where)s: %(problem)s; nothing was written",
        kind=kind,
        about=about,
        where=where,
        problem=message,
    )
