"""The dispatcher's trust gaps (issue 12): consent and addresses checked again at send time,
one dispatcher per store, queuing that survives repeated kill -9 — on SQLite and PostgreSQL,
with real subprocesses and real peers (an SMTP server, a webhook receiver) on loopback."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

from helpers import BETWEEN, Clock, invoke, relaxation, run_installed
from peers import SmtpServer, WebhookReceiver

from between.engine.app import Homework
from between.engine.hooks.loading import load_plugins
from between.engine.settings import Settings
from between.engine.storage.kinds import lease_for
from between.engine.storage.lease import EXIT_BUSY
from between.engine.storage.store import Store
from between.notify.dispatcher import Dispatcher

ACTOR = {"actor": "dr.lee"}
SECRET = "s3cret-shared-with-the-receiver"


def write_config(tmp_path: Path, smtp_port: int = 1) -> Path:
    path = tmp_path / "clinic.toml"
    path.write_text(
        textwrap.dedent(f"""
        [channels.email]
        host = "127.0.0.1"
        port = {smtp_port}
        security = "none"
        timeout = 2

        [channels.webhook]
        secret = "{SECRET}"
        timeout = 5

        [notify]
        max_attempts = 4
        backoff_seconds = 60

        [therapists."dr.lee"]
        channels = ["email"]
        email = "lee@clinic.example"
    """)
    )
    return path


def open_app(store_url: str, config: Path, clock: Clock | None = None) -> tuple[Homework, Settings]:
    settings = Settings(store=store_url, config_file=config, plugins_dir=None)
    store = Store.parse(store_url)
    Homework.initialise(store)
    return Homework(store, clock=clock, plugins=load_plugins(settings)), settings


def outage_week(app: Homework, clock: Clock) -> str:
    """Ana consents to email; her homework is agreed and she records an entry."""
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    app.change_contacts("C1", "client", {"email": "ana@example.org"}, **ACTOR)
    app.record_consent("C1", "email", **ACTOR)
    aid = relaxation(app, "C1", due="+9", expected_entries=3)
    app.agree(aid, **ACTOR)
    clock.advance(hours=3)
    app.submit(aid, {"minutes": 10, "tension_before": 6, "tension_after": 3}, **ACTOR)
    return aid


def test_consent_withdrawn_during_an_outage_cancels_the_message(store_url, tmp_path):
    server, clock = SmtpServer(), Clock()  # not started: the port refuses connections
    app, settings = open_app(store_url, write_config(tmp_path, server.port), clock)
    outage_week(app, clock)
    dispatcher = Dispatcher(app, settings)
    down = dispatcher.run_once()
    assert (down.queued, down.sent, down.retrying) == (2, 0, 2)  # Ana's and the therapist's
    app.record_consent("C1", "email", granted=False, **ACTOR)
    server.start()
    try:
        clock.advance(seconds=61)
        back = dispatcher.run_once()
        assert (back.sent, back.cancelled) == (1, 1)
        assert [m["To"] for m in server.messages] == ["lee@clinic.example"]  # never Ana
        [ana] = [r for r in app.notifications() if r["role"] == "client"]
        assert ana["status"] == "cancelled" and ana["last_detail"] == "consent withdrawn"
        assert dispatcher.run_once().sent == 0 and len(server.messages) == 1
    finally:
        server.stop()
        dispatcher.close()
    records = cli_log(settings.store, "--type", "NotificationCancelled")
    assert [(r["kind"], r["data"]["reason"]) for r in records] == [
        ("notification", "consent withdrawn")
    ]


def test_a_message_pending_when_the_address_changes_goes_to_the_new_address(store_url, tmp_path):
    server, clock = SmtpServer(), Clock()
    app, settings = open_app(store_url, write_config(tmp_path, server.port), clock)
    outage_week(app, clock)
    dispatcher = Dispatcher(app, settings)
    assert dispatcher.run_once().retrying == 2
    app.change_contacts("C1", "client", {"email": "ana.new@example.org"}, **ACTOR)
    server.start()
    try:
        clock.advance(seconds=61)
        assert dispatcher.run_once().sent == 2
        assert sorted(m["To"] for m in server.messages) == [
            "ana.new@example.org",
            "lee@clinic.example",
        ]
    finally:
        server.stop()
        dispatcher.close()
    [ana] = [r for r in app.notifications() if r["role"] == "client"]
    assert "changed since it was queued" in ana["last_detail"]
    assert "example.org" not in ana["last_detail"]  # the unsealed detail names no address


def test_notification_events_are_exported_as_kind_notification(tmp_path):
    server, clock = SmtpServer(), Clock()
    app, settings = open_app(str(tmp_path / "n.db"), write_config(tmp_path, server.port), clock)
    outage_week(app, clock)
    dispatcher = Dispatcher(app, settings)
    dispatcher.run_once()
    app.record_consent("C1", "email", granted=False, **ACTOR)
    clock.advance(seconds=61)
    dispatcher.run_once()
    dispatcher.close()
    records = cli_log(settings.store)
    kinds = {r["type"]: r["kind"] for r in records}
    for name in ("NotificationQueued", "DeliveryAttempted", "NotificationCancelled"):
        assert kinds[name] == "notification"
    assert kinds["AssignmentAgreed"] == "assignment" and kinds["ClientRegistered"] == "client"


def cli_log(store: str, *args: str) -> list[dict]:
    out = invoke(store, "log", "--json", *args)
    assert out.exit_code == 0, out.output
    return [json.loads(line) for line in out.output.splitlines()]


# -- one dispatcher per store -------------------------------------------------------------


def clinic_of(store_url: str, tmp_path: Path, hook_url: str, homework: int = 200) -> Homework:
    """``homework`` agreed assignments, each a message to Ana's webhook (real clock)."""
    app, _ = open_app(store_url, write_config(tmp_path))
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    app.change_contacts("C1", "client", {"webhook": hook_url}, **ACTOR)
    app.record_consent("C1", "webhook", **ACTOR)
    agree_more(app, homework)
    return app


def agree_more(app: Homework, count: int) -> None:
    with app.bulk(1000):
        for _ in range(count):
            app.agree(relaxation(app, "C1", due="+30", expected_entries=1), **ACTOR)


def cli_env(store_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BETWEEN_STORE": store_url,
        "BETWEEN_CONFIG": str(tmp_path / "clinic.toml"),
        "BETWEEN_PLUGINS_DIR": "",
    }


def wait_for(condition: Callable[[], bool], timeout: float = 240, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_a_second_dispatcher_stops_with_exit_4_naming_the_holder(store_url, tmp_path):
    app, settings = open_app(store_url, write_config(tmp_path))
    holder = Dispatcher(app, settings)
    with holder.leased():
        run = run_installed(cli_env(store_url, tmp_path), "notify", inherit=False)
        assert run.returncode == EXIT_BUSY == 4
        [line] = run.stderr.splitlines()
        assert "another dispatcher is working" in line and f"pid {os.getpid()} on" in line
        assert run.stdout == ""
        if Store.parse(store_url).is_sqlite:
            lock = Path(f"{store_url}.notify-lock")
            assert stat.S_IMODE(lock.stat().st_mode) == 0o600
            assert "holds no data" in lock.read_text()
    again = run_installed(cli_env(store_url, tmp_path), "notify", inherit=False)
    assert again.returncode == 0, again.stderr  # released: the next one works
    holder.close()


def test_two_followers_deliver_each_message_once_and_the_survivor_takes_over(store_url, tmp_path):
    hook = WebhookReceiver(SECRET)
    hook.start()
    app = clinic_of(store_url, tmp_path, hook.url)
    env = cli_env(store_url, tmp_path)
    follow = [BETWEEN, "notify", "--follow", "--interval", "0.2"]
    procs = [
        subprocess.Popen(follow, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        wait_for(lambda: len(hook.received) >= 200, what="200 messages")
        time.sleep(0.5)  # anything sent twice would arrive meanwhile
        assert Counter(Counter(r["key"] for r in hook.received).values()) == Counter({1: 200})
        probe = lease_for(app.store)
        assert not probe.try_acquire()
        holder_pid = int(probe.holder().split()[1])
        probe.release()
        [holder] = [p for p in procs if p.pid == holder_pid]
        [waiter] = [p for p in procs if p is not holder]
        holder.send_signal(signal.SIGKILL)  # a crashed holder loses the lease at once
        holder.wait()
        agree_more(app, 20)
        wait_for(lambda: len(hook.received) >= 220, what="the survivor to take over")
        time.sleep(0.3)
        keys = Counter(r["key"] for r in hook.received)
        assert len(keys) == 220 and set(keys.values()) == {1}
        assert waiter.poll() is None
        assert Counter(r["status"] for r in app.notifications()) == Counter({"sent": 220})
    finally:
        for p in procs:
            p.kill()
        outs = [p.communicate() for p in procs]
        hook.stop()
        app.close()
    assert "waiting: another dispatcher is working" in outs[procs.index(waiter)][1]


def holder_pid(store_url: str) -> int | None:
    """The pid of the dispatcher holding the store's lease, as the lease names it."""
    probe = lease_for(Store.parse(store_url))
    try:
        words = probe.holder().split()
    finally:
        probe.release()
    return int(words[1]) if words[:1] == ["pid"] else None


def test_ten_kills_during_a_200_message_batch_still_deliver_each_message(store_url, tmp_path):
    """A standby follower takes over from each killed one (as a service manager would
    restart it): three kills while queuing, seven while sending."""
    hook = WebhookReceiver(SECRET, delay=0.004)
    hook.start()
    app = clinic_of(store_url, tmp_path, hook.url)
    follow = [BETWEEN, "notify", "--follow", "--interval", "0.1"]
    env = cli_env(store_url, tmp_path)

    def spawn() -> subprocess.Popen:
        return subprocess.Popen(follow, env=env, stdout=subprocess.DEVNULL)

    def queued() -> int:
        with app.reading() as c:
            c.execute("SELECT COUNT(*) AS n FROM rm_notifications")
            return c.fetchone()["n"]

    procs = {p.pid: p for p in (spawn(), spawn())}
    queued_at_kills = []
    try:
        for kill in range(10):
            if kill < 3:  # while it queues: each kill must find more queued than the last
                wait_for(partial(lambda seen: queued() > seen, queued()), what="queuing")
            else:  # while it sends
                sent = len(hook.received)
                wait_for(partial(lambda seen: len(hook.received) >= seen + 5, sent), what="sending")
            wait_for(lambda: holder_pid(store_url) in procs, what="the holder")
            victim = procs.pop(holder_pid(store_url))
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            queued_at_kills.append(queued())
            standby = spawn()
            procs[standby.pid] = standby
        wait_for(lambda: len({r["key"] for r in hook.received}) == 200, what="every message")
        wait_for(lambda: {r["status"] for r in app.notifications()} == {"sent"}, what="the records")
    finally:
        for p in procs.values():
            p.kill()
            p.wait()
        hook.stop()
        app.close()
    assert queued_at_kills[:3] == sorted(set(queued_at_kills[:3])) and queued_at_kills[0] < 200
    keys = Counter(r["key"] for r in hook.received)
    assert len(keys) == 200  # every message arrived
    assert sum(keys.values()) - 200 <= 10  # a repeat only for a message in flight at a kill
