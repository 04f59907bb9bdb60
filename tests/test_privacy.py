"""Client data protection: encryption at rest, keys, erasure by crypto-shredding, roles."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
from contextlib import closing
from pathlib import Path
from uuid import UUID

import pytest
from helpers import cli, count_events

from between.engine.app import Homework
from between.engine.errors import RuleViolation
from between.engine.storage.store import Store

PERSONAL = {
    "name": "Marguerite Okonkwo-Lindqvist",
    "email": "m.okonkwo@example.org",
    "phone": "+44 7700 900123",
    "collaborator": "Bartholomew Quist",
    "instructions": "Write about the night of the accident",
    "entry": "I felt the panic rising in the stairwell",
    "notes": "Discussed grief about her brother Anselm",
}
OTHER = {"name": "Theodora Vanterpool", "entry": "Walked past the dog without freezing"}


def populate(env: dict, code: str, strings: dict) -> str:
    cli(env, "client", "add", code, "--name", strings["name"], "--therapist", "dr.lee")
    if "collaborator" in strings:
        cli(
            env,
            "client",
            "collaborator",
            code,
            strings["collaborator"],
            "--relationship",
            "husband",
        )
        cli(
            env, "client", "contact", code, "--email", strings["email"], "--phone", strings["phone"]
        )
    aid = json.loads(
        cli(
            env,
            "assign",
            code,
            "reflective-writing",
            "--stage",
            "baseline",
            "--difficulty",
            "2",
            "--due",
            "+7",
            "--entries",
            "1",
            "--instructions",
            strings.get("instructions", "write"),
            "--rationale",
            "insight",
            "--field",
            "prompt=the accident",
            "--json",
        )
    )["result"]
    cli(env, "agree", aid[:8], "--confidence", "6")
    cli(env, "submit", aid[:8], "--field", f"text={strings['entry']}")
    cli(
        env,
        "review",
        aid[:8],
        "--quantity",
        "4",
        "--quality",
        "3",
        "--difficulty",
        "3",
        "--next-step",
        "close",
        "--notes",
        strings.get("notes", "fine"),
    )
    return aid


def logical_dump(db: Path) -> str:
    with closing(sqlite3.connect(db)) as conn:
        return "\n".join(conn.iterdump())


def files_contain(folder: Path, text: str) -> list[str]:
    needle = text.encode("utf-8")
    return [p.name for p in folder.iterdir() if p.is_file() and needle in p.read_bytes()]


@pytest.fixture
def encrypted(tmp_path: Path) -> dict:
    env = {
        "BETWEEN_STORE": str(tmp_path / "clinic.db"),
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_KEY_FILE": str(tmp_path / "secrets" / "clinic.key"),
    }
    out = cli(env, "init", "--encrypt")
    assert "encrypted" in out and "key written to" in out
    return env


def test_the_key_file_is_owner_only_and_outside_the_store(encrypted):
    key = Path(encrypted["BETWEEN_KEY_FILE"])
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert len(base64.b64decode(key.read_text())) == 32


def test_an_encrypted_store_has_no_personal_string_in_any_file(encrypted, tmp_path):
    holder = Homework(
        Store.parse(encrypted["BETWEEN_STORE"]), key_file=Path(encrypted["BETWEEN_KEY_FILE"])
    )
    populate(encrypted, "C-7", PERSONAL)
    holder.list_assignments()  # keep a connection open: the WAL stays un-checkpointed
    files = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert "clinic.db-wal" in files and "clinic.keys" in files
    for text in PERSONAL.values():
        assert files_contain(tmp_path, text) == [], text
    assert "Marguerite" in cli(encrypted, "client", "show", "C-7")  # readable with the key
    holder.close()


def test_even_without_encryption_personal_fields_are_sealed(tmp_path):
    env = {"BETWEEN_STORE": str(tmp_path / "plain.db"), "BETWEEN_ACTOR": "dr.lee"}
    cli(env, "init")
    populate(env, "C-7", PERSONAL)
    for text in PERSONAL.values():
        assert files_contain(tmp_path, text) == [], text


def test_a_missing_or_wrong_key_fails_clearly_and_writes_nothing(encrypted, tmp_path):
    populate(encrypted, "C-7", PERSONAL)
    db = Path(encrypted["BETWEEN_STORE"])
    before = logical_dump(db)
    missing = {**encrypted, "BETWEEN_KEY_FILE": str(tmp_path / "nowhere.key")}
    out = cli(missing, "client", "add", "C-8", "--name", "X", "--therapist", "t", code=1)
    assert "this store is encrypted and its key was not found" in out
    wrong = {**encrypted, "BETWEEN_KEY": base64.b64encode(os.urandom(32)).decode()}
    assert "does not open this store (wrong key)" in cli(wrong, "list", code=1)
    assert "does not open this store" in cli(
        wrong, "client", "add", "C-9", "--name", "Y", "--therapist", "t", code=1
    )
    assert logical_dump(db) == before  # every table's rows, byte for byte


def test_verify_and_checkpoint_need_no_key(encrypted):
    populate(encrypted, "C-7", PERSONAL)
    no_key = {"BETWEEN_STORE": encrypted["BETWEEN_STORE"], "BETWEEN_KEY_FILE": "/nonexistent"}
    assert cli(no_key, "verify").startswith("intact:")
    assert cli(no_key, "checkpoint") == cli(encrypted, "checkpoint")
    assert "its key was not found" in cli(no_key, "log", code=1)


def test_erasure_leaves_nothing_readable_and_the_log_verifiable(encrypted, tmp_path):
    populate(encrypted, "ERASE-ME-77", PERSONAL)
    kept = populate(encrypted, "KEEP-ME-42", OTHER)
    client_id = json.loads(cli(encrypted, "client", "show", "ERASE-ME-77", "--json"))["id"]
    app = Homework(
        Store.parse(encrypted["BETWEEN_STORE"]), key_file=Path(encrypted["BETWEEN_KEY_FILE"])
    )
    wrapped = app.keys.backend.get(UUID(client_id))[1]
    raw_key = app.keys.key(UUID(client_id))
    events_before = count_events(app)
    app.close()

    assert "they are active (erasure follows discharge" in cli(
        encrypted, "client", "erase", "ERASE-ME-77", "--reason", "GDPR 17", code=1
    )
    cli(encrypted, "client", "discharge", "ERASE-ME-77", "--reason", "finished")
    erased = cli(
        encrypted, "client", "erase", "ERASE-ME-77", "--reason", "GDPR request 2026-114", "--json"
    )
    assert PERSONAL["name"] not in erased and json.loads(erased)["record"]["name"] == "[erased]"

    outputs = [
        cli(encrypted, "client", "show", client_id, "--json"),
        cli(encrypted, "client", "list", "--json"),
        cli(encrypted, "list", "--json"),
        cli(encrypted, "history", client_id),
        cli(encrypted, "log", "--json"),
        cli(encrypted, "replay", "--at", "2100-01-01", "--json"),
    ]
    for aid in [r["id"] for r in json.loads(outputs[2]) if r["client"] == "[erased]"]:
        outputs.append(cli(encrypted, "show", aid[:8], "--json"))
        outputs.append(cli(encrypted, "replay", "--at", "2100-01-01", aid[:8], "--json"))
    everything = "\n".join(outputs)
    for text in [*PERSONAL.values(), "ERASE-ME-77"]:
        assert text not in everything, text
    assert "[erased]" in everything
    shown = json.loads(outputs[0])
    assert shown["status"] == "erased" and shown["name"] == "[erased]"
    assert (
        shown["erasure"]["reason"] == "GDPR request 2026-114" and shown["erasure"]["by"] == "dr.lee"
    )
    erased_rows = [json.loads(line) for line in outputs[4].splitlines() if '"ClientErased"' in line]
    assert len(erased_rows) == 1 and erased_rows[0]["actor"] == "dr.lee"

    assert cli(encrypted, "verify").startswith("intact:")
    assert "read models match the log" in cli(encrypted, "replay", "--check")
    app = Homework(
        Store.parse(encrypted["BETWEEN_STORE"]), key_file=Path(encrypted["BETWEEN_KEY_FILE"])
    )
    assert count_events(app) == events_before + 2  # discharged, erased: nothing removed
    app.close()

    kept_view = json.loads(cli(encrypted, "show", kept[:8], "--json"))
    assert kept_view["entry_list"][0]["fields"]["text"] == OTHER["entry"]
    assert (
        json.loads(cli(encrypted, "client", "show", "KEEP-ME-42", "--json"))["name"]
        == OTHER["name"]
    )

    for found in (
        files_contain(tmp_path, "ERASE-ME-77"),
        *(files_contain(tmp_path, t) for t in PERSONAL.values()),
    ):
        assert found == []
    for path in tmp_path.iterdir():
        if path.is_file():
            assert raw_key not in path.read_bytes() and wrapped not in path.read_bytes(), path.name
    out = cli(encrypted, "client", "erase", client_id, "--reason", "again")
    assert "already recorded" in out  # erasing twice records nothing more


def test_rotation_copies_into_a_new_store_under_a_new_key_and_proves_it(encrypted, tmp_path):
    populate(encrypted, "C-1", PERSONAL)
    populate(encrypted, "C-2", OTHER)
    cli(encrypted, "client", "discharge", "C-2", "--reason", "done")
    cli(encrypted, "client", "erase", "C-2", "--reason", "request")
    new_store = tmp_path / "rotated.db"
    new_key = tmp_path / "secrets" / "rotated.key"
    out = cli(encrypted, "rekey", "--to", str(new_store), "--new-key-file", str(new_key))
    assert "every event's contents are identical" in out and f"new key written to {new_key}" in out
    old_key = Path(encrypted["BETWEEN_KEY_FILE"]).read_text()
    assert new_key.read_text() != old_key
    rotated = {
        "BETWEEN_STORE": str(new_store),
        "BETWEEN_KEY_FILE": str(new_key),
        "BETWEEN_ACTOR": "dr.lee",
    }
    assert cli(rotated, "verify").startswith("intact:")
    assert json.loads(cli(rotated, "client", "show", "C-1", "--json"))["name"] == PERSONAL["name"]
    assert "read models match the log" in cli(rotated, "replay", "--check")
    with_old_key = {**rotated, "BETWEEN_KEY_FILE": encrypted["BETWEEN_KEY_FILE"]}
    assert "wrong key" in cli(with_old_key, "list", code=1)


def test_roles_limit_what_each_operator_may_do(tmp_path):
    env = {"BETWEEN_STORE": str(tmp_path / "r.db"), "BETWEEN_ACTOR": "dr.lee"}
    cli(env, "init")
    cli(env, "operators", "add", "dr.lee", "--role", "therapist")
    cli(env, "operators", "add", "pat", "--role", "staff")
    cli(env, "operators", "add", "audrey", "--role", "auditor")
    cli(env, "operators", "require", "on")
    aid = populate(env, "C-1", OTHER)
    app = Homework(Store.parse(env["BETWEEN_STORE"]))
    before = count_events(app)
    staff, auditor, stranger = (
        {**env, "BETWEEN_ACTOR": who} for who in ("pat", "audrey", "mallory")
    )
    cli(staff, "client", "add", "C-2", "--name", "Staff Added", "--therapist", "dr.lee")
    assert "pat (staff) may not review" in cli(
        staff,
        "review",
        aid[:8],
        "--quantity",
        "1",
        "--quality",
        "1",
        "--difficulty",
        "1",
        "--next-step",
        "close",
        code=1,
    )
    assert "audrey (auditor) may not register" in cli(
        auditor, "client", "add", "C-3", "--name", "A", "--therapist", "t", code=1
    )
    assert "'mallory' is not an operator of this store" in cli(
        stranger, "client", "add", "C-4", "--name", "M", "--therapist", "t", code=1
    )
    assert "may not operators" in cli(staff, "operators", "require", "off", code=1)
    assert count_events(app) == before + 1  # only the staff registration
    listed = json.loads(cli(env, "operators", "--json"))
    assert listed["required"] and {o["name"]: o["role"] for o in listed["operators"]} == {
        "audrey": "auditor",
        "dr.lee": "therapist",
        "pat": "staff",
    }
    with pytest.raises(RuleViolation, match="last therapist"):
        app.remove_operator("dr.lee", actor="dr.lee")
    app.close()


@pytest.mark.postgres
def test_postgres_tables_hold_no_personal_string_and_erasure_works(pg_url, tmp_path):
    import psycopg
    from helpers import PG_DB, PG_HOST, PG_PORT, PG_USER

    env = {
        "BETWEEN_STORE": pg_url,
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_KEY_FILE": str(tmp_path / "pg.key"),
    }
    cli(env, "init", "--encrypt")
    populate(env, "ERASE-ME-77", PERSONAL)
    populate(env, "KEEP-ME-42", OTHER)
    schema = Store.parse(pg_url).schema

    def table_text() -> bytes:
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB) as conn:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (schema,),
                )
            ]
            dump = b""
            for table in tables:
                for row in conn.execute(f'SELECT * FROM "{schema}"."{table}"'):
                    dump += repr(row).encode() + b"".join(
                        bytes(v) for v in row if isinstance(v, bytes | memoryview)
                    )
        return dump

    dump = table_text()
    for text in [*PERSONAL.values(), *OTHER.values()]:
        assert text.encode() not in dump, text
    cli(env, "client", "discharge", "ERASE-ME-77", "--reason", "done")
    cli(env, "client", "erase", "ERASE-ME-77", "--reason", "GDPR")
    assert b"ERASE-ME-77" not in table_text()
    assert cli(env, "verify").startswith("intact:")
    assert "read models match the log" in cli(env, "replay", "--check")
    everything = cli(env, "log", "--json") + cli(env, "list", "--json")
    assert all(text not in everything for text in PERSONAL.values())
    assert OTHER["name"] in cli(env, "client", "show", "KEEP-ME-42")


def test_personal_links_keep_no_token_and_erasure_leaves_their_people_unreadable(tmp_path):
    env = {"BETWEEN_STORE": str(tmp_path / "links.db"), "BETWEEN_ACTOR": "dr.lee"}
    cli(env, "init")
    code, collaborator = "LINKED-55", PERSONAL["collaborator"]
    cli(env, "client", "add", code, "--name", PERSONAL["name"], "--therapist", "dr.lee")
    cli(env, "client", "collaborator", code, collaborator, "--relationship", "husband")
    tokens = [
        json.loads(cli(env, "client", "link", code, "--json"))["token"],
        json.loads(cli(env, "client", "link", code, "--person", collaborator, "--json"))["token"],
    ]
    for text in [*tokens, collaborator]:
        assert files_contain(tmp_path, text) == [], text
    assert collaborator in cli(env, "history", code)  # readable while the key exists
    client_id = json.loads(cli(env, "client", "show", code, "--json"))["id"]
    cli(env, "client", "discharge", code, "--reason", "finished")  # ends both links
    cli(env, "client", "erase", code, "--reason", "GDPR request")
    everything = "\n".join(
        [
            cli(env, "log", "--json"),
            cli(env, "history", client_id),
            cli(env, "client", "show", client_id, "--json"),
        ]
    )
    assert collaborator not in everything and not any(t in everything for t in tokens)
    issued = [
        json.loads(line)["data"]
        for line in cli(env, "log", "--json", "--type", "LinkIssued").splitlines()
    ]
    assert [d["person"] for d in issued] == ["[erased]", "[erased]"]
    assert cli(env, "verify").startswith("intact:")
    assert "read models match the log" in cli(env, "replay", "--check")
