"""The application service: every command and query a user can run against a store.

Commands validate their input first, then load the record, let the aggregate decide, and
save its new events atomically. A save that loses a race (someone else wrote the same
record first) reloads and retries, up to ``ATTEMPTS`` times. A write may carry a request
key (``--idempotency-key``): repeating it records nothing and reports the first result.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
)
from eventsourcing.utils import Environment

from between.engine import queries, validate
from between.engine.assignments import ADJUSTABLE, NEXT_STEPS, Assignment
from between.engine.clients import Client, new_client_id
from between.engine.errors import Conflict, InvalidInput, NotFound, RuleViolation, StoreError
from between.engine.keys import (
    KeyStore,
    PostgresKeys,
    SQLiteKeys,
    check_master_key,
    decode_key,
    default_key_file,
    encode_key,
    find_master_key,
    key_check,
    new_key,
    write_key_file,
)
from between.engine.notifications import Notification
from between.engine.operators import OPERATORS_ID, Operators
from between.engine.plugins import Plugins
from between.engine.queries import POSTGRES, SQLITE, Dialect
from between.engine.readmodel import ReadModel
from between.engine.recorders import ChainedSQLiteRecorder
from between.engine.sealing import SealingMapper
from between.engine.store import Store
from between.engine.views import STAGES, with_timeliness

ATTEMPTS = 8
RECENT = 256  # aggregates kept in memory after a save (fast-forwarded on the next load)
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
        key_file: Path | None = None,
        environ: dict[str, str] | None = None,
        key_optional: bool = False,
        _initialising: bool = False,
    ) -> None:
        self.store = store
        self.read_only = read_only
        self.clock = clock or (lambda: datetime.now(UTC))
        self._plugins = plugins
        self._key_file = key_file
        self._environ = os.environ if environ is None else environ
        self._initialising = _initialising
        self._key_optional = key_optional
        self._bulk: _Bulk | None = None
        self._recent: dict[UUID, Any] = {}
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
        self.readmodel = ReadModel(self.mapper, self.dialect, "stored_events")
        if not read_only:
            self.recorder.after_insert = self.readmodel.after_insert

    def close(self) -> None:
        if hasattr(self, "keys"):
            self.keys.backend.close()
        super().close()

    # -- wiring --------------------------------------------------------------------------

    @property
    def dialect(self) -> Dialect:
        return SQLITE if self.store.is_sqlite else POSTGRES

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

    def construct_mapper(self) -> Any:
        """Seal personal fields with client keys; encrypt whole states if the store is."""
        self.meta = {} if self._initialising else self._read_meta()
        master, cipher = None, None
        if self.meta.get("encrypted") == "yes":
            try:
                master = find_master_key(self.meta["store_id"], dict(self._environ), self._key_file)
            except StoreError as missing:
                if not self._key_optional:
                    raise
                cipher = LockedCipher(str(missing))  # enough to verify the chain, not to read
            else:
                check_master_key(master, self.meta["key_check"])
                from eventsourcing.cryptography import AESCipher

                cipher = AESCipher(Environment(env={"CIPHER_KEY": encode_key(master)}))
        self.keys = KeyStore(self._key_backend(), master)
        return SealingMapper(self.construct_transcoder(), cipher=cipher, keys=self.keys)

    def construct_recorder(self) -> Any:
        if self.store.is_sqlite:
            return ChainedSQLiteRecorder(self.factory.datastore)
        from between.engine.recorders_pg import ChainedPostgresRecorder

        return ChainedPostgresRecorder(self.factory.datastore)

    def _key_backend(self) -> Any:
        if self.store.is_sqlite:
            return SQLiteKeys(self.store.path.with_suffix(".keys"), read_only=self.read_only)
        return PostgresKeys(self.factory.datastore)

    @property
    def plugins(self) -> Plugins:
        if self._plugins is None:
            from between.engine.plugins import load_plugins
            from between.engine.settings import Settings

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

    def _read_meta(self) -> dict[str, str]:
        try:
            with self.reading() as c:
                c.execute("SELECT key, value FROM between_meta")
                meta = {r["key"]: r["value"] for r in c.fetchall()}
        except StoreError as e:
            raise StoreError(
                f"{self.store.describe()} is not a Between store ({e}); "
                "create one with 'between init'"
            ) from None
        if meta.get("format") != STORE_FORMAT:
            raise StoreError(f"{self.store.describe()} has an unknown store format")
        return meta

    @classmethod
    def initialise(
        cls,
        store: Store,
        *,
        encrypt: bool = False,
        key_file: Path | None = None,
        environ: dict[str, str] | None = None,
    ) -> tuple[dict[str, str], Path | None]:
        """Create the store once. Returns its settings and where a new key file was written
        (None if none was). Running it again on an existing store changes nothing."""
        environ = dict(os.environ if environ is None else environ)
        if store.is_sqlite:
            store.path.parent.mkdir(parents=True, exist_ok=True)
        app = cls(store, _initialising=True, environ=environ)
        try:
            existing = app._read_meta()
        except StoreError:
            existing = None
        if existing is not None:
            app.close()
            if encrypt and existing.get("encrypted") != "yes":
                raise RuleViolation(
                    f"{store.describe()} already exists unencrypted; encryption is chosen when a "
                    "store is created (create a new one and copy with 'between rekey')"
                )
            return {**existing, "created": "no"}, None
        meta = {"format": STORE_FORMAT, "store_id": uuid4().hex, "encrypted": "no"}
        written = None
        if encrypt:
            if environ.get("BETWEEN_KEY"):
                master = decode_key(environ["BETWEEN_KEY"], "BETWEEN_KEY")
            else:
                master = new_key()
                written = key_file or (
                    Path(environ["BETWEEN_KEY_FILE"]) if environ.get("BETWEEN_KEY_FILE") else None
                )
                written = written or default_key_file(meta["store_id"])
                write_key_file(written, master)
            meta.update(encrypted="yes", key_check=key_check(master))
        app.recorder.create_table()
        app._key_backend().create()
        with app.writing() as c:
            c.execute(META_TABLE)
            for key, value in meta.items():
                c.execute(
                    app.dialect.sql("INSERT INTO between_meta (key, value) VALUES (?, ?)"),
                    (key, value),
                )
            app.readmodel.create_tables(c)
        app.close()
        return {**meta, "created": "yes"}, written

    # -- time ----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """The operator's local date (due dates are calendar days)."""
        return self.clock().astimezone().date()

    # -- loading and saving --------------------------------------------------------------

    @contextmanager
    def bulk(self, events_per_transaction: int = 1000) -> Iterator[None]:
        """Save many commands' events per transaction (imports, the benchmark generator).

        Commands run exactly as usual — validated, decided by the aggregates — but their
        aggregates are kept in memory and saved together once ``events_per_transaction``
        events are pending, and at the end. Nothing else may write the same records meanwhile.
        """
        self._bulk = _Bulk(events_per_transaction)
        self.keys.deferred = []
        try:
            yield
            self._flush()
        finally:
            self._bulk = None
            self.keys.deferred = None

    def _flush(self) -> None:
        bulk = self._bulk
        self.keys.flush()
        if bulk and bulk.pending:
            self.save(*[a for a in bulk.aggregates.values() if a.pending_events])
            bulk.pending = 0
            for stale in list(bulk.aggregates)[: -bulk.keep]:  # keep the most recent in memory
                del bulk.aggregates[stale]

    def save(self, *aggregates: Any, **kwargs: Any) -> list:
        """Save the aggregates' new events in one transaction (no snapshots, no notify hooks;
        skips eventsourcing's runtime protocol checks, which cost ~10 µs an aggregate)."""
        processing = ProcessingEvent()
        for aggregate in aggregates:
            processing.events.extend(aggregate.collect_events())
            processing.aggregates[aggregate.id] = aggregate
        processing.saved_kwargs.update(kwargs)
        return self._record(processing)

    def _record(self, processing_event: ProcessingEvent) -> list:
        """Save events (and tracking) in one transaction, handing the domain events to the
        read model so that it need not read them back."""
        return self.events.put(
            processing_event.events,
            tracking=processing_event.tracking,
            new_events=processing_event.events,
            **processing_event.saved_kwargs,
        )

    def _load(self, cls: type[A], aggregate_id: UUID) -> A | None:
        if self._bulk and aggregate_id in self._bulk.aggregates:
            found = self._bulk.aggregates[aggregate_id]
            return found if isinstance(found, cls) else None
        cached = self._recent.get(aggregate_id)
        if cached is not None:  # bring it up to date with anything saved since
            for event in self.events.get(aggregate_id, gt=cached.version):
                cached = event.mutate(cached)
            return cached if isinstance(cached, cls) else None
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        except (OperationalError, InterfaceError) as e:
            raise StoreError(f"cannot read the store: {_first_line(e)}") from None
        if not isinstance(aggregate, cls):
            return None
        return aggregate

    def client_id(self, code: str) -> UUID | None:
        """The id of the client with this code (from the read model), if any."""
        code = validate.code(code)
        if self._bulk and code in self._bulk.codes:
            return self._bulk.codes[code]
        self.refresh()
        with self.reading() as c:
            row = self.readmodel.client(c, code)
        return UUID(row["id"]) if row else None

    def _client(self, ref: str) -> Client:
        """A client by code, or by id (the only handle left once a client is erased)."""
        try:
            found: UUID | None = UUID(ref)
        except ValueError:
            found = self.client_id(ref)
        client = self._load(Client, found) if found else None
        if client is None:
            raise NotFound(
                f"no client with code {ref!r}; register them with 'between client add {ref}'"
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
        if self._bulk is not None:
            for aggregate in aggregates:
                self._bulk.aggregates[aggregate.id] = aggregate
                self._bulk.pending += len(aggregate.pending_events)
                if isinstance(aggregate, Client):
                    self._bulk.codes[aggregate.code] = aggregate.id
            if self._bulk.pending >= self._bulk.size:
                self._flush()
            return
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
            self._recent.pop(aggregate.id, None)  # changed below: cached again only if saved
            if request_key and request_key in aggregate.request_keys:
                return self._repeat(aggregate, request_key, expected_events)
            result = command(aggregate)
            try:
                self._save(aggregate)
            except IntegrityError:
                continue
            self._keep(aggregate)
            return Outcome(aggregate.detail(), result)
        raise Conflict(
            f"{aggregate.label} was changed by someone else while this command ran "
            f"({ATTEMPTS} attempts); nothing was recorded — check it and run the command again"
        )

    def _create(self, aggregate: A, request_key: str | None, expected: str) -> Outcome:
        try:
            self._save(aggregate)
        except IntegrityError:
            existing = self._load(type(aggregate), aggregate.id)
            if existing is not None and request_key and request_key in existing.request_keys:
                return self._repeat(existing, request_key, (expected,))
            raise
        self._keep(aggregate)
        return Outcome(aggregate.detail(), str(aggregate.id))

    def _keep(self, aggregate: Any) -> None:
        """Remember a just-saved aggregate, so the next command on it reads only newer events."""
        if self._bulk is None:
            self._recent[aggregate.id] = aggregate
            if len(self._recent) > RECENT:
                del self._recent[next(iter(self._recent))]

    @staticmethod
    def _repeat(aggregate: Any, request_key: str, expected: tuple[str, ...]) -> Outcome:
        first = aggregate.request_keys[request_key]
        if first["event"] not in expected:
            raise InvalidInput(
                f"idempotency key {request_key!r} was already used for {first['event']} on this "
                "record; use a new key for a different command"
            )
        return Outcome(aggregate.detail(), first["result"], repeated=True)

    # -- operators -----------------------------------------------------------------------

    def operators(self) -> dict:
        found = self._load(Operators, OPERATORS_ID)
        return found.detail() if found else {"required": False, "operators": []}

    def set_operator(self, name: str, role: str, *, actor: str) -> Outcome:
        meta = self._meta(actor, None, "operators")
        name = validate.text("operator name", name.strip(), limit=200)
        return self._operators_change(lambda o: o.add(name, role, **meta), meta)

    def remove_operator(self, name: str, *, actor: str) -> Outcome:
        meta = self._meta(actor, None, "operators")
        return self._operators_change(lambda o: o.remove(name, **meta), meta)

    def require_operators(self, required: bool, *, actor: str) -> Outcome:
        meta = self._meta(actor, None, "operators")
        return self._operators_change(lambda o: o.require(required, **meta), meta)

    def _operators_change(self, command: Callable[[Operators], None], meta: dict) -> Outcome:
        def load() -> Operators:
            return self._load(Operators, OPERATORS_ID) or Operators.start(**meta)

        return self._change(load, command, None, ())

    # -- client commands -----------------------------------------------------------------

    def register_client(
        self, code: str, name: str, therapist: str, *, actor: str, request_key: str | None = None
    ) -> Outcome:
        meta = self._meta(actor, request_key, "register")
        code = validate.code(code)
        name = validate.text("name", name, limit=200)
        therapist = validate.text("therapist", therapist, limit=200)
        taken = RuleViolation(f"client code {code!r} is already registered; codes are unique")
        if request_key:
            existing = self._load(Client, new_client_id(request_key))
            if existing is not None:
                return self._repeat(existing, request_key, ("ClientRegistered",))
        if self.client_id(code):
            raise taken
        client = Client.register(code, name, therapist, **meta)
        if not self.keys.backend.get(client.id)[0]:
            self.keys.create(client.id)
        try:  # the read model's unique code index refuses a racing duplicate
            return self._create(client, request_key, "ClientRegistered")
        except IntegrityError:
            raise taken from None

    def erase_client(
        self, code_or_id: str, *, reason: str, actor: str, request_key: str | None = None
    ) -> Outcome:
        """Record the erasure, then destroy the client's key: their personal data reads as
        erased everywhere; the facts (types, times, counts, ratings) and the chain remain."""
        meta = self._meta(actor, request_key, "erase")
        reason = validate.text("reason", reason, limit=2000)
        client = self._client(code_or_id)
        if client.row["status"] == "erased":
            outcome = Outcome(client.detail(), str(client.id), repeated=True)
        else:
            outcome = self._change(
                lambda: self._load(Client, client.id),
                lambda c: c.erase(reason, **meta),
                request_key,
                ("ClientErased",),
            )
        self.keys.destroy(client.id)
        self._recent.clear()  # nothing decrypted with the destroyed key stays in memory
        if self.store.is_sqlite:  # flush replaced pages out of the WAL
            with closing(sqlite3.connect(self.store.path)) as db:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return Outcome(self._load(Client, client.id).detail(), str(client.id), outcome.repeated)

    def add_collaborator(
        self, code: str, name: str, relationship: str, *, actor: str, request_key: str | None = None
    ) -> Outcome:
        meta = self._meta(actor, request_key, "collaborator")
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
        meta = self._meta(actor, request_key, "contact")
        if not contacts:
            raise InvalidInput("give at least one contact detail, e.g. --email or --phone")
        contacts = {k: validate.text(k, v, limit=320) for k, v in contacts.items()}
        return self._change(
            lambda: self._client(code),
            lambda c: c.change_contacts(person, contacts, **meta),
            request_key,
            ("ContactDetailsChanged",),
        )

    def record_consent(
        self,
        code: str,
        channel: str,
        *,
        person: str = "client",
        granted: bool = True,
        actor: str,
        request_key: str | None = None,
    ) -> Outcome:
        """Record that ``person`` agrees (or no longer agrees) to hear on ``channel``."""
        meta = self._meta(actor, request_key, "contact")
        if channel not in self.plugins.channels:
            known = ", ".join(sorted(self.plugins.channels))
            raise InvalidInput(f"unknown channel {channel!r}; known channels: {known}")
        return self._change(
            lambda: self._client(code),
            lambda c: c.record_consent(person, channel, granted, **meta),
            request_key,
            ("ConsentRecorded",),
        )

    def discharge(
        self, code: str, reason: str, *, actor: str, request_key: str | None = None
    ) -> Outcome:
        meta = self._meta(actor, request_key, "discharge")
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
        meta = self._meta(actor, request_key, "propose")
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
        meta = self._meta(actor, request_key, "adjust")
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
        meta = self._meta(actor, request_key, "agree")
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
        meta = self._meta(actor, request_key, "decline")
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
        meta = self._meta(actor, request_key, "submit")
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
            entry_id = uuid5(ASSIGNMENT_NAMESPACE, f"entry:{request_key}") if request_key else None
            return str(a.submit(by, when, clean, kind.entries.version, entry_id, **meta))

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
        meta = self._meta(actor, request_key, "review")
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
        meta = self._meta(actor, request_key, "cancel")
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
        meta = self._meta(actor, request_key, "close")
        reason = validate.text("reason", reason)
        return self._change(
            lambda: self._assignment(ref),
            lambda a: a.close(reason, **meta),
            request_key,
            ("AssignmentClosed",),
        )

    def _meta(self, actor: str | None, request_key: str | None, command: str) -> dict[str, Any]:
        """Who is acting, under which key, when — checked before anything else."""
        if self.read_only:
            raise StoreError("this store was opened read-only; nothing was written")
        actor = validate.actor(actor)
        if self._bulk is not None and command != "operators":
            if self._bulk.operators is None:  # looked up once per bulk run (False: no list)
                self._bulk.operators = self._load(Operators, OPERATORS_ID) or False
            operators = self._bulk.operators
        else:
            operators = self._load(Operators, OPERATORS_ID)
        if operators:
            operators.check(actor, command)
        return {
            "actor": actor,
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

    # -- notifications -------------------------------------------------------------------

    def notifications(self, status: str | None = None) -> list[dict]:
        """Notification rows (pending, sent, failed), newest first."""
        self.refresh()
        sql = "SELECT row FROM rm_notifications"
        params: tuple = ()
        if status:
            sql += " WHERE status = ?"
            params = (validate.choice("status", status, ("pending", "sent", "failed")),)
        with self.reading() as c:
            c.execute(self.dialect.sql(sql), params)
            rows = [json.loads(r["row"]) for r in c.fetchall()]
        return sorted(rows, key=lambda r: r["queued_at"], reverse=True)

    def retry_notification(self, ref: str, *, actor: str) -> Outcome:
        """Send a failed notification again (its idempotency key stays the same)."""
        meta = self._meta(actor, None, "notify")
        prefix = ref.strip().lower().replace("-", "")
        matches = [
            r for r in self.notifications("failed") if r["id"].replace("-", "").startswith(prefix)
        ]
        if len(matches) != 1:
            raise NotFound(f"{len(matches)} failed notifications start with {ref!r}; give one id")
        return self._change(
            lambda: self._load(Notification, UUID(matches[0]["id"])),
            lambda n: n.retry(**meta),
            None,
            (),
        )

    # -- queries -------------------------------------------------------------------------

    def resolve(self, ref: str | UUID) -> UUID:
        """An assignment id from a unique prefix of it (dashes optional)."""
        if isinstance(ref, UUID):
            return ref
        prefix = ref.strip().lower().replace("-", "")
        if len(prefix) == 32:
            try:
                return UUID(prefix)
            except ValueError:
                pass
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
        total, chunk = 0, 50_000  # events a transaction: writers wait at most one chunk
        while True:
            with self.writing() as c:
                done = self.readmodel.catch_up(c, batch=5_000, limit=chunk)
            total += done
            if done < chunk:
                return total

    def list_assignments(self, **filters: Any) -> list[dict]:
        """``between list`` (filters: client, status, stage, overdue, due_before)."""
        self.refresh()
        with self.reading() as c:
            return queries.list_assignments(self.readmodel, c, today=self.today(), **filters)

    def agenda(self, code: str) -> dict:
        """What to go over at the start of this client's next session."""
        self.refresh()
        with self.reading() as c:
            return queries.agenda(self.readmodel, c, code, today=self.today())

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
        expected = detail["expected_entries"]
        kind = self.plugins.task_types.get(assignment.task_type)
        if assignment.erased:
            summary = {"entries": len(entries), "erased": True}
            completion = {"complete": None, "rule": "the client's personal data was erased"}
        elif kind is None:
            summary = {"entries": len(entries)}
            completion = {
                "complete": None,
                "rule": f"task type {assignment.task_type!r} not loaded",
            }
        else:
            summary = kind.summarise(entries, assignment.parameters)
            completion = kind.completion(entries, expected, assignment.parameters)
        return {**detail, "summary": summary, "completion": completion, "follow_ups": follow_ups}

    def show_client(self, code: str) -> dict:
        client = self._client(code)
        self.refresh()
        with self.reading() as c:
            rows = self.readmodel.assignments(c, client_id=client.id.hex)
        return {**client.detail(), "assignments": [with_timeliness(r, self.today()) for r in rows]}

    def list_clients(self, status: str | None = None) -> list[dict]:
        self.refresh()
        with self.reading() as c:
            return queries.list_clients(self.readmodel, c, status)


@dataclass
class _Bulk:
    """Aggregates changed in bulk mode and not yet saved."""

    size: int
    aggregates: dict[UUID, Any] = field(default_factory=dict)
    codes: dict[str, UUID] = field(default_factory=dict)
    pending: int = 0
    keep: int = 2000
    operators: Any = None


class LockedCipher:
    """Stands in for the cipher of an encrypted store opened without its key."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def encrypt(self, plaintext: bytes) -> bytes:
        raise StoreError(self.reason)

    def decrypt(self, ciphertext: bytes) -> bytes:
        raise StoreError(self.reason)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
