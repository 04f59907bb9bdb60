"""Queries: what the store says now, from the read model or the records themselves.

Also the finders every command starts from (a client by code, an assignment by a prefix of
its id). Composed into ``Homework``, which provides the store wiring declared below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from between.engine import validate
from between.engine.contracts.guarded import described
from between.engine.errors import InvalidInput, NotFound
from between.engine.reading import queries
from between.engine.reading.clock_zones import ClinicTime, Days, local_today
from between.engine.reading.views import RESTRICTED, with_timeliness

if TYPE_CHECKING:
    from between.engine.aggregates.assignments import Assignment
    from between.engine.aggregates.clients import Client
    from between.engine.folds.assignment_state import AssignmentState
    from between.engine.folds.client_state import ClientState
    from between.engine.folds.read_model import ReadModel
    from between.engine.hooks.loading import Plugins
    from between.engine.storage.dialect import Dialect
    from between.engine.storage.store import Store
    from between.engine.work.unit import UnitOfWork


class Reading:
    """Queries over one store, and the finders commands start from."""

    # Provided by ``Homework``, the store wiring:
    store: Store
    read_only: bool
    clock: Callable[[], datetime]
    readmodel: ReadModel
    recorder: Any
    work: UnitOfWork
    reading: Callable[[], AbstractContextManager[Any]]
    writing: Callable[[], AbstractContextManager[Any]]

    if TYPE_CHECKING:  # properties of ``Homework``

        @property
        def dialect(self) -> Dialect: ...
        @property
        def plugins(self) -> Plugins: ...

    # -- time ----------------------------------------------------------------------------

    #: The clinic's time defaults (``[clinic]``): each command and the dispatcher set them from
    #: their settings; an application made without them keeps none (the server's local time).
    clinic: ClinicTime = ClinicTime()

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """The date in the clinic's zone (the server's local date when it names none)."""
        return local_today(self.clock(), self.clinic.zone)

    def days(self) -> Days:
        """Calendar days now, in each client's zone (due dates are the client's days)."""
        return Days(self.clock(), self.clinic.zone)

    def client_preferences(self, client: UUID | str | None) -> dict[str, str | None]:
        """The zone, language, reminder time and quiet hours of the client with this id or
        code: theirs, else the clinic's (from the read model; no record is loaded)."""
        if isinstance(client, str):
            client = self.client_id(client) if client else None
        with self.reading() as c:
            row = self.readmodel.client_by_id(c, client) if client else None
        return self.clinic.of(row)

    def client_zone(self, client: UUID | str | None) -> str | None:
        """The zone of the client with this id or code: theirs, else the clinic's (None: the
        server's local time)."""
        return self.client_preferences(client)["timezone"]

    def client_today(self, client: UUID | str | None) -> date:
        """Today in the zone of the client with this id or code (the clinic's if unknown)."""
        return local_today(self.clock(), self.client_zone(client))

    # -- finding records -----------------------------------------------------------------

    def client_id(self, code: str) -> UUID | None:
        """The id of the client with this code (from the read model), if any."""
        code = validate.code(code)
        unsaved = self.work.unsaved_client(code)
        if unsaved:
            return unsaved
        self.refresh()
        with self.reading() as c:
            row = self.readmodel.client(c, code)
        return UUID(row["id"]) if row else None

    def _client(self, ref: str) -> Client:
        """A client by code, or by id (the only handle left once a client is erased)."""
        from between.engine.aggregates.clients import Client

        try:
            found: UUID | None = UUID(ref)
        except ValueError:
            found = self.client_id(ref)
        client = self.work.load(Client, found) if found else None
        if client is None:
            raise no_client(ref)
        return client

    def _assignment(self, ref: str | UUID) -> Assignment:
        from between.engine.aggregates.assignments import Assignment

        assignment = self.work.load(Assignment, self.resolve(ref))
        if assignment is None:
            raise NotFound("no assignment %(ref)s", ref=ref)
        return assignment

    def resolve(self, ref: str | UUID) -> UUID:
        """An assignment id from a unique prefix of it (dashes optional)."""

        def starting_with(prefix: str) -> list[str]:
            self.refresh()
            with self.reading() as c:
                return self.readmodel.assignment_ids(c, prefix)

        return resolve(ref, starting_with)

    # -- the read model ------------------------------------------------------------------

    def refresh(self) -> None:
        """Bring the read model up to the log's head (a no-op after our own writes)."""
        if self.read_only:
            return
        with self.reading() as c:
            behind = self.readmodel.position(c) < (self.recorder.max_notification_id() or 0)
        if behind:
            with self.writing() as c:
                self.readmodel.catch_up(c)

    def rebuild(
        self, *, actor: str | None = None, progress: Callable[[int], Any] | None = None
    ) -> int:
        """Drop the read model and fold the whole log again; return the events applied.
        When the store requires operators, ``actor`` must be one allowed to rebuild.
        ``progress`` is told how many more events were applied, every 5,000."""
        self.work.permit(actor, "rebuild")
        with self.writing() as c:
            self.readmodel.reset(c)
        total, chunk, batch = 0, 50_000, 5_000  # a transaction: writers wait at most a chunk
        while True:
            in_chunk = 0
            with self.writing() as c:
                while in_chunk < chunk:
                    done = self.readmodel.catch_up(c, batch=batch, limit=batch)
                    in_chunk += done
                    if progress and done:
                        progress(done)
                    if done < batch:
                        break
            total += in_chunk
            if in_chunk < chunk:
                return total

    # -- queries -------------------------------------------------------------------------

    def list_assignments(self, limit: int | None = None, **options: Any) -> list[dict]:
        """``between list`` (options: client, status, stage, overdue, due_before), at most
        ``limit`` rows."""
        self.refresh()
        with self.reading() as c:
            return queries.list_assignments(
                self.readmodel, c, days=self.days(), limit=limit, **options
            )

    def count_assignments(self, **options: Any) -> int:
        """How many rows ``list`` with these options has in all."""
        self.refresh()
        with self.reading() as c:
            return queries.count_assignments(self.readmodel, c, days=self.days(), **options)

    def stream_assignments(self, **options: Any) -> Iterator[dict]:
        """Every row ``list`` with these options has, a page at a time."""
        self.refresh()
        with self.reading() as c:
            yield from queries.stream_assignments(self.readmodel, c, days=self.days(), **options)

    def agenda(self, code: str) -> dict:
        """What to go over at the start of this client's next session."""
        self.refresh()
        with self.reading() as c:
            return queries.agenda(self.readmodel, c, code, days=self.days())

    def list_clients(self, status: str | None = None, limit: int | None = None) -> list[dict]:
        self.refresh()
        with self.reading() as c:
            return queries.list_clients(self.readmodel, c, status, limit)

    def count_clients(self, status: str | None = None) -> int:
        self.refresh()
        with self.reading() as c:
            return queries.count_clients(self.readmodel, c, status)

    def stream_clients(self, status: str | None = None) -> Iterator[dict]:
        self.refresh()
        with self.reading() as c:
            yield from queries.stream_clients(self.readmodel, c, status)

    def show_client(self, code: str) -> dict:
        client = self._client(code)
        self.refresh()
        with self.reading() as c:
            rows = self.readmodel.assignments(c, client_id=client.id.hex)
            listed = self.readmodel.client_by_id(c, client.id)
        return client_detail(client, rows, self.days().of(client.row.get("timezone")), listed)

    def show(self, ref: str) -> dict:
        """One assignment in full: contents, entries, reviews, summary and follow-ups."""
        assignment = self._assignment(ref)
        with self.reading() as c:
            follow_ups = self.readmodel.assignments(c, steps_up_from=assignment.id.hex)
        return self.describe_assignment(assignment, [r["id"] for r in follow_ups])

    def review_brief(self, ref: str) -> dict:
        """What starting the review of one homework needs (see ``brief``)."""
        return brief(self.show(ref))

    def decline_reason(self, ref: str) -> str | None:
        """Why the homework was declined (None if it was not): from its record, as the row
        does not hold it."""
        return self._assignment(ref).decline_reason

    def describe_assignment(
        self, assignment: AssignmentState, follow_ups: list[str], today: date | None = None
    ) -> dict:
        """The ``show`` shape of an assignment, with timeliness as of ``today``."""
        today = today or self.client_today(assignment.client_id)  # the client's own day
        return describe_assignment(self.plugins, assignment, follow_ups, today)


def resolve(ref: str | UUID, starting_with: Callable[[str], list[str]]) -> UUID:
    """An assignment id from a unique prefix of it (dashes optional); ``starting_with``
    gives the ids (32 hex digits) that start with a prefix, a few at most."""
    if isinstance(ref, UUID):
        return ref
    prefix = ref.strip().lower().replace("-", "")
    if len(prefix) == 32:
        try:
            return UUID(prefix)
        except ValueError:
            pass
    if not prefix or any(ch not in "0123456789abcdef" for ch in prefix) or len(prefix) > 32:
        raise InvalidInput("%(ref)r is not an assignment id (hex digits, e.g. 3f2a9c1e)", ref=ref)
    ids = starting_with(prefix)
    if not ids:
        raise NotFound("no assignment id starts with %(ref)r; see 'between list'", ref=ref)
    if len(ids) > 1:
        shown = ", ".join(i[:12] for i in ids[:5])
        raise InvalidInput(
            "%(ref)r matches several assignments (%(shown)s…); give more digits",
            ref=ref,
            shown=shown,
        )
    return UUID(ids[0])


def no_client(ref: str) -> NotFound:
    return NotFound(
        "no client with code %(ref)r; register them with 'between client add %(code)s'",
        ref=ref,
        code=ref,
    )


def client_detail(
    client: ClientState, rows: list[dict], today: date, listed: dict | None = None
) -> dict:
    """``client show``: the client, and their homework as list rows. A reader who may not
    open personal fields still sees the code, as ``listed`` (the read model's row) keeps it."""
    detail = client.detail()
    if listed and detail.get("code") == RESTRICTED:
        detail["code"] = listed["code"]
    return {**detail, "assignments": [with_timeliness(r, today) for r in rows]}


def brief(detail: dict) -> dict:
    """What starting the review of one homework needs, from its ``show`` detail: the task
    type's summary figures, its completion, the last review (with what got in the way) and the
    obstacles the client anticipated: the latest agreement's (``anticipated_obstacles``, as
    before) and each agreement's, oldest first (``anticipated_obstacles_list``: a ``modify``
    review sends homework back for agreement, and every one is kept); and the notes the client
    (or a collaborator) sent since the last review (``client_notes_since_review``)."""
    reviews = detail["review_list"]
    since = reviews[-1]["at"] if reviews else ""
    return {
        "client_notes_since_review": [
            n for n in detail.get("client_notes_list") or () if n["at"] > since
        ],
        "summary": detail["summary"],
        "completion": detail["completion"],
        "last_review": reviews[-1] if reviews else None,
        "anticipated_obstacles": (detail.get("agreement") or {}).get("obstacles") or None,
        "anticipated_obstacles_list": [
            {"at": a["at"], "obstacles": a["obstacles"]}
            for a in detail.get("agreements") or ()
            if a["obstacles"]
        ],
    }


def describe_assignment(
    plugins: Plugins, assignment: AssignmentState, follow_ups: list[str], today: date
) -> dict:
    """The ``show`` shape of an assignment (the aggregate, or the light path's plain state),
    with timeliness as of ``today``."""
    detail = with_timeliness(assignment.detail(), today)
    entries = assignment.entries
    if assignment.erased:
        summary = {"entries": len(entries), "erased": True}
        completion = {"complete": None, "rule": "the client's personal data was erased"}
    elif assignment.instructions == RESTRICTED:
        summary = {"entries": len(entries), "restricted": True}
        completion = {"complete": None, "rule": "this reader may not read client keys"}
    elif (kind := plugins.task_types.get(assignment.task_type)) is None:
        summary = {"entries": len(entries)}
        completion = {
            "complete": None,
            "rule": f"task type {assignment.task_type!r} not loaded",
        }
    # a plugin's own code: a fault in it marks its part unavailable (engine.contracts.guarded)
    else:
        summary, completion = described(
            plugins, kind, entries, detail["expected_entries"], assignment.parameters
        )
    return {**detail, "summary": summary, "completion": completion, "follow_ups": follow_ups}
