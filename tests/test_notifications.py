"""Notifications from the log, delivered to real peers on loopback: an SMTP server and an
HTTP webhook receiver that checks signatures. Exactly the expected messages, only on consented
channels; outages delay but do not lose or duplicate; a raising channel stops nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from helpers import Clock, assign_args, invoke, relaxation
from peers import SmtpServer, WebhookReceiver

from between.engine.app import Homework
from between.engine.hooks.loading import load_plugins
from between.engine.settings import Settings
from between.engine.storage.store import Store
from between.notify.dispatcher import Dispatcher

ACTOR = {"actor": "dr.lee"}
#: The Clock starts on 2026-03-02; homework is due in 3 days, written as messages write a day.
DUE_DAY = "Thursday, 5 March 2026"
SECRET = "s3cret-shared-with-the-receiver"


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hook():
    receiver = WebhookReceiver(SECRET)
    receiver.start()
    yield receiver
    receiver.stop()


def config(tmp_path: Path, smtp_port: int, extra: str = "") -> Path:
    path = tmp_path / "clinic.toml"
    path.write_text(
        textwrap.dedent(f"""
        [channels.email]
        host = "127.0.0.1"
        port = {smtp_port}
        security = "none"
        sender = "homework@clinic.example"
        timeout = 2

        [channels.webhook]
        secret = "{SECRET}"
        timeout = 2

        [notify]
        due_soon_days = 1
        max_attempts = 4
        backoff_seconds = 60

        [therapists."dr.lee"]
        channels = ["email"]
        email = "lee@clinic.example"
    """)
        + extra
    )
    return path


def setup_store(
    tmp_path: Path, config_file: Path, clock: Clock, extra_plugins=()
) -> tuple[Homework, Settings]:
    settings = Settings(store=str(tmp_path / "n.db"), config_file=config_file, plugins_dir=None)
    store = Store.parse(settings.store)
    Homework.initialise(store)
    app = Homework(store, clock=clock, plugins=load_plugins(settings, extra=extra_plugins))
    return app, settings


def a_week(app: Homework, clock: Clock, hook_url: str) -> str:
    """Client consents to email and webhook; Sam (observer) to email; Kim (not observing) to email."""
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    app.add_collaborator("C1", "Sam", "partner", **ACTOR)
    app.add_collaborator("C1", "Kim", "sister", **ACTOR)
    app.change_contacts("C1", "client", {"email": "ana@example.org", "webhook": hook_url}, **ACTOR)
    app.change_contacts("C1", "Sam", {"email": "sam@example.org"}, **ACTOR)
    app.change_contacts("C1", "Kim", {"email": "kim@example.org"}, **ACTOR)
    for person, channel in [
        ("client", "email"),
        ("client", "webhook"),
        ("Sam", "email"),
        ("Kim", "email"),
    ]:
        app.record_consent("C1", channel, person=person, **ACTOR)
    aid = app.propose(
        "C1",
        "self-monitoring",
        instructions="log urges",
        rationale="baseline",
        stage="baseline",
        difficulty=2,
        due="+3",
        expected_entries=3,
        parameters={"target": "urges"},
        observers=["Sam"],
        **ACTOR,
    ).result
    app.agree(aid, **ACTOR)
    for text in ("on the bus, heart racing", "at the shop"):
        clock.advance(hours=20)
        app.submit(aid, {"situation": text, "intensity": 60}, **ACTOR)
    return aid


def test_a_week_sends_exactly_the_expected_messages_on_consented_channels(tmp_path, smtp, hook):
    clock = Clock()
    app, settings = setup_store(tmp_path, config(tmp_path, smtp.port), clock)
    aid = a_week(app, clock, hook.url)
    dispatcher = Dispatcher(app, settings)
    first = dispatcher.run_once()
    clock.advance(days=3)  # past the due date, still incomplete: overdue
    second = dispatcher.run_once()
    app.review(
        aid, quantity=2, quality=3, difficulty=2, next_step="continue", next_due="+4", **ACTOR
    )
    app.decline(
        relaxation(
            app, "C1", instructions="breathe", rationale="calm", due="+5", expected_entries=1
        ),
        reason="too busy",
        **ACTOR,
    )
    third = dispatcher.run_once()
    assert dispatcher.run_once().queued == 0  # nothing new: nothing sent twice

    mails = Counter((m["To"], m["Subject"]) for m in smtp.messages)
    assert mails == Counter(
        {
            ("ana@example.org", "Homework agreed: Self-monitoring log"): 1,
            ("sam@example.org", "You are asked to help with homework"): 1,
            ("lee@clinic.example", "New entry for C1"): 2,
            ("ana@example.org", f"Reminder: Self-monitoring log is due on {DUE_DAY}"): 1,
            ("sam@example.org", f"Reminder: observations due on {DUE_DAY}"): 1,
            ("ana@example.org", f"Self-monitoring log was due on {DUE_DAY}"): 1,
            ("lee@clinic.example", "Overdue homework for C1"): 1,
            ("ana@example.org", "Homework reviewed: Self-monitoring log"): 1,
            ("lee@clinic.example", "Homework declined by C1"): 1,
        }
    )
    assert not any(m["To"] == "kim@example.org" for m in smtp.messages), (
        "Kim does not observe: no mail"
    )
    keys = [m["Message-ID"] for m in smtp.messages]
    assert len(keys) == len(set(keys)) == 10
    for m in smtp.messages:
        body = m.get_payload()
        assert "heart racing" not in body and "urges" not in body  # no clinical content
    entry_bodies = sorted(
        m.get_payload() for m in smtp.messages if m["Subject"] == "New entry for C1"
    )
    # Both entries were recorded before the first run: each message counts up to its own entry.
    assert ["(1 of 3 entries)" in b for b in entry_bodies] == [True, False]
    assert ["(2 of 3 entries)" in b for b in entry_bodies] == [False, True]
    kinds = Counter(r["kind"] for r in hook.received)
    assert (
        kinds == Counter({"agreed": 1, "due-soon": 1, "overdue": 1, "reviewed": 1})
        and not hook.rejected
    )
    assert (first.sent, second.sent, third.sent) == (8, 3, 3)  # 6 mail + 2 webhook; 2+1; 2+1

    log = [
        json.loads(line)
        for line in invoke(
            settings.store, "log", "--json", "--type", "DeliveryAttempted"
        ).output.splitlines()
    ]
    assert len(log) == 14 and {r["data"]["outcome"] for r in log} == {"delivered"}


def test_a_mail_server_outage_delays_but_neither_loses_nor_duplicates(tmp_path, hook):
    server = SmtpServer()  # not started: the port refuses connections
    clock = Clock()
    app, settings = setup_store(tmp_path, config(tmp_path, server.port), clock)
    a_week(app, clock, hook.url)
    dispatcher = Dispatcher(app, settings)
    down = dispatcher.run_once()
    assert (down.queued, down.sent, down.retrying) == (8, 2, 6)  # webhooks went; mails wait
    assert dispatcher.run_once().sent == 0  # not yet time to retry
    server.start()
    try:
        clock.advance(seconds=61)
        assert dispatcher.run_once().sent == 6
        assert dispatcher.run_once().sent == 0
        mails = [r for r in app.notifications() if r["channel"] == "email"]
        ids = Counter(m["Message-ID"] for m in server.messages)
        assert len(server.messages) == len(ids) == len(mails) == 6  # each mail exactly once
        assert {f"<{r['id']}@between.notifications>" for r in mails} == set(ids)
        assert all(r["status"] == "sent" and r["attempts"] == 2 for r in mails)
    finally:
        server.stop()


def test_failures_stop_after_max_attempts_stay_visible_and_can_be_retried(tmp_path, hook):
    server = SmtpServer()
    clock = Clock()
    app, settings = setup_store(tmp_path, config(tmp_path, server.port), clock)
    a_week(app, clock, hook.url)
    dispatcher = Dispatcher(app, settings)
    for _ in range(4):
        dispatcher.run_once()
        clock.advance(seconds=60 * 8)
    failed = app.notifications("failed")
    assert len(failed) == 6 and all(r["attempts"] == 4 for r in failed)  # the six mails
    out = invoke(settings.store, "notify", "--status")
    assert "6 failed" in out.output and "ConnectionRefusedError" in out.output
    server.start()
    try:
        app.retry_notification(failed[0]["id"][:8], **ACTOR)
        assert dispatcher.run_once().sent == 1
        assert len(server.messages) == 1 and len(app.notifications("failed")) == 5
    finally:
        server.stop()


class Exploding:
    """A channel plugin that always raises."""

    name = "pager"
    address_key = None

    def send(self, message, settings):
        raise RuntimeError("pager gateway exploded")


class ExplodingPlugin:
    from between import hookimpl

    @hookimpl
    def between_register_channels(self, registry):
        registry.add(Exploding())


def test_a_raising_channel_stops_neither_the_others_nor_loses_its_event(tmp_path, smtp, hook):
    clock = Clock()
    app, settings = setup_store(
        tmp_path, config(tmp_path, smtp.port), clock, extra_plugins=(ExplodingPlugin(),)
    )
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    app.change_contacts("C1", "client", {"email": "ana@example.org"}, **ACTOR)
    app.record_consent("C1", "pager", **ACTOR)
    app.record_consent("C1", "email", **ACTOR)
    aid = relaxation(app, "C1", due="+9", expected_entries=1)
    app.agree(aid, **ACTOR)
    done = Dispatcher(app, settings).run_once()
    assert done.sent == 1 and done.retrying == 1
    [pager] = [r for r in app.notifications() if r["channel"] == "pager"]
    assert pager["status"] == "pending" and "pager gateway exploded" in pager["last_detail"]
    assert len(smtp.messages) == 1


def test_hook_between_register_channels(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "jotter.py").write_text(
        textwrap.dedent(f"""
        from pathlib import Path
        from between import Delivery, hookimpl

        class Jotter:
            name = "jotter"
            address_key = None

            def send(self, message, settings):
                with open({str(tmp_path / "jotted.txt")!r}, "a") as f:
                    f.write(message.key + " " + message.subject + "\\n")
                return Delivery("delivered")

        @hookimpl
        def between_register_channels(registry):
            registry.add(Jotter())
    """)
    )
    env = {
        "BETWEEN_STORE": str(tmp_path / "j.db"),
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_PLUGINS_DIR": str(tmp_path / "plugins"),
    }
    invoke(env, "init")
    invoke(env, "client", "add", "C1", "--name", "Ana", "--therapist", "dr.lee")
    assert invoke(env, "client", "consent", "C1", "--channel", "jotter").exit_code == 0
    args = assign_args("C1", "relaxation", "technique=other", due="+9")
    aid = json.loads(invoke(env, *args, "--json").output)["result"]
    invoke(env, "agree", aid[:8])
    assert "sent 1" in invoke(env, "notify").output
    assert (tmp_path / "jotted.txt").read_text().count("Homework agreed") == 1
    assert (
        "unknown channel 'fax'" in invoke(env, "client", "consent", "C1", "--channel", "fax").output
    )


def test_hook_between_render_message(tmp_path, smtp, hook):
    from between import hookimpl
    from between.engine.contracts.channels import Message

    class Friendly:
        @hookimpl
        def between_render_message(self, notification, default):
            if notification["kind"] != "agreed":
                return None
            return Message(
                **{**vars(default), "subject": f"Well done agreeing to {notification['title']}"}
            )

    clock = Clock()
    app, settings = setup_store(
        tmp_path, config(tmp_path, smtp.port), clock, extra_plugins=(Friendly(),)
    )
    a_week(app, clock, hook.url)
    Dispatcher(app, settings).run_once()
    subjects = {m["Subject"] for m in smtp.messages}
    assert "Well done agreeing to Self-monitoring log" in subjects
    assert "Reminder: Self-monitoring log is due on" in " ".join(subjects)


KILLABLE = textwrap.dedent(
    """
    import sys
    from between.engine.app import Homework
    from between.notify.dispatcher import Dispatcher
    from between.engine.hooks.loading import load_plugins
    from between.engine.settings import Settings
    from between.engine.storage.store import Store
    settings = Settings(store=sys.argv[1], config_file=__import__("pathlib").Path(sys.argv[2]))
    app = Homework(Store.parse(settings.store), plugins=load_plugins(settings))
    print("started", flush=True)
    Dispatcher(app, settings).run_once()
    print("finished", flush=True)
    """
)


def test_a_dispatcher_killed_mid_run_loses_nothing_and_duplicates_keep_their_key(tmp_path, smtp):
    slow = WebhookReceiver(SECRET, delay=0.3)
    slow.start()
    try:
        clock_free_config = config(tmp_path, smtp.port)
        settings = Settings(store=str(tmp_path / "k.db"), config_file=clock_free_config)
        Homework.initialise(Store.parse(settings.store))
        app = Homework(Store.parse(settings.store), plugins=load_plugins(settings))
        for n in range(6):
            code = f"C{n}"
            app.register_client(code, f"Client {n}", "dr.lee", **ACTOR)
            app.change_contacts(code, "client", {"webhook": slow.url}, **ACTOR)
            app.record_consent(code, "webhook", **ACTOR)
            aid = relaxation(app, code, due="+20")
            app.agree(aid, **ACTOR)
            app.review(aid, quantity=1, quality=1, difficulty=1, next_step="continue", **ACTOR)
        command = [sys.executable, "-c", KILLABLE, settings.store, str(clock_free_config)]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=os.environ)
        proc.stdout.readline()
        while len(slow.received) < 3:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        partial = len(slow.received)
        assert 3 <= partial < 12
        rerun = subprocess.run(command, capture_output=True, text=True, env=os.environ, timeout=60)
        assert rerun.returncode == 0, rerun.stderr
        keys = Counter(r["key"] for r in slow.received)
        assert len(keys) == 12  # every notification arrived
        assert all(count <= 2 for count in keys.values())  # a duplicate, if any, has the same key
        assert sum(keys.values()) - len(keys) <= 1  # at most the one in flight when killed
        assert Counter(r["status"] for r in app.notifications()) == Counter({"sent": 12})
    finally:
        slow.stop()
