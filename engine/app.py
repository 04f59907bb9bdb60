"""The application service: every command and query a user can run against a store.

Commands validate their input first, then load the record, let the aggregate decide, and
save its new events atomically. A save that loses a race (someone else wrote the same
record first) reloads and retries, up to ``ATTEMPTS`` times. A write may carry a request
key (``--idempotency-key``): repeating it records nothing and reports the first result.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
)
from eventsourcing.utils import Environment

from engine import validate
from engine.assignments import ADJUSTABLE, NEXT_STEPS, STAGES, Assignment
from engine.clients import Client, client_id
from engine.errors import Conflict, InvalidInput, NotFound, RuleViolation, StoreError
from engine.plugins import Plugins
from engine.readmodel import POSTGRES, SQLITE, ReadModel, hex_id
from engine.recorders import ChainedSQLiteRecorder
from engine.rows import OPEN_STATUSES, with_timeliness
from engine.store import Store

ATTEMPTS = 8
ASSIGNMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://between.invalid/assignment")
META_TABLE = "CREATE TABLE IF NOT EXISTS between_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
STORE_FORMAT = "1"

A = TypeVar("A", Client, Assignment)


@dataclass(frozen=True)
class Outcome:
    """What a write command did: the record as it now stands, and its result."""

    record: dict
    result: str | None = None
    repeated: bool = False


class Homework(Application[UUID]):
    """Between's application: clients and their homework, on one store."""

    name = "between"

    def __init__(
        self,
        store: Store,
        *,
        read_only: bool = False,
        plugins: Plugins | Callable[[], Plugins] | None = None,
        clock: Callable[[], datetime] | None = None,
        _initialising: bool = False,
    ) -> None:
        self.store = store
        self.read_only = read_only
        self.clock = clock or (lambda: datetime.now(UTC))
        self._plugins = plugins
        if store.is_sqlite and not _initialising and not store.path.exists():
            raise StoreError(
                f"no store at {store.path}; create one with 'between init' "
                "(or point --store / BETWEEN_STORE at an existing store)"
            )
        try:
            super().__init__(env=store.settings(read_only=read_only))
        except (OperationalError, InterfaceError) as e:
            raise StoreError(
                f"cannot open the store {store.describe()}: {_first_line(e)}"
            ) from None
        self.dialect = SQLITE if store.is_sqlite else POSTGRES
        self.readmodel = ReadModel(self.mapper, self.dialect, "stored_events")
        if not read_only:
            self.recorder.after_insert = self.readmodel.catch_up
        if not _initialising:
            self._check_format()

    # -- wiring --------------------------------------------------------------------------

    def construct_env(self, name: str, env: Any = None) -> Environment:
        """Settings come only from the store address, never from stray environment."""
        return Environment(name, dict(env or {}))

    def construct_factory(self, env: Environment) -> Any:
        factory = super().construct_factory(env)
        if self.store.is_sqlite and self.read_only:
            # Leave the journal mode alone: a read-only connection cannot switch it to WAL.
            factory.datastore.pool.is_journal_mode_wal = True
        if not self.store.is_sqlite:
            # Our own SQL names tables unqualified: point the search path at the schema.
            options = f"-c search_path={self.store.schema}"
            if self.read_only:
                options += " -c default_transaction_read_only=on"
            factory.datastore.pool.kwargs["options"] = options
        return factory

    def construct_recorder(self) -> Any:
        if self.store.is_sqlite:
            return ChainedSQLiteRecorder(self.factory.datastore)
        from engine.recorders_pg import ChainedPostgresRecorder

        return ChainedPostgresRecorder(self.factory.datastore)

    @property
    def plugins(self) -> Plugins:
        if self._plugins is None:
            from engine.plugins import load_plugins
            from engine.settings import Settings

            self._plugins = load_plugins(Settings.from_environment())
        if callable(self._plugins):
            self._plugins = self._plugins()
        return self._plugins

    @contextmanager
    def writing(self) -> Iterator[Any]:
        """A write transaction on the store (holds SQLite's write lock)."""
        if self.read_only:
            raise StoreError("this store was opened read-only; nothing was written")
        try:
            if self.store.is_sqlite:
                with self.recorder.write() as c:
                    yield c
            else:
                with self.factory.datastore.transaction(commit=True) as c:
                    yield c
        except OperationalError as e:
            raise StoreError(f"the store is busy or unavailable: {_first_line(e)}") from None

    @contextmanager
    def reading(self) -> Iterator[Any]:
        try:
            with self.factory.datastore.transaction(commit=False) as c:
                yield c
        except PersistenceError as e:
            raise StoreError(f"cannot read the store: {_first_line(e)}") from None

    def _check_format(self) -> None:
        try:
            with self.reading() as c:
                c.execute(
                    self.dialect.sql("SELECT value FROM between_meta WHERE key = ?"), ("format",)
                )
                row = c.fetchone()
        except (StoreError, ProgrammingError, PersistenceError) as e:
            raise StoreError(
                f"{self.store.describe()} is not a Between store ({_first_line(e)}); "
                "create one with 'between init'"
            ) from None
        if row is None or row["value"] != STORE_FORMAT:
            raise StoreError(f"{self.store.describe()} has an unknown store format")

    @classmethod
    def initialise(cls, store: Store) -> tuple[Homework, bool]:
        """Create the store's tables once; return the app and whether anything was created."""
        if store.is_sqlite:
            store.path.parent.mkdir(parents=True, exist_ok=True)
        app = cls(store, _initialising=True)
        try:
            app._check_format()
        except StoreError:
            pass
        else:
            return app, False
        app.recorder.create_table()
        with app.writing() as c:
            c.execute(META_TABLE)
            c.execute(
                app.dialect.sql("INSERT INTO between_meta (key, value) VALUES (?, ?)"),
                ("format", STORE_FORMAT),
            )
            app.readmodel.create_tables(c)
        return app, True

    # -- time ----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """The operator's local date (due dates are calendar days)."""
        return self.clock().astimezone().date()

    # -- loading and saving --------------------------------------------------------------

    def _load(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        except (OperationalError, InterfaceError) as e:
            raise StoreError(f"cannot read the store: {_first_line(e)}") from None
        if not isinstance(aggregate, cls):
            return None
        return aggregate

    def _client(self, code: str) -> Client:
        client = self._load(Client, client_id(validate.code(code)))
        if client is None:
            raise NotFound(
                f"no client with code {code!r}; register them with 'between client add {code}'"
            )
        return client

    def _assignment(self, ref: str | UUID) -> Assignment:
        assignment = self._load(Assignment, self.resolve(ref))
        if assignment is None:
            raise NotFound(f"no assignment {ref}")
        return assignment

    def _save(self, *aggregates: Any) -> None:
        if self.read_only:
            raise StoreError("this store was opened read-only; nothing was written")
        try:
            self.save(*aggregates)
        except IntegrityError:
            raise
        except (OperationalError, InterfaceError) as e:
            raise StoreError(
                f"the store is busy or unavailable; nothing was recorded: {_first_line(e)}"
            ) from None

    def _change(
        self,
        load: Callable[[], A],
        command: Callable[[A], str | None],
        request_key: str | None,
        expected_events: tuple[str, ...],
    ) -> Outcome:
        """Load, decide, save; reload and retry when someone else saved first."""
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(random.uniform(0, 0.002 * 2**attempt))  # back off, out of step
            aggregate = load()
            if request_key and request_key in aggregate.request_keys:
                return self._repeat(aggregate, request_key, expected_events)
            result = command(aggregate)
            try:
                self._save(aggregate)
            except IntegrityError:
                continue
            return Outcome(aggregate.detail(), result)
        label = getattr(aggregate, "short_id", None) or f"client {aggregate.code}"
        raise Conflict(
            f"{label} was changed by someone else while this command ran ({ATTEMPTS} attempts); "
            "nothing was recorded — check it and run the command again"
        )

    def _create(self, aggregate: A, request_key: str | None, expected: str) -> Outcome:
        try:
            self._save(aggregate)
        except IntegrityError:
            existing = self._load(type(aggregate), aggregate.id)
            if existing is not None and request_key and request_key in existing.request_keys:
                return self._repeat(existing, request_key, (expected,))
            raise
        return Outcome(aggregate.detail(), str(aggregate.id))

    @staticmethod
    def _repeat(aggregate: Any, request_key: str, expected: tuple[str, ...]) -> Outcome:
        first = aggregate.request_keys[request_key]
        if first["event"] not in expected:
            raise InvalidInput(
                f"idempotency key {request_key!r} was already used for {first['event']} on this "
                "record; use a new key for a different command"
            )
        return Outcome(aggregate.detail(), first["result"], repeated=True)

    # -- client commands -----------------------------------------------------------------

    def register_client(
        self, code: str, name: str, therapist: str, *, actor: str, request_key: str | None = None
    ) -> Outcome:
        meta = self._meta(actor, request_key)
        code = validate.code(code)
        name = validate.text("name", name, limit=200)
        therapist = validate.text("therapist", therapist, limit=200)
        existing = self._load(Client, client_id(code))
        if existing is not None:
            if request_key and request_key in existing.request_keys:
                return self._repeat(existing, request_key, ("ClientRegistered",))
            raise RuleViolation(f"client code {code!r} is already registered; codes are unique")
        client = Client.register(code, name, therapist, **meta)
        try:
            return self._create(client, request_key, "ClientRegistered")
        except IntegrityError:
            raise RuleViolation(
                f"client code {code!r} is already registered; codes are unique"
            ) from None

    def add_collaborator(
        self, code: str, name: str, relationship: str, *, actor: str, request_key: str | None = None
    ) -> Outcome:
        meta = self._meta(actor, request_key)
        name = validate.text("collaborator name", name, limit=200)
        relationship = validate.text("relationship", relationship, limit=200)
        return self._change(
            lambda: self._client(code),
            lambda c: c.add_collaborator(name, relationship, **meta),
            request_key,
            ("CollaboratorAdded",),
        )

    def change_contacts(
        self,
        code: str,
        person: str,
        contacts: dict[str, str],
        *,
        actor: str,
        request_key: str | None = None,
    ) -> Outcome:
        meta = self._meta(actor, request_key)
        if not contacts:
            raise InvalidInput("give at least one contact detail, e.g. --email or --phone")
        contacts = {k: validate.text(k, v, limit=320) for k, v in contacts.items()}
        return self._change(
            lambda: self._client(code),
            lambda c: c.change_contacts(person, contacts, **meta),
            request_key,
            ("ContactDetailsChanged",),
        )

    def discharge(
        self, code: str, reason: str, *, actor: str, request_key: str | None = None
    ) -> Outcome:
        meta = self._meta(actor, request_key)
        reason = validate.text("reason", reason, limit=2000)

        def command(client: Client) -> None:
            with self.reading() as c:
                open_ones = self.readmodel.open_assignments(c, client.id.hex)
            client.discharge(reason, open_ones, **meta)

        return self._change(lambda: self._client(code), command, request_key, ("ClientDischarged",))

    # -- assignment commands -------------------------------------------------------------

    def propose(
        self,
        code: str,
        task_type: str,
        *,
        instructions: str,
        rationale: str,
        stage: str,
        difficulty: int,
        due: str,
        expected_entries: int,
        parameters: dict[str, Any] | None = None,
        steps_up_from: str | None = None,
        observers: list[str] | None = None,
        actor: str,
        request_key: str | None = None,
    ) -> Outcome:
        meta = self._meta(actor, request_key)
        kind = self.plugins.task_type(task_type)
        fields = {
            "instructions": validate.text("instructions", instructions),
            "rationale": validate.text("rationale", rationale),
            "stage": validate.choice("stage", stage, STAGES),
            "difficulty": validate.integer("difficulty", difficulty, 1, 10),
            "due": validate.due_date(due, self.today()),
            "expected_entries": validate.integer("expected entries", expected_entries, 1, 1000),
            "parameters": kind.validate_parameters(
                validate.payload("parameters", parameters or {})
            ),
            "observers": [validate.text("observer", o, limit=200) for o in observers or []],
        }
        client = self._client(code)
        assignment_id = uuid5(ASSIGNMENT_NAMESPACE, request_key) if request_key else None
        if assignment_id:
            existing = self._load(Assignment, assignment_id)
            if existing is not None:
                return self._repeat(existing, request_key, ("AssignmentProposed",))
        client.require_active("propose homework")
        self._check_observers(client, fields["observers"])
        previous = None
        if steps_up_from:
            previous = self._assignment(steps_up_from)
            if previous.client_id != client.id:
                raise RuleViolation(
                    f"assignment {previous.short_id} belongs to another client; a step-up "
                    "follows on from the same client's homework"
                )
        assignment = Assignment.propose(
            id=assignment_id,
            client_id=client.id,
            client=client.code,
            task_type=kind.name,
            steps_up_from=previous.id if previous else None,
            **fields,
            **meta,
        )
        return self._create(assignment, request_key, "AssignmentProposed")

    def adjust(
        self, ref: str, changes: dict[str, Any], *, actor: str, request_key: str | None = None
    ) -> Outcome:
        meta = self._meta(actor, request_key)
        unknown = set(changes) - set(ADJUSTABLE)
        if unknown or not changes:
            raise InvalidInput(
                f"nothing to adjust{': unknown ' + ', '.join(sorted(unknown)) if unknown else ''}"
                f"; adjustable: {', '.join(ADJUSTABLE)}"
            )
        clean = self._clean_changes(changes)

        def command(a: Assignment) -> None:
            final = dict(clean)
            if "parameters" in final:
                merged = {**a.parameters, **final["parameters"]}
                merged = {k: v for k, v in merged.items() if v not in (None, "")}
                final["parameters"] = self.plugins.task_type(a.task_type).validate_parameters(
                    merged
                )
            if "observers" in final:
                client = self._load(Client, a.client_id)
                self._check_observers(client, final["observers"])
            a.adjust(final, **meta)

        return self._change(
            lambda: self._assignment(ref), command, request_key, ("AssignmentAdjusted",)
        )

    def agree(
        self,
        ref: str,
        *,
        confidence: int | None = None,
        obstacles: str = "",
        actor: str,
        request_key: str | None = None,
    ) -> Outcome:
        meta = self._meta(actor, request_key)
        if confidence is not None:
            confidence = validate.integer("confidence", confidence, 0, 10)
        obstacles = validate.text("obstacles", obstacles, required=False)
        return self._change(
            lambda: self._assignment(ref),
            lambda a: a.agree(confidence, obstacles, **meta),
            request_key,
            ("AssignmentAgreed",),
        )

    def decline(
        self, ref: str, *, reason: str, actor: str, request_key: str | None = None
    ) -> Outcome:
        meta = self._meta(actor, request_key)
        reason = validate.text("reason", reason)
        return self._change(
            lambda: self._assignment(ref),
            lambda a: a.decline(reason, **meta),
            request_key,
            ("AssignmentDeclined",),
        )

    def submit(
        self,
        ref: str,
        fields: dict[str, Any],
        *,
        by: str = "client",
        occurred_at: str | datetime | None = None,
        actor: str,
        request_key: str | None = None,
    ) -> Outcome:
        meta = self._meta(actor, request_key)
        validate.payload("entry fields", fields)
        by = validate.text("by", by or "client", limit=200)
        when = validate.moment("occurred at", occurred_at, meta["timestamp"])

        def command(a: Assignment) -> str:
            a.require_entries_allowed()
            kind = self.plugins.task_type(a.task_type)
            clean = kind.validate_entry(fields, a.parameters)
            if by != "client":
                client = self._load(Client, a.client_id)
                if client is None or by not in client.collaborators:
                    raise RuleViolation(
                        f"{by!r} is not a collaborator of client {a.row['client']}; entries come "
                        "from the client or a collaborator they added"
                    )
            return str(a.submit(by, when, clean, kind.entries.version, **meta))

        return self._change(
            lambda: self._assignment(ref), command, request_key, ("EntrySubmitted",)
        )

    def review(
        self,
        ref: str,
        *,
        quantity: int,
        quality: int,
        difficulty: int,
        next_step: str,
        obstacles: str = "",
        notes: str = "",
        next_due: str | None = None,
        actor: str,
        request_key: str | None = None,
    ) -> Outcome:
        meta = self._meta(actor, request_key)
        ratings = {
            "quantity": validate.integer("quantity", quantity, 0, 4),
            "quality": validate.integer("quality", quality, 0, 4),
            "difficulty": validate.integer("difficulty", difficulty, 0, 4),
            "obstacles": validate.text("obstacles", obstacles, required=False),
            "notes": validate.text("notes", notes, required=False),
        }
        next_step = validate.choice("next step", next_step, NEXT_STEPS)
        if next_due is not None:
            if next_step != "continue":
                raise InvalidInput("a new due date goes with next step 'continue' only")
            next_due = validate.due_date(next_due, self.today())
        return self._change(
            lambda: self._assignment(ref),
            lambda a: a.review(next_step, next_due, **ratings, **meta),
            request_key,
            ("AssignmentReviewed",),
        )

    def cancel(
        self, ref: str, *, reason: str, actor: str, request_key: str | None = None
    ) -> Outcome:
        meta = self._meta(actor, request_key)
        reason = validate.text("reason", reason)
        return self._change(
            lambda: self._assignment(ref),
            lambda a: a.cancel(reason, **meta),
            request_key,
            ("AssignmentCancelled",),
        )

    def close_assignment(
        self, ref: str, *, reason: str = "done", actor: str, request_key: str | None = None
    ) -> Outcome:
        meta = self._meta(actor, request_key)
        reason = validate.text("reason", reason)
        return self._change(
            lambda: self._assignment(ref),
            lambda a: a.close(reason, **meta),
            request_key,
            ("AssignmentClosed",),
        )

    def _meta(self, actor: str | None, request_key: str | None) -> dict[str, Any]:
        return {
            "actor": validate.actor(actor),
            "request_key": validate.request_key(request_key),
            "timestamp": self.now(),
        }

    def _clean_changes(self, changes: dict[str, Any]) -> dict[str, Any]:
        checks: dict[str, Callable[[Any], Any]] = {
            "instructions": lambda v: validate.text("instructions", v),
            "rationale": lambda v: validate.text("rationale", v),
            "stage": lambda v: validate.choice("stage", v, STAGES),
            "difficulty": lambda v: validate.integer("difficulty", v, 1, 10),
            "due": lambda v: validate.due_date(v, self.today()),
            "expected_entries": lambda v: validate.integer("expected entries", v, 1, 1000),
            "parameters": lambda v: validate.payload("parameters", dict(v)),
            "observers": lambda v: [validate.text("observer", o, limit=200) for o in v],
        }
        return {key: checks[key](value) for key, value in changes.items()}

    @staticmethod
    def _check_observers(client: Client | None, observers: list[str]) -> None:
        unknown = [o for o in observers if client is None or o not in client.collaborators]
        if unknown:
            raise RuleViolation(
                f"{', '.join(unknown)} not a collaborator of this client; add them first with "
                "'between client collaborator'"
            )

    # -- queries -------------------------------------------------------------------------

    def resolve(self, ref: str | UUID) -> UUID:
        """An assignment id from a unique prefix of it (dashes optional)."""
        if isinstance(ref, UUID):
            return ref
        prefix = ref.strip().lower().replace("-", "")
        if not prefix or any(ch not in "0123456789abcdef" for ch in prefix) or len(prefix) > 32:
            raise InvalidInput(f"{ref!r} is not an assignment id (hex digits, e.g. 3f2a9c1e)")
        self.refresh()
        with self.reading() as c:
            ids = self.readmodel.assignment_ids(c, prefix)
        if not ids:
            raise NotFound(f"no assignment id starts with {ref!r}; see 'between list'")
        if len(ids) > 1:
            shown = ", ".join(i[:12] for i in ids[:5])
            raise InvalidInput(f"{ref!r} matches several assignments ({shown}…); give more digits")
        return UUID(ids[0])

    def refresh(self) -> None:
        """Bring the read model up to the log's head (a no-op after our own writes)."""
        if self.read_only:
            return
        with self.reading() as c:
            behind = self.readmodel.position(c) < (self.recorder.max_notification_id() or 0)
        if behind:
            with self.writing() as c:
                self.readmodel.catch_up(c)

    def rebuild(self) -> int:
        """Drop the read model and fold the whole log again; return the events applied."""
        with self.writing() as c:
            self.readmodel.reset(c)
        total = 0
        while True:
            with self.writing() as c:
                done = self.readmodel.catch_up(c, limit=20_000)
            total += done
            if done < 20_000:
                return total

    def list_assignments(
        self,
        *,
        client: str | None = None,
        status: str | None = None,
        stage: str | None = None,
        overdue: bool = False,
        due_before: str | None = None,
    ) -> list[dict]:
        today = self.today()
        filters: dict[str, Any] = {}
        if client:
            filters["client_id"] = client_id(validate.code(client)).hex
        if status:
            filters["statuses"] = (
                validate.choice(
                    "status",
                    status,
                    ("proposed", "agreed", "declined", "cancelled", "closed", "open"),
                ),
            )
            if status == "open":
                filters["statuses"] = OPEN_STATUSES
        if stage:
            filters["stage"] = validate.choice("stage", stage, STAGES)
        if due_before:
            filters["due_before"] = validate.due_date(due_before, today)
        if overdue:
            filters["overdue_on"] = today.isoformat()
        self.refresh()
        with self.reading() as c:
            rows = self.readmodel.assignments(c, **filters)
        return [with_timeliness(r, today) for r in rows]

    def agenda(self, code: str) -> dict:
        """What to go over at the start of this client's next session."""
        today = self.today()
        self.refresh()
        with self.reading() as c:
            client = self.readmodel.client(c, validate.code(code))
            if client is None:
                raise NotFound(f"no client with code {code!r}")
            rows = self.readmodel.assignments(c, client_id=hex_id(client["id"]))
        rows = [with_timeliness(r, today) for r in rows]
        last_review = max((r["last_review"]["at"] for r in rows if r["last_review"]), default="")
        return {
            "client": client["code"],
            "as_of": today.isoformat(),
            "last_review_at": last_review or None,
            "to_review": [r for r in rows if r["status"] == "agreed"],
            "awaiting_agreement": [r for r in rows if r["status"] == "proposed"],
            "declined_since_last_review": [
                r for r in rows if r["status"] == "declined" and r["declined_at"] > last_review
            ],
        }

    def show(self, ref: str) -> dict:
        """One assignment in full: contents, entries, reviews, summary and follow-ups."""
        assignment = self._assignment(ref)
        with self.reading() as c:
            follow_ups = self.readmodel.assignments(c, steps_up_from=assignment.id.hex)
        return self.describe_assignment(assignment, [r["id"] for r in follow_ups])

    def describe_assignment(
        self, assignment: Assignment, follow_ups: list[str], today: date | None = None
    ) -> dict:
        """The ``show`` shape of an assignment, with timeliness as of ``today``."""
        detail = with_timeliness(assignment.detail(), today or self.today())
        entries = assignment.entries
        try:
            kind = self.plugins.task_type(assignment.task_type)
        except InvalidInput:
            summary = {"entries": len(entries)}
            completion = {
                "complete": None,
                "rule": f"task type {assignment.task_type!r} not loaded",
            }
        else:
            summary = kind.summarise(entries, assignment.parameters)
            completion = kind.completion(entries, detail["expected_entries"], assignment.parameters)
        return {**detail, "summary": summary, "completion": completion, "follow_ups": follow_ups}

    def show_client(self, code: str) -> dict:
        client = self._client(code)
        self.refresh()
        with self.reading() as c:
            rows = self.readmodel.assignments(c, client_id=client.id.hex)
        return {**client.detail(), "assignments": [with_timeliness(r, self.today()) for r in rows]}

    def list_clients(self, status: str | None = None) -> list[dict]:
        if status:
            validate.choice("status", status, ("active", "discharged"))
        self.refresh()
        with self.reading() as c:
            return self.readmodel.clients(c, status)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
