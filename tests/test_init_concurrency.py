"""``between init`` run by several processes at the same moment makes one store, once.

Four real processes start ``init`` on the same fresh store at once (each imports Between first
and waits at a start line), a few rounds, on SQLite and PostgreSQL, with and without
``--encrypt``. Every one succeeds; exactly one creates the store (and writes the one key
file), the others report it already initialised; the key opens the store; nothing else is
left behind.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import postgres_schema, run_installed

PROCESSES = 4
ROUNDS = int(os.environ.get("BETWEEN_INIT_ROUNDS", "3"))  # 10 by hand

DRIVER = """
import os, sys, time
import between.cli, between.engine.app, between.engine.storage.creation  # imported before the start
if sys.argv[2].startswith("postgresql"):
    import psycopg, between.engine.storage.recorders_pg
go = sys.argv[1]
while not os.path.exists(go):
    time.sleep(0.001)
sys.argv = ["between", "--store", *sys.argv[2:]]
between.cli.main()
"""


def init_at_once(store: str, encrypt: bool, go: Path) -> list[subprocess.CompletedProcess]:
    args = [
        sys.executable,
        "-c",
        DRIVER,
        str(go),
        store,
        "init",
        *(["--encrypt"] if encrypt else []),
    ]
    env = {**os.environ, "BETWEEN_DEBUG": "1"}
    procs = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(PROCESSES)
    ]
    time.sleep(1.5)  # let them all reach the start line
    go.touch()
    done = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    go.unlink()
    return done


def check_round(done: list[subprocess.CompletedProcess], store: str, encrypt: bool) -> None:
    for d in done:
        assert d.returncode == 0 and d.stderr == "", d.stderr
    lock = ", encrypted" if encrypt else ""
    firsts = [d.stdout for d in done if d.stdout.startswith("created: ")]
    assert len(firsts) == 1, [d.stdout for d in done]
    assert firsts[0].startswith(f"created: {store}{lock}\n")
    assert ("key written to" in firsts[0]) == encrypt
    others = [d.stdout for d in done if not d.stdout.startswith("created: ")]
    assert others == [f"already initialised: {store}{lock}\n"] * (PROCESSES - 1)


def keys_written(tmp_path: Path) -> list[Path]:
    folder = Path(os.environ["XDG_CONFIG_HOME"]) / "between" / "keys"
    return sorted(folder.iterdir()) if folder.exists() else []


def opens(store: str) -> None:
    """The store answers ``list`` (with the key, if it is encrypted)."""
    listed = run_installed(None, "--store", store, "list")
    assert listed.returncode == 0 and listed.stdout == "(none)\n", listed.stderr


@pytest.mark.slow
@pytest.mark.parametrize("encrypt", [False, True], ids=["plain", "encrypted"])
def test_concurrent_init_on_sqlite_makes_one_store(tmp_path: Path, encrypt: bool):
    for n in range(ROUNDS):
        folder = tmp_path / f"round{n}"
        store = str(folder / "between.db")
        check_round(init_at_once(store, encrypt, tmp_path / "go"), store, encrypt)
        assert sorted(p.name for p in folder.iterdir()) == ["between.db", "between.keys"]
        with sqlite3.connect(store) as db:
            meta = dict(db.execute("SELECT key, value FROM between_meta").fetchall())
        written = keys_written(tmp_path)
        assert len(written) == (n + 1 if encrypt else 0)  # one key a store, none orphaned
        if encrypt:
            assert Path(written[0].parent, f"{meta['store_id']}.key") in written
        opens(store)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("encrypt", [False, True], ids=["plain", "encrypted"])
def test_concurrent_init_on_postgresql_makes_one_store(tmp_path: Path, encrypt: bool):
    import psycopg
    from helpers import PG_DB, PG_HOST, PG_PORT, PG_USER

    for n in range(ROUNDS):
        with postgres_schema() as store:
            if n == ROUNDS - 1:  # the last round's schema is missing: init creates it
                schema = store.rsplit("schema=", 1)[1]
                with psycopg.connect(
                    host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, autocommit=True
                ) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}"')
            check_round(init_at_once(store, encrypt, tmp_path / "go"), store, encrypt)
            assert len(keys_written(tmp_path)) == (n + 1 if encrypt else 0)
            opens(store)
