"""The light reading paths (issue 15): ``show`` and ``client show`` without constructing the
application, ``--help`` without importing plugins, ``list`` paging, and the one-scan
``replay --check`` and ``log --json`` — each checked against what the full path says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib import import_module
from pathlib import Path
from uuid import UUID

import click
import pytest
from click.testing import CliRunner
from helpers import Clock, invoke, relaxation

from between.audit import replay
from between.audit.log import Entry, entries, export_record
from between.cli import COMMAND_MODULES, build_cli
from between.commands.catalog import SHORT_HELP
from between.commands.output import DEFAULT_LIMIT
from between.engine.app import Homework
from between.engine.reading.light import open_reader
from between.engine.storage.store import Store

ENTRY = {"minutes": 10, "tension_before": 6, "tension_after": 3}


def populate(app: Homework, clients: int = 3) -> list[str]:
    """Clients with homework agreed, reviewed, stepped up from and declined, entries by the
    client and a collaborator, and the last client discharged and erased; assignment ids."""
    ids = []
    for n in range(clients):
        code = f"C-{n}"
        app.register_client(code, f"Client {n}", "dr.lee", actor="dr.lee")
        app.add_collaborator(code, "Sam", "partner", actor="dr.lee")
        first = relaxation(app, code, expected_entries=2)
        app.agree(first, confidence=7, obstacles="busy days", actor="dr.lee")
        app.submit(first, ENTRY, actor="dr.lee")
        app.submit(first, {**ENTRY, "notes": "with Sam"}, by="Sam", actor="dr.lee")
        app.review(first, quantity=4, quality=3, difficulty=2, next_step="step-up", actor="dr.lee")
        stepped = relaxation(app, code, steps_up_from=first)
        app.agree(stepped, actor="dr.lee")
        declined = relaxation(app, code)
        app.decline(declined, reason="no time", actor="dr.lee")
        ids += [first, stepped, declined]
    for ref in ids[-3:-1]:
        if app.show(ref)["status"] in ("proposed", "agreed"):
            app.close_assignment(ref, actor="dr.lee")
    app.discharge(f"C-{clients - 1}", "moved away", actor="dr.lee")
    app.erase_client(f"C-{clients - 1}", reason="request 7", actor="dr.lee")
    return ids


@pytest.fixture
def store(store_url: str, clock: Clock) -> tuple[str, list[str]]:
    s = Store.parse(store_url)
    Homework.initialise(s)
    app = Homework(s, clock=clock)
    ids = populate(app)
    app.close()
    return store_url, ids


def light_and_full(url: str, environ: dict | None = None, key_file: Path | None = None):
    """The application (the full path) and a light reader on the same store."""
    app = Homework(Store.parse(url), read_only=True, key_file=key_file, environ=environ)
    reader = open_reader(Store.parse(url), environ or {}, key_file, lambda: app.plugins)
    return app, reader


def compare_records(url: str, ids: list[str], **opened) -> None:
    app, opening = light_and_full(url, **opened)
    with opening as reader:
        assert reader is not None, "the read model is current: the light path reads it"
        for ref in ids:
            assert reader.show(ref[:10]) == app.show(ref[:10])
            assert reader.review_brief(ref) == app.review_brief(ref)
        for code in ("C-0", "C-1", "C-2", "C-9"):  # C-9 is nobody; the last one was erased
            assert outcome(reader.show_client, code) == outcome(app.show_client, code)
            assert outcome(reader.agenda, code) == outcome(app.agenda, code)
        for ref in ("0", "zz", ids[0][:1]):  # several, not an id, and (maybe) several
            assert outcome(reader.show, ref) == outcome(app.show, ref)
        erased = app.show_client(app.show(ids[-1])["client_id"])
        assert erased["status"] == "erased"
        assert reader.show_client(erased["id"]) == erased
        # every record was decoded plainly: the mapper only ever decrypts an encrypted store
        assert (reader.mapper is None) == (reader.master is None)
        # an id of another kind of record: the mapper's fold says it is not a client
        assert outcome(reader.show_client, ids[0]) == outcome(app.show_client, ids[0])
    app.close()


def outcome(read, *args):
    """What a reading gives: its answer, or the error it raises (type and message)."""
    try:
        return read(*args)
    except Exception as e:
        return type(e).__name__, str(e)


def test_show_and_client_show_answer_as_the_application_does(store):
    url, ids = store
    compare_records(url, ids)


def run(env: dict, *args: str, code: int = 0) -> tuple[str, str]:
    result = invoke(env, *args, code=code)
    return result.stdout, result.stderr


def test_the_commands_print_what_the_full_path_prints(store):
    """The light path is taken (the read model is current); the full one once the model is
    behind (``--actor`` writes an event first through another process's application)."""
    url, ids = store
    env = {"BETWEEN_STORE": url}
    light = {ref: [run(env, "show", ref), run(env, "show", ref, "--json")] for ref in ids}
    clients = [run(env, "client", "show", c) for c in ("C-0", "C-1")]
    app = Homework(Store.parse(url))
    with app.writing() as c:  # the read model lags the log: the full path must answer
        c.execute("UPDATE rm_position SET position = position - 1")
    for ref in ids:
        assert [run(env, "show", ref), run(env, "show", ref, "--json")] == light[ref]
    assert [run(env, "client", "show", c) for c in ("C-0", "C-1")] == clients
    app.close()


def test_an_encrypted_store_reads_light_only_with_its_key(tmp_path, clock):
    url = str(tmp_path / "locked.db")
    key_file = tmp_path / "store.key"
    Homework.initialise(Store.parse(url), encrypt=True, key_file=key_file)
    app = Homework(Store.parse(url), clock=clock, key_file=key_file)
    ids = populate(app, 2)
    app.close()
    compare_records(url, ids, key_file=key_file)
    with_key = {"BETWEEN_STORE": url, "BETWEEN_KEY_FILE": str(key_file)}
    shown, _ = run(with_key, "show", ids[0])
    assert "Client" not in shown and "relaxation" in shown
    _, said = run({"BETWEEN_STORE": url}, "show", ids[0], code=1)
    assert said.startswith("error: ") and "key" in said


def test_a_store_in_a_read_only_place_reads_light(store, tmp_path):
    url, ids = store
    if not Store.parse(url).is_sqlite:
        pytest.skip("a place nobody writes is a folder: SQLite only")
    folder = Path(url).parent
    os.chmod(folder, 0o555)
    try:
        before = sorted(os.listdir(folder))
        compare_records(url, ids)
        out, _ = run({"BETWEEN_STORE": url}, "show", ids[0])
        assert out.startswith(ids[0]) and sorted(os.listdir(folder)) == before
    finally:
        os.chmod(folder, 0o755)


@pytest.mark.postgres
def test_a_role_that_may_not_read_keys_reads_light_as_restricted(pg_url, clock):
    """An auditor's role (docs/auditing.md): everything but the client keys."""
    import psycopg
    from helpers import PG_DB, PG_HOST, PG_PORT, PG_USER

    Homework.initialise(Store.parse(pg_url))
    app = Homework(Store.parse(pg_url), clock=clock)
    ids = populate(app)
    app.close()
    role, schema = f"auditor_{os.urandom(5).hex()}", Store.parse(pg_url).schema
    tables = (
        "stored_events, between_meta, rm_position, rm_clients, rm_assignments, rm_notifications"
    )
    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, autocommit=True
    ) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        try:
            admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            qualified = ", ".join(f"{schema}.{t.strip()}" for t in tables.split(","))
            admin.execute(f"GRANT SELECT ON {qualified} TO {role}")
            url = f"postgresql://{role}@{PG_HOST}:{PG_PORT}/{PG_DB}?schema={schema}"
            compare_records(url, ids)
            shown = json.loads(run({"BETWEEN_STORE": url}, "show", ids[0], "--json")[0])
            assert shown["instructions"] == "[restricted]" and shown["summary"]["restricted"]
        finally:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


# -- --help --------------------------------------------------------------------------------


def in_subprocess(code: str, env: dict | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "BETWEEN_PLUGINS_DIR": "", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_lists_plugin_commands_without_importing_any_plugin():
    out = in_subprocess("""
        import sys
        from click.testing import CliRunner
        from between.cli import build_cli

        print(CliRunner().invoke(build_cli(), ["--help"]).output)
        loaded = [m for m in sys.modules if m.startswith(("between.plugins", "between_"))]
        print("loaded:", loaded, "importlib.metadata" in sys.modules)
    """)
    assert "loaded: [] False" in out
    for command, plugin in (("gratitude", "gratitude"), ("report", "between.reports")):
        assert f"{command}  " in out and f"Added by plugin {plugin}; see its --help." in out


def test_a_declared_command_runs_and_loads_the_plugins():
    out, _ = run({}, "gratitude", "--help")
    assert "Usage: between gratitude" in out
    out, _ = run({}, "--help")
    assert "gratitude" in out


def test_help_leaves_out_the_commands_of_plugins_not_chosen():
    out, _ = run({"BETWEEN_PLUGINS": ""}, "--help")
    assert "gratitude" not in out and "report" in out  # built-ins are never left out


@pytest.mark.parametrize(
    "args", [("--help",), ("show", "@"), ("list",), ("agenda", "C-0"), ("client", "list")]
)
def test_reading_commands_import_no_heavy_dependency(store, args):
    url, ids = store
    args = tuple(ids[0] if a == "@" else a for a in args)
    out = in_subprocess(
        f"""
        import sys
        from click.testing import CliRunner
        from between.cli import build_cli

        result = CliRunner().invoke(build_cli(), {list(args)!r})
        assert result.exit_code == 0, result.output
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("flask", "matplotlib", "fhir")))
        """,
        {"BETWEEN_STORE": url},
    )
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("args", "module"),
    [
        (("show", "@"), "reading"),
        (("client", "show", "C-0"), "clients"),
        (("agenda", "C-0", "--json"), "reading"),
    ],
)
def test_reading_a_record_imports_no_event_machinery_and_only_its_commands(store, args, module):
    """``show``, ``client show`` and ``agenda`` (a brief per open homework) on an unencrypted
    store decode the record's events plainly (``engine.reading.plain``): neither eventsourcing nor
    an event class is imported (only the topics' catalog)."""
    url, ids = store
    args = tuple(ids[1] if a == "@" else a for a in args)  # agreed homework, with entries
    out = in_subprocess(
        f"""
        import sys
        from click.testing import CliRunner
        from between.cli import build_cli

        result = CliRunner().invoke(build_cli(), {list(args)!r})
        assert result.exit_code == 0, result.output
        print(result.output.count("C-0") > 0 or "erased" in result.output)
        print(*(m for m in sys.modules if m.startswith(
            ("eventsourcing", "between.events", "between.commands.", "between.engine.reading.light_records")
        )))
        """,
        {"BETWEEN_STORE": url},
    )
    said, loaded = out.splitlines()[-2:]
    assert said == "True", out  # it read the record: the client's code was opened
    assert {"between.engine.reading.light_records", f"between.commands.{module}"} <= set(
        loaded.split()
    )
    light = {"between.events", "between.events.catalog"}  # topics only: no event class
    events = [m for m in loaded.split() if m.startswith(("eventsourcing", "between.events"))]
    assert set(events) <= light, events
    assert not {"between.commands.homework", "between.commands.auditing"} & set(loaded.split())


def test_each_built_in_command_module_adds_the_commands_it_is_listed_with():
    for module, names in COMMAND_MODULES.items():
        group = click.Group("between")
        group.add_command(click.Group("client"))  # ``links`` adds to it
        import_module(f"between.commands.{module}").register(group)
        assert sorted(group.commands) == sorted({*names, "client"}), module


def test_the_catalog_gives_each_built_in_command_its_own_help_line():
    every = build_cli()
    every.add_built_in()
    assert sorted(SHORT_HELP) == sorted(every.commands)
    for name, command in every.commands.items():
        for limit in (20, 45, 80, 10**6):
            listed = click.Command(name, help=SHORT_HELP[name]).get_short_help_str(limit)
            assert listed == command.get_short_help_str(limit), (name, limit)


def test_help_imports_no_command_module():
    out = in_subprocess("""
        import sys
        from click.testing import CliRunner
        from between.cli import build_cli

        assert CliRunner().invoke(build_cli(), ["--help"]).exit_code == 0
        print(*sorted(m for m in sys.modules if m.startswith("between.commands.")))
    """)
    assert set(out.split()) <= {
        "between.commands.catalog", "between.commands.errors",
        "between.commands.inputs", "between.commands.output",
        "between.commands.session",
    }  # fmt: skip


def test_commands_loaded_on_demand_say_what_they_all_loaded_say():
    names = sorted({name for names in COMMAND_MODULES.values() for name in names})
    for args in [[], ["nosuch"], ["client", "link"], *([n] for n in names)]:
        every = build_cli()
        every.add_built_in()
        lazy, eager = (CliRunner().invoke(c, [*args, "--help"]) for c in (build_cli(), every))
        assert (lazy.output, lazy.exit_code) == (eager.output, eager.exit_code), args


# -- list paging ---------------------------------------------------------------------------


def test_list_shows_the_first_rows_and_says_how_many_there_are(store):
    url, ids = store
    env = {"BETWEEN_STORE": url}
    every = json.loads(run(env, "list", "--all", "--json")[0])
    assert len(every) == len(ids) < DEFAULT_LIMIT
    out, note = run(env, "list")
    assert note == "" and len(out.splitlines()) == len(ids) + 1
    out, note = run(env, "list", "--limit", "4")
    assert len(out.splitlines()) == 5
    assert note == f"showing 4 of {len(ids)}; --limit N or --all for more\n"
    shown, note = run(env, "list", "--limit", "4", "--json")
    assert json.loads(shown) == every[:4] and note.startswith("showing 4 of")
    assert json.loads(run(env, "list", "--json")[0]) == every
    table, _ = run(env, "list", "--all")
    assert table == run(env, "list", "--limit", "100")[0]
    overdue = json.loads(run(env, "list", "--status", "declined", "--all", "--json")[0])
    assert [r["id"] for r in overdue] == [r["id"] for r in every if r["status"] == "declined"]
    _, said = run(env, "list", "--limit", "2", "--all", code=2)
    assert "--limit N or --all, not both" in said
    _, said = run(env, "list", "--limit", "0", code=2)
    clients, note = run(env, "client", "list", "--limit", "1")
    assert (
        len(clients.splitlines()) == 2 and note == "showing 1 of 3; --limit N or --all for more\n"
    )
    assert json.loads(run(env, "client", "list", "--all", "--json")[0]) == json.loads(
        run(env, "client", "list", "--json")[0]
    )


def test_the_full_listing_streams_page_by_page(store, monkeypatch):
    """Pages smaller than the listing: every row once, in order, as one query gives them."""
    from between.engine.reading import queries

    url, _ = store
    app = Homework(Store.parse(url), read_only=True)
    whole = app.list_assignments()
    monkeypatch.setattr(queries, "BATCH", 2)
    assert list(app.stream_assignments()) == whole
    assert list(app.stream_clients()) == app.list_clients()
    app.close()


# -- replay --check and log --json ---------------------------------------------------------


def test_log_json_is_every_event_as_each_record_reads(store):
    url, _ = store
    app = Homework(Store.parse(url), read_only=True)
    out, _ = run({"BETWEEN_STORE": url}, "log", "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [r["position"] for r in lines] == list(range(1, len(lines) + 1))
    by_record: dict[str, list] = {}
    for line in lines:
        by_record.setdefault(line["aggregate"], []).append(line)
    for aggregate, exported in by_record.items():  # each record, read by itself
        events = list(app.events.get(UUID(aggregate)))
        assert [e.originator_version for e in events] == [r["version"] for r in exported]
        for event, record in zip(events, exported, strict=True):
            assert export_record(Entry(record["position"], event)) == record
    assert [export_record(e) for e in entries(app)] == lines
    app.close()


def test_replay_check_reads_the_log_once_and_finds_every_difference(store):
    url, _ = store
    app = Homework(Store.parse(url), read_only=True)
    seen = [events for events in replay.records(app)]
    ids = [events[0].originator_id for events in seen]
    assert len(ids) == len(set(ids)) and ids == sorted(ids, key=lambda i: i.hex)
    for events in seen:  # each record's events, as reading that record alone gives them
        assert [e.originator_version for e in events] == [
            e.originator_version for e in app.events.get(events[0].originator_id)
        ]
    assert run({"BETWEEN_STORE": url}, "replay", "--check")[0] == "read models match the log\n"
    with app_writing(url) as c:
        c.execute("UPDATE rm_assignments SET entries = entries + 1 WHERE status = 'declined'")
        c.execute("DELETE FROM rm_clients WHERE code = 'C-0'")
    out, _ = run({"BETWEEN_STORE": url}, "replay", "--check", code=1)
    assert out.count("differs in column entries") == 3  # one declined homework a client
    assert "is missing from the read model" in out and "rm_clients: 2 stored rows, 3" in out
    app.close()


class app_writing:
    def __init__(self, url: str) -> None:
        self.app = Homework(Store.parse(url))
        self.context = self.app.writing()

    def __enter__(self):
        return self.context.__enter__()

    def __exit__(self, *exc):
        self.context.__exit__(*exc)
        self.app.close()
