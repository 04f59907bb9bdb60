"""``between log --json`` reads the stored rows without constructing events (``audit.export``):
what it writes is what the mapper's events give, encrypted stores and altered rows included."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from helpers import relaxation

from between.audit.auditor import filtered_log
from between.audit.export import export_records
from between.audit.log import entries, export_record
from between.engine.app import Homework
from between.engine.storage.store import Store

ENTRY = {"minutes": 10, "tension_before": 6, "tension_after": 3}


def populate(app: Homework) -> None:
    for code in ("C-1", "C-2"):
        app.register_client(code, f"Client {code}", "dr.lee", actor="dr.lee")
        aid = relaxation(app, code, expected_entries=2)
        app.agree(aid, confidence=7, obstacles="busy days", actor="dr.lee")
        app.submit(aid, ENTRY, actor="dr.lee")
        app.close_assignment(aid, actor="dr.lee")
    app.discharge("C-2", "moved away", actor="dr.lee")
    app.erase_client("C-2", reason="request 7", actor="dr.lee")


def by_mapper(app: Homework) -> list[tuple[int, dict] | tuple[str, str]]:
    return outcome(lambda: [(e.position, export_record(e)) for e in entries(app)])


def outcome(read) -> list | tuple[str, str]:
    """What reading gives: the records, or the error it raises (type and message)."""
    try:
        return read()
    except Exception as e:
        return type(e).__name__, str(e)


def test_the_direct_path_writes_what_the_mappers_events_give(store_url, clock):
    Homework.initialise(Store.parse(store_url))
    app = Homework(Store.parse(store_url), clock=clock)
    populate(app)
    app.close()
    reader = Homework(Store.parse(store_url), read_only=True)
    direct = list(export_records(reader))
    assert direct == by_mapper(reader) and list(filtered_log(reader)) == direct
    assert any(r["data"].get("name") == "[erased]" for _, r in direct)  # the erased client's
    reader.close()


def test_an_encrypted_store_exports_the_same(tmp_path, clock):
    url, key_file = str(tmp_path / "locked.db"), tmp_path / "store.key"
    Homework.initialise(Store.parse(url), encrypt=True, key_file=key_file)
    app = Homework(Store.parse(url), clock=clock, key_file=key_file)
    populate(app)
    app.close()
    reader = Homework(Store.parse(url), read_only=True, key_file=key_file)
    assert list(export_records(reader)) == by_mapper(reader)
    reader.close()


@pytest.mark.parametrize(
    "old, new",
    [
        ('"timestamp":{"_type_":"datetime_iso","_data_":', '"timestamp":{"_type_":"x","_data_":'),
        (
            '"timestamp":{"_type_":"datetime_iso","_data_":',
            '"timestamp":{"_type_":"uuid_hex","_data_":"0123456789abcdef0123456789abcdef","was":',
        ),
        ('"actor":"dr.lee"', '"actor":"dr.lee","extra":{"_type_":"decimal_str","_data_":"1.5"}'),
        ('"actor":"dr.lee"', '"actor":"dr.lee","extra":{"_type_":"uuid_hex","_data_":"nothex"}'),
        (
            '"actor":"dr.lee"',
            '"actor":{"_type_":"uuid_hex","_data_":"0123456789ABCDEF0123456789ABCDEF"}',
        ),
        ('"actor":"dr.lee",', ""),
        (
            '"client_id":{"_type_":"uuid_hex","_data_":',
            '"client_id":{"_type_":"datetime_iso","_data_":',
        ),
        (
            '"client_id":{"_type_":"uuid_hex","_data_":',
            '"client_id":"x","was":{"_type_":"uuid_hex","_data_":',
        ),
        (
            '"confidence":7',
            '"confidence":7,"when":{"_type_":"datetime_iso","_data_":"2026-01-01Z"}',
        ),
    ],
)
def test_an_altered_row_reads_as_the_mapper_reads_it(sqlite_url, clock, old, new):
    Homework.initialise(Store.parse(sqlite_url))
    app = Homework(Store.parse(sqlite_url), clock=clock)
    populate(app)
    app.close()
    with closing(sqlite3.connect(sqlite_url)) as db, db:
        (rowid, state) = db.execute(
            "SELECT rowid, state FROM stored_events WHERE topic = 'between.AssignmentAgreed'"
        ).fetchone()
        altered = bytes(state).decode().replace(old, new, 1)
        assert altered != bytes(state).decode(), "the row holds what the case alters"
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (altered.encode(), rowid))
    reader = Homework(Store.parse(sqlite_url), read_only=True)
    assert outcome(lambda: list(export_records(reader))) == by_mapper(reader)
    reader.close()
