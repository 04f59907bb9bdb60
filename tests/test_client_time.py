"""The client's own clock (issue 24): due dates are the client's calendar days, reminders go at
the client's reminder time in their zone, nothing goes in their quiet hours unless the clinic
marks it urgent — and every wait is an event in the log."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import Clock, cli, relaxation, run_installed
from peers import SmtpServer

from between.engine.app import Homework
from between.engine.hooks.loading import load_plugins
from between.engine.reading.clock_zones import day_end, local_label, quiet_until
from between.engine.settings import Settings
from between.engine.storage.store import Store
from between.events.catalog import NOTIFICATION_DEFERRED
from between.notify.dispatcher import Dispatcher

ACTOR = {"actor": "dr.lee"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def clinic(
    tmp_path: Path, port: int, clock: Clock, extra: str = ""
) -> tuple[Homework, Settings, Dispatcher]:
    config = tmp_path / "clinic.toml"
    config.write_text(
        textwrap.dedent(f"""
        [channels.email]
        host = "127.0.0.1"
        port = {port}
        security = "none"
        timeout = 2

        [clinic]
        timezone = "Europe/Madrid"
        quiet_hours = "21:00-08:00"
        remind_at = "19:00"

        [therapists."dr.lee"]
        channels = ["email"]
        email = "lee@clinic.example"
        """)
        + textwrap.dedent(extra)
    )
    settings = Settings(store=str(tmp_path / "t.db"), config_file=config)
    Homework.initialise(Store.parse(settings.store))
    app = Homework(Store.parse(settings.store), clock=clock, plugins=load_plugins(settings))
    return app, settings, Dispatcher(app, settings)


def client(app: Homework, code: str = "C1", **preferences: str) -> None:
    app.register_client(code, "Ana", "dr.lee", preferences=preferences, **ACTOR)
    app.change_contacts(code, "client", {"email": "ana@example.org"}, **ACTOR)
    app.record_consent(code, "email", **ACTOR)


def messages(app: Homework, kind: str, role: str = "client") -> list[dict]:
    return [r for r in app.notifications() if r["kind"] == kind and r["role"] == role]


def deferrals(app: Homework) -> int:
    with app.reading() as c:
        c.execute(
            "SELECT COUNT(*) AS n FROM stored_events WHERE topic = ?", (NOTIFICATION_DEFERRED,)
        )
        return c.fetchone()["n"]


def test_the_helpers_read_the_clients_clock():
    assert day_end("2026-12-10", "Pacific/Honolulu") == at("2026-12-11T10:00")
    assert day_end("2026-12-10", "Pacific/Kiritimati") == at("2026-12-10T10:00")
    assert local_label(at("2026-12-09T05:00"), "Pacific/Honolulu") == (
        "Tuesday 8 December, 19:00 (Honolulu time)"
    )
    # quiet hours across midnight end at 08:00 local, whichever side of a DST change
    assert quiet_until(at("2026-03-28T22:00"), "21:00-08:00", "Europe/Madrid") == at(
        "2026-03-29T06:00"
    )
    assert quiet_until(at("2026-10-24T22:00"), "21:00-08:00", "Europe/Madrid") == at(
        "2026-10-25T07:00"
    )
    assert quiet_until(at("2026-03-28T12:00"), "21:00-08:00", "Europe/Madrid") is None
    assert quiet_until(at("2026-03-28T23:00"), "none", "Europe/Madrid") is None


@pytest.mark.parametrize(
    ("start", "due", "soon_at", "overdue_on", "overdue_at"),
    [
        # spring: due-soon still on winter time (19:00 CET = 18:00Z), overdue on summer time
        ("2026-03-25T09:00", "2026-03-28", "2026-03-27T18:00", "2026-03-29T07:00", "17:00"),
        # autumn: due-soon on summer time (19:00 CEST = 17:00Z), overdue on winter time
        ("2026-10-21T09:00", "2026-10-24", "2026-10-23T17:00", "2026-10-25T09:00", "18:00"),
    ],
)
def test_reminders_go_at_19_madrid_time_across_each_dst_change(
    tmp_path, smtp, start, due, soon_at, overdue_on, overdue_at
):
    clock = Clock(at(start))
    app, _, dispatcher = clinic(tmp_path, smtp.port, clock)
    client(app, timezone="Europe/Madrid", remind_at="19:00")
    aid = relaxation(app, "C1", due=due)
    app.agree(aid, **ACTOR)
    dispatcher.run_once()  # the agreement message, at once (10:00 Madrid)
    clock.moment = at(soon_at[:10] + "T08:30")  # the day before it is due, in the morning
    dispatcher.run_once()
    (soon,) = messages(app, "due-soon")
    assert soon["status"] == "pending"
    assert soon["next_attempt_at"] == at(soon_at).isoformat()  # waits for 19:00 there
    dispatcher.run_once()
    assert deferrals(app) == 1  # held once, not again on every pass
    clock.moment = at(soon_at)
    dispatcher.run_once()
    (soon,) = messages(app, "due-soon")
    assert soon["status"] == "sent"
    assert soon["last_attempt_at"].startswith(soon_at)
    clock.moment = at(overdue_on)
    dispatcher.run_once()
    assert messages(app, "overdue", "therapist")[0]["status"] == "sent"  # the therapist's: now
    (late,) = messages(app, "overdue")
    assert late["next_attempt_at"] == at(f"{overdue_on[:10]}T{overdue_at}").isoformat()
    clock.moment = at(f"{overdue_on[:10]}T{overdue_at}")
    dispatcher.run_once()
    assert messages(app, "overdue")[0]["status"] == "sent"


def test_quiet_hours_hold_a_message_and_status_says_until_when(tmp_path, smtp):
    clock = Clock(at("2026-03-26T21:30"))  # 22:30 in Madrid
    app, settings, dispatcher = clinic(tmp_path, smtp.port, clock)
    client(app, quiet_hours="22:00-07:00")  # the clinic's zone: Europe/Madrid
    aid = relaxation(app, "C1", due="2026-03-30")
    app.agree(aid, **ACTOR)
    dispatcher.run_once()
    (agreed,) = messages(app, "agreed")
    assert agreed["status"] == "pending"
    assert agreed["next_attempt_at"] == "2026-03-27T06:00:00+00:00"  # 07:00 in Madrid
    clock.advance(minutes=30)
    dispatcher.run_once()
    assert deferrals(app) == 1
    env = {"BETWEEN_STORE": settings.store, "BETWEEN_CONFIG": str(settings.config_file)}
    status = run_installed(env, "notify", "--status")
    assert status.returncode == 0, status.stderr
    assert "held until 2026-03-27T06:00:00+00:00" in status.stdout
    assert "Friday 27 March, 07:00 (Madrid time)" in status.stdout
    log = run_installed(env, "log", check=True).stdout
    assert "NotificationDeferred" in log
    exported = [json.loads(line) for line in cli(env, "log", "--json").splitlines()]
    held = [e for e in exported if e.get("type") == "NotificationDeferred"]
    assert len(held) == 1
    clock.moment = at("2026-03-27T06:00:01")
    dispatcher.run_once()
    assert messages(app, "agreed")[0]["status"] == "sent"


def test_an_urgent_kind_is_not_held_and_the_therapist_is_not_bound_by_the_clients_hours(
    tmp_path, smtp
):
    clock = Clock(at("2026-03-26T23:00"))  # midnight in Madrid
    extra = """
    [notify]
    urgent = ["agreed"]
    """
    app, _, dispatcher = clinic(tmp_path, smtp.port, clock, extra)
    client(app)
    app.agree(relaxation(app, "C1", due="2026-03-30"), **ACTOR)
    app.decline(relaxation(app, "C1", due="2026-03-30"), reason="too busy", **ACTOR)
    dispatcher.run_once()
    assert messages(app, "agreed")[0]["status"] == "sent"
    assert messages(app, "declined", "therapist")[0]["status"] == "sent"
    assert deferrals(app) == 0


def test_due_dates_are_the_clients_days_in_list_and_agenda(app, clock):
    clock.moment = at("2026-12-07T12:00")
    app.register_client(
        "HNL", "Ana", "dr.lee", preferences={"timezone": "Pacific/Honolulu"}, **ACTOR
    )
    app.register_client("UTC", "Bo", "dr.lee", preferences={"timezone": "UTC"}, **ACTOR)
    app.register_client(
        "KIR", "Cy", "dr.lee", preferences={"timezone": "Pacific/Kiritimati"}, **ACTOR
    )
    ids = {code: relaxation(app, code, due="2026-12-10") for code in ("HNL", "UTC", "KIR")}
    for aid in ids.values():
        app.agree(aid, **ACTOR)

    def overdue() -> set[str]:
        listed = {r["client"] for r in app.list_assignments(overdue=True)}
        assert app.count_assignments(overdue=True) == len(listed)
        flagged = {r["client"] for r in app.list_assignments() if r["overdue"]}
        assert flagged == listed  # the SQL and the rows agree
        for code in ("HNL", "UTC", "KIR"):
            late = app.agenda(code)["to_review"][0]["overdue"]
            assert late == (code in listed), code
        return listed

    clock.moment = at("2026-12-10T12:00")  # already the 11th in Kiritimati
    assert overdue() == {"KIR"}
    clock.moment = at("2026-12-11T05:00")  # still the 10th in Honolulu
    assert overdue() == {"KIR", "UTC"}
    clock.moment = at("2026-12-11T10:00")  # midnight in Honolulu
    assert overdue() == {"KIR", "UTC", "HNL"}
    assert app.agenda("HNL")["as_of"] == "2026-12-11"
    assert app.show(ids["HNL"])["days_late"] == 1


def test_due_in_days_counts_the_clients_calendar_days(app, clock):
    clock.moment = at("2026-12-07T12:00")  # already 02:00 on the 8th in Kiritimati
    app.register_client(
        "KIR", "Cy", "dr.lee", preferences={"timezone": "Pacific/Kiritimati"}, **ACTOR
    )
    app.register_client(
        "HNL", "Ana", "dr.lee", preferences={"timezone": "Pacific/Honolulu"}, **ACTOR
    )
    assert app.show(relaxation(app, "KIR", due="+7"))["due"] == "2026-12-15"
    assert app.show(relaxation(app, "HNL", due="+7"))["due"] == "2026-12-14"


def test_client_add_and_contact_record_the_clients_clock(tmp_path):
    env = {"BETWEEN_STORE": str(tmp_path / "c.db"), "BETWEEN_ACTOR": "dr.lee"}
    run_installed(env, "init", check=True)
    bad = run_installed(
        env,
        "client",
        "add",
        "C1",
        "--name",
        "A",
        "--therapist",
        "dr.lee",
        "--timezone",
        "Mars/Base",
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: --timezone 'Mars/Base' is not a time zone: give an IANA name, e.g. Europe/Madrid"
    ]
    assert "no client" in run_installed(env, "client", "show", "C1").stderr  # nothing recorded
    args = ["--timezone", "Pacific/Honolulu", "--language", "es", "--quiet-hours", "22:00-07:00"]
    run_installed(
        env, "client", "add", "C1", "--name", "A", "--therapist", "dr.lee", *args, check=True
    )
    run_installed(env, "client", "contact", "C1", "--remind-at", "18:30", check=True)
    bad = run_installed(env, "client", "contact", "C1", "--quiet-hours", "late")
    assert bad.returncode == 2 and "--quiet-hours 'late'" in bad.stderr
    shown = json.loads(run_installed(env, "client", "show", "C1", "--json", check=True).stdout)
    assert shown["preferences"] == {
        "timezone": "Pacific/Honolulu",
        "language": "es",
        "remind_at": "18:30",
        "quiet_hours": "22:00-07:00",
    }
    run_installed(env, "client", "contact", "C1", "--quiet-hours", "none", check=True)
    text = run_installed(env, "client", "show", "C1", check=True).stdout
    assert "time zone Pacific/Honolulu, language es, reminders at 18:30, quiet hours none" in text
    assert run_installed(env, "log", check=True).stdout.count("ClientPreferencesSet") == 3


def test_the_clinics_defaults_come_from_the_configuration(tmp_path):
    config = tmp_path / "clinic.toml"
    env = {
        "BETWEEN_STORE": str(tmp_path / "d.db"),
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_CONFIG": str(config),
    }
    config.write_text('[clinic]\ntimezone = "Mars/Base"\n')
    bad = run_installed(env, "client", "list")
    assert bad.returncode == 2
    assert "[clinic] timezone = 'Mars/Base'" in bad.stderr and "Europe/Madrid" in bad.stderr
    config.write_text('[clinic]\ntimezone = "Asia/Tokyo"\nlanguage = "es"\nremind_at = "09:30"\n')
    run_installed(env, "init", check=True)
    run_installed(env, "client", "add", "C1", "--name", "A", "--therapist", "dr.lee", check=True)
    shown = json.loads(run_installed(env, "client", "show", "C1", "--json", check=True).stdout)
    assert shown["preferences"] == {
        "timezone": "Asia/Tokyo",
        "language": "es",
        "remind_at": "09:30",
        "quiet_hours": None,  # none unless the clinic or the client sets them
    }
    text = run_installed(env, "client", "show", "C1", check=True).stdout
    assert "quiet hours none" in text


def test_a_reminder_seen_in_quiet_hours_waits_for_the_next_reminder_time():
    from types import SimpleNamespace

    from between.engine.reading.clock_zones import ClinicTime
    from between.notify.hours import wait_until

    clinic_time = ClinicTime({"quiet_hours": "21:00-08:00", "remind_at": "19:00"}, ["declined"])
    madrid = SimpleNamespace(row={"timezone": "Europe/Madrid"})
    late = at("2026-03-26T22:00")  # 23:00 in Madrid
    reminder = {"kind": "overdue", "role": "client"}
    until, why = wait_until(reminder, madrid, clinic_time, late)
    assert until == at("2026-03-27T18:00") and "reminder time" in why
    until, why = wait_until({"kind": "reviewed", "role": "client"}, madrid, clinic_time, late)
    assert until == at("2026-03-27T07:00") and "quiet hours" in why
    assert wait_until({"kind": "declined", "role": "client"}, madrid, clinic_time, late) is None
    assert wait_until({"kind": "overdue", "role": "therapist"}, madrid, clinic_time, late) is None


def test_stored_rows_of_the_clients_clock_still_load(app):
    from test_event_format import replayed

    from between.engine.aggregates.clients import Client
    from between.engine.aggregates.notifications import Notification

    aggregates = replayed(app).values()
    [client] = [a for a in aggregates if isinstance(a, Client) and a.row.get("timezone")]
    assert (client.row["timezone"], client.row["remind_at"], client.row["quiet_hours"]) == (
        "Europe/Madrid",
        "19:00",
        "22:00-07:00",
    )
    [held] = [a for a in aggregates if isinstance(a, Notification) and a.row.get("deferred_until")]
    assert held.status == "pending" and held.row["next_attempt_at"] == held.row["deferred_until"]
