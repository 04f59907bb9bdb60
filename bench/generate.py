"""Generate a synthetic clinic as import records, run through ``between import``'s own code.

    python -m bench.generate --clients 5000 --store /tmp/clinic.db [--seed 7] [--until 2026-11-25]

About 200 events a client: ~10 assignments across every built-in task type and all three
stages, with adjustments, agreements and declines, entries (some by collaborators), reviews
with every next step, step-up links, cancellations, discharges, consents and the notifications
the dispatcher would send (queued and delivered). Each record goes through the importer
(``importing.importer``: the commands the CLI runs, in bulk mode, each record whole or not at
all); the notifications are queued through the dispatcher's own rules after the records that
call for them, and discharges come last. The same seed and ``--until`` give the same clinic.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from between import hookimpl
from between.engine.aggregates.assignments import Assignment
from between.engine.aggregates.clients import Client
from between.engine.app import Homework
from between.engine.contracts.channels import Delivery
from between.engine.errors import BetweenError
from between.engine.hooks.loading import load_plugins
from between.engine.settings import Settings
from between.engine.storage.store import Store
from between.events.catalog import (
    ASSIGNMENT_AGREED,
    ASSIGNMENT_DECLINED,
    ASSIGNMENT_REVIEWED,
    ENTRY_SUBMITTED,
)
from between.importing.importer import Importer
from between.notify.dispatcher import Dispatcher
from between.notify.queuing import HEARS

BUILT_IN_KINDS = (
    "self-monitoring",
    "thought-record",
    "reflective-writing",
    "bibliotherapy",
    "relaxation",
    "assertiveness",
    "graded-exposure",
)
THERAPISTS = ("dr.lee", "dr.okafor", "dr.silva", "dr.nakamura")
WORDS = (
    "bus",
    "office",
    "kitchen",
    "meeting",
    "phone call",
    "supermarket",
    "family dinner",
    "train",
    "waiting room",
    "late evening",
    "school gate",
    "gym",
)


def parameters(kind: str, rng: random.Random) -> dict[str, Any]:
    return {
        "self-monitoring": lambda: {
            "target": rng.choice(["urges", "worry", "checking"]),
            "per_day": "2",
        },
        "thought-record": lambda: {"focus": "self-criticism"},
        "reflective-writing": lambda: {"prompt": "a difficult conversation", "min_length": "20"},
        "bibliotherapy": lambda: {
            "medium": rng.choice(["book", "chapter", "film"]),
            "title": "Feeling Good",
        },
        "relaxation": lambda: {
            "technique": rng.choice(["paced-breathing", "mindfulness"]),
            "minutes": "15",
        },
        "assertiveness": lambda: {"skill": rng.choice(["saying no", "broken record"])},
        "graded-exposure": lambda: {"hierarchy_item": f"step {rng.randint(1, 8)} of the ladder"},
    }[kind]()


def entry(kind: str, rng: random.Random, step: int) -> dict[str, Any]:
    where = rng.choice(WORDS)
    return {
        "self-monitoring": lambda: {
            "situation": where,
            "thought": "what if it goes wrong",
            "emotion": "anxious",
            "intensity": rng.randint(20, 95),
        },
        "thought-record": lambda: {
            "situation": where,
            "emotions": {"anxious": rng.randint(50, 90)},
            "automatic_thought": "I will fail",
            "balanced_thought": "I have coped before",
            "rerated": {"anxious": rng.randint(20, 50)},
        },
        "reflective-writing": lambda: {
            "text": f"Thinking about the {where}, I noticed how tense I got."
        },
        "bibliotherapy": lambda: {
            "reactions": "recognised myself",
            "takeaways": "thoughts are not facts",
            "finished": step > 1,
        },
        "relaxation": lambda: {
            "minutes": rng.randint(5, 25),
            "tension_before": rng.randint(5, 9),
            "tension_after": rng.randint(1, 5),
        },
        "assertiveness": lambda: {
            "situation": where,
            "technique": "broken record",
            "outcome": "held my ground",
            "self_rating": rng.randint(3, 9),
        },
        "graded-exposure": lambda: {
            "suds_before": rng.randint(40, 70),
            "suds_peak": max(20, 90 - 8 * step),
            "suds_after": rng.randint(10, 40),
            "minutes": rng.randint(10, 45),
        },
    }[kind]()


class Sink:
    """A silent channel: the generator records deliveries without talking to anyone."""

    name = "sink"
    address_key = None

    def send(self, message: Any, settings: Any) -> Delivery:
        return Delivery("delivered", "benchmark sink")


class SinkPlugin:
    @hookimpl
    def between_register_channels(self, registry: Any) -> None:
        registry.add(Sink())


class Clock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        self.moment += timedelta(microseconds=7)
        return self.moment


def generate(
    store: Store, clients: int, seed: int, until: date, encrypt: bool = False, out: Any = sys.stderr
) -> tuple[int, float]:
    """Build the clinic; return (events written, seconds taken). A progress bar goes to
    ``out`` when it is a terminal; nothing otherwise."""
    rng = random.Random(seed)
    Homework.initialise(store, encrypt=encrypt)
    config = Path(tempfile.mkdtemp()) / "clinic.toml"  # one therapist hears of every entry
    config.write_text('[therapists."dr.lee"]\nchannels = ["sink"]\n')
    settings = Settings(store=None, config_file=config)
    clock = Clock(datetime.combine(until - timedelta(days=730), datetime.min.time(), UTC))
    app = Homework(store, clock=clock, plugins=load_plugins(settings, extra=(SinkPlugin(),)))
    dispatcher = Dispatcher(app, settings, actor="between-notify")
    importer = Importer(app, actor=None)
    kinds = sorted(BUILT_IN_KINDS)
    before = app.recorder.max_notification_id() or 0
    started = time.perf_counter()
    end = datetime.combine(until, datetime.min.time(), UTC)
    discharges: list[tuple[datetime, dict]] = []  # last: by then the read model is current
    with importer.bulk(), _progress(clients, out) as bar:
        for n in range(clients):
            start = end - timedelta(days=730) + timedelta(days=rng.uniform(0, 700))
            clock.moment = max(clock.moment, start) if n == 0 else start
            one_client(Clinic(importer, dispatcher, rng, end), kinds, f"{seed}-{n}", discharges)
            if bar is not None:
                bar.update(1)
        for moment, record in discharges:
            clock.moment = moment
            with contextlib.suppress(BetweenError):  # homework still open: a current client
                importer.apply(record)
    written = (app.recorder.max_notification_id() or 0) - before
    app.recorder.insert_tracking(_tracking(app))  # the dispatcher need not re-read the past
    seconds = time.perf_counter() - started
    app.close()
    return written, seconds


def _progress(clients: int, out: Any) -> Any:
    """A bar of clients generated, on ``out`` when it is a terminal."""
    if not getattr(out, "isatty", lambda: False)():
        return contextlib.nullcontext(None)
    import click

    return click.progressbar(length=clients, label="generating clients", file=out)


def _tracking(app: Homework) -> Any:
    from eventsourcing.persistence import Tracking

    from between.notify.dispatcher import TRACKING

    return Tracking(TRACKING, app.recorder.max_notification_id() or 0)


class Clinic:
    """Records fed to the importer one at a time (the clock moves between them), and the
    notifications each calls for."""

    def __init__(
        self, importer: Importer, dispatcher: Dispatcher, rng: random.Random, end: datetime
    ) -> None:
        self.importer, self.dispatcher, self.rng, self.end = importer, dispatcher, rng, end
        self.clock = importer.app.clock

    def record(self, kind: str, record_id: str, notify: str | None = None, **values: Any) -> None:
        self.importer.apply({"type": kind, "id": record_id, **values})
        if notify:
            assignment = values.get("assignment", record_id)
            queue_notifications(self.importer, self.dispatcher, assignment, notify)

    def status(self, assignment: str) -> str:
        app = self.importer.app
        return app.work.load(Assignment, self.importer.assignment_uuid(assignment)).status


def one_client(
    clinic: Clinic, kinds: list[str], tag: str, discharges: list[tuple[datetime, dict]]
) -> None:
    rng, clock, end = clinic.rng, clinic.clock, clinic.end
    therapist = clinic.importer.actor = rng.choice(THERAPISTS)
    code = f"C-{tag}"
    clinic.record("client", tag, code=code, name=f"Client {tag}", therapist=therapist)
    clinic.record("contacts", f"{tag}-contact", client=code, email=f"client-{tag}@example.org")
    clinic.record("consent", f"{tag}-consent", client=code, channel="sink")
    observers = []
    if rng.random() < 0.4:
        clinic.record(
            "collaborator", f"{tag}-partner", client=code, name="Partner", relationship="partner"
        )
        clinic.record(
            "consent", f"{tag}-partner-consent", client=code, channel="sink", person="Partner"
        )
        observers = ["Partner"]
    count = rng.randint(8, 12)
    previous = None
    open_left = False
    for i in range(count):
        if clock.moment > end - timedelta(days=3):
            open_left = True
            break
        stage = "baseline" if i < 2 else "relapse-prevention" if i >= count - 2 else "practice"
        kind = kinds[(i + rng.randint(0, 6)) % len(kinds)]
        expected = rng.randint(5, 14)
        aid = f"{tag}-a{i}"
        proposal: dict[str, Any] = {
            "client": code,
            "task_type": kind,
            "instructions": f"Homework {i + 1}",
            "rationale": f"{stage} work",
            "stage": stage,
            "difficulty": min(10, 1 + i),
            "due": (clock.moment + timedelta(days=7)).date().isoformat(),
            "entries": expected,
            "fields": parameters(kind, rng),
            "steps_up_from": previous,
            "observers": observers if kind == "self-monitoring" else [],
        }
        if rng.random() < 0.3:
            proposal["adjustments"] = [{"entries": max(1, expected - 1)}]
        if rng.random() < 0.1:
            clinic.record(
                "assignment", aid, ASSIGNMENT_DECLINED, **proposal, declined="not this week"
            )
            previous = None
            continue
        agreed = {"confidence": rng.randint(3, 10), "obstacles": "time"}
        clinic.record("assignment", aid, ASSIGNMENT_AGREED, **proposal, agreed=agreed)
        if rng.random() < 0.05:
            clinic.record("cancel", f"{aid}-cancel", assignment=aid, reason="plans changed")
            continue
        rounds = 2 if rng.random() < 0.2 else 1
        for r in range(rounds):
            for step in range(int(expected * rng.uniform(0.6, 1.1))):
                clock.moment += timedelta(hours=rng.uniform(6, 20))
                if clock.moment > end:
                    return
                clinic.record(
                    "entry",
                    f"{aid}-r{r}-e{step}",
                    ENTRY_SUBMITTED,
                    assignment=aid,
                    fields=entry(kind, rng, step),
                    by="Partner" if observers and rng.random() < 0.2 else "client",
                    occurred_at=(clock.moment - timedelta(hours=1)).isoformat(),
                )
            clock.moment += timedelta(days=rng.uniform(1, 3))
            if clock.moment > end:
                return
            step = rng.choices(["step-up", "close", "modify", "continue"], [4, 3, 1, 2])[0]
            if r + 1 < rounds:
                step = "continue"
            due = (clock.moment + timedelta(days=7)).date().isoformat()
            clinic.record(
                "review",
                f"{aid}-r{r}-review",
                ASSIGNMENT_REVIEWED,
                assignment=aid,
                quantity=rng.randint(1, 4),
                quality=rng.randint(1, 4),
                difficulty=rng.randint(0, 4),
                next_step=step,
                notes="discussed",
                due=due if step == "continue" else None,
            )
            if step == "modify":
                clinic.record(
                    "adjust", f"{aid}-r{r}-adjust", assignment=aid, difficulty=max(1, min(10, i))
                )
                clinic.record("agree", f"{aid}-r{r}-agree", assignment=aid, confidence=6)
            if step in ("close", "step-up"):
                break
        else:
            if clinic.status(aid) == "agreed":
                if clock.moment < end - timedelta(days=10):
                    clinic.record("close", f"{aid}-close", assignment=aid, reason="done")
                else:
                    open_left = True
        previous = aid if step == "step-up" else None
        clock.moment += timedelta(days=rng.uniform(0, 2))
    if not open_left and clock.moment < end:
        discharge = {"type": "discharge", "id": f"{tag}-discharge", "client": code}
        discharges.append((clock.moment, {**discharge, "reason": "therapy completed"}))


def queue_notifications(importer: Importer, dispatcher: Dispatcher, aid: str, what: str) -> None:
    """Queue and deliver what the dispatcher would for this change (``what``: its topic),
    through the dispatcher's own rules."""
    app = importer.app
    assignment = app.work.load(Assignment, importer.assignment_uuid(aid))
    client = app.work.load(Client, assignment.client_id)
    kinds = HEARS[what]
    cause = f"{assignment.id.hex[:8]}@v{assignment.version}"
    for kind, role in kinds:
        caused_at = assignment.modified_on  # the change's own time; queued now, after it
        for n in dispatcher.queuer.queue(client, assignment, kind, role, cause, caused_at):
            envelope = app.work.for_dispatcher("between-notify")
            n.attempted("delivered", "benchmark sink", None, envelope)
            app.work.save(n)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--store", required=True, help="a new SQLite file or a postgresql:// URL")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--until", type=date.fromisoformat, default=date.today())
    parser.add_argument("--encrypt", action="store_true")
    args = parser.parse_args(argv)
    store = Store.parse(args.store)
    if store.path is not None and store.path.exists():
        parser.error(f"{store.path} exists; the generator writes a new store")
    events, seconds = generate(store, args.clients, args.seed, args.until, args.encrypt)
    rate = events / seconds
    print(f"{events} events for {args.clients} clients in {seconds:.1f} s ({rate:,.0f} events/s)")


if __name__ == "__main__":
    main()
