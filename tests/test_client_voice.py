"""The client's voice between sessions (notes to the therapist) and agreement from the portal:
the engine on SQLite, PostgreSQL and an encrypted SQLite file, and ``between serve`` driven
over real HTTP, its records read back by ``between`` run as separate processes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from helpers import cli, run_installed
from portal_server import COLLABORATOR, SECRET, Clinic, Visitor, prepare, serving, start

from between import InvalidInput, NotFound, RuleViolation
from between.engine.app import Homework
from between.engine.storage.store import Store

ME = {"actor": "dr.lee"}
FORM_KEY = "k" * 20


def propose(app: Homework, code: str = "C-104", observers: tuple[str, ...] = ()) -> str:
    """New proposed relaxation homework; its id."""
    return app.propose(
        code,
        "relaxation",
        instructions="Breathe slowly for ten minutes",
        rationale="Practise a calm response",
        stage="practice",
        difficulty=3,
        due="+7",
        expected_entries=3,
        parameters={"technique": "diaphragmatic-breathing"},
        observers=list(observers),
        **ME,
    ).result


def a_client(store: str, key_file: Path | None = None) -> tuple[Homework, str, Any, Any]:
    """A client with partner Sam, agreed homework Sam observes; the app, its id, and the
    client's and Sam's grants."""
    Homework.initialise(Store.parse(store))
    app = Homework(Store.parse(store), key_file=key_file)
    app.register_client("C-104", "Alex Rivera", "dr.lee", **ME)
    app.add_collaborator("C-104", "Sam", "partner", **ME)
    aid = propose(app, observers=("Sam",))
    app.agree(aid, confidence=6, **ME)
    grants = [app.grant_for(app.issue_link("C-104", person=p, **ME)[1]) for p in ("client", "Sam")]
    return app, aid, *grants


# -- the engine ----------------------------------------------------------------------------


def test_notes_are_recorded_once_by_the_client_or_an_observer_and_shown(store_url):
    app, aid, client, sam = a_client(store_url)
    first = app.send_note_as(client, aid, "too-hard", "Ten minutes is too long", request_key="a")
    again = app.send_note_as(client, aid, "too-hard", "Ten minutes is too long", request_key="a")
    assert (first.result, first.repeated, again.repeated) == ("too-hard", False, True)
    app.send_note_as(sam, aid, "got-in-the-way", "", request_key="b")
    detail = app.show(aid)
    assert [(n["kind"], n["by"], n["text"], n["via"]) for n in detail["client_notes_list"]] == [
        ("too-hard", "client", "Ten minutes is too long", "portal"),
        ("got-in-the-way", "Sam", "", "portal"),
    ]
    row = app.list_assignments(client="C-104")[0]
    assert row["client_notes"] == 2 and row["last_client_note"]["kind"] == "got-in-the-way"
    assert "Ten minutes" not in json.dumps(row) and "Sam" not in json.dumps(row)  # no text
    log = [e for e in app_log(store_url) if e["type"] == "ClientNoteSent"]
    assert [(e["actor"], e["data"]["via"]) for e in log] == [
        ("client", "portal"),
        ("collaborator", "portal"),
    ]
    mine = next(i for i in app.portal_homework(sam) if i["id"] == aid)["notes"]
    assert [(n["kind"], n["text"]) for n in mine] == [("got-in-the-way", "")]  # only Sam's own
    brief = app.review_brief(aid)
    assert len(brief["client_notes_since_review"]) == 2
    app.review(aid, quantity=2, quality=2, difficulty=3, next_step="continue", **ME)
    assert app.review_brief(aid)["client_notes_since_review"] == []
    app.close()


def test_a_note_is_refused_in_plain_words_and_records_nothing(store_url):
    app, aid, client, sam = a_client(store_url)
    with pytest.raises(InvalidInput) as missing:
        app.send_note_as(client, aid, "question", "  ", request_key="q")
    assert missing.value.fields == {"text": "Please write your question."}
    with pytest.raises(InvalidInput, match="1000 characters"):
        app.send_note_as(client, aid, "too-hard", "x" * 1001, request_key="long")
    with pytest.raises(InvalidInput, match="kind must be one of"):
        app.send_note_as(client, aid, "angry", "", request_key="kind")
    unobserved = propose(app)
    app.agree(unobserved, **ME)
    with pytest.raises(NotFound):  # Sam does not observe it
        app.send_note_as(sam, unobserved, "question", "why?", request_key="s")
    with pytest.raises(NotFound):  # a change is the client's to ask for
        app.send_note_as(sam, aid, "change", "less", request_key="c")
    with pytest.raises(RuleViolation, match="only a proposal is changed"):
        app.send_note_as(client, aid, "change", "less", request_key="c2")
    app.close_assignment(aid, **ME)
    with pytest.raises(RuleViolation, match="it is closed"):
        app.send_note_as(client, aid, "question", "and now?", request_key="late")
    app.revoke_links("C-104", **ME)
    with pytest.raises(RuleViolation, match="this link no longer works"):
        app.send_note_as(client, unobserved, "question", "hello?", request_key="gone")
    assert app.show(aid)["client_notes_list"] == []
    app.close()


def test_the_client_agrees_or_declines_as_the_cli_would(store_url):
    app, _, client, sam = a_client(store_url)
    by_link, by_cli, declined = propose(app), propose(app), propose(app)
    listed = {i["id"]: i for i in app.portal_homework(client, proposals=True)}
    assert listed[by_link]["proposed"] and not listed[by_link]["accepts_entries"]
    assert by_link not in {i["id"] for i in app.portal_homework(client)}  # only when asked
    assert by_link not in {i["id"] for i in app.portal_homework(sam, proposals=True)}
    with pytest.raises(NotFound, match="only the client"):
        app.agree_as(sam, by_link, 5, "", request_key="sam")
    with pytest.raises(InvalidInput, match="confidence"):
        app.agree_as(client, by_link, 11, "", request_key="eleven")
    app.send_note_as(client, by_link, "change", "Five minutes, please", request_key="ch")
    assert app.show(by_link)["status"] == "proposed"
    agreed = app.agree_as(client, by_link, 7, "busy workdays", request_key="ag")
    assert app.agree_as(client, by_link, 7, "busy workdays", request_key="ag").repeated
    app.agree(by_cli, confidence=7, obstacles="busy workdays", via="cli", **ME)
    portal_said, cli_said = agreed.record["agreements"][-1], app.show(by_cli)["agreements"][-1]
    assert set(portal_said) == set(cli_said)
    assert (portal_said["by"], portal_said["via"], cli_said["via"]) == ("client", "portal", "cli")
    assert agreed.record["confidence"] == 7 and agreed.record["status"] == "agreed"
    with pytest.raises(RuleViolation, match="it is agreed"):
        app.decline_as(client, by_link, "changed my mind", request_key="late")
    with pytest.raises(InvalidInput):
        app.decline_as(client, declined, "  ", request_key="empty")
    done = app.decline_as(client, declined, "Not this week", request_key="no")
    assert (done.record["status"], done.record["decline_reason"]) == ("declined", "Not this week")
    app.close()


def test_note_text_is_sealed_even_in_an_encrypted_file(tmp_path):
    env = {
        "BETWEEN_STORE": str(tmp_path / "clinic.db"),
        "BETWEEN_KEY_FILE": str(tmp_path / "secrets" / "clinic.key"),
    }
    cli(env, "init", "--encrypt")
    app, aid, client, _ = a_client(env["BETWEEN_STORE"], Path(env["BETWEEN_KEY_FILE"]))
    secret = "I panic on the night bus"
    app.send_note_as(client, aid, "got-in-the-way", secret, request_key="n")
    app.list_assignments()
    for path in tmp_path.iterdir():
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path.name
    app.close()
    shown = run_installed({**env, "BETWEEN_ACTOR": "dr.lee"}, "show", aid, check=True).stdout
    assert secret in shown


def test_note_text_is_sealed_without_encryption_too(tmp_path):
    app, aid, client, _ = a_client(str(tmp_path / "plain.db"))
    app.send_note_as(client, aid, "question", "Can I do it in the morning?", request_key="n")
    app.close()
    for path in tmp_path.iterdir():
        if path.is_file():
            assert b"in the morning" not in path.read_bytes(), path.name


def app_log(store: str) -> list[dict]:
    out = run_installed(store, "log", "--json", check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


# -- over HTTP, against ``between serve`` ---------------------------------------------------


def csrf_of(visitor: Visitor) -> str:
    """The session's CSRF token, read from the (signed, not encrypted) session cookie."""
    value = visitor.cookie.split("=", 1)[1]
    payload = value.lstrip(".").split(".")[0]
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if value.startswith("."):
        data = zlib.decompress(data)
    return json.loads(data)["csrf"]


def signed_in(server: Any, token: str) -> tuple[Visitor, dict[str, str]]:
    """A visitor who opened the link, and the hidden fields every form carries."""
    v = Visitor(server)
    assert v.get(f"/l/{token}").status == 303
    return v, {"csrf_token": csrf_of(v), "form_key": FORM_KEY}


def keyed(form: dict[str, str], key: str) -> dict[str, str]:
    return {**form, "form_key": key.ljust(16, "x")}


def new_proposal(clinic: Clinic) -> str:
    app = clinic.open()
    try:
        return propose(app, clinic.code)
    finally:
        app.close()


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    clinic = prepare(tmp_path_factory.mktemp("voice"))
    with clinic.config.open("a") as f:
        f.write('\n[therapists."dr.lee"]\nchannels = ["console"]\n')
    return clinic


@pytest.fixture(scope="module")
def server(clinic):
    with serving(clinic) as running:
        yield running


def between(clinic: Clinic, *args: str) -> str:
    """``between ARGS`` on the clinic's store, as a process of its own; its output."""
    env = {"BETWEEN_ACTOR": "dr.lee", "BETWEEN_CONFIG": str(clinic.config)}
    return run_installed(env, *clinic.options, *args, check=True).stdout


def test_a_note_from_the_portal_reaches_agenda_show_history_report_and_the_therapist(
    server, clinic
):
    aid = clinic.homework["monitoring"]
    v, form = signed_in(server, clinic.tokens["client"])
    text = "The evenings are too busy to write it down"
    sent = v.post(f"/homework/{aid}/note", {**form, "kind": "too-hard", "text": text})
    assert (sent.status, sent.headers["Location"]) == (303, f"/homework/{aid}")
    again = v.post(f"/homework/{aid}/note", {**form, "kind": "too-hard", "text": text})
    assert again.status == 303  # a double submit: recorded once
    sam, sams = signed_in(server, clinic.tokens[COLLABORATOR])
    seen = sam.post(
        f"/homework/{aid}/note", {**keyed(sams, "sam"), "kind": "got-in-the-way", "text": ""}
    )
    assert seen.status == 303
    detail = json.loads(between(clinic, "show", aid, "--json"))
    assert [(n["kind"], n["by"]) for n in detail["client_notes_list"]] == [
        ("too-hard", "client"),
        ("got-in-the-way", COLLABORATOR),
    ]
    assert detail["client_notes"] == 2
    assert text in between(clinic, "show", aid)
    agenda = between(clinic, "agenda", clinic.code)
    assert f"the client said {aid[:8]} is too hard: {text}" in agenda
    assert f"{COLLABORATOR} said something got in the way of {aid[:8]}" in agenda
    history = between(clinic, "history", aid)
    assert f'the client said {aid[:8]} is too hard: "{text}" via the portal' in history
    report = between(clinic, "report", clinic.code, "-o", "-")
    assert "Between sessions, the client said" in report and text in report
    told = between(clinic, "notify")
    assert f"A note from {clinic.code} between sessions" in told
    assert text not in told  # messages carry no clinical content


def test_mistakes_answer_422_with_an_error_summary_and_what_was_typed(server, clinic):
    aid = clinic.homework["exposure"]
    v, form = signed_in(server, clinic.tokens["client"])
    asked = v.post(f"/homework/{aid}/note", {**form, "kind": "question", "text": " "})
    assert asked.status == 422
    assert 'role="alert"' in asked.body and 'tabindex="-1"' in asked.body
    assert "autofocus" in asked.body and "Please write your question." in asked.body
    assert f'href="#n-{aid}-text"' in asked.body and f'id="n-{aid}-text"' in asked.body
    assert 'value="question" checked' in asked.body
    unchosen = v.post(f"/homework/{aid}/note", {**form, "text": "help"})
    assert unchosen.status == 422 and f'href="#n-{aid}-kind-too-hard"' in unchosen.body
    assert ">help</textarea>" in unchosen.body
    assert v.post(f"/homework/{aid}/note", {"kind": "too-hard"}).status == 400  # no CSRF token
    wrong = {**form, "csrf_token": "x" * 43, "kind": "too-hard"}
    assert v.post(f"/homework/{aid}/note", wrong).status == 403
    proposal = new_proposal(clinic)
    sure = v.post(
        f"/homework/{proposal}/agree", {**form, "confidence": "12", "obstacles": "my back"}
    )
    assert sure.status == 422 and "from 0 to 10" in sure.body and ">my back</textarea>" in sure.body
    assert f'href="#a-{proposal}-confidence"' in sure.body
    why = v.post(f"/homework/{proposal}/decline", {**form, "reason": ""})
    assert why.status == 422 and f'href="#d-{proposal}-reason"' in why.body
    change = v.post(f"/homework/{proposal}/change", {**form, "text": ""})
    assert change.status == 422 and f'href="#c-{proposal}-text"' in change.body
    assert json.loads(between(clinic, "show", proposal, "--json"))["status"] == "proposed"
    assert json.loads(between(clinic, "show", aid, "--json")).get("client_notes") is None


def test_agreeing_asking_for_a_change_and_declining_from_the_portal(server, clinic):
    by_portal, by_cli, changed, declined = (new_proposal(clinic) for _ in range(4))
    v, form = signed_in(server, clinic.tokens["client"])
    agreed = v.post(
        f"/homework/{by_portal}/agree",
        {**keyed(form, "agree"), "confidence": "7", "obstacles": "busy workdays"},
    )
    assert (agreed.status, agreed.headers["Location"]) == (303, f"/homework/{by_portal}")
    between(clinic, "agree", by_cli, "--confidence", "7", "--obstacles", "busy workdays")
    portal_said = json.loads(between(clinic, "show", by_portal, "--json"))
    cli_said = json.loads(between(clinic, "show", by_cli, "--json"))
    assert portal_said["status"] == cli_said["status"] == "agreed"
    assert portal_said["agreement"] == cli_said["agreement"]
    mine, theirs = portal_said["agreements"][-1], cli_said["agreements"][-1]
    assert set(mine) == set(theirs)
    assert (mine["by"], mine["via"], theirs["by"], theirs["via"]) == (
        "client",
        "portal",
        "dr.lee",
        "cli",
    )
    ask = {**keyed(form, "change"), "text": "Could it be five minutes?"}
    assert v.post(f"/homework/{changed}/change", ask).status == 303
    assert json.loads(between(clinic, "show", changed, "--json"))["status"] == "proposed"
    agenda = json.loads(between(clinic, "agenda", clinic.code, "--json"))
    waiting = {r["id"]: r for r in agenda["awaiting_agreement"]}
    assert [n["text"] for n in waiting[changed]["client_notes_since_review"]] == [ask["text"]]
    assert "asked for a change to" in between(clinic, "agenda", clinic.code)
    no = v.post(f"/homework/{declined}/decline", {**keyed(form, "no"), "reason": "Not now"})
    assert no.status == 303
    gone = json.loads(between(clinic, "show", declined, "--json"))
    assert (gone["status"], gone["decline_reason"]) == ("declined", "Not now")
    assert v.post(f"/homework/{declined}/agree", keyed(form, "late")).status == 409
    assert "the client declined" in between(clinic, "history", declined)


def test_a_collaborator_cannot_answer_a_proposal(server, clinic):
    """404, as for homework that is not theirs: a proposal is the client's to answer."""
    proposal = new_proposal(clinic)
    v, form = signed_in(server, clinic.tokens[COLLABORATOR])
    for action, extra in (("agree", {}), ("change", {"text": "x"}), ("decline", {"reason": "x"})):
        assert v.post(f"/homework/{proposal}/{action}", {**form, **extra}).status == 404
    assert v.post(f"/homework/{proposal}/note", {**form, "kind": "too-hard"}).status == 404
    assert json.loads(between(clinic, "show", proposal, "--json"))["status"] == "proposed"


def test_a_clinic_may_keep_agreement_off_the_portal(tmp_path):
    clinic = prepare(tmp_path / "off", portal="agreement = false")
    proposal = new_proposal(clinic)
    running = start(clinic, tmp_path)
    try:
        v, form = signed_in(running, clinic.tokens["client"])
        assert v.post(f"/homework/{proposal}/agree", form).status == 404
        assert v.post(f"/homework/{proposal}/decline", {**form, "reason": "x"}).status == 404
        assert v.post(f"/homework/{proposal}/note", {**form, "kind": "too-hard"}).status == 404
        assert proposal not in v.get("/").body
        aid = clinic.homework["monitoring"]  # notes about agreed homework still go
        assert v.post(f"/homework/{aid}/note", {**form, "kind": "too-hard"}).status == 303
    finally:
        code, _, errors = running.stop()
    assert code == 0, errors
    assert json.loads(between(clinic, "show", proposal, "--json"))["status"] == "proposed"


@pytest.mark.postgres
def test_the_portal_records_notes_and_agreement_on_postgresql(tmp_path, pg_url):
    clinic = prepare(tmp_path / "pg", store=pg_url)
    proposal = new_proposal(clinic)
    with serving(clinic) as running:
        v, form = signed_in(running, clinic.tokens["client"])
        note = {**keyed(form, "n"), "kind": "question", "text": "Mornings or evenings?"}
        assert v.post(f"/homework/{clinic.homework['monitoring']}/note", note).status == 303
        sure = {**keyed(form, "a"), "confidence": "0", "obstacles": ""}
        assert v.post(f"/homework/{proposal}/agree", sure).status == 303
    shown = json.loads(between(clinic, "show", proposal, "--json"))
    assert (shown["status"], shown["confidence"], shown["agreements"][-1]["by"]) == (
        "agreed",
        0,
        "client",
    )
    history = between(clinic, "history", clinic.code)
    assert "asked a question about" in history and "Mornings or evenings?" in history


def post_note(server: Any, aid: str, call: dict) -> tuple[int, dict]:
    """The inbound API's note call, signed by the clinic's form tool."""
    body = json.dumps(call).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Between-Integration": "forms",
        "X-Between-Timestamp": stamp,
        "X-Between-Signature": f"sha256={digest}",
    }
    answer = Visitor(server).request("POST", f"/api/v1/homework/{aid}/notes", body, headers)
    return answer.status, json.loads(answer.body)


def test_a_form_tool_sends_a_note_through_the_signed_api(server, clinic):
    aid = clinic.homework["worksheet"]
    call = {"kind": "question", "text": "Which week?", "idempotency_key": "note-1"}
    status, answer = post_note(server, aid, call)
    assert status == 201 and answer["note"]["text"] == "Which week?" and not answer["repeated"]
    assert post_note(server, aid, call)[0] == 200
    status, answer = post_note(
        server, aid, {**call, "person": COLLABORATOR, "idempotency_key": "2"}
    )
    assert status == 403 and "does not observe" in answer["error"]
    status, answer = post_note(server, aid, {**call, "text": "", "idempotency_key": "3"})
    assert status == 422 and answer["fields"] == {"text": "Please write your question."}
    notes = json.loads(between(clinic, "show", aid, "--json"))["client_notes_list"]
    assert [(n["via"], n["text"]) for n in notes] == [("api", "Which week?")]
    log = [e for e in app_log_of(clinic) if e["type"] == "ClientNoteSent"]
    assert "integration:forms" in {e["actor"] for e in log}


def app_log_of(clinic: Clinic) -> list[dict]:
    return [json.loads(line) for line in between(clinic, "log", "--json").splitlines()]


def test_the_macros_label_every_input_and_repeat_no_id():
    """``_voice.html`` as the lead includes it on a homework page: every input labelled, the
    radios in fieldsets with legends, the plain words, and no id used twice."""
    import re

    from between.portal.app import create_app
    from between.portal.config import PortalConfig

    app = create_app(PortalConfig(), lambda: None)  # type: ignore[arg-type, return-value]
    card = {"id": "3f2a9c1e-0000-4000-8000-000000000001", "form_key": FORM_KEY}
    page = (
        '{% from "_voice.html" import note_form, agreement_form, notes_sent %}'
        '{{ note_form(card, "c" * 43) }}{{ agreement_form(card, "c" * 43) }}{{ notes_sent(notes) }}'
    )
    notes = [{"kind": "change", "at": "2026-12-07T10:00:00+00:00", "text": "fewer, please"}]
    with app.app_context():
        html = app.jinja_env.from_string(page).render(card=card, notes=notes)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    inputs = re.findall(r'<(?:input|textarea)[^>]*\sid="([^"]+)"', html)
    labelled = set(re.findall(r'<label[^>]*\sfor="([^"]+)"', html))
    assert inputs and set(inputs) <= labelled
    assert html.count("<fieldset") == html.count("<legend") == 2  # the kind, the confidence
    for words in (
        "This is too hard",
        "I have a question",
        "Something got in the way",
        "How sure are you that you can do this?",
        "0 is not at all, 10 is completely sure.",
        "I would like a change</strong>: fewer, please",
    ):
        assert words in html
    assert html.count('name="csrf_token"') == html.count('name="form_key"') == 4


def test_stored_rows_of_notes_and_portal_answers_still_load(app):
    """``fixtures/events_v4_client_voice.jsonl``: rows as this release stores them."""
    from test_event_format import replayed

    from between.engine.aggregates.assignments import Assignment

    lea = [
        a
        for a in replayed(app).values()
        if isinstance(a, Assignment) and a.instructions == "Breathe for ten minutes"
    ]
    agreed, declined = sorted(lea, key=lambda a: a.status)
    assert [(n["kind"], n["by"], n["text"]) for n in agreed.client_notes] == [
        ("change", "client", "Five minutes, please"),
        ("too-hard", "Omar", ""),
        ("question", "client", "Sitting or lying down?"),
    ]
    assert agreed.agreements[-1] | {"at": None} == {
        "at": None,
        "by": "client",
        "confidence": 6,
        "obstacles": "late shifts",
        "via": "portal",
    }
    assert agreed.row["client_notes"] == 3 and agreed.row["last_client_note"]["kind"] == "question"
    assert (declined.status, declined.decline_reason) == ("declined", "Not this month")


def test_the_homework_page_gets_a_notice_once_after_an_answer():
    from flask import session

    from between.portal.app import create_app
    from between.portal.config import PortalConfig
    from between.portal.voice import notice_for

    app = create_app(PortalConfig(), lambda: None)  # type: ignore[arg-type, return-value]
    with app.test_request_context("/homework/a"):
        session["voice"] = ["a", "note", False]
        assert notice_for("b") == ""
        assert notice_for("a") == "Your message was sent to your therapist."
        assert notice_for("a") == ""
        session["voice"] = ["a", "agree", True]
        assert notice_for("a") == "This was already sent."
