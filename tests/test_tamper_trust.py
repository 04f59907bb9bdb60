"""Every stored row is accounted for: rows forged outside the log, inserted copies, text that
is not UTF-8, and backups in places nobody may write — as an auditor meets them."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from helpers import cli, relaxation

from between.audit.auditor import verify_log
from between.audit.log import entries
from between.engine.app import Homework
from between.engine.errors import StoreError
from between.engine.storage.store import Store

ACTOR = {"actor": "dr.lee"}


def agreed_homework(app: Homework, clock) -> str:
    app.register_client("C1", "Client One", "dr.lee", **ACTOR)
    aid = relaxation(app, "C1", expected_entries=3)
    app.agree(aid, **ACTOR)
    clock.advance(days=1)
    app.submit(aid, {"minutes": 10, "tension_before": 7, "tension_after": 3}, **ACTOR)
    return aid


@pytest.fixture
def sqlite_store(tmp_path: Path, clock) -> tuple[str, str]:
    url = str(tmp_path / "trust.db")
    Homework.initialise(Store.parse(url))
    app = Homework(Store.parse(url), clock=clock)
    aid = agreed_homework(app, clock)
    app.close()
    return url, aid


def auditor(url: str) -> Homework:
    return Homework(Store.parse(url), read_only=True)


def table_rows(url: str) -> int:
    with sqlite3.connect(url) as db:
        return db.execute("SELECT count(*) FROM stored_events").fetchone()[0]


def test_a_row_forged_outside_the_log_is_reported_and_never_loaded(sqlite_store, clock):
    url, aid = sqlite_store
    with sqlite3.connect(url) as db:  # the next version of the homework, at position -7
        oid, version, topic, state, seq, chain = db.execute(
            "SELECT originator_id, originator_version, topic, state, seq, chain "
            "FROM stored_events WHERE originator_id = ? ORDER BY originator_version DESC",
            (aid.replace("-", ""),),
        ).fetchone()
        db.execute(
            "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state, "
            "seq, chain) VALUES (-7, ?, ?, ?, ?, ?, ?)",
            (oid, version + 1, topic, state, seq + 1, chain),
        )
    db.close()
    app = auditor(url)
    result = verify_log(app, None)
    assert not result.intact
    assert (result.first_break.position, result.first_break.kind) == (-7, "inserted")
    assert result.events == table_rows(url)
    writer = Homework(Store.parse(url), clock=clock)
    assert writer.show(aid)["entries"] == 1, "the forged row is not part of the record"
    app.close()
    writer.close()


def test_an_inserted_copy_is_named_at_the_copy_and_every_row_is_counted(sqlite_store):
    url, _ = sqlite_store
    with sqlite3.connect(url) as db:
        head = db.execute("SELECT max(rowid) FROM stored_events").fetchone()[0]
        db.execute(  # a byte-for-byte copy of event #3, appended at the end under a new id
            "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state, "
            "seq, chain) SELECT ?, 'ab' || substr(originator_id, 3), originator_version, topic, "
            "state, seq, chain FROM stored_events WHERE rowid = 3",
            (head + 1,),
        )
    db.close()
    result = verify_log(auditor(url), None)
    assert (result.first_break.position, result.first_break.kind) == (head + 1, "inserted")
    assert "copy of event #3" in result.first_break.detail
    assert result.events == table_rows(url) == head + 1


def test_state_that_is_not_utf8_text_names_its_position(sqlite_store):
    url, _ = sqlite_store
    with sqlite3.connect(url) as db:
        db.execute("UPDATE stored_events SET state = CAST(x'ff00fe41' AS TEXT) WHERE rowid = 4")
    db.close()
    app = auditor(url)
    result = verify_log(app, None)
    assert (result.first_break.position, result.first_break.kind) == (4, "altered")
    with pytest.raises(StoreError, match="position 4"):
        list(entries(app))
    app.close()


def back_up(url: str, directory: Path) -> None:
    """The documented way: SQLite's backup of the store and of its key store, one file each."""
    directory.mkdir()
    for suffix in (".db", ".keys"):
        with (
            sqlite3.connect(Path(url).with_suffix(suffix)) as source,
            sqlite3.connect(directory / f"copy{suffix}") as copy,
        ):
            source.backup(copy)
        source.close()
        copy.close()
        os.chmod(directory / f"copy{suffix}", 0o444)


def test_a_backup_in_a_place_nobody_writes_is_audited_without_creating_a_file(
    sqlite_store, tmp_path
):
    url, _ = sqlite_store
    backup_dir = tmp_path / "backup"
    back_up(url, backup_dir)
    before = sorted(os.listdir(backup_dir))
    assert before == ["copy.db", "copy.keys"]
    os.chmod(backup_dir, 0o555)
    try:
        app = auditor(str(backup_dir / "copy.db"))
        assert verify_log(app, None).intact
        assert len(list(entries(app))) == table_rows(url)
        app.close()
        assert sorted(os.listdir(backup_dir)) == before
    finally:
        os.chmod(backup_dir, 0o755)


def test_the_read_only_address_fits_the_place(tmp_path):
    store = Store.parse(str(tmp_path / "s.db"))
    sqlite3.connect(store.path).close()
    assert "mode=ro" not in store.read_only_uri(), "writable and unused: opened, only read"
    Path(f"{store.path}-wal").touch()
    assert store.read_only_uri().endswith("?mode=ro"), "in use: share the writers' WAL"
    os.remove(f"{store.path}-wal")
    if os.geteuid() != 0:  # root may write anywhere, so only others see a read-only place
        os.chmod(tmp_path, 0o555)
        try:
            assert store.read_only_uri().endswith("immutable=1")
        finally:
            os.chmod(tmp_path, 0o755)


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("rm_assignments", "status", "closed"),
        ("rm_assignments", "stage", "relapse-prevention"),
        ("rm_assignments", "due", "2030-01-01"),
        ("rm_assignments", "entries", "0"),
        ("rm_clients", "status", "discharged"),
        ("rm_clients", "therapist", "dr.nobody"),
    ],
)
def test_replay_check_names_each_edited_column(sqlite_store, table, column, value):
    url, _ = sqlite_store
    assert "read models match the log" in cli(url, "replay", "--check")
    with sqlite3.connect(url) as db:
        db.execute(f"UPDATE {table} SET {column} = ?", (value,))
    db.close()
    out = cli(url, "replay", "--check", code=1)
    assert f"{table}: " in out and f"differs in column {column} (stored " in out


def test_replay_client_accepts_and_refuses_what_log_does(sqlite_store, clock):
    url, aid = sqlite_store
    at = "2030-01-01"
    by_code = json.loads(cli(url, "replay", "--at", at, "--client", "C1", "--json"))
    assert [r["id"] for r in by_code] == [aid]
    for unknown in ("C-999", "00000000-0000-0000-0000-000000000000", aid):
        assert "no client" in cli(url, "replay", "--at", at, "--client", unknown, code=1)
        assert "no client" in cli(url, "log", "--client", unknown, code=1)
    app = Homework(Store.parse(url), clock=clock)
    client_id = app.show_client("C1")["id"]
    app.cancel(aid, reason="moving away", actor="dr.lee")
    app.discharge("C1", "moved away", actor="dr.lee")
    app.erase_client("C1", reason="asked to be forgotten", actor="dr.lee")
    app.close()
    by_id = json.loads(cli(url, "replay", "--at", at, "--client", client_id, "--json"))
    assert [r["id"] for r in by_id] == [aid]
    assert "no client" in cli(url, "replay", "--at", at, "--client", "C1", code=1)


@pytest.mark.postgres
def test_postgres_rows_forged_outside_the_log_and_copies_are_named(pg_url, clock):
    import psycopg
    from helpers import PG_DB, PG_HOST, PG_PORT, PG_USER

    store = Store.parse(pg_url)
    Homework.initialise(store)
    app = Homework(store, clock=clock)
    aid = agreed_homework(app, clock)
    conn = psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, autocommit=True,
        options=f"-c search_path={store.schema}",
    )  # fmt: skip
    rows = conn.execute("SELECT count(*) FROM stored_events").fetchone()[0]
    conn.execute(  # the homework's next version, at position -5
        "INSERT INTO stored_events (notification_id, originator_id, originator_version, topic, "
        "state, seq, chain) SELECT -5, originator_id, originator_version + 1, topic, state, "
        "seq + 1, chain FROM stored_events WHERE originator_id = %s "
        "ORDER BY originator_version DESC LIMIT 1",
        (aid,),
    )
    auditor = Homework(store, read_only=True)
    result = verify_log(auditor, None)
    assert (result.first_break.position, result.first_break.kind) == (-5, "inserted")
    assert result.events == rows + 1
    assert app.show(aid)["entries"] == 1, "the forged row is not part of the record"
    conn.execute("DELETE FROM stored_events WHERE notification_id = -5")
    assert verify_log(auditor, None).intact

    head = conn.execute("SELECT max(notification_id) FROM stored_events").fetchone()[0]
    conn.execute(  # a byte-for-byte copy of event #3 under another id, at the end
        "INSERT INTO stored_events (notification_id, originator_id, originator_version, topic, "
        "state, seq, chain) SELECT %s, gen_random_uuid(), originator_version, topic, state, "
        "seq, chain FROM stored_events WHERE seq = 3",
        (head + 1,),
    )
    result = verify_log(auditor, None)
    assert (result.first_break.position, result.first_break.kind) == (head + 1, "inserted")
    assert result.events == rows + 1
    auditor.close()
    app.close()
    conn.close()
