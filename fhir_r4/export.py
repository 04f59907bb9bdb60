"""The export: two passes over the log, writing each resource as soon as it is complete.

The first pass (``scan.index``) learns where each record's last event is. The second folds
events into per-record state and writes a record's resources at its last event, then forgets
it: an entry's or a review's response at its event, a Task at its assignment's last event, a
Communication at its notification's, the Patient, RelatedPersons and CarePlan at the client's
last event of all, a Provenance after every event. Practitioners and Questionnaires, few and
shared, come last, then the library's ActivityDefinitions and PlanDefinitions. Memory holds
only the records still open at a point in the log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from between.engine.contracts.task_types import TaskType
from between.events.catalog import (
    ASSIGNMENT,
    ASSIGNMENT_REVIEWED,
    CATALOG,
    CLIENT,
    ENTRY_SUBMITTED,
    NOTIFICATION,
)
from between.fhir_r4.bundle import BundleWriter
from between.fhir_r4.codes import IDENTIFIER, fhir_id, kept
from between.fhir_r4.homework import entry_response, questionnaires, review_response, task
from between.fhir_r4.library import library_resources
from between.fhir_r4.people import care_plan, patient, practitioner, related_person
from between.fhir_r4.records import (
    AssignmentState,
    ClientState,
    Context,
    NotificationState,
    owner_of,
    response_ref,
)
from between.fhir_r4.scan import Index, Scope, events, index
from between.fhir_r4.trail import communication, provenance, targets
from between.fhir_r4.validate import Validator, workers_for

if TYPE_CHECKING:
    from between.audit.log_source import RecordSource

Progress = Callable[[int, str], AbstractContextManager[Callable[[int], Any] | None]]


def no_progress(total: int, label: str) -> AbstractContextManager[None]:
    return nullcontext(None)


@dataclass(frozen=True)
class Options:
    scope: Scope = field(default_factory=Scope)
    transaction: bool = False
    include_personal: bool = False
    workers: str | None = None  # BETWEEN_FHIR_WORKERS: validating processes (default: auto)


def export(
    app: RecordSource,
    task_types: Mapping[str, TaskType],
    options: Options,
    writer: BundleWriter,
    progress: Progress = no_progress,
    library: Any = None,
) -> Counter[str]:
    """Write the Bundle of everything ``options`` selects; returns how many of each type.
    ``library`` (``engine.hooks.library.Library``) gives the templates and protocols: all of
    them in an export without ``--since``, else those the exported Tasks instantiate."""
    total = app.recorder.max_notification_id() or 0
    with progress(total, "indexing the log") as tick:
        found = index(app, options.scope, tick)
    writer.validator = Validator(workers_for(found.events, options.workers))
    ctx = Context(task_types, found.therapists, options.include_personal)
    walk = _Walk(found, ctx, writer, options.scope)
    with progress(total, "exporting FHIR") as tick:
        for position, seq, chain, event in events(app, wanted=walk.wanted, tick=tick):
            walk.step(position, seq, chain, event)
    for name in sorted(ctx.practitioners):
        writer.add(practitioner(name), f"therapist {name}")
    for questionnaire in questionnaires(ctx):
        writer.add(questionnaire, f"task type {questionnaire['url'].rpartition('/')[2]}")
    whole = options.scope.since is None
    for resource, about in library_resources(library, ctx.templates, whole):
        writer.add(resource, about)
    writer.finish(_header(found, options))
    return writer.counts


def _header(found: Index, options: Options) -> dict[str, Any]:
    """The Bundle's own elements: all derived from the log and the options, never the clock."""
    scope = options.scope
    parts = [
        found.head or "empty",
        scope.client or "all",
        _since_text(scope.since),
        scope.until.isoformat() if scope.until else "-",
        "transaction" if options.transaction else "collection",
        "personal" if options.include_personal else "-",
    ]
    header: dict[str, Any] = {"id": fhir_id("Bundle", *parts)}
    if found.head is not None:
        header["identifier"] = {"system": IDENTIFIER["checkpoint"], "value": str(found.head)}
    if found.head_time is not None:
        header["timestamp"] = found.head_time.isoformat()
    return header


def _since_text(since: Any) -> str:
    """``--since`` as it names the Bundle: a time in ISO 8601, or the checkpoint."""
    if since is None:
        return "-"
    return since.isoformat() if isinstance(since, datetime) else str(since)


class _Walk:
    """The second pass: per-record state, written out at each record's last event."""

    def __init__(self, found: Index, ctx: Context, writer: BundleWriter, scope: Scope) -> None:
        self.found, self.ctx, self.writer, self.scope = found, ctx, writer, scope
        self.clients: dict[UUID, ClientState] = {}
        self.assignments: dict[UUID, AssignmentState] = {}
        self.notifications: dict[UUID, NotificationState] = {}

    def wanted(self, record: UUID, position: int) -> bool:
        last = self.found.last.get(record)
        return last is not None and position <= last and self.found.before_end(position)

    def step(self, position: int, seq: int, chain: bytes, event: Any) -> None:
        client_id = owner_of(event)
        assert client_id is not None  # the first pass kept only clients' records
        client = self.clients.get(client_id)
        if client is None:
            client = self.clients[client_id] = ClientState(client_id)
        record = event.originator_id
        last = position == self.found.last[record]
        window = self.found.in_window(position)
        kind = CATALOG[event.TOPIC].aggregate
        if kind == CLIENT:
            client.evolve(event)
        elif kind == ASSIGNMENT:
            self._assignment(event, client, position, last, window)
        elif kind == NOTIFICATION:
            self._notification(event, client, last)
        if window:
            changed = targets(event, client, self.found.delivered)
            about = f"the event at position {position} ({_label(event)})"
            self.writer.add(provenance(event, position, seq, chain, changed, self.ctx), about)
        if position == self.found.client_last[client_id]:
            del self.clients[client_id]
            if self.found.is_changed(client_id):
                self._client(client)

    def _assignment(
        self, event: Any, client: ClientState, position: int, last: bool, window: bool
    ) -> None:
        record = event.originator_id
        state = self.assignments.get(record)
        if state is None:
            state = self.assignments[record] = AssignmentState(record, order=position)
        state.evolve(event)
        about = f"assignment {str(record)[:8]}"
        if event.TOPIC == ENTRY_SUBMITTED:
            state.outputs.append(("entry", response_ref("entry", event.entry_id)))
            if window:
                response = entry_response(event, client, self.ctx)
                self.writer.add(response, f"entry {str(event.entry_id)[:8]} of {about}")
        elif event.TOPIC == ASSIGNMENT_REVIEWED:
            version = event.originator_version
            state.outputs.append(("review", response_ref("review", record, version)))
            if window:
                response = review_response(event, client, self.ctx)
                self.writer.add(response, f"the review of {about}")
        if last:
            del self.assignments[record]
            client.add_task(state.row["stage"], state.order, record)
            if self.found.is_changed(record):
                chain = self.found.chain(record)
                self.writer.add(task(state, client, self.ctx, chain), about)

    def _notification(self, event: Any, client: ClientState, last: bool) -> None:
        record = event.originator_id
        state = self.notifications.get(record)
        if state is None:
            state = self.notifications[record] = NotificationState(record)
        state.fold(event)
        if last:
            del self.notifications[record]
            if state.delivered_at is not None and self.found.is_changed(record):
                about = f"notification {str(record)[:8]}"
                self.writer.add(communication(state, client, self.ctx), about)

    def _client(self, client: ClientState) -> None:
        code = kept(client.row.get("code"))
        about = f"client {code}" if code else f"client {str(client.id)[:8]}"
        self.writer.add(patient(client, self.ctx), about)
        for version in sorted(client.collaborator_events):
            person = related_person(client, version, self.ctx)
            self.writer.add(person, f"a collaborator of {about}")
        self.writer.add(care_plan(client, self.ctx), about)


def _label(event: Any) -> str:
    return f"{CATALOG[event.TOPIC].aggregate} {str(event.originator_id)[:8]}"
