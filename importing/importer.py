"""``between import``: a clinic's records in bulk, through the same commands as the CLI.

Each record (``importing.file_format``) becomes the command the CLI would run, with the same
arguments, so the same rules and task-type plugins check it. Its request key is the key prefix
and its id (``import:c-0042``): a record already stored is recognised and stored nothing
again; a different record under an id already used is refused.

Records run in bulk mode, each whole or not at all (``UnitOfWork.all_or_nothing``); a refused
one is reported with its line and the import goes on. Each save also records a checkpoint
(eventsourcing's tracking table, named after the file's digest and the key prefix): the last
line up to which every record is stored or already present. It never passes a refused line,
so a rerun starts at the first one and tries it again (the records after it that were stored
are recognised by their keys). A finished run also marks the last line it read (``READ``): a
record at or before it that a later run stores is one an earlier run refused. The keys make
a rerun correct; the checkpoint makes it fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from eventsourcing.persistence import IntegrityError, Tracking

from between.engine import validate
from between.engine.aggregates.assignments import Assignment
from between.engine.aggregates.operators import CLINICAL, PERMISSIONS
from between.engine.errors import InvalidInput, NotFound, RuleViolation, StoreError
from between.engine.work.assignments import ASSIGNMENT_NAMESPACE
from between.engine.work.requests import IMPORTED
from between.importing.file_format import BadRecord, ImportFile
from between.importing.summary import Refusal, Summary

if TYPE_CHECKING:
    from between.engine.app import Homework
    from between.engine.work.unit import Outcome

MAX_PREFIX = 24
#: What refuses one record; anything else (the store failing, a bug) stops the import.
REFUSED = (InvalidInput, RuleViolation, NotFound)
#: Names the mark of the last line a finished run read (after the checkpoint's name).
READ = "/read"
#: The homework options of ``assign``/``adjust`` as records name them → the engine's names.
HOMEWORK = {"entries": "expected_entries", "fields": "parameters"}


class Importer:
    """Runs import records on one store, as ``actor``, with keys under ``key_prefix``."""

    def __init__(
        self,
        app: Homework,
        actor: str | None,
        key_prefix: str = "",
        events_per_transaction: int = 1000,
    ) -> None:
        self.app = app
        self.actor = actor
        prefix = validate.text("key prefix", key_prefix, limit=MAX_PREFIX, required=False)
        self.prefix = IMPORTED + prefix  # the dispatcher knows imported records by it
        self.batch = events_per_transaction
        self.position = 0  # the last line done (saved with the next save, as a checkpoint)
        self._name: str | None = None  # the checkpoint's name, while a file is imported
        self._tracked = 0
        self._clean = True  # no record refused in this run (see ``run``)
        self._refs: dict[str, str] = {}  # assignment references resolved (a bounded cache)

    # -- one record ----------------------------------------------------------------------

    def key(self, record_id: str) -> str:
        """The request key of a record's (first) command."""
        return f"{self.prefix}{record_id}"

    def assignment_uuid(self, record_id: str) -> UUID:
        """The id of the assignment an ``assignment`` record with this id proposes."""
        return uuid5(ASSIGNMENT_NAMESPACE, self.key(record_id))

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Bulk mode, saving this importer's checkpoint with each save."""
        with self.app.work.bulk(self.batch, checkpoint=self._checkpoint):
            yield

    def apply(self, record: dict[str, Any], line: int = 0) -> bool:
        """Run one checked record's commands, all or none; whether it stored anything new
        (False: every command was a repeat). Raises what refused it."""
        kind = record["type"]
        with self.app.work.all_or_nothing():
            done = getattr(self, f"_{kind}")(record, self.key(record["id"]))
            if self._clean:  # after a refused line, the checkpoint waits for the next run
                self.position = max(self.position, line)
        outcomes = done if isinstance(done, list) else [done]
        return not all(o.repeated for o in outcomes)

    def ref(self, value: str) -> str:
        """The assignment a record names: the id of an ``assignment`` record imported with
        this key prefix, or an existing assignment's UUID."""
        if value in self._refs:
            return self._refs[value]
        derived = self.assignment_uuid(value)
        if self.app.work.load(Assignment, derived) is not None:
            found = derived.hex
        else:
            try:
                found = UUID(value).hex  # the command says if there is no such assignment
            except ValueError:
                raise NotFound(
                    "unknown assignment %(value)s: no assignment record with this id was "
                    "imported (key prefix %(prefix)s); name an assignment record's id, or an "
                    "existing assignment's UUID",
                    value=repr(value),
                    prefix=repr(self.prefix),
                ) from None
        if len(self._refs) >= 10_000:
            del self._refs[next(iter(self._refs))]
        self._refs[value] = found
        return found

    # -- a whole file --------------------------------------------------------------------

    def run(
        self,
        source: ImportFile,
        refused: Callable[[Refusal], Any] = lambda _: None,
        progress: Callable[[int], Any] | None = None,
        stop_on_error: bool = False,
    ) -> Summary:
        """Import the file, starting after the checkpoint an earlier run saved. ``refused``
        hears of each refused record; ``progress`` of how many more lines were read."""
        self.actor = validate.actor(self.actor)
        if self.app.read_only:
            raise StoreError(self.app.read_only_reason)
        self._name = source.checkpoint_name(self.prefix)
        start = self._marked(self._name)
        reached = self._marked(self._name + READ)  # lines a finished run read: refused or done
        self.position = self._tracked = shown = last = start
        self._clean = True  # no record refused yet: the checkpoint follows the records done
        summary = Summary(source.name, source.lines, resumed_after_line=start)
        with self.bulk():
            for line, record in source.records(after=start):
                if progress:
                    progress(line - shown)
                    shown = line
                summary.records += 1
                last = line
                try:
                    if isinstance(record, BadRecord):
                        raise record
                    stored = self.apply(record, line)
                except REFUSED as e:
                    self._clean = False  # this line is tried again by the next run
                    refused(summary.refuse(line, record, e))
                    if stop_on_error:
                        summary.stopped_at_line = line
                        break
                    continue
                summary.stored += stored
                summary.already_present += not stored
                summary.earlier_refusals_stored += stored and line <= reached
        if progress:
            progress(max(0, source.lines - shown))
        if self._checkpoint() is not None:  # the last records had no events to go with
            self._mark(self._name, self.position)
        if last > max(reached, self.position) and self._may_write():
            self._mark(self._name + READ, last)
        return summary

    def _checkpoint(self) -> Tracking | None:
        """The tracking to save with a save: the last line done, when it moved on."""
        if self._name is None or self.position <= self._tracked:
            return None
        self._tracked = self.position
        return Tracking(self._name, self.position)

    def _marked(self, name: str) -> int:
        return self.app.recorder.max_tracking_id(name) or 0

    def _mark(self, name: str, line: int) -> None:
        """Record a line outside a save (a concurrent import of the file may be ahead)."""
        with suppress(IntegrityError):  # the mark is already at or past ``line``
            self.app.recorder.insert_tracking(Tracking(name, line))

    def _may_write(self) -> bool:
        """Whether the actor may store records at all (not an auditor, when the store
        requires operators): only then are the lines it read noted."""
        operators = self.app.work.gate.current()
        if operators is None or not operators.required:
            return True
        role = operators.roles.get(self.actor or "", "")
        return bool(PERMISSIONS.get(role, frozenset()) & CLINICAL)

    # -- each record type: the CLI's command, with its arguments -------------------------

    def _client(self, r: dict, key: str) -> Outcome:
        return self.app.register_client(r["code"], r["name"], r["therapist"], **self._as(key))

    def _collaborator(self, r: dict, key: str) -> Outcome:
        app = self.app
        return app.add_collaborator(r["client"], r["name"], r["relationship"], **self._as(key))

    def _contacts(self, r: dict, key: str) -> Outcome:
        contacts = {k: r[k] for k in ("email", "phone", "webhook") if r.get(k) is not None}
        person = r.get("person") or "client"
        return self.app.change_contacts(r["client"], person, contacts, **self._as(key))

    def _consent(self, r: dict, key: str) -> Outcome:
        person, granted = r.get("person") or "client", not r.get("withdraw")
        as_ = self._as(key)
        return self.app.record_consent(
            r["client"], r["channel"], person=person, granted=granted, **as_
        )

    def _assignment(self, r: dict, key: str) -> list[Outcome]:
        """``assign``, then each adjustment, then the client's answer: one record."""
        steps_up_from = r.get("steps_up_from")
        proposed = self.app.propose(
            r["client"],
            r["task_type"],
            **{"expected_entries": 1, **homework(r)},
            steps_up_from=self.ref(steps_up_from) if steps_up_from is not None else None,
            allow_past_due=bool(r.get("allow_past_due")),
            **self._as(key),
        )
        done, ref = [proposed], str(proposed.result)
        for n, change in enumerate(r.get("adjustments") or (), 1):
            change = {**change, "allow_past_due": r.get("allow_past_due")}
            done.append(self._adjust(change, f"{key}/adjust-{n}", ref))
        if r.get("agreed") is not None:
            done.append(self._agree(r["agreed"], f"{key}/agree", ref))
        if r.get("declined") is not None:
            done.append(self._decline({"reason": r["declined"]}, f"{key}/decline", ref))
        return done

    def _adjust(self, r: dict, key: str, ref: str | None = None) -> Outcome:
        ref, past_due = ref or self.ref(r["assignment"]), bool(r.get("allow_past_due"))
        return self.app.adjust(ref, homework(r), allow_past_due=past_due, **self._as(key))

    def _agree(self, r: dict, key: str, ref: str | None = None) -> Outcome:
        ref, obstacles = ref or self.ref(r["assignment"]), r.get("obstacles") or ""
        confidence = r.get("confidence")
        return self.app.agree(ref, confidence=confidence, obstacles=obstacles, **self._as(key))

    def _decline(self, r: dict, key: str, ref: str | None = None) -> Outcome:
        ref = ref or self.ref(r["assignment"])
        return self.app.decline(ref, reason=r["reason"], **self._as(key))

    def _entry(self, r: dict, key: str) -> Outcome:
        ref, fields, by = self.ref(r["assignment"]), r.get("fields") or {}, r.get("by") or "client"
        when = r.get("occurred_at")
        return self.app.submit(ref, fields, by=by, occurred_at=when, via="import", **self._as(key))

    def _review(self, r: dict, key: str) -> Outcome:
        return self.app.review(
            self.ref(r["assignment"]),
            **{k: r[k] for k in ("quantity", "quality", "difficulty", "next_step")},
            obstacles=r.get("obstacles") or "",
            notes=r.get("notes") or "",
            next_due=r.get("due") or r.get("next_due"),
            allow_past_due=bool(r.get("allow_past_due")),
            **self._as(key),
        )

    def _close(self, r: dict, key: str) -> Outcome:
        ref, reason = self.ref(r["assignment"]), r.get("reason") or "done"
        return self.app.close_assignment(ref, reason=reason, **self._as(key))

    def _cancel(self, r: dict, key: str) -> Outcome:
        return self.app.cancel(self.ref(r["assignment"]), reason=r["reason"], **self._as(key))

    def _discharge(self, r: dict, key: str) -> Outcome:
        return self.app.discharge(r["client"], r["reason"], **self._as(key))

    def _as(self, key: str) -> dict[str, Any]:
        return {"actor": self.actor, "request_key": key}


def homework(r: dict[str, Any]) -> dict[str, Any]:
    """A record's homework options (``assign``'s and ``adjust``'s) in the engine's names."""
    names = ("instructions", "rationale", "stage", "difficulty", "due", "entries", "fields")
    out = {HOMEWORK.get(k, k): r[k] for k in names if r.get(k) is not None}
    if r.get("observers") is not None:
        out["observers"] = list(r["observers"])
    return out
