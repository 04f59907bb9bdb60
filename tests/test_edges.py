"""Nothing at the edges takes Between down: odd stores, files, configurations, plugins and dates.

Each mistake is one ``error:`` line naming what is wrong and what to do, exit 2 (bad input) or
1 (refused, or the environment), and nothing recorded — never a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import textwrap
import uuid
from pathlib import Path

import pytest
from helpers import PG_DB, PG_HOST, PG_PORT, PG_USER, assign_args, invoke, run_installed

RELAX = ("--field", "technique=other")


class Between:
    """Runs ``between`` in-process against one store, checking every run for tracebacks."""

    def __init__(self, store: str, **env: str) -> None:
        self.env = {"BETWEEN_STORE": store, "BETWEEN_ACTOR": "dr.lee", "BETWEEN_DEBUG": "", **env}

    def __call__(self, *args: str, code: int = 0, **env: str) -> tuple[str, str]:
        result = invoke({**self.env, **env}, *args, code=code)
        out, err = result.stdout, result.stderr
        assert "Traceback" not in out + err, out + err
        if code:
            assert err.startswith("error: ") and err.count("\n") == 1, err
        return out, err

    def refused(self, *args: str, code: int, says: str, **env: str) -> str:
        err = self(*args, code=code, **env)[1]
        assert says in err, err
        return err


def sqlite_events(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A SQLite store with client C-1 and one relaxation assignment (its id in ``store.id``)."""
    path = tmp_path / "clinic" / "s.db"
    b = Between(str(path))
    b("init")
    b("client", "add", "C-1", "--name", "Alex", "--therapist", "dr.lee")
    b(*assign_args("C-1", "relaxation", "technique=other"))
    return path


def first_id(b: Between) -> str:
    return json.loads(b("list", "--json")[0])[0]["id"][:8]


# -- the store given -----------------------------------------------------------------------


def test_a_store_that_is_a_folder_is_bad_input(tmp_path: Path):
    b = Between(str(tmp_path))
    for args in (("init",), ("list",), ("client", "add", "C-1", "--name", "A", "--therapist", "t")):
        b.refused(*args, code=2, says=f"--store {tmp_path} is a folder; give the store's file")


def test_a_store_under_a_file_or_nowhere_writable_is_refused(tmp_path: Path):
    (tmp_path / "plain").write_text("x")
    under = Between(str(tmp_path / "plain" / "s.db"))
    under.refused("init", code=1, says=f"{tmp_path / 'plain'} is a file, not a folder")
    under.refused("list", code=1, says="no store at")
    nowhere = Between("/proc/between.db")
    nowhere.refused("init", code=1, says="cannot create the store at")
    key = tmp_path / "new.key"
    nowhere.refused("--key-file", str(key), "init", "--encrypt", code=1, says="cannot create")
    assert not key.exists()  # no key for a store that was not made
    assert not (tmp_path / "plain").is_dir()


def test_a_file_that_is_not_a_database_is_said_so_by_every_command(tmp_path: Path):
    path = tmp_path / "notes.db"
    path.write_text("shopping list\n")
    b = Between(str(path))
    for args in (("init",), ("list",), ("log",), ("client", "add", "C", "--name", "A", "--therapist", "t")):  # fmt: skip
        b.refused(*args, code=1, says=f"{path} is not a SQLite database")
    assert path.read_text() == "shopping list\n"


def test_a_sqlite_database_of_something_else_is_not_taken_over(tmp_path: Path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE recipes (name TEXT)")
    Between(str(path)).refused("init", code=1, says="a SQLite database of something else")


def unprivileged() -> list[str]:
    """A prefix that runs a command without root's power to ignore permissions."""
    if os.geteuid() != 0:
        return []
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    if shutil.which("setpriv") is None or subprocess.run([*drop, "true"]).returncode != 0:
        pytest.skip("running as root, and permissions cannot be dropped here")
    return drop


def run(store: Path, *args: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess:
    env = {"BETWEEN_STORE": str(store), "BETWEEN_ACTOR": "dr.lee"}
    return run_installed(env, *args, prefix=prefix or [])


def test_every_read_command_works_in_a_read_only_folder_and_writes_say_read_only(store: Path):
    prefix = unprivileged()
    assignment = first_id(Between(str(store)))
    before, files = sqlite_events(store), sorted(store.parent.iterdir())
    store.parent.chmod(0o555)
    try:
        for args in (
            ["list"], ["list", "--json"], ["agenda", "C-1"], ["client", "list"],
            ["client", "show", "C-1"], ["show", assignment], ["log"], ["verify"], ["checkpoint"],
            ["history", "C-1"], ["replay", "--check"], ["replay", "--at", "2999-01-01"],
            ["operators"], ["init"],
        ):  # fmt: skip
            done = run(store, *args, prefix=prefix)
            assert done.returncode == 0, (args, done.stderr)
            assert done.stderr == "", (args, done.stderr)
        for args in (
            ["client", "add", "C-2", "--name", "B", "--therapist", "t"],
            ["agree", assignment], ["cancel", assignment, "--reason", "r"], ["rebuild"],
        ):  # fmt: skip
            done = run(store, *args, prefix=prefix)
            assert done.returncode == 1, (args, done.stdout, done.stderr)
            assert done.stderr.startswith(f"error: the store {store} is read-only here")
            assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        for new in (store.parent / "new.db", store.parent / "sub" / "new.db"):
            done = run(new, "init", prefix=prefix)
            assert done.returncode == 1 and done.stderr.startswith("error: cannot create the ")
    finally:
        store.parent.chmod(0o755)
    assert sqlite_events(store) == before
    assert sorted(store.parent.iterdir()) == files  # no -wal, -shm or journal left behind


# -- keys, configuration and fields files -----------------------------------------------------


def test_a_key_file_that_is_a_folder_or_already_exists_is_refused_and_nothing_is_made(
    tmp_path: Path,
):
    (tmp_path / "keys").mkdir()
    store = tmp_path / "enc.db"
    b = Between(str(store))
    b.refused("--key-file", str(tmp_path / "keys"), "init", "--encrypt", code=2, says="is a folder")
    (tmp_path / "old.key").write_text("not mine\n")
    b.refused(
        "--key-file", str(tmp_path / "old.key"), "init", "--encrypt", code=1, says="already exists"
    )
    assert not store.exists() and (tmp_path / "old.key").read_text() == "not mine\n"
    b("--key-file", str(tmp_path / "keys" / "k.key"), "init", "--encrypt")
    b.refused("--key-file", str(tmp_path / "keys"), "list", code=2, says="is a folder")
    b("--key-file", str(tmp_path / "keys" / "k.key"), "init", "--encrypt")  # safe to run again


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ('[notify]\ndue_soon_days = "one"\n', "[notify] due_soon_days = 'one' must be a whole"),
        ("[notify]\ndue_son_days = 1\n", "[notify] due_son_days is not a setting (known: due_"),
        ("[notify\n", "is not valid TOML"),
        ("[channels.email]\nport = 99999\n", "[channels.email] port = 99999 must be"),
        ('[channels.email]\nsecurity = "tls"\n', "must be one of 'starttls', 'ssl', 'none'"),
        ('[therapists."dr.lee"]\nchannels = "email"\n', "channels = 'email' must be a list"),
        ("worksheets = 3\n", "worksheets must be a table"),
        ("[worksheets]\ndir = 3\n", "[worksheets] dir = 3 must be text"),
    ],
)
def test_a_malformed_configuration_file_is_refused_alike_by_every_command(
    store: Path, tmp_path: Path, config: str, says: str
):
    path = tmp_path / "clinic.toml"
    path.write_text(config)
    b = Between(str(store), BETWEEN_CONFIG=str(path))
    for args in (("list",), ("types",), ("log",), ("client", "add", "C-9", "--name", "N", "--therapist", "t")):  # fmt: skip
        assert b.refused(*args, code=2, says=says).startswith(f"error: configuration file {path}")
    assert sqlite_events(store) == 2


def test_a_good_configuration_and_a_plugins_own_table_are_accepted(store: Path, tmp_path: Path):
    path = tmp_path / "clinic.toml"
    path.write_text(
        "[notify]\ndue_soon_days = 2\nbackoff_seconds = 0\n[channels.email]\nport = 587\n"
        '[channels.pager]\nanything = [1, 2]\n[therapists."dr.lee"]\nchannels = ["email"]\n'
        'email = "lee@clinic.example"\n[reports]\nlogo = "x.png"\n'
    )
    Between(str(store), BETWEEN_CONFIG=str(path))("list")
    Between(str(store), BETWEEN_CONFIG=str(tmp_path)).refused("list", code=2, says="Is a directory")


def test_fields_files_that_are_too_long_a_name_too_deep_or_not_json_are_bad_input(
    store: Path, tmp_path: Path
):
    b = Between(str(store))
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100_000 + "]" * 100_000)
    deep = tmp_path / "deep.json"
    deep.write_text('{"a":' * 30_000 + "1" + "}" * 30_000)
    binary = tmp_path / "photo.json"
    binary.write_bytes(b"\xff\xd8\xff\xe0")
    cases = {
        "x" * 300: "cannot be read: File name too long",
        str(nested): "is nested more than 16 levels deep",
        str(deep): "is nested more than 16 levels deep",
        str(tmp_path): "is a folder",
        str(binary): "is not UTF-8 JSON",
        str(tmp_path / "missing.json"): "does not exist",
    }
    for path, says in cases.items():
        b.refused(*assign_args("C-1", "relaxation"), "--fields-file", path, code=2, says=says)
    with nested.open() as stdin:
        args = [*assign_args("C-1", "relaxation"), "--fields-file", "-"]
        result = invoke(b.env, *args, input=stdin.read())
    assert result.exit_code == 2 and "standard input is nested" in result.stderr
    assert sqlite_events(store) == 2


def test_show_and_client_show_of_an_erased_client_print_what_is_left(store: Path):
    b = Between(str(store))
    aid = first_id(b)
    b("client", "collaborator", "C-1", "Sam", "--relationship", "partner")
    b("client", "contact", "C-1", "--email", "alex@example.org")
    b("agree", aid)
    b("submit", aid, "--field", "minutes=10", "--field", "tension_before=6", "--field", "tension_after=2")  # fmt: skip
    b("close", aid)
    b("client", "discharge", "C-1", "--reason", "finished")
    client_id = json.loads(b("client", "show", "C-1", "--json")[0])["id"]
    b("client", "erase", "C-1", "--reason", "request 7")
    shown = b("show", aid)[0]
    assert "instructions: [erased]" in shown and "parameters:   [erased]" in shown
    assert "complete: unknown (the client's personal data was erased)" in shown
    client = b("client", "show", client_id)[0]
    assert "collaborator: [erased] ([erased])" in client
    assert "contact [erased]: [erased]" in client and "request 7" in client
    assert "Alex" not in shown + client and "alex@example.org" not in client


# -- task types whose own code fails ---------------------------------------------------------

FAULTY = """
    import os
    from between import Field, Schema, TaskType, hookimpl

    class Faulty(TaskType):
        def summarise(self, entries, parameters):
            raise ValueError("no figures today")

        def completion(self, entries, expected, parameters):
            return "done"

        def validate_entry(self, data, parameters):
            if os.environ.get("FAULT") == "entry":
                raise KeyError("mood")
            return super().validate_entry(data, parameters)

        def validate_parameters(self, data):
            if os.environ.get("FAULT") == "parameters":
                return ["not", "a", "dict"]
            return super().validate_parameters(data)

    @hookimpl
    def between_register_task_types(registry):
        registry.add(Faulty(name="faulty", title="Faulty", description="d", category="c",
                            entries=Schema((Field("note"),))))
"""


def test_a_task_type_that_fails_leaves_show_readable_and_refuses_writes(
    store: Path, tmp_path: Path, monkeypatch
):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "faulty.py").write_text(textwrap.dedent(FAULTY))
    b = Between(str(store), BETWEEN_PLUGINS_DIR=str(tmp_path / "plugins"))
    plugin = "plugin local:faulty.py failed in"
    monkeypatch.setenv("FAULT", "parameters")
    b.refused(*assign_args("C-1", "faulty"), code=1, says=f"{plugin} validate_parameters (task type faulty): it returned list, not a dict of fields; nothing was recorded")  # fmt: skip
    monkeypatch.setenv("FAULT", "entry")
    aid = json.loads(b(*assign_args("C-1", "faulty"), "--json")[0])["result"][:8]
    b("agree", aid)
    b.refused("submit", aid, "--field", "note=x", code=1, says=f"{plugin} validate_entry (task type faulty): KeyError: 'mood'")  # fmt: skip
    events = sqlite_events(store)
    out, err = b("show", aid)
    assert "summary: unavailable" in out and "complete: unknown (unavailable)" in out
    assert "instructions: do it" in out
    assert err.splitlines() == [
        f"warning: {plugin} summarise (task type faulty): ValueError: no figures today (shown as unavailable)",
        f"warning: {plugin} completion (task type faulty): it returned str, not a dict (shown as unavailable)",
    ]  # fmt: skip
    detail = json.loads(b("show", aid, "--json")[0])
    assert detail["summary"] == {
        "unavailable": f"{plugin} summarise (task type faulty): ValueError: no figures today"
    }
    assert detail["completion"]["complete"] is None
    assert detail["completion"]["unavailable"].startswith(f"{plugin} completion")
    assert sqlite_events(store) == events


# -- due dates --------------------------------------------------------------------------------


def test_a_due_date_before_today_needs_allow_past_due(store: Path):
    b = Between(str(store))
    past = assign_args("C-1", "relaxation", "technique=other", due="2020-01-01")
    b.refused(*past, code=2, says="due date 2020-01-01 is before today")
    assert "--allow-past-due" in b(*past, code=2)[1]
    aid = json.loads(b(*past, "--allow-past-due", "--json")[0])["result"][:8]
    b.refused("adjust", aid, "--due", "2021-01-01", code=2, says="before today")
    b("adjust", aid, "--due", "2021-01-01", "--allow-past-due")
    b("adjust", aid, "--difficulty", "2")  # the old date stands without being given again
    b("agree", aid)
    review = ("review", aid, "--quantity", "1", "--quality", "1", "--difficulty", "1",
              "--next-step", "continue")  # fmt: skip
    b.refused(*review, "--next-due", "2022-01-01", code=2, says="before today")
    b(*review, "--due", "2022-01-01", "--allow-past-due")
    b(*review, "--due", "9999-12-31")
    b(*review, "--due", "+0")
    assert json.loads(b("show", aid, "--json")[0])["review_list"][-1]["next_due"] > "2025"


def test_the_engine_takes_allow_past_due_too(app, clock):
    from between.engine.errors import InvalidInput

    app.register_client("C-1", "Alex", "dr.lee", actor="dr.lee")
    fields = {"instructions": "i", "rationale": "r", "stage": "practice", "difficulty": 1,
              "expected_entries": 1, "parameters": {"technique": "other"}, "actor": "dr.lee"}  # fmt: skip
    with pytest.raises(InvalidInput, match="before today"):
        app.propose("C-1", "relaxation", due="2026-03-01", **fields)
    done = app.propose("C-1", "relaxation", due="2026-03-01", allow_past_due=True, **fields)
    assert done.record["due"] == "2026-03-01"


# -- JSON and progress -----------------------------------------------------------------------


def test_init_checkpoint_and_rebuild_print_json(store: Path):
    b = Between(str(store))
    again = json.loads(b("init", "--json")[0])
    assert again == {"store": str(store), "created": False, "encrypted": False, "key_file": None}
    checkpoint = json.loads(b("checkpoint", "--json")[0])
    assert checkpoint["checkpoint"].startswith("between-v1:2:") and checkpoint["events"] == 2
    assert checkpoint["break"] is None
    assert json.loads(b("rebuild", "--json")[0]) == {"events": 2}


def test_long_work_reports_progress_in_events(store: Path):
    from between.audit import replay
    from between.engine.app import Homework
    from between.engine.storage.store import Store

    app = Homework(Store.parse(str(store)))
    seen: list[int] = []
    assert app.rebuild(progress=seen.append) == 2 and sum(seen) == 2
    seen.clear()
    assert replay.check_read_model(app, seen.append) == [] and sum(seen) == 2
    seen.clear()
    from datetime import UTC, datetime

    rows = list(replay.rows_at(app, datetime(2999, 1, 1, tzinfo=UTC), None, seen.append))
    assert len(rows) == 1 and 1 <= sum(seen) <= 2
    app.close()


def test_progress_bars_stay_quiet_when_not_on_a_terminal(capsys):
    from between.commands.output import progress

    with progress(10**6, "working") as bar:
        assert bar is None
    assert capsys.readouterr().err == ""


# -- PostgreSQL ---------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("address", "says"),
    [
        (f"postgresql://{PG_USER}@127.0.0.1:1/{PG_DB}", "nothing is listening at 127.0.0.1:1: is the PostgreSQL server running"),
        (f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/no_such_db_x", "has no database 'no_such_db_x': create it (createdb"),
        (f"postgresql://nobody_here_x@{PG_HOST}:{PG_PORT}/{PG_DB}", "has no role 'nobody_here_x'"),
        (f"postgresql://{PG_USER}@no-such-host.invalid:{PG_PORT}/{PG_DB}", "unknown host 'no-such-host.invalid'"),
    ],
)  # fmt: skip
def test_postgresql_connection_problems_are_told_apart(address: str, says: str):
    from helpers import require_postgres

    require_postgres()
    for args in (("list",), ("init",), ("log",)):
        err = Between(address).refused(*args, code=1, says=says)
        assert "between init" not in err and err.startswith("error: cannot connect to ")


@pytest.mark.postgres
def test_only_a_reachable_database_without_between_advises_init(pg_url: str):
    Between(pg_url).refused("list", code=1, says="is not a Between store (it has no Between tables); create one with 'between init'")  # fmt: skip
    for bad, says in (("&connect_timeout=0", "must be whole seconds from 1 to 600"),
                      ("&sslmode=require", "unknown parameter sslmode")):  # fmt: skip
        Between(pg_url + bad).refused("list", code=2, says=says)
    Between(pg_url + "&connect_timeout=3")("init")


@pytest.mark.postgres
def test_a_postgresql_role_that_may_only_read_reads_and_is_refused_writes(pg_url: str):
    import psycopg

    b = Between(pg_url)
    b("init")
    b("client", "add", "C-1", "--name", "Alex", "--therapist", "dr.lee")
    b(*assign_args("C-1", "relaxation", "technique=other"))
    aid = first_id(b)
    schema = pg_url.rsplit("schema=", 1)[1]
    role = f"reader_{uuid.uuid4().hex[:8]}"
    admin = {"host": PG_HOST, "port": PG_PORT, "user": PG_USER, "dbname": PG_DB}
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {role}')
    try:
        reader = Between(pg_url.replace(f"//{PG_USER}@", f"//{role}@"))
        for args in (("list",), ("client", "show", "C-1"), ("show", aid), ("log",), ("verify",)):
            reader(*args)
        for args in (("client", "add", "C-2", "--name", "B", "--therapist", "t"),
                     ("agree", aid), ("rebuild",)):  # fmt: skip
            reader.refused(*args, code=1, says=f"the store is read-only for role '{role}'")
        assert json.loads(b("checkpoint", "--json")[0])["events"] == 2
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ('connection to server at "10.0.0.9", port 5432 failed: timeout expired', "no answer from db.clinic:5432 within 7 s"),
        ('connection to server at "10.0.0.9", port 5432 failed: No route to host', "'db.clinic' is unreachable"),
        ('FATAL:  password authentication failed for user "lee"', "refused the login of 'lee'"),
        ('FATAL:  no pg_hba.conf entry for host "10.0.0.2", user "lee"', "and the server's pg_hba.conf"),
    ],
)  # fmt: skip
def test_postgresql_failures_that_need_a_network_are_diagnosed_from_libpq(message, says):
    from between.engine.storage.diagnosis import postgres_problem
    from between.engine.storage.store import Store

    store = Store.parse("postgresql://lee@db.clinic:5432/clinic?connect_timeout=7")
    problem = str(postgres_problem(store, Exception(message)))
    assert problem.startswith("cannot connect to postgresql://lee@db.clinic:5432/clinic: ")
    assert says in problem and "between init" not in problem


def test_every_postgresql_connection_gets_the_address_password_and_timeout():
    """The store, the light reader, creation and the dispatcher's lease all connect with
    ``Store.connect_args`` — the password in the address included, and its connect_timeout."""
    from between.engine.storage.store import Store

    given = Store.parse("postgresql://lee:s%40cret@db.clinic:5433/clinic?connect_timeout=7")
    assert given.connect_args() == {
        "host": "db.clinic",
        "port": "5433",
        "user": "lee",
        "dbname": "clinic",
        "connect_timeout": 7,
        "password": "s@cret",
    }
    assert "password" not in Store.parse("postgresql://lee@db.clinic/clinic").connect_args()
