"""Messages about open homework are not sent once it is not open any more (issue 21): homework
agreed, due soon and overdue are cancelled, with the reason and without a link, when the
homework was closed, cancelled or finished before ``notify`` ran — against a real SMTP server,
with a portal configured (so each message would carry a fresh link)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from helpers import Clock, relaxation
from peers import SmtpServer

from between.engine.app import Homework
from between.engine.hooks.loading import load_plugins
from between.engine.settings import Settings
from between.engine.storage.store import Store
from between.notify.dispatcher import Dispatcher

ACTOR = {"actor": "dr.lee"}
PORTAL = "https://portal.clinic.example"
ENTRY = {"minutes": 10, "tension_before": 6, "tension_after": 3}


def clinic(tmp_path: Path, port: int, clock: Clock) -> tuple[Homework, Settings]:
    config = tmp_path / "clinic.toml"
    config.write_text(
        textwrap.dedent(f"""
        [channels.email]
        host = "127.0.0.1"
        port = {port}
        security = "none"
        timeout = 2

        [notify]
        due_soon_days = 1

        [therapists."dr.lee"]
        channels = ["email"]
        email = "lee@clinic.example"

        [portal]
        url = "{PORTAL}"
        """)
    )
    settings = Settings(store=str(tmp_path / "o.db"), config_file=config)
    Homework.initialise(Store.parse(settings.store))
    app = Homework(Store.parse(settings.store), clock=clock, plugins=load_plugins(settings))
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    app.change_contacts("C1", "client", {"email": "ana@example.org"}, **ACTOR)
    app.record_consent("C1", "email", **ACTOR)
    return app, settings


def statuses(app: Homework) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(kind, assignment) → (status, reason or detail), for the client's messages."""
    return {
        (r["kind"], r["assignment_id"][:8]): (r["status"], r["last_detail"])
        for r in app.notifications()
        if r["role"] == "client"
    }


def test_homework_ended_before_notify_ran_gets_no_message_and_no_link(tmp_path):
    clock, smtp = Clock(), SmtpServer()
    smtp.start()
    try:
        app, settings = clinic(tmp_path, smtp.port, clock)
        kept, closed, cancelled = (relaxation(app, "C1", due="+9") for _ in range(3))
        for aid in (kept, closed, cancelled):
            app.agree(aid, **ACTOR)
        app.close_assignment(closed, reason="done early", **ACTOR)
        app.cancel(cancelled, reason="no longer relevant", **ACTOR)
        done = Dispatcher(app, settings).run_once()
        sent = [m["Subject"] for m in smtp.messages]
        found = statuses(app)
        links = app.show_client("C1")["links"]
    finally:
        smtp.stop()
    assert (done.sent, done.cancelled) == (1, 2)
    assert len(sent) == 1 and sent[0].startswith("Homework agreed")
    assert found[("agreed", kept[:8])][0] == "sent"
    assert found[("agreed", closed[:8])] == (
        "cancelled",
        "the homework is closed now (the message was about agreed homework)",
    )
    assert found[("agreed", cancelled[:8])] == (
        "cancelled",
        "the homework is cancelled now (the message was about agreed homework)",
    )
    assert len(links) == 1  # only the message that went carried a link
    app.close()


def test_a_reminder_for_homework_finished_or_ended_meanwhile_is_not_sent(tmp_path):
    clock, smtp = Clock(), SmtpServer()
    smtp.start()
    try:
        app, settings = clinic(tmp_path, smtp.port, clock)
        finished, ended, moved, open_ = (
            relaxation(app, "C1", due="+2", expected_entries=1) for _ in range(4)
        )
        for aid in (finished, ended, moved, open_):
            app.agree(aid, **ACTOR)
        dispatcher = Dispatcher(app, settings)
        dispatcher.run_once()  # the three "agreed" messages
        clock.advance(days=1)
        with dispatcher.leased():
            assert dispatcher.queuer.remind() == 4  # due soon: queued, not yet sent
        app.submit(finished, ENTRY, **ACTOR)
        app.close_assignment(ended, reason="stopped", **ACTOR)
        review = {"quantity": 1, "quality": 1, "difficulty": 2}
        app.review(moved, next_step="continue", next_due="2026-03-20", **review, **ACTOR)
        links_before = len(app.show_client("C1")["links"])
        done = dispatcher.run_once()
        dispatcher.close()
        reminders = [m for m in smtp.messages if m["Subject"].strip().startswith("Reminder")]
        found = statuses(app)
        links_after = len(app.show_client("C1")["links"])
    finally:
        smtp.stop()
    assert (done.sent, done.cancelled) == (3, 3)  # the open one's, the entry, the review
    assert len(reminders) == 1
    assert found[("due-soon", open_[:8])][0] == "sent"
    assert found[("due-soon", finished[:8])] == (
        "cancelled",
        "every entry of the homework is recorded now",
    )
    assert found[("due-soon", ended[:8])][0] == "cancelled"
    assert found[("due-soon", moved[:8])] == (
        "cancelled",
        "the homework's due date is 2026-03-20 now",
    )
    assert links_after == links_before + 1  # a link only for the reminder that went
    app.close()
