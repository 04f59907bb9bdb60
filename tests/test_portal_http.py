"""The portal over plain HTTP, against ``between serve`` running as a real process."""

from __future__ import annotations

import base64
import html
import json
import re
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import Clock, invoke, run_installed
from portal_server import COLLABORATOR, NAME, Visitor, prepare, serving, start

GONE = "This link no longer works — ask your therapist for a new one."
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    return prepare(tmp_path_factory.mktemp("portal"), portal="rate_per_minute = 20", faulty=True)


@pytest.fixture(scope="module")
def server(clinic):
    with serving(clinic) as running:
        yield running


def entry_form(visitor: Visitor, assignment: str, **fields: str) -> dict[str, str]:
    """The form for ``assignment`` as shown on its own page, filled with ``fields``."""
    page = visitor.get(f"/homework/{assignment}")
    assert page.status == 200
    return {**page.form(assignment), **{f"field.{k}": v for k, v in fields.items()}}


MONITORING = {"situation": "team meeting", "intensity": "60"}


def test_every_response_carries_the_security_headers(server, clinic):
    v = Visitor(server)
    v.get("/")
    v.get("/l/not-a-token")
    v.open_link(clinic.link())
    v.get("/static/portal.css")
    v.get("/no/such/page")
    v.post(f"/homework/{clinic.homework['monitoring']}", {})
    v.request("POST", "/api/v1/entries", b"{}", {"Content-Type": "application/json"})
    assert [a.status for a in v.answers] == [403, 404, 303, 200, 200, 404, 400, 401]
    for answer in v.answers:
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Content-Security-Policy"] == CSP
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in v.answers[-1].headers  # the API sets no cookie


def test_a_link_starts_a_session_and_its_token_leaves_the_address(server, clinic):
    token, v = clinic.link(), Visitor(server)
    opened = v.get(f"/l/{token}")
    assert (opened.status, opened.headers["Location"]) == (303, "/")
    cookie = opened.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = v.get("/")
    assert page.status == 200
    assert "<title>Your homework — Riverside Clinic</title>" in page.body
    for title in ("Self-monitoring log", "Graded exposure", "Weekly review", "relaxation practice"):
        assert title in page.body
    assert "0 of 5 entries" in page.body
    form = entry_form(v, clinic.homework["monitoring"], **MONITORING)
    done = v.post(f"/homework/{clinic.homework['monitoring']}", form)
    assert done.status == 303
    assert "Your entry was recorded." in v.get(v.locations[-1]).body
    for where in v.locations:  # no token, name or code in any address after the first
        assert token not in where and NAME not in where and clinic.code not in where
    title = page.body.split("<title>")[1].split("</title>")[0]
    assert NAME not in title and clinic.code not in title


def test_an_out_of_range_value_is_refused_beside_its_field_and_kept(server, clinic):
    v = Visitor(server)
    v.open_link(clinic.link())
    before = len(clinic.log())
    form = entry_form(v, clinic.homework["exposure"], suds_before="40", suds_peak="140")
    refused = v.post(f"/homework/{clinic.homework['exposure']}", {**form, "field.minutes": "20"})
    assert refused.status == 422
    assert '<p class="error" id="f-' in refused.body
    body = html.unescape(refused.body)
    peak = "How anxious were you at the hardest moment?"
    assert re.search(
        r'<p class="error" id="f-[^"]+-error">Please give a number from 0 to 100\.</p>', body
    )
    assert f"{peak} Please give a number from 0 to 100." in body  # the summary names the question
    assert "How anxious were you at the end? Please answer this question." in body
    assert "must be" not in body and "is required" not in body  # no engine wording
    assert 'value="140"' in refused.body and 'value="20"' in refused.body
    assert len(clinic.log()) == before


def test_a_refused_entry_is_summarised_first_on_the_page_with_a_link_to_each_field(server, clinic):
    v = Visitor(server)
    v.open_link(clinic.link())
    aid, before = clinic.homework["worksheet"], len(clinic.log())
    form = entry_form(v, aid, highlight="a walk", hours_outside="900", reflection="short")
    refused = v.post(f"/homework/{aid}", form)
    assert refused.status == 422 and len(clinic.log()) == before
    body = html.unescape(refused.body)
    assert "<title>Not saved: Your homework — Riverside Clinic</title>" in body
    main = body.split('<main id="main" tabindex="-1">', 1)[1]
    summary = main.split("</div>", 1)[0]
    assert main.lstrip().startswith('<div class="error-summary" id="error-summary"')  # first
    for attribute in ('role="alert"', 'tabindex="-1"', "autofocus"):
        assert attribute in summary.split(">", 1)[0]
    assert "Your entry was not saved yet" in summary and "“Weekly review”" in summary
    found = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)
    links = {text: href for href, text in found}
    expected = {
        "Hours outside: Please give a number from 0 to 100.": "field.hours_outside",
        "Slept well: Please answer this question.": "field.slept_well",
        "Energy: Please answer this question.": "field.energy",
    }
    for summary_line, name in expected.items():
        target = links[summary_line]  # each message links to its own field, and is shown beside it
        message = re.escape(summary_line.split(": ", 1)[1])
        field = body.split(f'id="{target}"', 1)[1].split("</fieldset>")[0].split("</div>")[0]
        tag = re.search(rf'<input[^>]* name="{name}"[^>]*>', field).group(0)
        assert 'aria-invalid="true"' in tag
        assert re.search(rf'<p class="error" id="[^"]+-error">{message}</p>', field)
    assert "Reflection: Please write at least 20 characters." in links
    assert 'value="a walk"' in body and 'value="900"' in body and ">short</textarea>" in body


@pytest.mark.parametrize(
    "typed, message",
    [
        ("last tuesday", "Please enter when this happened, like 20"),
        ("2026-13-40T25:00", "Please enter when this happened, like 20"),
        ("future", "This can't be in the future. Enter when it happened, or leave it empty."),
    ],
)
def test_when_it_happened_is_judged_beside_its_field_in_plain_words(server, clinic, typed, message):
    v = Visitor(server)
    v.open_link(clinic.link())
    aid, before = clinic.homework["monitoring"], len(clinic.log())
    if typed == "future":
        typed = f"{datetime.now() + timedelta(days=2):%Y-%m-%dT%H:%M}"
    form = entry_form(v, aid, situation="typed before the mistake", intensity="60")
    refused = v.post(f"/homework/{aid}", {**form, "occurred_at": typed})
    assert refused.status == 422 and len(clinic.log()) == before
    body = html.unescape(refused.body)
    when = f"f-{aid}-when"
    tag = re.search(rf'<input[^>]* id="{when}"[^>]*>', body).group(0)
    assert 'aria-invalid="true"' in tag and f'value="{typed}"' in tag
    assert f"{when}-error" in tag.split("aria-describedby=")[1].split(">")[0]
    beside = body.split(f'<p class="error" id="{when}-error">', 1)[1].split("</p>")[0]
    assert beside.startswith(message)
    summary = body.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert f'<a href="#{when}-field">When did it happen? {beside}</a>' in summary
    assert "occurred at" not in body and "is in the future" not in body  # no engine wording
    kept = re.search(r'name="field.situation"[^>]*>typed before the mistake<', body)
    assert kept or 'value="typed before the mistake"' in body  # what was typed is kept


@pytest.mark.parametrize("typed", ["last tuesday", "future"])
def test_a_wrong_field_and_a_wrong_time_are_shown_together(server, clinic, typed):
    """Issue 21: an out-of-range field is not hidden behind the time's message; the summary
    links to both and each message stands beside its own input."""
    v = Visitor(server)
    v.open_link(clinic.link())
    aid, before = clinic.homework["monitoring"], len(clinic.log())
    if typed == "future":
        typed = f"{datetime.now() + timedelta(days=2):%Y-%m-%dT%H:%M}"
    form = entry_form(v, aid, situation="at work", intensity="500")
    refused = v.post(f"/homework/{aid}", {**form, "occurred_at": typed})
    assert refused.status == 422 and len(clinic.log()) == before
    body = html.unescape(refused.body)
    summary = body.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    links = dict(re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary))
    when = f"f-{aid}-when"
    said = links.pop(f"{when}-field")
    assert said.startswith(("When did it happen? Please enter when", "When did it happen? This"))
    [(target, summary_line)] = links.items()
    assert summary_line == "How strong was that feeling? Please give a number from 0 to 100."
    message = re.escape("Please give a number from 0 to 100.")
    field = body.split(f'id="{target}"', 1)[1].split("</div>")[0]
    tag = re.search(r'<input[^>]* name="field.intensity"[^>]*>', field).group(0)
    assert 'aria-invalid="true"' in tag and 'value="500"' in tag
    assert re.search(rf'<p class="error" id="[^"]+-error">{message}</p>', field)
    when_tag = re.search(rf'<input[^>]* id="{when}"[^>]*>', body).group(0)
    assert 'aria-invalid="true"' in when_tag


@pytest.mark.parametrize(
    "zone, code, hours_ago",
    [("Pacific/Kiritimati", "C-414", 1), ("Pacific/Honolulu", "C-410", 3)],
)
def test_when_it_happened_is_read_in_the_client_s_own_time_zone(
    server, clinic, zone, code, hours_ago
):
    """A ``datetime-local`` time has no zone: it is the client's local time. An hour ago in
    Kiritimati (UTC+14) is no time in the future, and 04:00 in Honolulu is 14:00 UTC."""
    from zoneinfo import ZoneInfo

    clinic.cli("client", "add", code, "--name", "Kai Lono", "--therapist", "dr.lee",
               "--timezone", zone)  # fmt: skip
    said = clinic.cli("assign", code, "--template", "self-monitoring-baseline", "--due",
                      "2026-12-14", "--allow-past-due")  # fmt: skip
    short = re.search(r"proposed ([0-9a-f]{8})", said).group(1)
    clinic.cli("agree", short)
    aid = json.loads(clinic.cli("show", short, "--json"))["id"]
    token = json.loads(clinic.cli("client", "link", code, "--json"))["token"]
    v = Visitor(server)
    v.open_link(token)
    then = (datetime.now(UTC) - timedelta(hours=hours_ago)).replace(second=0, microsecond=0)
    typed = f"{then.astimezone(ZoneInfo(zone)):%Y-%m-%dT%H:%M}"
    form = entry_form(v, aid, situation="on the beach", intensity="30")
    done = v.post(f"/homework/{aid}", {**form, "occurred_at": typed})
    assert done.status == 303, html.unescape(done.body)
    (entry,) = json.loads(clinic.cli("show", short, "--json"))["entry_list"]
    assert datetime.fromisoformat(entry["occurred_at"]) == then  # the right instant, in UTC
    page = html.unescape(v.get(f"/homework/{aid}").body)
    shown = then.astimezone(ZoneInfo(zone))
    assert f"{shown:%H:%M}" in page.split("Past entries", 1)[1]  # read back in their time
    later = f"{datetime.now(UTC).astimezone(ZoneInfo(zone)) + timedelta(hours=2):%Y-%m-%dT%H:%M}"
    refused = v.post(
        f"/homework/{aid}", {**entry_form(v, aid, situation="x"), "occurred_at": later}
    )
    assert refused.status == 422 and "This can't be in the future" in html.unescape(refused.body)
    assert f'value="{later}"' in refused.body  # kept as typed, in their time


def test_a_collaborator_counts_their_own_entries_and_the_client_everyone_s(server, clinic):
    aid = clinic.homework["monitoring"]
    sam, client = Visitor(server), Visitor(server)
    sam.open_link(clinic.link(COLLABORATOR))
    client.open_link(clinic.link())
    ours = clinic.show("monitoring")["entry_list"]
    theirs = sum(1 for e in ours if e["by"] == COLLABORATOR)
    form = entry_form(sam, aid, situation="at the cinema", intensity="20")
    assert sam.post(f"/homework/{aid}", form).status == 303
    added = theirs + 1
    for page in (sam.get("/").body, sam.get(f"/homework/{aid}").body):
        section = page.split(f'id="hw-{aid}"', 1)[1]
        shown = section.split('class="progress">', 1)[1].split("</")[0]
        assert shown == f"You have added {added} {'entry' if added == 1 else 'entries'}"
        assert " of 5 entries" not in page
    everyone = len(ours) + 1
    for page in (client.get("/").body, client.get(f"/homework/{aid}").body):
        assert f"{everyone} of 5 entries" in page.split(f'id="hw-{aid}"', 1)[1]


def test_a_link_reveals_nothing_of_the_client_and_links_of_the_first_format_still_open(
    server, clinic
):
    app = clinic.open()
    try:
        client_id = app.client_id(clinic.code)
    finally:
        app.close()
    token = clinic.link()
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) == 32 and client_id.bytes not in raw  # 256 random bits, no record id
    assert base64.urlsafe_b64encode(client_id.bytes).decode()[:21] not in token
    old = clinic.old_link()
    assert old.startswith(base64.urlsafe_b64encode(client_id.bytes).decode()[:21])
    for link in (token, old):
        v = Visitor(server)
        page = v.open_link(link)
        assert page.status == 200 and "Self-monitoring log" in page.body
        aid = clinic.homework["monitoring"]
        assert v.post(f"/homework/{aid}", entry_form(v, aid, **MONITORING)).status == 303
    edited = old[:30] + ("A" if old[30] != "A" else "B") + old[31:]
    assert Visitor(server).open_link(edited).status == 403
    clinic.cli("client", "link", clinic.code, "--revoke")  # the old format ends like the new
    for link in (token, old):
        assert Visitor(server).open_link(link).status == 403


def test_links_that_no_longer_work_get_the_plain_page_and_record_nothing(server, clinic):
    revoked = clinic.link()
    clinic.cli("client", "link", clinic.code, "--revoke")
    past = Clock(datetime.now(UTC) - timedelta(days=30))
    expired = clinic.link(clock=past, expires_days=1)
    live = clinic.link()
    edited = live[:30] + ("A" if live[30] != "A" else "B") + live[31:]
    before = clinic.log()
    for token, status in [
        (revoked, 403),
        (expired, 403),
        (edited, 403),
        ("made-up", 404),
        ("x" * 500, 404),
        (live + "/more", 404),
    ]:
        v = Visitor(server)
        answer = v.get(f"/l/{token}")
        assert (answer.status, GONE in answer.body) == (status, True), token
        assert v.get("/").status == 403  # no session was started
        post = v.post(f"/homework/{clinic.homework['monitoring']}", {"field.situation": "x"})
        assert post.status == 403
    assert clinic.log() == before


def test_a_link_revoked_while_its_page_is_open_stops_working_at_the_next_request(server, clinic):
    v = Visitor(server)
    v.open_link(clinic.link(COLLABORATOR))
    form = entry_form(v, clinic.homework["monitoring"], situation="after the revocation")
    clinic.cli("client", "link", clinic.code, "--person", COLLABORATOR, "--revoke")
    before = clinic.log()
    posted = v.post(f"/homework/{clinic.homework['monitoring']}", form)
    assert posted.status == 403 and GONE in posted.body
    assert v.get("/").status == 403
    assert clinic.log() == before


def test_forms_refuse_a_missing_or_forged_csrf_token(server, clinic):
    v, other = Visitor(server), Visitor(server)
    v.open_link(clinic.link())
    other.open_link(clinic.link())
    before = len(clinic.log())
    path = f"/homework/{clinic.homework['monitoring']}"
    form = entry_form(v, clinic.homework["monitoring"], **MONITORING)
    assert v.post(path, {k: val for k, val in form.items() if k != "csrf_token"}).status == 400
    assert v.post(path, {**form, "csrf_token": "forged" + form["csrf_token"]}).status == 403
    stolen = entry_form(other, clinic.homework["monitoring"])["csrf_token"]  # another session's
    assert v.post(path, {**form, "csrf_token": stolen}).status == 403
    assert v.post(path, {**form, "form_key": ""}).status == 400
    assert len(clinic.log()) == before


def test_a_double_submit_records_one_entry(server, clinic):
    v = Visitor(server)
    v.open_link(clinic.link())
    aid = clinic.homework["exposure"]
    done_before = clinic.show("exposure")["entries"]
    numbers = {"suds_before": "30", "suds_peak": "70", "suds_after": "20", "minutes": "25"}
    form = entry_form(v, aid, **numbers)
    first, second = v.post(f"/homework/{aid}", form), v.post(f"/homework/{aid}", form)
    assert (first.status, second.status) == (303, 303)
    assert v.locations[-2:] == [f"/homework/{aid}"] * 2
    assert "This entry was already recorded." in v.get(f"/homework/{aid}").body
    shown = clinic.show("exposure")
    assert shown["entries"] == done_before + 1
    entry = shown["entry_list"][-1]
    assert (entry["recorded_by"], entry["via"], entry["fields"]["suds_peak"]) == (
        "client",
        "portal",
        70,
    )


def test_declined_homework_shows_no_form_and_takes_no_entry(server, clinic):
    v = Visitor(server)
    v.open_link(clinic.link())
    aid = clinic.homework["declined"]
    page = v.get(f"/homework/{aid}")
    assert f'action="/homework/{aid}"' not in page.body
    assert "This homework is declined and takes no more entries." in page.body
    before = len(clinic.log())
    form = {**entry_form(v, clinic.homework["monitoring"]), "field.notes": "x"}
    refused = v.post(f"/homework/{aid}", form)
    assert refused.status == 409
    summary = refused.body.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert f'<a href="#hw-{aid}">This homework takes no more entries.</a>' in summary
    assert v.post("/homework/00000000-0000-4000-8000-000000000000", form).status == 404
    assert len(clinic.log()) == before


def test_a_collaborator_sees_only_the_homework_they_observe(server, clinic):
    v = Visitor(server)
    page = v.open_link(clinic.link(COLLABORATOR))
    assert "Homework you help with" in page.body
    assert "Self-monitoring log" in page.body
    for title in ("Graded exposure", "Weekly review", "relaxation practice"):
        assert title not in page.body
    aid = clinic.homework["monitoring"]
    assert v.post(f"/homework/{aid}", entry_form(v, aid, situation="at dinner")).status == 303
    entry = clinic.show("monitoring")["entry_list"][-1]
    assert (entry["by"], entry["recorded_by"], entry["via"]) == (
        COLLABORATOR,
        "collaborator",
        "portal",
    )
    form = entry_form(v, aid, **MONITORING)
    assert v.post(f"/homework/{clinic.homework['exposure']}", form).status == 404


def test_a_request_too_large_is_refused_with_413(server, clinic):
    v = Visitor(server)
    v.open_link(clinic.link())
    before = len(clinic.log())
    form = entry_form(v, clinic.homework["monitoring"], situation="x" * 70_000)
    answer = v.post(f"/homework/{clinic.homework['monitoring']}", form)
    assert answer.status == 413 and "too much to send" in answer.body
    assert len(clinic.log()) == before


def test_each_link_is_rate_limited_on_its_own(server, clinic):
    busy, calm = Visitor(server), Visitor(server)
    busy.open_link(clinic.link())
    statuses = [busy.get("/").status for _ in range(25)]
    assert statuses[:15] == [200] * 15 and statuses[-1] == 429
    assert "Wait a minute" in busy.answers[-1].body
    assert calm.open_link(clinic.link()).status == 200


def test_a_failing_plugin_is_a_plain_500_and_one_line_naming_it(server, clinic):
    v = Visitor(server)
    v.open_link(clinic.link())
    before = len(clinic.log())
    aid = clinic.homework["faulty"]
    answer = v.post(f"/homework/{aid}", entry_form(v, aid, words="my private words"))
    assert answer.status == 500
    assert "Something went wrong on our side; nothing was recorded." in answer.body
    assert "Traceback" not in answer.body and "faulty" not in answer.body
    logged = server.errors.read_text().splitlines()
    fault = "plugin local:faulty.py failed in validate_entry (task type faulty-diary)"
    assert f"portal: POST /homework/<uuid:assignment>: {fault}" in logged
    assert "my private words" not in server.errors.read_text()
    assert len(clinic.log()) == before


def test_serve_logs_no_token_or_name_and_stops_on_sigint_with_0(clinic):
    """Behind a TLS proxy (an https public URL) too, where the session cookie is Secure."""
    running = start(clinic, clinic.config.parent, "--url", "https://homework.clinic.example")
    token = clinic.link()
    v = Visitor(running)
    assert "; Secure" in v.get(f"/l/{token}").headers["Set-Cookie"]
    v.get("/")
    aid = clinic.homework["monitoring"]
    v.post(f"/homework/{aid}", entry_form(v, aid, situation=f"told {COLLABORATOR}"))
    v.post(f"/homework/{aid}", entry_form(v, aid, intensity="x"))
    v.get(f"/l/{token[:-1]}")
    code, out, err = running.stop(signal.SIGINT)
    assert code == 0, err
    assert out == (
        f"serving the portal on http://127.0.0.1:{running.port} "
        "(public URL https://homework.clinic.example); Ctrl-C stops\n"
    )
    for secret in (token, token[:-1], NAME, COLLABORATOR, clinic.code, "/l/"):
        assert secret not in out + err


def test_a_port_in_use_is_one_line_and_exit_1(clinic, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"XDG_CONFIG_HOME": str(tmp_path)}
        done = run_installed(env, *clinic.options, "serve", "--port", str(port), timeout=60)
    assert done.returncode == 1
    assert done.stderr == (
        f"error: cannot listen on 127.0.0.1:{port}: the port is in use (another server?); "
        "choose --port\n"
    )


def test_a_portal_table_that_is_not_the_documented_shape_stops_serve(clinic, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[portal]\nrate_per_minute = 0\n")
    done = invoke(None, *clinic.options, "--config", str(config), "serve")
    assert done.exit_code == 2
    assert done.stderr == (
        f"error: configuration file {config}: [portal] rate_per_minute = 0 must be a whole "
        "number from 1 to 100000\n"
    )


def test_serve_without_a_store_is_one_line_and_exit_1(tmp_path):
    store = tmp_path / "none.db"
    done = invoke(None, "--store", str(store), "serve")
    assert done.exit_code == 1
    assert done.stderr.startswith(f"error: no store at {store}; create one with 'between init'")
    assert not store.exists()


def test_the_command_line_starts_without_the_web_stack():
    probe = (
        "import sys; from click.testing import CliRunner; from between.cli import build_cli; "
        "r = CliRunner().invoke(build_cli(), ['--help']); assert 'serve' in r.output, r.output; "
        "print(sorted(m for m in ('flask', 'waitress', 'werkzeug', 'jinja2') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "[]\n"), done.stderr


def test_the_static_files_are_shipped_with_the_package():
    import between.portal

    folder = Path(between.portal.__file__).parent
    assert (folder / "static" / "portal.css").is_file()
    assert {p.name for p in (folder / "templates").glob("*.html")} >= {"base.html", "home.html"}
