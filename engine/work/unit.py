"""The unit of work: every writer loads a record, lets it decide, and saves through here.

* ``authorise`` checks who is acting and makes the command's ``Envelope``, before anything
  else (``for_dispatcher`` and ``for_link_holder`` make the others: nothing else does);
* ``load`` reads an aggregate (a recently saved one is kept in memory and fast-forwarded);
* ``change`` loads, decides and saves, reloading and retrying up to ``ATTEMPTS`` times when
  someone else saved the same record first; ``create`` saves a new record;
* a write may carry a request key (``--idempotency-key``): repeating the same request with it
  records nothing and reports the first result (``recorded``); a different request with it is
  refused (``engine.work.requests``);
* ``bulk`` keeps changed aggregates in memory and saves many commands' events together;
  ``all_or_nothing`` makes one record of an import saved whole or not at all.

Each save is one transaction, which also brings the read model up to date.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.persistence import EventStore, IntegrityError, InterfaceError, OperationalError

from between.engine import validate
from between.engine.aggregates.clients import Client
from between.engine.aggregates.operators import OPERATORS_ID, Gate, Operators
from between.engine.errors import BetweenError, Conflict, StoreError
from between.engine.storage.keys import KeyStore
from between.engine.work.envelope import Envelope
from between.engine.work.requests import ask, check_repeat
from between.events.catalog import CATALOG
from between.language import N_

ATTEMPTS = 8
RECENT = 256  # aggregates kept in memory after a save (fast-forwarded on the next load)

A = TypeVar("A")


@dataclass(frozen=True)
class Outcome:
    """What a write command did: the record as it now stands, and its result."""

    record: dict
    result: str | None = None
    repeated: bool = False


@dataclass
class _Bulk:
    """Aggregates changed in bulk mode and not yet saved."""

    size: int
    aggregates: dict[UUID, Any] = field(default_factory=dict)
    codes: dict[str, UUID] = field(default_factory=dict)  # clients registered meanwhile
    pending: int = 0
    keep: int = 2000
    checkpoint: Callable[[], Any] | None = None  # a Tracking to save with each flush
    marks: dict[UUID, int] | None = None  # in all_or_nothing: events pending before it


class UnitOfWork:
    """Loading, deciding and saving aggregates on one store."""

    def __init__(
        self,
        events: EventStore,
        repository: Repository,
        keys: KeyStore,
        clock: Callable[[], datetime],
        *,
        read_only: bool,
    ) -> None:
        self.events = events
        self.repository = repository
        self.keys = keys
        self.clock = clock
        self.read_only = read_only
        #: What a write on a read-only store is refused with (the store says why it is).
        self.read_only_reason = N_("this store was opened read-only; nothing was written")
        self._bulk: _Bulk | None = None
        self._recent: dict[UUID, Any] = {}
        self._trusting = False  # the next load may skip reading what was saved since
        self._trusted = False  # … and did
        #: The operator list, read once and checked again by each write (see ``Gate``).
        self.gate = Gate(lambda: self.load(Operators, OPERATORS_ID, cached=False))

    # -- before anything else ------------------------------------------------------------

    def authorise(
        self, actor: str | None, command: str, request_key: str | None = None, **request: Any
    ) -> Envelope:
        """An operator's command: who is acting, under which key, and when — the envelope
        of the command's events.

        Refuses a read-only store, a missing actor and, when the store requires operators,
        an actor whose role may not run ``command`` (see ``engine.aggregates.operators``).
        ``request``
        is the command's arguments as given: with a request key, their fingerprint tells a
        repeat of the same request from a different one (see ``engine.work.requests``).
        """
        self._require_writable()
        actor = validate.actor(actor)
        self.gate.check(actor, command)
        request_key = validate.request_key(request_key)
        return Envelope(actor, request_key, self.clock(), ask(request_key, command, request))

    def for_dispatcher(self, actor: str) -> Envelope:
        """The dispatcher's envelope (queuing, sending, a message's link): no request key —
        it was authorised to notify when it started."""
        self._require_writable()
        return Envelope(actor, None, self.clock())

    def for_link_holder(
        self, is_client: bool, request_key: str, command: str, request: dict[str, Any]
    ) -> Envelope:
        """The envelope of what a personal link's holder records: actor ``client`` or
        ``collaborator`` (the link was checked instead of the operator list)."""
        self._require_writable()
        actor = "client" if is_client else "collaborator"
        return Envelope(actor, request_key, self.clock(), ask(request_key, command, request))

    def permit(self, actor: str | None, command: str) -> str | None:
        """Check a command that records no event (``rebuild``, ``rekey``) against the
        operator list: when the store requires operators, ``actor`` must be one whose role
        may run it. Works on a read-only store; returns the actor."""
        operators = self.gate.current(fresh=True)
        if operators is not None and operators.required:
            actor = validate.actor(actor)
            operators.check(actor, command)
        return actor

    def _require_writable(self) -> None:
        if self.read_only:
            raise StoreError(self.read_only_reason)

    # -- loading -------------------------------------------------------------------------

    def load(self, cls: type[A], aggregate_id: UUID, *, cached: bool = True) -> A | None:
        """The aggregate with this id, if there is one and it is a ``cls`` (not ``cached``: a
        copy read from the store, which nothing else holds)."""
        trusting, self._trusting = self._trusting, False
        try:
            if not cached:
                found: Any = self.repository.get(aggregate_id)
            elif self._bulk and aggregate_id in self._bulk.aggregates:
                found = self._bulk.aggregates[aggregate_id]
                if self._bulk.marks is not None:
                    self._bulk.marks.setdefault(aggregate_id, len(found.pending_events))
            elif (found := self._recent.get(aggregate_id)) is not None:
                self._trusted = trusting
                since: Iterable[Any] = (
                    () if trusting else self.events.get(aggregate_id, gt=found.version)
                )
                for event in since:
                    found = event.mutate(found)  # saved since
            else:
                found = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        except (OperationalError, InterfaceError) as e:
            raise StoreError("cannot read the store: %(problem)s", problem=first_line(e)) from None
        return found if isinstance(found, cls) else None

    def held(self, cls: type[A]) -> list[A]:
        """The ``cls`` aggregates bulk mode holds — newer than the read model, as it saves
        them only later (empty outside bulk mode)."""
        return (
            [a for a in self._bulk.aggregates.values() if isinstance(a, cls)] if self._bulk else []
        )

    def unsaved_client(self, code: str) -> UUID | None:
        """The id of a client registered in this bulk run and not yet saved, if any."""
        return self._bulk.codes.get(code) if self._bulk else None

    def forget(self) -> None:
        """Drop every aggregate kept in memory (after a client's key is destroyed)."""
        self._recent.clear()

    # -- deciding and saving -------------------------------------------------------------

    def change(
        self,
        load: Callable[[], A | None],
        command: Callable[[A], str | None],
        request_key: str | None = None,
        expected: tuple[str, ...] = (),
    ) -> Outcome:
        """Load, decide, save; reload and retry when someone else saved first.

        ``expected`` are the topics of the events this command records: a repeated request
        key must have recorded one of them. The first attempt takes the record as this process last
        saved it, without reading what was saved since: if someone else saved it meanwhile,
        the save fails on its version (the store's primary key) and the next attempt reads —
        as it does when the first attempt refuses the command (the refusal may be stale).
        """
        lost = False
        for attempt in range(ATTEMPTS):
            if lost:
                time.sleep(random.uniform(0, 0.002 * 2**attempt))  # back off, out of step
            self._trusting = attempt == 0  # only for the record itself: load() is its first
            try:
                aggregate: Any = load()
            finally:
                on_trust, self._trusting, self._trusted = self._trusted, False, False
            self._recent.pop(aggregate.id, None)  # changed below: kept again only if saved
            if request_key and request_key in aggregate.request_keys:
                return self._repeat(aggregate, request_key, expected)
            try:
                result = command(aggregate)
            except BetweenError:
                if not on_trust:
                    raise
                continue  # refused by the copy in memory: decide again on the stored record
            try:
                self.save(aggregate)
            except IntegrityError:
                lost = True
                continue
            self._keep(aggregate)
            return Outcome(aggregate.detail(), result)
        raise Conflict(
            "%(record)s was changed by someone else while this command ran "
            "(%(attempts)s attempts); nothing was recorded — check it and run the command again",
            record=aggregate.label,
            attempts=ATTEMPTS,
        )

    def create(self, aggregate: Any, request_key: str | None, expected: str) -> Outcome:
        """Save a new record; its result is its id. A repeated request reports the first."""
        try:
            self.save(aggregate)
        except IntegrityError:
            first = self.recorded(type(aggregate), aggregate.id, request_key, expected)
            if first is None:
                raise
            return first
        self._keep(aggregate)
        return Outcome(aggregate.detail(), str(aggregate.id))

    def recorded(
        self, cls: type, aggregate_id: UUID, request_key: str | None, expected: str
    ) -> Outcome | None:
        """What ``request_key`` did when it created this record, if it did."""
        existing = self.load(cls, aggregate_id) if request_key else None
        if existing is None or request_key not in existing.request_keys:
            return None
        return self._repeat(existing, request_key, (expected,))

    def _repeat(self, aggregate: Any, request_key: str, expected: tuple[str, ...]) -> Outcome:
        """The first result of a repeated request; a different request is refused."""
        first = aggregate.request_keys[request_key]
        stored = self.events.get(aggregate.id)
        names = tuple(CATALOG[topic].name for topic in expected)
        check_repeat(request_key, first["event"], names, [*stored, *aggregate.pending_events])
        return Outcome(aggregate.detail(), first["result"], repeated=True)

    def save(self, *aggregates: Any) -> None:
        """Save the aggregates' new events together (in bulk mode: later, with others).

        Raises ``IntegrityError`` when someone else saved one of them first.
        """
        self._require_writable()
        if self._bulk is not None:
            self._hold(self._bulk, aggregates)
            return
        try:
            self.write(*aggregates)
        except (OperationalError, InterfaceError) as e:
            raise StoreError(
                "the store is busy or unavailable; nothing was recorded: %(problem)s",
                problem=first_line(e),
            ) from None

    def write(self, *aggregates: Any, **kwargs: Any) -> list:
        """Insert the aggregates' new events in one transaction, now.

        The domain events go to the read model too, so that it need not read them back.
        No snapshots, no notify hooks, none of eventsourcing's runtime protocol checks (they
        cost ~10 µs an aggregate). ``kwargs`` go to the recorder (e.g. ``tracking``).
        """
        events = [event for aggregate in aggregates for event in aggregate.collect_events()]
        return self.gate.guard(  # bulk saves hold many commands: checked once a run instead
            lambda checked: self.events.put(events, new_events=events, **checked, **kwargs),
            aggregates,
            check=self._bulk is None,
        )

    def _keep(self, aggregate: Any) -> None:
        """Remember a just-saved aggregate, so the next command on it reads only newer events."""
        if self._bulk is None:
            self._recent[aggregate.id] = aggregate
            if len(self._recent) > RECENT:
                del self._recent[next(iter(self._recent))]

    # -- bulk mode -----------------------------------------------------------------------

    @contextmanager
    def bulk(
        self, events_per_transaction: int = 1000, checkpoint: Callable[[], Any] | None = None
    ) -> Iterator[None]:
        """Save many commands' events per transaction (imports, the benchmark generator).

        Commands run exactly as usual — validated, decided by the aggregates — but their
        aggregates are kept in memory and saved together once ``events_per_transaction``
        events are pending, and at the end. Nothing else may write the same records meanwhile.
        ``checkpoint`` is asked at each save for a ``Tracking`` (or None) saved with it.
        """
        self._bulk = _Bulk(events_per_transaction, checkpoint=checkpoint)
        self.gate.current(fresh=True)  # read once a run: bulk saves are not checked again
        self.keys.deferred = []
        try:
            yield
            self._flush(self._bulk)
        finally:
            self._bulk = None
            self.keys.deferred = None

    def flush(self) -> None:
        """In bulk mode, save what is held now (e.g. before a rule reads the read model)."""
        if self._bulk is not None:
            self._flush(self._bulk)

    @contextmanager
    def all_or_nothing(self) -> Iterator[None]:
        """In bulk mode, one import record's commands: their events are saved in the same
        transaction — or, if the block raises, none of them are, and every aggregate they
        changed is read again from the store. (Aggregates change only through events.)"""
        bulk = self._bulk
        if bulk is None:
            yield
            return
        marks: dict[UUID, int] = {}
        bulk.marks = marks
        try:
            yield
        except BaseException:
            self._undo(bulk, marks)
            raise
        finally:
            bulk.marks = None
        if bulk.pending >= bulk.size:
            self._flush(bulk)

    def _undo(self, bulk: _Bulk, marks: dict[UUID, int]) -> None:
        """Drop a failed record's events; save earlier ones held on the same aggregates,
        then forget those aggregates (their state in memory saw the failure)."""
        held = [a for i in marks if (a := bulk.aggregates.get(i)) is not None]
        changed = [a for a in held if len(a.pending_events) > marks[a.id]]
        for aggregate in changed:
            del aggregate.pending_events[marks[aggregate.id] :]
        if any(a.pending_events for a in changed):
            self._flush(bulk)
        for aggregate in changed:
            bulk.aggregates.pop(aggregate.id, None)
            if isinstance(aggregate, Client):
                bulk.codes.pop(aggregate.code, None)

    def _hold(self, bulk: _Bulk, aggregates: tuple[Any, ...]) -> None:
        for aggregate in aggregates:
            if bulk.marks is not None:  # one not held before had nothing pending
                bulk.marks.setdefault(aggregate.id, 0)
            bulk.aggregates[aggregate.id] = aggregate
            bulk.pending += len(aggregate.pending_events)
            if isinstance(aggregate, Client):
                bulk.codes[aggregate.code] = aggregate.id
        if bulk.pending >= bulk.size and bulk.marks is None:  # a record is saved whole
            self._flush(bulk)

    def _flush(self, bulk: _Bulk) -> None:
        self.keys.flush()
        if bulk.pending:
            tracking = bulk.checkpoint() if bulk.checkpoint else None
            held = [a for a in bulk.aggregates.values() if a.pending_events]
            self.write(*held, tracking=tracking)
            bulk.pending = 0
            for stale in list(bulk.aggregates)[: -bulk.keep]:  # keep the most recent in memory
                del bulk.aggregates[stale]


def first_line(error: BaseException) -> str:
    """The first line of a driver's error message (they run on for pages)."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
