"""Messages in their recipient's language (issue 24): the client's and their collaborators' in
the client's language, with the client's days written for it; the therapist's in the clinic's
operator language (``[clinic] operator_language``, English by default) — through the real dispatcher, a plugin's wording and the installed ``between notify``."""

from __future__ import annotations

import json
import textwrap
from datetime import date
from email import message_from_bytes
from email.policy import default as modern
from pathlib import Path

import pytest
from helpers import Clock, relaxation, run_installed
from peers import SmtpServer

from between.engine.app import Homework
from between.engine.hooks.loading import load_plugins
from between.engine.settings import Settings
from between.engine.storage.store import Store
from between.language import translator
from between.notify.dispatcher import Dispatcher

ACTOR = {"actor": "dr.lee"}
DUE = "2026-03-05"  # the Clock starts on Monday 2 March 2026
DUE_ES = "jueves, 5 de marzo de 2026"
DUE_EN = "Thursday, 5 March 2026"
PORTAL = "https://homework.clinic.example"


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def clinic(tmp_path: Path, port: int, clock: Clock, plugins: Path | None = None, extra: str = ""):
    config = tmp_path / "clinic.toml"
    config.write_text(
        extra
        + textwrap.dedent(f"""
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
        """)
    )
    settings = Settings(store=str(tmp_path / "m.db"), config_file=config, plugins_dir=plugins)
    Homework.initialise(Store.parse(settings.store))
    app = Homework(Store.parse(settings.store), clock=clock, plugins=load_plugins(settings))
    return app, Dispatcher(app, settings)


def client(app: Homework, code: str, address: str, **preferences: str) -> None:
    app.register_client(code, "Ana", "dr.lee", preferences=preferences, **ACTOR)
    app.add_collaborator(code, "Sam", "partner", **ACTOR)
    app.change_contacts(code, "client", {"email": address}, **ACTOR)
    app.change_contacts(code, "Sam", {"email": f"sam.{address}"}, **ACTOR)
    app.record_consent(code, "email", **ACTOR)
    app.record_consent(code, "email", person="Sam", **ACTOR)


def mails(smtp: SmtpServer) -> dict[str, list[tuple[str, str]]]:
    """Each recipient's (subject, text), decoded as a mail program shows them."""
    got: dict[str, list[tuple[str, str]]] = {}
    for raw in smtp.messages:
        mail = message_from_bytes(raw.as_bytes(), policy=modern)
        body = mail.get_content().strip()  # type: ignore[attr-defined]
        got.setdefault(str(mail["To"]), []).append((str(mail["Subject"]).strip(), body))
    return got


def test_each_recipient_reads_the_message_in_their_language(tmp_path, smtp):
    clock = Clock()
    app, dispatcher = clinic(tmp_path, smtp.port, clock, extra=f'[portal]\nurl = "{PORTAL}"\n')
    client(app, "ES1", "ana@example.org", language="es")
    client(app, "EN1", "bo@example.org")  # the clinic's default: English
    for code in ("ES1", "EN1"):
        aid = relaxation(app, code, due=DUE, observers=["Sam"])
        app.agree(aid, **ACTOR)
    dispatcher.run_once()
    clock.advance(days=2)  # the day before it is due: the reminders
    dispatcher.run_once()
    got, linked = {}, {}
    for to, sent in mails(smtp).items():  # each text, then its link line
        got[to] = [(subject, text.split("\n")[0]) for subject, text in sent]
        linked[to] = {text.split("\n")[1].split(PORTAL)[0] for _, text in sent}
    spanish = "Anota tu tarea aquí (este enlace es solo para ti): "
    assert linked["ana@example.org"] == linked["sam.ana@example.org"] == {spanish}
    english = "Record your homework here (this link is personal): "
    assert linked["bo@example.org"] == linked["sam.bo@example.org"] == {english}

    title_es = "Práctica de respiración y relajación"
    assert got["ana@example.org"] == [
        (
            f"Tarea acordada: {title_es}",
            f"Acordaste hacer «{title_es}». Es para el {DUE_ES}.",
        ),
        (
            f"Recordatorio: «{title_es}» es para el {DUE_ES}",
            f"«{title_es}» es para el {DUE_ES}.",
        ),
    ]
    assert [s for s, _ in got["sam.ana@example.org"]] == [
        "Te piden ayuda con una tarea",
        f"Recordatorio: tus observaciones son para el {DUE_ES}",
    ]
    title = "Breathing and relaxation practice"
    assert got["bo@example.org"] == [
        (f"Homework agreed: {title}", f"You agreed to '{title}'. It is due on {DUE_EN}."),
        (f"Reminder: {title} is due on {DUE_EN}", f"'{title}' is due on {DUE_EN}."),
    ]
    assert [s for s, _ in got["sam.bo@example.org"]] == [
        "You are asked to help with homework",
        f"Reminder: observations due on {DUE_EN}",
    ]
    assert "lee@clinic.example" not in got  # nothing for the therapist yet
    clock.advance(days=2)  # overdue: the therapist reads English whatever the client's language
    dispatcher.run_once()
    therapist = [s for s, _ in mails(smtp)["lee@clinic.example"]]
    assert sorted(therapist) == ["Overdue homework for EN1", "Overdue homework for ES1"]


def test_the_therapist_reads_the_clinics_operator_language(tmp_path, smtp):
    clock = Clock()
    extra = '[clinic]\noperator_language = "es"\n'
    app, dispatcher = clinic(tmp_path, smtp.port, clock, extra=extra)
    client(app, "EN1", "bo@example.org", language="en")
    app.agree(relaxation(app, "EN1", due=DUE), **ACTOR)
    app.decline(relaxation(app, "EN1", due=DUE), reason="no time", **ACTOR)
    dispatcher.run_once()
    got = mails(smtp)
    assert [s for s, _ in got["bo@example.org"]] == [  # the client keeps their own language
        "Homework agreed: Breathing and relaxation practice"
    ]
    [(subject, text)] = got["lee@clinic.example"]
    assert subject == "Tarea no aceptada por EN1"
    assert "Práctica de respiración y relajación" in text


def test_a_plugins_wording_is_asked_in_the_recipients_language(tmp_path, smtp):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "wording.py").write_text(
        textwrap.dedent("""
        from dataclasses import replace

        from between import hookimpl
        from between.language import current, gettext

        @hookimpl
        def between_render_message(notification, default):
            spoken = current().language
            assert notification["language"] == spoken
            return replace(default, subject=f"[{spoken}] " + gettext("What happened?"))
        """),
        encoding="utf-8",
    )
    app, dispatcher = clinic(tmp_path, smtp.port, Clock(), plugins)
    client(app, "ES1", "ana@example.org", language="es")
    app.decline(relaxation(app, "ES1", due=DUE), reason="no time", **ACTOR)
    app.agree(relaxation(app, "ES1", due=DUE), **ACTOR)
    dispatcher.run_once()
    got = mails(smtp)
    assert [s for s, _ in got["ana@example.org"]] == ["[es] ¿Qué pasó?"]
    assert [s for s, _ in got["lee@clinic.example"]] == ["[en] What happened?"]


def test_between_notify_writes_to_a_spanish_client_in_spanish(tmp_path):
    env = {"BETWEEN_STORE": str(tmp_path / "p.db"), "BETWEEN_ACTOR": "dr.lee"}
    run_installed(env, "init", check=True)
    for code, language in (("ES1", "es"), ("EN1", "en")):
        run_installed(
            env, "client", "add", code, "--name", "A", "--therapist", "dr.lee",
            "--language", language, check=True,
        )  # fmt: skip
        run_installed(env, "client", "consent", code, "--channel", "console", check=True)
        run_installed(env, "assign", code, "--template", "relaxation-1-breathing", check=True)
    for row in json.loads(run_installed(env, "list", "--json", check=True).stdout):
        run_installed(env, "agree", row["id"], check=True)
    due = {
        row["client"]: row["due"] for row in json.loads(run_installed(env, "list", "--json").stdout)
    }
    told = run_installed(env, "notify", check=True).stdout
    spanish = translator("es").day(date.fromisoformat(due["ES1"]))
    english = translator("en").day(date.fromisoformat(due["EN1"]))
    assert "Tarea acordada: Práctica de respiración y relajación" in told, told
    assert f"Es para el {spanish}." in told, told
    assert f"It is due on {english}." in told, told
