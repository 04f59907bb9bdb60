"""The signed inbound API, against ``between serve`` running as a real process, and the curl and
Python examples of docs/portal.md run for real."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from portal_server import COLLABORATOR, SECRET, Visitor, prepare, serving, start

from between.portal.security import sign

DOCS = Path(__file__).parent.parent / "docs" / "portal.md"
EXAMPLE_ID = "3f2a9c1e-5b7d-4c1a-9e2f-0a1b2c3d4e5f"
EXAMPLE_SECRET = "the secret of [portal.integrations.forms]"


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    return prepare(tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module")
def server(clinic):
    with serving(clinic) as running:
        yield running


def call(server, payload: dict | bytes, *, secret=SECRET, name="forms", stamp=None, headers=None):
    """POST a signed call; its status and JSON answer."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    stamp = str(int(time.time()) if stamp is None else stamp)
    signed = {
        "Content-Type": "application/json",
        "X-Between-Integration": name,
        "X-Between-Timestamp": stamp,
        "X-Between-Signature": sign(secret, stamp, body),
        **(headers or {}),
    }
    answer = Visitor(server).request("POST", "/api/v1/entries", body, signed)
    assert answer.headers["Content-Type"] == "application/json"
    assert "Set-Cookie" not in answer.headers
    return answer.status, json.loads(answer.body)


def entry(clinic, key: str, **fields) -> dict:
    fields = fields or {"situation": "on the bus", "intensity": 40}
    return {
        "assignment": clinic.homework["monitoring"],
        "person": "client",
        "fields": fields,
        "idempotency_key": key,
    }


def test_a_signed_entry_is_recorded_like_submit_and_answered_with_it(server, clinic):
    status, answer = call(server, entry(clinic, "form-1"))
    assert status == 201 and answer["repeated"] is False
    stored = answer["entry"]
    assert stored["fields"] == {"situation": "on the bus", "intensity": 40}
    shown = {e["id"]: e for e in clinic.show("monitoring")["entry_list"]}[stored["id"]]
    assert (shown["recorded_by"], shown["via"], shown["by"]) == (
        "integration:forms",
        "api",
        "client",
    )
    assert clinic.log()[-1]["actor"] == "integration:forms"


def test_the_same_idempotency_key_records_once(server, clinic):
    first = call(server, entry(clinic, "form-2"))
    before = len(clinic.log())
    again = call(server, entry(clinic, "form-2"))
    assert (first[0], again[0], again[1]["repeated"]) == (201, 200, True)
    assert again[1]["entry"]["id"] == first[1]["entry"]["id"]
    assert len(clinic.log()) == before


def test_a_collaborator_s_entry_names_them(server, clinic):
    payload = {**entry(clinic, "form-3", situation="at dinner"), "person": COLLABORATOR}
    status, answer = call(server, payload)
    assert status == 201 and answer["entry"]["by"] == COLLABORATOR


def test_calls_not_signed_as_they_must_be_are_refused_and_record_nothing(server, clinic):
    before = clinic.log()
    payload = entry(clinic, "form-4")
    body = json.dumps(payload).encode()
    old = int(time.time()) - 301
    replayed = {"X-Between-Signature": sign(SECRET, str(old), body)}
    refusals = [
        (call(server, payload, secret="x" * 40), "does not match"),
        (call(server, payload, name="other"), "unknown integration"),
        (call(server, payload, stamp=old), "more than 300 seconds"),
        (call(server, payload, stamp=int(time.time()) + 301), "more than 300 seconds"),
        (call(server, body, headers=replayed), "does not match"),  # old signature, new time
        (call(server, payload, headers={"X-Between-Signature": ""}), "does not match"),
    ]
    for (status, answer), reason in refusals:
        assert status == 401 and reason in answer["error"]
    assert clinic.log() == before


def test_a_wrong_field_is_422_json_naming_it(server, clinic):
    before = clinic.log()
    status, answer = call(server, entry(clinic, "form-5", situation="x", intensity=101))
    assert status == 422
    assert answer["fields"] == {"intensity": "must be at most 100"}
    assert "intensity" in answer["error"]
    assert call(server, entry(clinic, "form-5", situation="x", mood=3))[1]["fields"] == {
        "mood": "is not a field of this form"
    }
    assert clinic.log() == before


def test_malformed_calls_and_other_refusals(server, clinic):
    before = clinic.log()
    cases = [
        (b"not json", 400),
        (b"[1]", 400),
        ({**entry(clinic, "form-6"), "extra": 1}, 400),
        ({**entry(clinic, "form-6"), "assignment": "3f2a"}, 400),
        ({**entry(clinic, "form-6"), "idempotency_key": "has space"}, 400),
        ({**entry(clinic, "form-6"), "fields": [1]}, 400),
        ({**entry(clinic, "form-6"), "assignment": EXAMPLE_ID}, 404),
        ({**entry(clinic, "form-6"), "assignment": clinic.homework["declined"]}, 409),
        ({**entry(clinic, "form-6"), "person": "Nobody"}, 403),
    ]
    for payload, status in cases:
        got, answer = call(server, payload)
        assert (got, set(answer) >= {"error"}) == (status, True), (payload, answer)
    assert clinic.log() == before


def test_a_collaborator_s_entry_on_homework_they_do_not_observe_is_refused_like_the_portal(
    server, clinic
):
    """The partner observes the self-monitoring only: their entry on the exposure homework is
    refused — by the API as by their link — and nothing is recorded."""
    exposure = clinic.homework["exposure"]
    fields = {"suds_before": 30, "suds_peak": 70, "suds_after": 20, "minutes": 25}
    before = clinic.log()
    payload = {**entry(clinic, "form-unobserved"), "assignment": exposure, "fields": fields}
    status, answer = call(server, {**payload, "person": COLLABORATOR})
    assert status == 403
    assert answer == {
        "error": f"{COLLABORATOR!r} does not observe this homework; entries come from the "
        "client or a collaborator who observes it"
    }
    sam = Visitor(server)
    sam.open_link(clinic.tokens[COLLABORATOR])
    observed = sam.get(f"/homework/{clinic.homework['monitoring']}").body  # a form of theirs
    form = re.findall(r'name="(csrf_token|form_key)" value="([^"]*)"', observed)
    flat = {k: v for k, v in form} | {f"field.{k}": str(v) for k, v in fields.items()}
    assert sam.post(f"/homework/{exposure}", flat).status == 404  # the portal's answer
    assert clinic.log() == before
    status, answer = call(server, payload)  # the client's own entry is taken
    assert status == 201 and answer["entry"]["by"] == "client"


def test_the_operators_list_applies_to_integrations(clinic, tmp_path):
    """On a store that requires operators, an integration that is not one is refused (403);
    once added as staff, its entries are recorded."""
    own = prepare(tmp_path / "clinic")
    own.cli("operators", "add", "dr.lee", "--role", "therapist")
    own.cli("operators", "require", "on")
    running = start(own, tmp_path)
    try:
        status, answer = call(running, entry(own, "form-7"))
        assert status == 403 and "integration:forms" in answer["error"]
        own.cli("operators", "add", "integration:forms", "--role", "staff")
        assert call(running, entry(own, "form-7"))[0] == 201
    finally:
        assert running.stop()[0] == 0


def example(language: str) -> str:
    """The docs' example in ``language``, pointed at the test server."""
    blocks = re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(), re.S)
    (found,) = [b for b in blocks if "X-Between-Signature" in b]
    return found


def pointed(text: str, server, clinic) -> str:
    return (
        text.replace("https://homework.clinic.example", server.base)
        .replace(EXAMPLE_SECRET, SECRET)
        .replace(EXAMPLE_ID, clinic.homework["monitoring"])
    )


def test_the_python_example_in_the_docs_records_an_entry(server, clinic):
    code = pointed(example("python"), server, clinic).replace("form-123", "docs-python")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "docs/portal.md", "exec"), {"__name__": "example"})
    status, entry_id = printed.getvalue().split()
    assert status == "201"
    assert entry_id in {e["id"] for e in clinic.show("monitoring")["entry_list"]}


def test_the_curl_example_in_the_docs_records_an_entry(server, clinic):
    if not (shutil.which("curl") and shutil.which("openssl")):
        pytest.skip("curl and openssl are needed to run the curl example")
    script = pointed(example("sh"), server, clinic).replace("form-123", "docs-curl")
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["repeated"] is False and answer["entry"]["fields"]["intensity"] == 70
