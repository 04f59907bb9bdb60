"""Least privilege and the remaining trust gaps: roles on every write and on rebuild/rekey, a
PostgreSQL role that may not read client keys, idempotency keys reused for another request,
owner-only store files, and when a client's code leaves the read models."""

from __future__ import annotations

import base64
import json
import stat
import uuid

import pytest
from helpers import PG_DB, PG_HOST, PG_PORT, PG_USER, Clock, assign_args, count_events, invoke

from between.engine.app import Homework
from between.engine.errors import RuleViolation
from between.engine.storage.store import Store

SECRET = {"name": "Perpetua Halvorsen-Mbeki", "entry": "the lift doors closed and I froze"}
REVIEW = ("--quantity", "1", "--quality", "1", "--difficulty", "1", "--next-step", "close")


def run(env: dict, *args: str, code: int = 0) -> str:
    """Run ``between``; a refusal must be exactly one line on standard error."""
    result = invoke(env, *args, code=code)
    stderr = result.stderr if result.stderr_bytes else ""
    assert "Traceback" not in result.output + stderr
    if code:
        assert len(stderr.strip().splitlines()) == 1, stderr
        return stderr
    return result.stdout


def state(store_url: str) -> tuple:
    """Everything a refused command must leave as it was: the log and the read models."""
    app = Homework(Store.parse(store_url), read_only=True)
    with app.reading() as c:
        found = (count_events(app), app.readmodel.position(c), app.readmodel.snapshot(c))
    app.close()
    return found


def week(env: dict, code: str = "C-1") -> str:
    """A client with agreed homework and one entry; the assignment's id."""
    run(env, "client", "add", code, "--name", SECRET["name"], "--therapist", "dr.lee")
    aid = json.loads(run(env, *assign_args(code, "reflective-writing", "prompt=p"), "--json"))
    run(env, "agree", aid["result"][:8])
    run(env, "submit", aid["result"][:8], "--field", f"text={SECRET['entry']}")
    return aid["result"]


@pytest.fixture
def clinic(store_url: str) -> dict:
    env = {"BETWEEN_STORE": store_url, "BETWEEN_ACTOR": "dr.lee"}
    run(env, "init")
    for name, role in [("dr.lee", "therapist"), ("pat", "staff")]:
        run(env, "operators", "add", name, "--role", role)
    run(env, "operators", "add", "audrey", "--role", "auditor")
    run(env, "operators", "add", "it.ops", "--role", "admin")
    run(env, "operators", "require", "on")
    return env


def test_an_auditor_is_refused_every_write_and_rebuild_and_rekey(clinic, tmp_path):
    aid = week(clinic)[:8]
    auditor = {**clinic, "BETWEEN_ACTOR": "audrey"}
    before = state(clinic["BETWEEN_STORE"])
    target = tmp_path / "copy.db"
    attempts = [
        ("register", ["client", "add", "C-2", "--name", "N", "--therapist", "dr.lee"]),
        ("collaborator", ["client", "collaborator", "C-1", "Sam", "--relationship", "p"]),
        ("contact", ["client", "contact", "C-1", "--email", "a@example.org"]),
        ("contact", ["client", "consent", "C-1", "--channel", "console"]),
        ("discharge", ["client", "discharge", "C-1", "--reason", "r"]),
        ("erase", ["client", "erase", "C-1", "--reason", "r"]),
        ("operators", ["operators", "add", "audrey", "--role", "therapist"]),
        ("operators", ["operators", "remove", "pat"]),
        ("operators", ["operators", "require", "off"]),
        ("propose", assign_args("C-1", "reflective-writing", "prompt=p")),
        ("adjust", ["adjust", aid, "--difficulty", "3"]),
        ("agree", ["agree", aid]),
        ("decline", ["decline", aid, "--reason", "r"]),
        ("submit", ["submit", aid, "--field", "text=x"]),
        ("review", ["review", aid, *REVIEW]),
        ("cancel", ["cancel", aid, "--reason", "r"]),
        ("close", ["close", aid]),
        ("notify", ["notify"]),
        ("notify", ["notify", "--retry", "abc"]),
        ("rebuild", ["rebuild"]),
        ("rekey", ["rekey", "--to", str(target)]),
    ]
    for command, args in attempts:
        refusal = run(auditor, *args, code=1)
        assert f"audrey (auditor) may not {command}" in refusal, (args, refusal)
    assert state(clinic["BETWEEN_STORE"]) == before
    assert not target.exists()
    stranger = {**clinic, "BETWEEN_ACTOR": "mallory"}
    refusal = run(stranger, "rebuild", code=1)
    assert "'mallory' is not an operator" in refusal and "(see 'between operators')" in refusal
    assert "'mallory' is not an operator" in run(stranger, "rekey", "--to", str(target), code=1)
    assert "who is acting?" in run({**clinic, "BETWEEN_ACTOR": ""}, "rebuild", code=2)
    assert state(clinic["BETWEEN_STORE"]) == before and not target.exists()


def test_who_may_rebuild_and_rekey(clinic, tmp_path):
    week(clinic)
    staff, admin = ({**clinic, "BETWEEN_ACTOR": who} for who in ("pat", "it.ops"))
    assert "pat (staff) may not rebuild" in run(staff, "rebuild", code=1)
    assert json.loads(run(admin, "rebuild", "--json")) == {"events": 10}
    assert run(clinic, "rebuild") == "read model rebuilt from 10 events\n"  # a therapist
    refusal = run(clinic, "rekey", "--to", str(tmp_path / "a.db"), code=1)
    assert "dr.lee (therapist) may not rekey" in refusal and "needs the role admin" in refusal
    copy = tmp_path / "b.db"
    done = json.loads(
        run(admin, "rekey", "--to", str(copy), "--new-key-file", str(tmp_path / "b.key"), "--json")
    )
    assert done["events"] == 10 and done["key_file"] == str(tmp_path / "b.key")
    assert done["source_checkpoint"].startswith("between-v1:10:")
    unlisted = {"BETWEEN_STORE": str(tmp_path / "open.db"), "BETWEEN_ACTOR": ""}
    run(unlisted, "init")  # operators not required: as before, anyone, even unnamed
    assert run(unlisted, "rebuild") == "read model rebuilt from 0 events\n"


def test_a_reused_idempotency_key_must_repeat_the_same_request(store_url, tmp_path):
    env = {"BETWEEN_STORE": store_url, "BETWEEN_ACTOR": "dr.lee"}
    run(env, "init")
    key = ("--idempotency-key", "k-1")
    run(env, "client", "add", "C-1", "--name", "Ana", "--therapist", "dr.lee", *key)
    before = state(store_url)
    again = run(env, "client", "add", "C-1", "--name", "Ana", "--therapist", "dr.lee", *key)
    assert again.startswith("already recorded earlier with this idempotency key")
    refusal = run(
        env, "client", "add", "C-1", "--name", "Bea", "--therapist", "dr.lee", *key, code=1
    )
    assert "idempotency key 'k-1' was already used for ClientRegistered by dr.lee at " in refusal
    assert "with a different request; nothing was recorded" in refusal and "Bea" not in refusal
    aid = json.loads(run(env, *assign_args("C-1", "reflective-writing", "prompt=p"), "--json"))
    aid = aid["result"][:8]
    run(env, "agree", aid, "--confidence", "6", "--idempotency-key", "a-1")
    middle = state(store_url)
    repeat = json.loads(
        run(env, "agree", aid, "--confidence", "6", "--idempotency-key", "a-1", "--json")
    )
    assert repeat["repeated"] and repeat["record"]["confidence"] == 6
    other = run(env, "agree", aid, "--confidence", "9", "--idempotency-key", "a-1", code=1)
    assert "already used for AssignmentAgreed by dr.lee" in other
    other = run(env, "submit", aid, "--field", "text=x", "--idempotency-key", "a-1", code=1)
    assert "already used for AssignmentAgreed by dr.lee" in other
    assert state(store_url) == middle and before[0] < middle[0]


def test_a_repeat_is_the_same_request_even_when_defaults_moved_on(store_url):
    store, clock = Store.parse(store_url), Clock()
    Homework.initialise(store)
    app = Homework(store, clock=clock)
    actor = {"actor": "dr.lee"}
    app.register_client("C-1", SECRET["name"], "dr.lee", **actor)
    args = {"instructions": "i", "rationale": "r", "stage": "practice", "difficulty": 1,
            "due": "+7", "expected_entries": 2, "parameters": {"prompt": "p"}}  # fmt: skip
    first = app.propose("C-1", "reflective-writing", **args, **actor, request_key="p-1")
    app.agree(first.result, **actor)
    entry = app.submit(first.result, {"text": SECRET["entry"]}, **actor, request_key="e-1")
    clock.advance(days=1)  # "+7" and "now" mean other dates today: still the same requests
    assert app.propose("C-1", "reflective-writing", **args, **actor, request_key="p-1").repeated
    again = app.submit(first.result, {"text": SECRET["entry"]}, **actor, request_key="e-1")
    assert again.repeated and again.result == entry.result
    with pytest.raises(RuleViolation, match="already used for AssignmentProposed by dr.lee"):
        app.propose(
            "C-1", "reflective-writing", **{**args, "due": "+8"}, **actor, request_key="p-1"
        )
    [submitted] = [e for e in app.events.get(uuid.UUID(first.result)) if e.request_key == "e-1"]
    assert len(submitted.request_fingerprint) == 32
    with app.reading() as c:  # sealed with the client's key: never in clear in the store
        c.execute("SELECT state FROM stored_events")
        stored = b"".join(bytes(r["state"]) for r in c.fetchall())
    assert submitted.request_fingerprint.encode() not in stored and b"e-1" in stored
    app.close()


def test_events_from_before_fingerprints_load_and_repeat_by_type(app):
    from eventsourcing.persistence import StoredEvent
    from test_event_format import load_fixture_keys, stored_rows

    from between.engine.work.requests import ASKED, check_repeat

    load_fixture_keys(app)
    [row] = [r for r in stored_rows() if '"request_key":"k"' in r["state"]]
    old = app.mapper.to_domain_event(
        StoredEvent(uuid.UUID(row["originator_id"]), 1, row["topic"], row["state"].encode())
    )
    assert old.request_fingerprint is None and old.request_key == "k"
    ASKED.set(("k", "0" * 32))  # whatever is asked now: the first request cannot be compared
    check_repeat("k", "AssignmentProposed", ("AssignmentProposed",), [old])
    with pytest.raises(RuleViolation, match="already used for AssignmentProposed by dr.lee at"):
        check_repeat("k", "AssignmentProposed", ("AssignmentAgreed",), [old])


def test_new_sqlite_store_files_are_owner_only(tmp_path):
    env = {"BETWEEN_STORE": str(tmp_path / "s.db"), "BETWEEN_ACTOR": "dr.lee"}
    run(env, "init")
    holder = Homework(Store.parse(env["BETWEEN_STORE"]))  # keeps the WAL files in place
    holder.register_client("C-1", "Ana", "dr.lee", actor="dr.lee")
    files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir() if p.is_file()}
    assert files == {"s.db": 0o600, "s.db-wal": 0o600, "s.db-shm": 0o600, "s.keys": 0o600}
    holder.close()


@pytest.mark.postgres
def test_a_postgres_store_makes_no_local_file(pg_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run({"BETWEEN_STORE": pg_url}, "init")
    assert list(tmp_path.iterdir()) == []


def test_a_discharged_clients_code_stays_until_erasure(store_url):
    env = {"BETWEEN_STORE": store_url, "BETWEEN_ACTOR": "dr.lee"}
    run(env, "init")
    aid = week(env, "DIS-55")
    run(env, "close", aid[:8])
    run(env, "client", "discharge", "DIS-55", "--reason", "finished")
    shown = json.loads(run(env, "client", "show", "DIS-55", "--json"))
    assert shown["status"] == "discharged" and shown["name"] == SECRET["name"]
    assert [r["id"] for r in json.loads(run(env, "list", "--client", "DIS-55", "--json"))] == [aid]
    assert "DIS-55" in run(env, "agenda", "DIS-55")
    assert len(run(env, "log", "--client", "DIS-55", "--json").splitlines()) == 6
    assert "finished" in run(env, "history", "DIS-55")
    assert "DIS-55" in read_model_text(store_url)
    run(env, "client", "erase", "DIS-55", "--reason", "request")
    assert "DIS-55" not in read_model_text(store_url)
    assert "no client" in run(env, "client", "show", "DIS-55", code=1)
    assert json.loads(run(env, "client", "show", shown["id"], "--json"))["status"] == "erased"


def read_model_text(store_url: str) -> str:
    app = Homework(Store.parse(store_url), read_only=True)
    with app.reading() as c:
        text = ""
        for table in ("rm_clients", "rm_assignments", "rm_notifications"):
            c.execute(f"SELECT * FROM {table}")
            text += json.dumps([dict(r) for r in c.fetchall()], default=str)
    app.close()
    return text


@pytest.fixture
def reader_role(pg_url):
    """A login role with exactly the read access docs/auditing.md documents; dropped after."""
    import psycopg

    role, schema = f"auditor_{uuid.uuid4().hex[:10]}", Store.parse(pg_url).schema
    admin = psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, autocommit=True)
    tables = (
        "stored_events, between_meta, rm_position, rm_clients, rm_assignments, rm_notifications"
    )
    run({"BETWEEN_STORE": pg_url}, "init")
    admin.execute(f"CREATE ROLE {role} LOGIN")
    try:
        admin.execute(f"GRANT CONNECT ON DATABASE {PG_DB} TO {role}")
        admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        qualified = ", ".join(f"{schema}.{t.strip()}" for t in tables.split(","))
        admin.execute(f"GRANT SELECT ON {qualified} TO {role}")
        admin.execute(f"ALTER ROLE {role} SET default_transaction_read_only = on")
        yield role, f"postgresql://{role}@{PG_HOST}:{PG_PORT}/{PG_DB}?schema={schema}", admin
    finally:
        admin.execute(f"REVOKE CONNECT ON DATABASE {PG_DB} FROM {role}")
        admin.execute(f"DROP OWNED BY {role}")
        admin.execute(f"DROP ROLE {role}")
        admin.close()


@pytest.mark.postgres
def test_a_role_without_the_key_table_audits_and_never_sees_a_key(pg_url, reader_role):
    import psycopg

    role, reader_url, admin = reader_role
    env = {"BETWEEN_STORE": pg_url, "BETWEEN_ACTOR": "dr.lee"}
    aid = week(env)
    schema = Store.parse(pg_url).schema
    keys = [bytes(r[0]) for r in admin.execute(f"SELECT key FROM {schema}.between_client_keys")]
    reader = psycopg.connect(host=PG_HOST, port=PG_PORT, user=role, dbname=PG_DB)
    with reader as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(f"SELECT key FROM {schema}.between_client_keys")
    auditor = {"BETWEEN_STORE": reader_url}
    outputs = [
        run(auditor, "verify"),
        run(auditor, "checkpoint"),
        run(auditor, "log", "--json"),
        run(auditor, "log", "--client", "C-1"),
        run(auditor, "history", "C-1"),
        run(auditor, "replay", "--at", "2100-01-01", "--json"),
        run(auditor, "replay", "--at", "2100-01-01", aid[:8], "--json"),
        run(auditor, "replay", "--at", "2100-01-01", aid[:8]),
        run(auditor, "replay", "--check"),
        run(auditor, "list"),
        run(auditor, "client", "list"),
        run(auditor, "agenda", "C-1"),
    ]
    assert outputs[0].startswith("intact: 4 events") and outputs[1] == run(env, "checkpoint")
    assert "client codes not compared" in outputs[8] and "C-1" in outputs[9]
    shown = json.loads(outputs[6])
    assert shown["instructions"] == "[restricted]" and shown["summary"]["restricted"] is True
    everything = "\n".join(outputs)
    assert "[restricted]" in everything
    for secret in [*SECRET.values(), *(k.hex() for k in keys)]:
        assert secret not in everything, secret
    assert not any(base64.b64encode(k).decode() in everything for k in keys)
    before = state(pg_url)
    writer = {**auditor, "BETWEEN_ACTOR": "dr.lee"}
    run(writer, "close", aid[:8], code=1)  # one line: the role may not write
    run(writer, "client", "add", "C-2", "--name", "N", "--therapist", "t", code=1)
    assert state(pg_url) == before


def test_operators_hint_names_a_command_that_exists(tmp_path):
    env = {"BETWEEN_STORE": str(tmp_path / "o.db"), "BETWEEN_ACTOR": "dr.lee"}
    run(env, "init")
    run(env, "operators", "add", "dr.lee", "--role", "therapist")
    run(env, "operators", "require", "on")
    hint = run({**env, "BETWEEN_ACTOR": "mallory"}, "agree", "abc", code=1)
    command = hint.split("(see '")[1].split("'")[0].split()[1:]
    assert "dr.lee" in run(env, *command)
