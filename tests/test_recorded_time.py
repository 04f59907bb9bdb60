"""Recorded time only moves forward (issue 21, item 6): a notification queued long after its
cause is recorded at its queuing (its cause's time is ``caused_at``), and ``--since/--until``
on ``log``, ``replay`` and ``export fhir`` select stretches of the log by the log's recorded
time, so successive windows hold every event exactly once — also on a log written by older
code, whose ``NotificationQueued`` carries its cause's time.

The log is written in process (the clock is settable there); the installed ``between`` command
reads it as a separate process, as an auditor would."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from helpers import Clock, envelope, relaxation, run_installed

from between.engine.aggregates.assignments import Assignment
from between.engine.aggregates.clients import Client
from between.engine.aggregates.notifications import Notification
from between.engine.app import Homework
from between.engine.hooks.loading import load_plugins
from between.engine.settings import Settings
from between.engine.storage.store import Store
from between.notify.dispatcher import Dispatcher

ACTOR = {"actor": "dr.lee"}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CUT = START + timedelta(days=10)  # after the entries, before the dispatcher ran
POSITION = "https://between.invalid/fhir/StructureDefinition/log-position"
ENTRY = {"minutes": 10, "tension_before": 6, "tension_after": 3}


def write_log(tmp_path: Path) -> tuple[str, dict]:
    """Entries in the first days, and a full export (by the installed command) on day 4; the
    dispatcher first runs three weeks later and queues the therapist's messages about the
    entries then; a row as older code wrote it (a notification stamped with its cause's time)
    comes after that."""
    config = tmp_path / "clinic.toml"
    config.write_text(
        textwrap.dedent("""
        [therapists."dr.lee"]
        channels = ["email"]
        email = "lee@clinic.example"
        """)
    )
    settings = Settings(store=str(tmp_path / "t.db"), config_file=config, plugins_dir=None)
    store = Store.parse(settings.store)
    Homework.initialise(store)
    clock = Clock(START)
    app = Homework(store, clock=clock, plugins=load_plugins(settings))
    app.register_client("C1", "Client One", "dr.lee", **ACTOR)
    aid = relaxation(app, "C1", expected_entries=3)
    app.agree(aid, confidence=7, obstacles="", **ACTOR)
    for _ in range(2):
        clock.advance(days=1)
        app.submit(aid, ENTRY, **ACTOR)
    causes = [e.timestamp for e in app.events.get(app.resolve(aid))][-2:]
    app.close()
    clock.advance(days=1)
    exported_at = clock()
    first = export(settings.store)  # what an earlier export delivered, on day 4
    app = Homework(store, clock=clock, plugins=load_plugins(settings))
    clock.advance(days=19)  # the dispatcher was down: it catches up now
    queued = Dispatcher(app, settings, actor="between-notify").queuer.follow_log()
    assert queued >= 2
    clock.advance(hours=1)
    app.submit(aid, ENTRY, **ACTOR)
    # what older code wrote: a notification stamped with the time of its cause
    assignment = app.work.load(Assignment, app.resolve(aid))
    client = app.work.load(Client, assignment.client_id)
    app.work.save(
        Notification.queue(
            uuid4(),
            envelope("between-notify", at=causes[0]),
            client_id=client.id,
            assignment_id=assignment.id,
            kind="entry",
            role="therapist",
            person="dr.lee",
            channel="email",
            address="lee@clinic.example",
            cause="older code",
        )
    )
    clock.advance(days=1)
    app.review(aid, quantity=3, quality=3, difficulty=1, next_step="continue", **ACTOR)
    app.close()
    facts = {"aid": aid, "causes": causes, "queued_at": START + timedelta(days=22)}
    return settings.store, {**facts, "first": first, "exported_at": exported_at}


def between(store: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {"PATH": str(Path(sys.executable).parent), "BETWEEN_WORKERS": "1"}
    return run_installed(env, "--store", store, *args, inherit=False, check=check)


def log(store: str, *args: str) -> list[dict]:
    return [json.loads(line) for line in between(store, "log", "--json", *args).stdout.splitlines()]


def provenance_positions(bundle: dict) -> list[int]:
    return [
        ext["valueInteger"]
        for e in bundle.get("entry", [])
        if e["resource"]["resourceType"] == "Provenance"
        for ext in e["resource"]["extension"]
        if ext["url"] == POSITION
    ]


def export(store: str, *args: str) -> dict:
    return json.loads(between(store, "export", "fhir", *args).stdout)


@pytest.fixture(scope="module")
def late_log(tmp_path_factory) -> tuple[str, dict]:
    return write_log(tmp_path_factory.mktemp("recorded"))


def test_a_late_notification_is_recorded_when_queued_with_its_causes_time_beside(late_log):
    store, facts = late_log
    records = log(store)
    queued = [r for r in records if r["type"] == "NotificationQueued"]
    new = [r for r in queued if r["data"]["caused_at"] is not None]
    assert len(new) >= 2 and [r for r in queued if r["data"]["caused_at"] is None]
    for r in new:
        assert r["time"] >= facts["queued_at"].isoformat()  # recorded when queued
    assert sorted({r["data"]["caused_at"] for r in new}) == [t.isoformat() for t in facts["causes"]]
    written_now = [r for r in records if r["data"].get("cause") != "older code"]
    times = [r["time"] for r in written_now]
    assert times == sorted(times)  # recorded time only moves forward


def test_successive_exports_hold_every_events_provenance_exactly_once(late_log):
    store, _ = late_log
    everything = log(store)
    positions = [r["position"] for r in everything]
    owned = [r["position"] for r in everything if r["kind"] != "operators"]
    full = export(store)
    assert sorted(provenance_positions(full)) == owned

    first = export(store, "--until", CUT.isoformat())
    by_time = export(store, "--since", CUT.isoformat())
    by_checkpoint = export(store, "--since", first["identifier"]["value"])
    a, b = provenance_positions(first), provenance_positions(by_time)
    assert sorted(a + b) == owned and not set(a) & set(b)  # every event exactly once
    assert provenance_positions(by_checkpoint) == b

    # the first export is a prefix of the log, and its identifier the checkpoint of it
    before = log(store, "--until", CUT.isoformat())
    after = log(store, "--since", CUT.isoformat())
    assert [r["position"] for r in before + after] == positions
    prefix = [r["position"] for r in before]
    assert prefix == positions[: len(prefix)] and 0 < len(prefix) < len(positions)
    assert a == [p for p in prefix if p in owned]
    assert all(r["time"] < CUT.isoformat() for r in before)
    late = [r for r in after if r["type"] == "NotificationQueued"]
    assert late and all(r["position"] > prefix[-1] for r in late)  # none queued after CUT in A
    checkpoint = first["identifier"]["value"]
    assert checkpoint.split(":")[1] == str(len(prefix))  # seq of the prefix's last event
    assert between(store, "verify", "--against", checkpoint).returncode == 0
    assert first["timestamp"] == before[-1]["time"]

    # the older code's row (stamped before CUT, written after it) is in the second window
    old = [r for r in everything if r["data"].get("cause") == "older code"]
    assert [r["position"] for r in old] == [r["position"] for r in after if r in old]
    assert old[0]["time"] < CUT.isoformat() and old[0]["position"] in b


def test_an_export_then_one_since_its_checkpoint_or_its_moment_miss_nothing(late_log):
    """The issue's case: messages queued after an export, about events before it, are in the
    next export, whether it starts at the first's checkpoint or at the moment it ran."""
    store, facts = late_log
    first = facts["first"]
    owned = [r["position"] for r in log(store) if r["kind"] != "operators"]
    since_checkpoint = export(store, "--since", first["identifier"]["value"])
    since_moment = export(store, "--since", facts["exported_at"].isoformat())
    a = provenance_positions(first)
    for second in (since_checkpoint, since_moment):
        b = provenance_positions(second)
        assert sorted(a + b) == owned and not set(a) & set(b)
    later = log(store, "--since", facts["exported_at"].isoformat(), "--type", "NotificationQueued")
    assert len(later) >= 3 and all(r["position"] > max(a) for r in later)


def test_a_checkpoint_of_another_log_is_refused(late_log):
    store, _ = late_log
    head = export(store)["identifier"]["value"]
    _, seq, digest = head.split(":")
    forged = f"between-v1:{seq}:{'0' * len(digest)}"
    done = between(store, "export", "fhir", "--since", forged, check=False)
    assert done.returncode != 0 and "not a checkpoint of this log" in done.stderr
    beyond = between(
        store, "export", "fhir", "--since", f"between-v1:{int(seq) + 5}:{digest}", check=False
    )
    assert beyond.returncode != 0 and "ends before" in beyond.stderr


def test_replay_at_a_moment_reads_the_same_prefix(late_log):
    store, facts = late_log
    moment = (facts["queued_at"] + timedelta(minutes=30)).isoformat()  # before the third entry
    [row] = json.loads(between(store, "replay", "--at", moment, "--json").stdout)
    assert (row["id"], row["entries"], row["reviews"]) == (facts["aid"], 2, 0)
    shown = json.loads(between(store, "replay", "--at", moment, facts["aid"], "--json").stdout)
    assert shown["entries"] == 2


def backdated_log(app: Homework, clock: Clock) -> list[datetime]:
    """Two clients' homework over days, with an event stamped earlier than the one before it
    (as older code queued notifications); returns the times to cut the log at."""
    app.register_client("C1", "Client One", "dr.lee", **ACTOR)
    aid = relaxation(app, "C1", expected_entries=3)
    app.agree(aid, confidence=7, obstacles="", **ACTOR)
    cause = clock.moment
    cuts = []
    for _ in range(3):
        clock.advance(days=2)
        cuts.append(clock.moment)
        app.submit(aid, ENTRY, **ACTOR)
    assignment = app.work.load(Assignment, app.resolve(aid))
    app.work.save(
        Notification.queue(
            uuid4(),
            envelope("between-notify", at=cause),
            client_id=assignment.client_id,
            assignment_id=assignment.id,
            kind="agreed",
            role="client",
            person="client",
            channel="email",
            address="c1@example.org",
            cause="older code",
        )
    )
    clock.advance(days=1)
    cuts.append(clock.moment)
    app.review(aid, quantity=3, quality=3, difficulty=1, next_step="continue", **ACTOR)
    return cuts


@pytest.mark.parametrize("encrypted", [False, True])
def test_log_windows_partition_the_log_on_every_store(store_url, tmp_path, encrypted):
    """In process, on SQLite and PostgreSQL, plain and encrypted (the log's time is read from
    the stored rows directly, or through the mapper): adjacent windows partition the log, a
    window is a stretch of positions, and ``replay --at`` reads the same prefix."""
    from between.audit.auditor import filtered_log
    from between.audit.log import row_batches
    from between.audit.log_time import LogTime, first_after
    from between.audit.replay import rows_at

    if encrypted and not store_url.endswith(".db"):
        pytest.skip("encryption is checked on SQLite")
    key = {"key_file": tmp_path / "store.key"} if encrypted else {}
    Homework.initialise(Store.parse(store_url), encrypt=encrypted, **key)
    clock = Clock(START)
    app = Homework(Store.parse(store_url), clock=clock, **key)
    cuts = backdated_log(app, clock)
    app.close()
    reader = Homework(Store.parse(store_url), read_only=True, **key)
    try:
        everything = [p for p, _ in filtered_log(reader)]
        clock_ = LogTime(reader.mapper)
        stamps = [
            clock_.stamp(p, oid, v, topic, state)
            for rows in row_batches(reader)
            for p, _, _, oid, v, topic, state in rows
        ]
        assert stamps == [datetime.fromisoformat(r["time"]) for _, r in filtered_log(reader)]
        assert stamps != sorted(stamps)  # the backdated row
        for cut in cuts:
            before = [p for p, _ in filtered_log(reader, until=cut.isoformat())]
            after = [p for p, _ in filtered_log(reader, since=cut.isoformat())]
            assert before + after == everything and before == everything[: len(before)]
            boundary = first_after(reader, cut)
            assert boundary is None or boundary > before[-1]
        old = next(p for p, r in filtered_log(reader) if r["data"].get("cause") == "older code")
        last_cut = cuts[-1]
        assert old in [p for p, _ in filtered_log(reader, since=cuts[-2].isoformat())]
        assert old not in [p for p, _ in filtered_log(reader, until=cuts[-2].isoformat())]
        [row] = list(rows_at(reader, last_cut - timedelta(microseconds=1)))
        assert (row["entries"], row["reviews"]) == (3, 0)
    finally:
        reader.close()


def test_the_log_time_reads_a_whole_state_where_its_start_does_not_give_it(tmp_path, monkeypatch):
    """``first_after`` lets the store compare the start of each plain state; a row whose
    start is not a UTC time as Between writes it is read here — its start, or where that does
    not hold the timestamp, the row whole — and the boundaries found are the same."""
    from between.audit import log_time as audit_log

    url = str(tmp_path / "short.db")
    Homework.initialise(Store.parse(url))
    clock = Clock(START)
    app = Homework(Store.parse(url), clock=clock)
    cuts = backdated_log(app, clock)
    app.close()
    reader = Homework(Store.parse(url), read_only=True)
    try:
        found = [audit_log.first_after(reader, cut) for cut in cuts]
        odd = '{"timestamp":{"_type_":"datetime_iso","_data_":"'.replace("datetime", "odd")
        monkeypatch.setattr(audit_log, "_STAMPED", odd.encode())  # every row is read here
        assert [audit_log.first_after(reader, cut) for cut in cuts] == found
        monkeypatch.setattr(audit_log, "STAMP_BYTES", 10)  # and every row whole
        assert [audit_log.first_after(reader, cut) for cut in cuts] == found
        assert found == sorted(found) and found[0] is not None
        assert audit_log.first_after(reader, cuts[-1] + timedelta(days=1)) is None
    finally:
        reader.close()
