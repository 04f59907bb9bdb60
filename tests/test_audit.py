"""Auditors: the export, timelines, point-in-time replay, the read-model check, and tamper
evidence — each tamper made by editing the stored rows directly."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from helpers import cli, count_events, relaxation

from between.audit.auditor import verify_log
from between.engine.app import Homework
from between.engine.errors import StoreError
from between.engine.storage.chain import link
from between.engine.storage.store import Store

ACTOR = {"actor": "dr.lee"}


def populate(app: Homework, clock, clients: int = 3) -> list[str]:
    """A few weeks of homework for several clients; returns assignment ids."""
    ids = []
    for n in range(clients):
        code = f"C{n}"
        app.register_client(code, f"Client {n}", "dr.lee", **ACTOR)
        aid = relaxation(
            app,
            code,
            instructions="breathe",
            rationale="calm",
            difficulty=2,
            due="+7",
            expected_entries=3,
            parameters={"technique": "mindfulness"},
        )
        app.agree(aid, confidence=6, **ACTOR)
        for day in range(3):
            clock.advance(days=1)
            app.submit(aid, {"minutes": 10 + day, "tension_before": 7, "tension_after": 3}, **ACTOR)
        clock.advance(days=1)
        app.review(
            aid, quantity=4, quality=3, difficulty=2, next_step="close", **{"actor": "dr.kim"}
        )
        ids.append(aid)
    return ids


@pytest.fixture
def sqlite_app(tmp_path: Path, clock) -> tuple[str, Homework]:
    url = str(tmp_path / "audit.db")
    Homework.initialise(Store.parse(url))
    app = Homework(Store.parse(url), clock=clock)
    populate(app, clock)
    return url, app


def tamper(url: str, *statements: str) -> None:
    with sqlite3.connect(url) as db:
        for statement in statements:
            db.execute(statement)
    db.close()


def verify_sqlite(url: str, against: str | None = None):
    app = Homework(Store.parse(url), read_only=True)
    try:
        return verify_log(app, against)
    finally:
        app.close()


# -- reading -----------------------------------------------------------------------------


def test_the_export_has_one_line_per_stored_event_in_order(sqlite_app):
    url, app = sqlite_app
    lines = [json.loads(line) for line in cli(url, "log", "--json").splitlines()]
    assert len(lines) == count_events(app)
    assert [line["position"] for line in lines] == list(range(1, len(lines) + 1))
    first = lines[0]
    assert set(first) == {
        "position",
        "time",
        "actor",
        "type",
        "aggregate",
        "kind",
        "version",
        "data",
    }
    assert first["type"] == "ClientRegistered" and first["data"]["code"] == "C0"
    assert first["time"].endswith("+00:00")


def test_the_log_filters_by_client_assignment_type_actor_and_time(sqlite_app):
    url, _app = sqlite_app
    records = [json.loads(line) for line in cli(url, "log", "--json").splitlines()]
    mine = [r for r in cli(url, "log", "--json", "--client", "C1").splitlines()]
    assert len(mine) == 1 + 7  # registration, then proposal, agreement, 3 entries, review, close
    entries = [
        json.loads(r) for r in cli(url, "log", "--json", "--type", "EntrySubmitted").splitlines()
    ]
    assert len(entries) == 9 and {r["type"] for r in entries} == {"EntrySubmitted"}
    kim = [json.loads(r) for r in cli(url, "log", "--json", "--actor", "dr.kim").splitlines()]
    assert len(kim) == 6 and all(r["actor"] == "dr.kim" for r in kim)
    cut = records[11]["time"]  # C1 registered (review and close share one time)
    before = cli(url, "log", "--json", "--until", cut).splitlines()
    after = cli(url, "log", "--json", "--since", cut).splitlines()
    assert len(before) == 11 and len(before) + len(after) == len(records)
    aid = records[1]["aggregate"]
    only = [json.loads(r) for r in cli(url, "log", "--json", "--assignment", aid[:8]).splitlines()]
    assert {r["aggregate"] for r in only} == {aid} and len(only) == 7
    assert "unknown event type Nope" in cli(url, "log", "--type", "Nope", code=2)


def test_history_tells_a_timeline_in_plain_language(sqlite_app):
    url, _ = sqlite_app
    text = cli(url, "history", "C1")
    assert "dr.lee registered client C1 (therapist dr.lee)" in text
    assert "the client agreed to" in text and "confidence 6/10" in text
    assert "dr.kim reviewed" in text and "next step close" in text
    assert text.count("recorded an entry") == 3
    assert "3 entries due" in text


def test_history_says_one_entry_in_the_singular(sqlite_app):
    url, app = sqlite_app
    app.register_client("C9", "Ana", "dr.lee", **ACTOR)
    relaxation(app, "C9", expected_entries=1)
    assert "1 entry due" in cli(url, "history", "C9")


# -- point in time -----------------------------------------------------------------------


def test_replay_at_a_moment_matches_what_list_said_then(tmp_path, clock):
    url = str(tmp_path / "t.db")
    Homework.initialise(Store.parse(url))
    app = Homework(Store.parse(url), clock=clock)
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    aid = relaxation(app, "C1")
    app.agree(aid, **ACTOR)
    clock.advance(days=4)
    then = clock.moment
    said_then = app.list_assignments()
    assert said_then[0]["overdue"] and said_then[0]["days_late"] == 2
    clock.advance(hours=1)
    app.submit(aid, {"minutes": 5, "tension_before": 5, "tension_after": 3}, **ACTOR)
    app.review(aid, quantity=2, quality=2, difficulty=3, next_step="modify", **ACTOR)
    replayed = json.loads(cli(url, "replay", "--at", then.isoformat(), "--json"))
    assert replayed == said_then
    shown = json.loads(cli(url, "replay", "--at", then.isoformat(), aid[:8], "--json"))
    assert shown["status"] == "agreed" and shown["entry_list"] == [] and shown["overdue"]
    assert json.loads(cli(url, "replay", "--at", "2020-01-01", "--json")) == []


def test_replay_at_reads_histories_a_batch_at_a_time_as_one_by_one_would(app, clock, monkeypatch):
    """``replay --at`` reads many assignments' events per query; the rows, and their order,
    are those of reading each assignment on its own — at a moment midway and after the end."""
    from between.audit import replay
    from between.engine.reading.views import with_timeliness
    from between.engine.storage.sealing_mapper import ROW_PERSONAL

    populate(app, clock, clients=3)
    midway = clock.moment
    for n in range(2):
        app.register_client(f"M{n}", "Mid", "dr.lee", **ACTOR)
        relaxation(app, f"M{n}")
        clock.advance(hours=1)
    for moment in (midway, clock.moment):
        today = moment.astimezone().date()
        one_by_one = [
            with_timeliness(
                replay.fold(replay.history_until(app, p.originator_id, moment, ROW_PERSONAL)), today
            )
            for p in replay.proposals(app)
            if p.timestamp <= moment
        ]
        monkeypatch.setattr(replay, "BATCH", 2)
        assert list(replay.rows_at(app, moment)) == one_by_one
        assert len(one_by_one) >= 3
    assert {r["status"] for r in one_by_one} == {"closed", "proposed"}


def test_replay_check_reports_a_drifted_read_model(sqlite_app):
    url, _app = sqlite_app
    assert "read models match the log" in cli(url, "replay", "--check")
    tamper(url, "UPDATE rm_assignments SET row = replace(row, '\"entries\": 3', '\"entries\": 2')")
    out = cli(url, "replay", "--check", code=1)
    assert "differs in row fields entries" in out
    tamper(url, "DELETE FROM rm_clients WHERE code = 'C2'")
    out = cli(url, "replay", "--check", code=1)
    assert (
        "is missing from the read model" in out
        and "rm_clients: 2 stored rows, 3 from the log" in out
    )


# -- tamper evidence on SQLite -----------------------------------------------------------


def test_an_intact_log_verifies_and_its_checkpoint_is_extended(sqlite_app):
    url, app = sqlite_app
    digest = cli(url, "checkpoint").strip()
    assert digest.startswith("between-v1:") and cli(url, "verify").startswith("intact:")
    app.register_client("C9", "Later", "dr.lee", **ACTOR)
    assert "extends checkpoint" in cli(url, "verify", "--against", digest)


def test_an_edited_event_is_caught_at_its_position(sqlite_app):
    url, _ = sqlite_app
    tamper(url, "UPDATE stored_events SET state = replace(state, X'37', X'38') WHERE rowid = 12")
    result = verify_sqlite(url)
    assert (result.first_break.position, result.first_break.kind) == (12, "altered")
    out = cli(url, "verify", code=1)
    assert out.startswith("BROKEN at position 12 (altered)")


def test_a_deleted_event_is_caught_where_it_was(sqlite_app):
    url, _ = sqlite_app
    tamper(url, "DELETE FROM stored_events WHERE rowid = 7")
    result = verify_sqlite(url)
    assert (result.first_break.position, result.first_break.kind) == (7, "deleted")
    assert "event #7 is missing" in result.first_break.detail


def test_swapped_events_are_caught_at_the_first_of_them(sqlite_app):
    url, _ = sqlite_app
    cols = "originator_id, originator_version, topic, state, seq, chain"
    tamper(
        url,
        f"CREATE TEMP TABLE a AS SELECT {cols} FROM stored_events WHERE rowid = 5",
        f"CREATE TEMP TABLE b AS SELECT {cols} FROM stored_events WHERE rowid = 9",
        "DELETE FROM stored_events WHERE rowid IN (5, 9)",
        f"INSERT INTO stored_events (rowid, {cols}) SELECT 5, {cols} FROM b",
        f"INSERT INTO stored_events (rowid, {cols}) SELECT 9, {cols} FROM a",
    )
    result = verify_sqlite(url)
    assert (result.first_break.position, result.first_break.kind) == (5, "reordered")


def test_swapped_contents_are_caught_at_the_first_of_them(sqlite_app):
    url, _ = sqlite_app
    tamper(
        url,
        "CREATE TEMP TABLE s AS SELECT rowid AS r, state FROM stored_events WHERE rowid IN (6, 8)",
        "UPDATE stored_events SET state = (SELECT state FROM s WHERE r = 8) WHERE rowid = 6",
        "UPDATE stored_events SET state = (SELECT state FROM s WHERE r = 6) WHERE rowid = 8",
    )
    result = verify_sqlite(url)
    assert (result.first_break.position, result.first_break.kind) == (6, "altered")


def test_an_inserted_event_is_caught_even_with_a_valid_looking_link(sqlite_app):
    url, _ = sqlite_app
    with sqlite3.connect(url) as db:
        rows = db.execute(
            "SELECT rowid, seq, chain, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        ).fetchall()
        for rowid, *_ in reversed(rows[9:]):
            db.execute("UPDATE stored_events SET rowid = rowid + 1 WHERE rowid = ?", (rowid,))
        forged_state = rows[9][6]
        prev = rows[8][2]
        chain = link(prev, 10, 10, bytes.fromhex("ab" * 16), 1, rows[9][5], forged_state)
        db.execute(
            "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state, seq, chain) VALUES (10, ?, 1, ?, ?, 10, ?)",
            ("ab" * 16, rows[9][5], forged_state, chain),
        )
    db.close()
    result = verify_sqlite(url)
    assert (result.first_break.position, result.first_break.kind) == (10, "inserted")


def test_events_cut_off_the_end_are_caught_against_a_checkpoint(sqlite_app):
    url, _ = sqlite_app
    digest = cli(url, "checkpoint").strip()
    head = int(digest.split(":")[1])
    tamper(url, f"DELETE FROM stored_events WHERE rowid > {head - 3}")
    assert cli(url, "verify").startswith("intact:")  # without a checkpoint, a cut looks whole
    out = cli(url, "verify", "--against", digest, code=1)
    assert f"BROKEN at position {head - 2} (cut off)" in out and "3 event(s) were cut off" in out


def test_a_rewritten_log_is_caught_against_a_checkpoint(tmp_path, clock):
    url = str(tmp_path / "a.db")
    Homework.initialise(Store.parse(url))
    populate(Homework(Store.parse(url), clock=clock), clock, clients=1)
    digest = cli(url, "checkpoint").strip()
    rewritten = str(tmp_path / "b.db")  # someone rebuilds a whole new, self-consistent chain
    Homework.initialise(Store.parse(rewritten))
    populate(Homework(Store.parse(rewritten), clock=clock), clock, clients=1)
    assert cli(rewritten, "verify").startswith("intact:")
    assert "(rewritten)" in cli(rewritten, "verify", "--against", digest, code=1)


def test_a_restore_from_a_text_dump_that_renumbers_positions_is_flagged(sqlite_app, tmp_path):
    url, _ = sqlite_app
    tamper(url, "DELETE FROM stored_events WHERE rowid = 4")
    restored = tmp_path / "restored.db"
    source = sqlite3.connect(url)
    target = sqlite3.connect(restored)
    target.executescript("\n".join(source.iterdump()))
    source.close()
    target.close()
    with sqlite3.connect(restored) as db:
        assert (
            db.execute("SELECT MAX(rowid), COUNT(*) FROM stored_events").fetchone()[0]
            == db.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]
        )
    result = verify_sqlite(str(restored))
    assert result.first_break.position == 4


def test_the_backup_api_keeps_positions_and_the_chain(sqlite_app, tmp_path):
    url, _ = sqlite_app
    copy = tmp_path / "backup.db"
    with sqlite3.connect(url) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    assert verify_sqlite(str(copy)).intact


# -- read-only -----------------------------------------------------------------------------


def test_auditor_commands_cannot_write(sqlite_app):
    url, _ = sqlite_app
    auditor = Homework(Store.parse(url), read_only=True)
    with pytest.raises(StoreError, match="read-only"):
        auditor.register_client("C7", "X", "dr.lee", **ACTOR)
    with pytest.raises(StoreError, match="readonly database"), auditor.reading() as cur:
        cur.execute("DELETE FROM stored_events")
    assert count_events(auditor) == 24  # 3 clients × 8 events, all still there


# -- PostgreSQL ----------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_edits_and_deletions_are_caught_and_gaps_are_not(pg_url, clock):
    import psycopg
    from helpers import PG_DB, PG_HOST, PG_PORT, PG_USER

    store = Store.parse(pg_url)
    Homework.initialise(store)
    app = Homework(store, clock=clock)
    populate(app, clock, clients=1)
    conn = psycopg.connect(
        host=PG_HOST,
        port=PG_PORT,
        user=PG_USER,
        dbname=PG_DB,
        autocommit=True,
        options=f"-c search_path={store.schema}",
    )
    conn.execute("SELECT nextval(pg_get_serial_sequence('stored_events', 'notification_id'))")
    conn.execute("SELECT nextval(pg_get_serial_sequence('stored_events', 'notification_id'))")
    app.register_client("C8", "Gap", "dr.lee", **ACTOR)
    positions = [r[0] for r in conn.execute("SELECT notification_id FROM stored_events ORDER BY 1")]
    assert positions[-1] - positions[-2] == 3  # a gap: two positions used by nobody
    auditor = Homework(store, read_only=True)
    assert verify_log(auditor, None).intact, "a gap in positions is not a deletion"

    conn.execute(
        "UPDATE stored_events SET state = state || '\\x00'::bytea WHERE notification_id = 4"
    )
    result = verify_log(auditor, None)
    assert (result.first_break.position, result.first_break.kind) == (4, "altered")
    conn.execute(
        "UPDATE stored_events SET state = substring(state from 1 for length(state) - 1) WHERE notification_id = 4"
    )
    assert verify_log(auditor, None).intact

    conn.execute("DELETE FROM stored_events WHERE notification_id = 6")
    result = verify_log(auditor, None)
    assert (result.first_break.position, result.first_break.kind) == (6, "deleted")
    with pytest.raises(StoreError, match="read-only transaction"), auditor.reading() as cur:
        cur.execute("DELETE FROM stored_events")
    conn.close()
