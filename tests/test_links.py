"""Personal links: issued once and kept only as a hash, refused once edited, expired, revoked or
ended by discharge or erasure; what a link's holder sees and records; links in messages; the
``client link`` command. On a real SQLite store and, where marked, the local PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import textwrap
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from helpers import Clock, cli, count_events, envelope, invoke, relaxation
from peers import SmtpServer

from between.engine.aggregates.link_tokens import link_url, secret_hash
from between.engine.app import Homework
from between.engine.errors import InvalidEntry, InvalidInput, NotFound, RuleViolation
from between.engine.hooks.loading import load_plugins
from between.engine.settings import Settings
from between.engine.storage.store import Store
from between.notify.dispatcher import Dispatcher
from between.notify.messages import LINKED

ACTOR = {"actor": "dr.lee"}
ENTRY = {"minutes": 10, "tension_before": 7, "tension_after": 4}
PORTAL = "https://homework.clinic.example"


def clinic(app: Homework) -> tuple[str, str]:
    """Client C1 with collaborators Sam and Kim; homework observed by Sam, and one not."""
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    app.add_collaborator("C1", "Sam", "partner", **ACTOR)
    app.add_collaborator("C1", "Kim", "sister", **ACTOR)
    observed = relaxation(app, "C1", observers=["Sam"], due="+3")
    alone = relaxation(app, "C1", due="+2")
    for aid in (observed, alone):
        app.agree(aid, **ACTOR)
    return observed, alone


def stored_bytes(app: Homework) -> bytes:
    """Every stored event's state, and (SQLite) the whole key file."""
    with app.reading() as c:
        c.execute("SELECT state FROM stored_events")
        states = b"\n".join(bytes(r["state"]) for r in c.fetchall())
    keys = app.store.path.with_suffix(".keys").read_bytes() if app.store.is_sqlite else b""
    return states + keys


def secret_forms(token: str) -> list[bytes]:
    """The token (all of it random) in every form it could be stored in."""
    secret = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(secret) == 32
    return [
        token.encode(),
        secret,
        secret.hex().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret),
    ]


def test_a_link_grants_its_person_and_its_token_is_stored_nowhere(app):
    clinic(app)
    outcome, token = app.issue_link("C1", **ACTOR)
    grant = app.grant_for(token)
    assert grant is not None and grant.is_client and grant.person == "client"
    assert str(grant.link_id) == outcome.result and grant.client_id == app.client_id("C1")
    assert app.show_client("C1")["links"][0]["expires"] == grant.expires.isoformat()
    _, sams = app.issue_link("C1", person="Sam", expires_days=3, **ACTOR)
    assert app.grant_for(sams).person == "Sam" and not app.grant_for(sams).is_client
    stored = stored_bytes(app)
    for form in secret_forms(token) + secret_forms(sams):
        assert form not in stored
    links = app.show_client("C1")["links"]
    assert [k["person"] for k in links] == ["client", "Sam"]
    assert not any("hash" in key or "token" in key for k in links for key in k)


def test_edited_malformed_expired_revoked_and_ended_links_grant_nothing(app, clock):
    observed, alone = clinic(app)
    _, token = app.issue_link("C1", expires_days=2, **ACTOR)
    for at in (0, 10, 21, 22, 40, 42):  # anywhere, and the last character
        edited = token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]
        assert app.grant_for(edited) is None, at
    an_assignment = base64.urlsafe_b64encode(bytes.fromhex(observed.replace("-", "")) + b"x" * 32)
    for junk in ("", "l", token + "A", token[:-1], token.upper(), "é" * 64, an_assignment.decode()):
        assert app.grant_for(junk) is None
    assert app.grant_for(None) is None  # type: ignore[arg-type]
    before = count_events(app)
    clock.advance(days=2, seconds=1)
    assert app.grant_for(token) is None  # expired
    assert count_events(app) == before  # checking records nothing

    _, token = app.issue_link("C1", **ACTOR)
    _, sams = app.issue_link("C1", person="Sam", **ACTOR)
    assert app.revoke_links("C1", person="Sam", **ACTOR).result == "1"
    assert app.grant_for(sams) is None and app.grant_for(token) is not None
    assert app.revoke_links("C1", person="Sam", **ACTOR).result == "0"

    _, kims = app.issue_link("C1", person="Kim", **ACTOR)
    for aid in (observed, alone):
        app.close_assignment(aid, **ACTOR)
    app.discharge("C1", "finished", **ACTOR)
    assert app.grant_for(token) is None and app.grant_for(kims) is None
    revoked = [k["revoked"] for k in app.show_client("C1")["links"]]
    assert [r and r["reason"] for r in revoked] == [None, "discharged", "revoked", "discharged"]
    app.erase_client("C1", reason="request", **ACTOR)
    assert app.grant_for(token) is None
    with app.reading() as c:  # erasure takes the client's links out of the index
        c.execute("SELECT COUNT(*) AS n FROM rm_links")
        assert c.fetchone()["n"] == 0


def old_format_link(app: Homework, person: str = "client", days: int = 14) -> str:
    """A link as the first format made it: the client's id, then 32 random bytes (whose
    hash is stored), recorded as ``LinkIssued`` by the aggregate itself."""
    secret, link_id, client_id = secrets.token_bytes(32), uuid4(), app.client_id("C1")
    now = app.now()
    app.work.change(
        lambda: app._client("C1"),
        lambda c: c.issue_link(
            link_id, person, secret_hash(secret), now + timedelta(days=days), envelope(at=now)
        ),
    )
    return base64.urlsafe_b64encode(client_id.bytes + secret).decode().rstrip("=")


def test_a_token_is_256_random_bits_holding_nothing_of_the_client(app):
    clinic(app)
    client_id = app.client_id("C1")
    tokens = [app.issue_link("C1", **ACTOR)[1] for _ in range(3)]
    tokens.append(app.issue_link("C1", person="Sam", **ACTOR)[1])
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(token) == 43 and len(raw) == 32  # 256 bits, all random
        assert client_id.bytes not in raw and client_id.hex not in token
        assert base64.urlsafe_b64encode(client_id.bytes).decode().rstrip("=")[:20] not in token
        assert app.grant_for(token).client_id == client_id
    with app.reading() as c:  # found by its hash: the index holds hashes and ids only
        c.execute("SELECT token_hash, client_id FROM rm_links")
        index = {r["token_hash"]: r["client_id"] for r in c.fetchall()}
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert index[hashlib.sha256(raw).hexdigest()] == client_id.hex
    assert not any(token in json.dumps(index) for token in tokens)


def test_links_of_the_first_format_work_until_they_expire_or_are_revoked(app, clock):
    observed, _ = clinic(app)
    old = old_format_link(app, days=2)
    sams = old_format_link(app, person="Sam")
    assert len(old) == 64 and app.grant_for(old).person == "client"
    assert app.grant_for(sams).person == "Sam"
    app.submit_as(app.grant_for(sams), observed, ENTRY, request_key="old-1")
    edited = old[:40] + ("A" if old[40] != "A" else "B") + old[41:]
    assert app.grant_for(edited) is None
    assert app.grant_for(old[22:]) is None  # its random part alone is no token
    app.revoke_links("C1", person="Sam", **ACTOR)
    assert app.grant_for(sams) is None
    clock.advance(days=2, seconds=1)
    assert app.grant_for(old) is None


def test_the_index_of_links_is_rebuilt_and_made_on_a_store_that_had_none(app):
    clinic(app)
    _, token = app.issue_link("C1", **ACTOR)
    app.rebuild(actor="dr.lee")
    assert app.grant_for(token) is not None
    with app.writing() as c:  # a store made before the index
        c.execute("DROP TABLE rm_links")
    assert app.grant_for(token) is None  # not found, and no failure
    _, fresh = app.issue_link("C1", **ACTOR)  # the first new link makes it
    assert app.grant_for(fresh) is not None
    app.rebuild(actor="dr.lee")  # and a rebuild indexes every link again
    assert app.grant_for(token) is not None and app.grant_for(fresh) is not None


def test_a_collaborator_sees_only_observed_homework_and_only_their_own_entries(app):
    observed, alone = clinic(app)
    proposal = relaxation(app, "C1", observers=["Sam"], due="+1")  # not agreed: not shown
    client = app.grant_for(app.issue_link("C1", **ACTOR)[1])
    sam = app.grant_for(app.issue_link("C1", person="Sam", **ACTOR)[1])
    kim = app.grant_for(app.issue_link("C1", person="Kim", **ACTOR)[1])
    app.submit_as(client, observed, ENTRY, request_key="c-1")
    app.submit_as(sam, observed, {**ENTRY, "notes": "calmer"}, request_key="s-1")
    app.submit(observed, ENTRY, by="Sam", **ACTOR)  # Sam's, typed by the therapist

    mine = app.portal_homework(client)
    assert [h["id"] for h in mine] == [alone, observed]  # soonest due first; no proposal
    assert proposal not in [h["id"] for h in mine]
    seen = {h["id"]: h for h in mine}[observed]
    assert (seen["entries_done"], seen["expected_entries"], seen["accepts_entries"]) == (3, 2, True)
    assert [e["by"] for e in seen["entries"]] == ["client"]
    assert seen["title"] == app.plugins.task_type("relaxation").title
    assert [f.name for f in seen["schema"].fields][:1] == ["minutes"]

    [theirs] = app.portal_homework(sam)
    assert theirs["id"] == observed and [e["by"] for e in theirs["entries"]] == ["Sam", "Sam"]
    assert app.portal_homework(kim) == []
    with pytest.raises(NotFound):
        app.submit_as(sam, alone, ENTRY, request_key="s-2")
    with pytest.raises(NotFound):
        app.submit_as(kim, observed, ENTRY, request_key="k-1")


def test_an_entry_through_a_link_is_recorded_as_its_person_via_the_portal(app, store_url):
    observed, _ = clinic(app)
    sam = app.grant_for(app.issue_link("C1", person="Sam", **ACTOR)[1])
    client = app.grant_for(app.issue_link("C1", **ACTOR)[1])
    before = count_events(app)
    first = app.submit_as(client, observed, ENTRY, request_key="form-1")
    again = app.submit_as(client, observed, ENTRY, request_key="form-1")  # a double submit
    assert (first.repeated, again.repeated, again.result) == (False, True, first.result)
    assert count_events(app) == before + 1
    assert first.record["entries_done"] == 1 and "instructions" in first.record
    app.submit_as(sam, observed, ENTRY, request_key="form-2", via="api")
    app.submit(observed, ENTRY, **ACTOR)

    env = {"BETWEEN_STORE": store_url}
    shown = json.loads(invoke(env, "show", observed, "--json").output)
    assert [(e["by"], e["recorded_by"], e["via"]) for e in shown["entry_list"]] == [
        ("client", "client", "portal"),
        ("Sam", "collaborator", "api"),
        ("client", "dr.lee", "cli"),
    ]
    history = invoke(env, "history", "C1").output
    assert "the client recorded an entry on" in history and "via the portal" in history
    assert "(entered by dr.lee)" in history


def test_ended_homework_and_dead_links_take_no_entries_and_record_nothing(app):
    observed, alone = clinic(app)
    declined = relaxation(app, "C1")
    app.decline(declined, reason="not now", **ACTOR)
    cancelled = relaxation(app, "C1")
    app.agree(cancelled, **ACTOR)
    app.cancel(cancelled, reason="changed plan", **ACTOR)
    app.close_assignment(alone, **ACTOR)
    client = app.grant_for(app.issue_link("C1", **ACTOR)[1])
    statuses = {h["id"]: (h["status"], h["accepts_entries"]) for h in app.portal_homework(client)}
    assert statuses[declined] == ("declined", False) and statuses[alone] == ("closed", False)
    before = count_events(app)
    for aid in (declined, cancelled, alone):
        with pytest.raises(RuleViolation):
            app.submit_as(client, aid, ENTRY, request_key=f"k-{aid}")
    with pytest.raises(NotFound):
        app.submit_as(client, "not-an-id", ENTRY, request_key="k-x")
    app.revoke_links("C1", **ACTOR)
    before = count_events(app)
    with pytest.raises(RuleViolation, match="no longer works"):
        app.submit_as(client, observed, ENTRY, request_key="k-late")
    assert count_events(app) == before


def test_a_bad_field_is_named_and_the_command_line_says_what_it_always_said(app, store_url):
    observed, _ = clinic(app)
    client = app.grant_for(app.issue_link("C1", **ACTOR)[1])
    with pytest.raises(InvalidEntry) as bad:
        app.submit_as(
            client, observed, {"minutes": 5, "tension_before": 11, "mood": "x"}, request_key="b"
        )
    assert bad.value.fields == {
        "tension_before": "must be at most 10",
        "tension_after": "is required",
        "mood": "is not a field of this form",
    }
    assert isinstance(bad.value, InvalidInput) and bad.value.exit_code == 2
    result = invoke(
        {"BETWEEN_STORE": store_url, "BETWEEN_ACTOR": "dr.lee"},
        "submit", observed[:8], "--field", "minutes=10", "--field", "tension_before=11",
        "--field", "tension_after=3",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.output == (
        "error: invalid entry for relaxation: tension_before must be at most 10 "
        "(fields: minutes, notes, tension_after, tension_before)\n"
    )


# -- the command ---------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict:
    env = {"BETWEEN_STORE": str(tmp_path / "b.db"), "BETWEEN_ACTOR": "dr.lee"}
    cli(env, "init")
    cli(env, "client", "add", "C1", "--name", "Ana", "--therapist", "dr.lee")
    cli(env, "client", "collaborator", "C1", "Sam", "--relationship", "partner")
    return env


def test_client_link_prints_the_link_once_and_keeps_only_its_hash(env, tmp_path):
    out = cli(env, "client", "link", "C1", "--expires", "7")
    token = out.splitlines()[1]
    assert "working until" in out and "no portal URL is configured" in out
    config = tmp_path / "clinic.toml"
    config.write_text(f'[portal]\nurl = "{PORTAL}/"\nlink_days = 3\n')
    with_url = {**env, "BETWEEN_CONFIG": str(config)}
    shown = json.loads(cli(with_url, "client", "link", "C1", "--person", "Sam", "--json"))
    assert shown["url"] == link_url(PORTAL, shown["token"]) and shown["url"].count("/l/") == 1
    assert shown["expires"] == shown["record"]["links"][1]["expires"]
    app = Homework(Store.parse(env["BETWEEN_STORE"]))
    try:
        assert app.grant_for(token).person == "client" and app.grant_for(shown["token"])
        stored = stored_bytes(app)
        assert not any(
            form in stored for form in secret_forms(token) + secret_forms(shown["token"])
        )
    finally:
        app.close()
    everything = cli(env, "log", "--json") + cli(env, "client", "show", "C1", "--json")
    assert token not in everything and shown["token"] not in everything
    repeated = cli(env, "client", "link", "C1", "--idempotency-key", "k", "--json")
    again = cli(env, "client", "link", "C1", "--idempotency-key", "k")
    assert json.loads(repeated)["token"] not in again and "it was shown then" in again
    assert cli(env, "client", "link", "C1", "--revoke") == "revoked 2 live link(s) of client C1\n"
    assert "issued a personal link" in cli(env, "history", "C1")


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["C9"], 1, "no client with code 'C9'"),
        (["C1", "--person", "Bob"], 1, "has no collaborator called 'Bob'"),
        (["C1", "--expires", "0"], 2, "link expiry in days must be from 1 to 365"),
        (["C1", "--expires", "1000"], 2, "link expiry in days must be from 1 to 365"),
        (["C1", "--revoke", "--expires", "3"], 2, "--expires goes with issuing"),
        (["C1", "--revoke", "--person", "Bob"], 1, "has no collaborator called 'Bob'"),
    ],
)
def test_client_link_refusals_are_one_line_and_record_nothing(env, args, code, message):
    before = cli(env, "log", "--json")
    out = cli(env, "client", "link", *args, code=code)
    assert out.startswith("error: ") and message in out and out.count("\n") == 1
    assert cli(env, "log", "--json") == before


def test_no_link_for_a_discharged_client_and_links_ended_by_discharge_verify(env):
    cli(env, "client", "link", "C1")
    cli(env, "client", "discharge", "C1", "--reason", "finished")
    out = cli(env, "client", "link", "C1", code=1)
    assert "cannot issue a link: client C1 is discharged" in out
    assert '"LinkRevoked"' in cli(env, "log", "--json", "--type", "LinkRevoked")
    assert cli(env, "verify").startswith("intact:")
    assert "read models match the log" in cli(env, "replay", "--check")


def test_issuing_links_is_a_therapists_write_when_operators_are_required(env):
    cli(env, "operators", "add", "dr.lee", "--role", "therapist")
    cli(env, "operators", "add", "pat", "--role", "staff")
    cli(env, "operators", "require", "on")
    assert "error:" in cli({**env, "BETWEEN_ACTOR": "pat"}, "client", "link", "C1", code=1)
    cli(env, "client", "link", "C1")


# -- links in messages ---------------------------------------------------------------------


def messaging(tmp_path: Path, port: int, portal: bool, clock: Clock) -> tuple[Homework, Settings]:
    path = tmp_path / "clinic.toml"
    path.write_text(
        textwrap.dedent(f"""
        [channels.email]
        host = "127.0.0.1"
        port = {port}
        security = "none"
        sender = "homework@clinic.example"
        timeout = 2

        [notify]
        max_attempts = 3

        [therapists."dr.lee"]
        channels = ["email"]
        email = "lee@clinic.example"
        """)
        + (f'[portal]\nurl = "{PORTAL}"\nlink_days = 5\n' if portal else "")
    )
    settings = Settings(store=str(tmp_path / "n.db"), config_file=path)
    store = Store.parse(settings.store)
    Homework.initialise(store)
    app = Homework(store, clock=clock, plugins=load_plugins(settings))
    observed, _ = clinic(app)
    for person, email in (("client", "ana@example.org"), ("Sam", "sam@example.org")):
        app.change_contacts("C1", person, {"email": email}, **ACTOR)
        app.record_consent("C1", "email", person=person, **ACTOR)
    app.change_contacts("C1", "Kim", {"email": "kim@example.org"}, **ACTOR)  # no consent
    app.submit(observed, ENTRY, **ACTOR)
    return app, settings


def mails(smtp: SmtpServer) -> list[tuple[str, str, str]]:
    """Each mail received: to, subject (unfolded), body."""
    return [
        (m["To"], " ".join(m["Subject"].split()), m.get_payload(decode=True).decode("utf-8"))
        for m in smtp.messages
    ]


def test_messages_carry_the_persons_own_link_only_when_a_portal_is_configured(tmp_path):
    clock, smtp = Clock(), SmtpServer()
    smtp.start()
    try:
        app, settings = messaging(tmp_path, smtp.port, True, clock)
        Dispatcher(app, settings).run_once()
        clock.advance(days=2)  # the homework due in two days: a reminder
        Dispatcher(app, settings).run_once()
        sent = mails(smtp)
    finally:
        smtp.stop()
    linked = [(to, subject, body) for to, subject, body in sent if f"{PORTAL}/l/" in body]
    assert len(linked) == 6  # agreed: Ana twice, Sam once; due soon: Ana twice, Sam once
    assert {(to, subject.split(":")[0]) for to, subject, _ in linked} == {
        ("ana@example.org", "Homework agreed"),
        ("sam@example.org", "You are asked to help with homework"),
        ("ana@example.org", "Reminder"),
        ("sam@example.org", "Reminder"),
    }
    unlinked = [to for to, _, body in sent if "/l/" not in body]
    assert unlinked and set(unlinked) == {"lee@clinic.example"}  # the therapist's: no link
    assert not any("kim@" in to for to, _, _ in sent)
    stored = stored_bytes(app)
    tokens = [body.split(f"{PORTAL}/l/")[1].split()[0] for _, _, body in linked]
    assert len(set(tokens)) == 6  # a fresh link in each message
    for to, _, body in linked:
        token = body.split(f"{PORTAL}/l/")[1].split()[0]
        assert app.grant_for(token).person == ("client" if to.startswith("ana") else "Sam")
        assert not any(form in stored for form in secret_forms(token))
        assert "tension" not in body and "breathe" not in body  # still no clinical content
    issued = json.loads(
        invoke(settings.store, "log", "--json", "--type", "LinkIssued").output.splitlines()[0]
    )
    assert issued["actor"] == "between-notify"
    app.close()


def test_without_a_portal_no_link_and_an_undelivered_link_is_revoked(tmp_path):
    clock, smtp = Clock(), SmtpServer()
    smtp.start()
    try:
        app, settings = messaging(tmp_path, smtp.port, False, clock)
        Dispatcher(app, settings).run_once()
        assert smtp.messages and not any("/l/" in body for _, _, body in mails(smtp))
    finally:
        smtp.stop()
    assert app.show_client("C1")["links"] == []
    app.close()

    down = SmtpServer()  # never started: every mail fails and is retried later
    (tmp_path / "second").mkdir()
    app, settings = messaging(tmp_path / "second", down.port, True, Clock())
    Dispatcher(app, settings).run_once()
    linked = [r for r in app.notifications() if (r["kind"], r["role"]) in LINKED]
    links = app.show_client("C1")["links"]
    assert linked and len(links) == len(linked)
    assert all(k["revoked"]["reason"] == "its message was not delivered" for k in links)
    assert all("the link sent with it was revoked" in r["last_detail"] for r in linked)
    app.close()


class Echoing:
    """A channel whose failure quotes the whole message (as a careless plugin might)."""

    name = "echo"
    address_key = None

    def send(self, message, settings):
        raise RuntimeError(f"{'.' * (312 - len(message.text))} could not send {message.text!r}")


class EchoingPlugin:
    from between import hookimpl

    @hookimpl
    def between_register_channels(self, registry):
        registry.add(Echoing())


def test_a_failure_quoting_the_message_records_no_token(tmp_path):
    path = tmp_path / "clinic.toml"
    path.write_text(f'[portal]\nurl = "{PORTAL}"\n')
    settings = Settings(store=str(tmp_path / "e.db"), config_file=path)
    Homework.initialise(Store.parse(settings.store))
    app = Homework(
        Store.parse(settings.store), plugins=load_plugins(settings, extra=(EchoingPlugin(),))
    )
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    app.record_consent("C1", "echo", **ACTOR)
    app.agree(relaxation(app, "C1", due="+9"), **ACTOR)
    assert Dispatcher(app, settings).run_once().retrying == 1
    [attempt] = app.notifications()
    detail = attempt["last_detail"]  # the token would have been cut at 300 characters
    assert re.search(r"/l/[A-Za-z0-9_-]", detail) is None and "could not send" in detail
    assert "the link sent with it was revoked" in detail
    [link] = app.show_client("C1")["links"]
    assert link["revoked"]["reason"] == "its message was not delivered"
    app.close()
