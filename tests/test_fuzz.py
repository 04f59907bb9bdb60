"""Fuzzing the command line: whatever is typed, Between answers in one line and keeps its log.

Hypothesis drives ``between`` in-process (CliRunner) against a real SQLite store prepared once
for the test — a client with a collaborator, proposed and agreed homework — with commands
whose options and values are drawn from odd Unicode, control characters, very long strings,
paths (folders, missing files, files that are not JSON), negative and huge numbers and the
edges of the calendar. It covers the write commands, ``report`` and ``export fhir`` (``-o`` into
a FIFO, a link, a folder with and without its ``/``...), ``client link``, the options of
``serve`` (which, once they are accepted, records its settings instead of listening) and of
``notify``, and ``import -`` fed random bytes and lines. Every run: no traceback, exit code 0,
1 or 2 (``notify``: or 3), and a refused command (exit 1 or 2) leaves the log as it was; at the
end, whatever ``-o`` named is as it was unless it was a regular file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import cli_stdout, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from between.cli import build_cli
from between.engine.storage.store import Store

NASTY = [
    "", " ", "\x00", "\t", "a\nb", "\r\n", "\x1b[31mred\x1b[0m", "\u202etxet", "\ufeff", "🙂",
    "é", "e\u0301", "\ud800", "𝕏" * 40, "x" * 5_000, "-", "--", "-1", "0", "1", "4", "10",
    "-999999999999999999999", "99999999999999999999999", "1e309", "nan", "inf", "1.5", "0x10",
    "0001-01-01", "9999-12-31", "0000-00-00", "2026-02-30", "+0", "+1", "+9999", "+99999", "-7",
    "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00", "2026-11-25T18:30", "yesterday",
    "[" * 3_000, "{" * 3_000, '{"a": 1}', "[1, 2]", "C-1", "Sam", "client", "dr.lee", "%s", "'",
    "relaxation", "self-monitoring", "thought-record", "practice", "baseline", "continue",
    "close", "email", "console", "minutes=5", "technique=other", "=", "a=", "=b", "k=" + "v" * 300,
]  # fmt: skip


def values(paths: list[str], ids: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY + paths + ids),
        st.text(max_size=40),
        st.integers().map(str),
        st.dates().map(str),
        st.sampled_from(ids).flatmap(lambda i: st.integers(1, 36).map(lambda n: i[:n])),
    )


def commands(
    v: st.SearchStrategy[str], ids: dict[str, str], out: Path
) -> st.SearchStrategy[tuple[list[str], bytes]]:
    """A command line — a template of words, each slot a value that is often plausible — and
    what standard input holds (bytes and lines for ``import -``, else nothing). ``-o`` names
    only paths in ``out``: a FIFO, a link, a folder, folders with and without a slash..."""

    def mix(*plausible: str) -> st.SearchStrategy[str]:
        return st.one_of(st.sampled_from(plausible), v)

    proposed, agreed = st.just(ids["proposed"]), st.just(ids["agreed"])
    target = st.one_of(proposed, agreed, v)
    due = mix("+1", "+7", "2030-01-01", "9999-12-31", "0001-01-01", "2020-01-01", "+0")
    when = mix("2026-01-01", "2026-11-25T18:30", "0001-01-01", "9999-12-31", "1900-01-01")
    rating = st.one_of(st.integers(-2, 6).map(str), v)
    level = st.one_of(st.integers(-1, 12).map(str), v)
    text = st.one_of(st.text(min_size=1, max_size=30), v)
    stage = mix("baseline", "practice", "relapse-prevention")
    field = mix("minutes=5", "tension_before=3", "tension_after=1", "technique=other", "note=x")
    output = st.one_of(
        st.sampled_from(["", "-", *(f"{out}/{n}" for n in OUTPUTS)]),  # keeps a trailing /
        st.text(alphabet=st.characters(blacklist_characters="/\x00"), max_size=20).map(
            lambda name: str(out / name)
        ),
    )
    url = st.one_of(st.sampled_from(URLS), v, st.text(max_size=20).map(lambda t: f"https://{t}"))
    never_an_interval = st.one_of(  # --follow with a valid interval would run for ever
        st.sampled_from(["0", "-1", "nan", "inf", "-inf", "1e309", "", "x", "5s"]),
        st.floats(max_value=0).map(str),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8),
    )
    templates: list[tuple[Any, ...]] = [
        ("client", "add", mix("C-2", "C-3"), "--name", text, "--therapist", text),
        ("client", "collaborator", "C-1", text, "--relationship", text),
        ("client", "contact", "C-1", "--person", mix("client", "Sam"), "--email", text,
         "--webhook", text),
        ("client", "consent", "C-1", "--channel", mix("email", "console", "webhook")),
        ("client", "show", mix("C-1")), ("client", "list", "--status", mix("active")),
        ("client", "erase", v, "--reason", text),
        ("assign", "C-1", mix("relaxation", "self-monitoring"), "--stage", stage, "--difficulty",
         level, "--due", due, "--instructions", text, "--rationale", text, "--entries", level,
         "--field", field),
        ("assign", "C-1", "relaxation", "--stage", "practice", "--difficulty", "1", "--due", due,
         "--instructions", text, "--rationale", "r", "--field", "technique=other"),
        ("assign", "C-1", "relaxation", "--stage", "practice", "--difficulty", "2", "--due", "+3",
         "--instructions", "i", "--rationale", "r", "--fields-file", v),
        ("adjust", target, "--due", due), ("adjust", target, "--difficulty", level),
        ("adjust", target, "--field", field, "--observer", mix("Sam")),
        ("agree", target, "--confidence", level),
        ("submit", agreed, "--field", field, "--occurred-at", when),
        ("submit", agreed, "--fields-file", v),
        ("submit", agreed, "--by", mix("client", "Sam"), "--field", "minutes=5", "--field",
         "tension_before=5", "--field", "tension_after=2"),
        ("review", agreed, "--quantity", rating, "--quality", rating, "--difficulty", rating,
         "--next-step", mix("continue", "modify"), "--due", due),
        ("decline", target, "--reason", text), ("cancel", v, "--reason", text), ("close", v),
        ("show", target), ("list", "--due-before", due), ("list", "--client", mix("C-1")),
        ("agenda", mix("C-1")), ("log", "--since", when, "--until", when), ("log", "--type", v),
        ("history", target), ("replay", "--at", when), ("replay", target, "--at", when),
        ("verify", "--against", v), ("types", "show", mix("relaxation")),
        ("operators", "add", v, "--role", v),
        ("report", mix("C-1"), "-o", output), ("report", "--clinic", "-o", output),
        ("report", mix("C-1"), "--json", "--since", when, "--until", when),
        ("report", mix("C-1", "--clinic"), "--since", when, "-o", output),
        ("export", "fhir", "-o", output), ("export", "fhir", "--client", mix("C-1"), "-o", output),
        ("export", "fhir", "--since", when, "--until", when, "--transaction", "-o", output),
        ("export", "fhir", "--include-personal", "--client", v, "--until", when),
        ("client", "link", mix("C-1"), "--person", mix("client", "Sam"), "--expires", level),
        ("client", "link", mix("C-1"), "--revoke", "--person", mix("client", "Sam")),
        ("serve", "--url", url), ("serve", "--host", v, "--port", mix("8080", "0", "65536")),
        ("serve", "--port", v, "--url", url),
        ("notify",), ("notify", "--status"), ("notify", "--retry", v), ("notify", "--interval", v),
        ("notify", "--follow", "--interval", never_an_interval),
    ]  # fmt: skip
    prefixes = st.sampled_from([(), (), (), ("--config", v), ("--key-file", v), ("--actor", v)])
    suffixes = st.sampled_from([(), (), ("--json",), ("--idempotency-key", v)])
    chosen = st.tuples(prefixes, st.sampled_from(templates), suffixes)
    lines = st.tuples(prefixes, st.sampled_from(imports(ids, mix)))
    typed = st.tuples(chosen.flatmap(lambda t: argv((*t[0], *t[1], *t[2]))), st.just(b""))
    read = st.tuples(lines.flatmap(lambda t: argv((*t[0], *t[1]))), import_input())
    return st.one_of(typed, typed, typed, typed, typed, read)  # one in six an import


#: What ``-o`` may name in the fuzzed output folder (the fixture makes the odd ones).
OUTPUTS = ["pipe", "link", "dangling", "folder", "folder/", "missing/", "missing/r.html", "r.html",
           "r.json", ".", "./", "a\nb", "x" * 300]  # fmt: skip
#: Public base URLs for ``serve --url``: good, and each a way of being wrong.
URLS = ["https://homework.clinic.example", "http://127.0.0.1:8080", "https://exa mple.com",
        "https://x.example/ base", "http://[::1", "ftp://x.example", "https://", "https://x:0",
        "https://x:99999", "https://x.example?q=1", "https://u@x.example", "homework.example",
        "https://x.example\n", "https://\u202ex.example"]  # fmt: skip


def imports(ids: dict[str, str], mix: Any) -> list[tuple[Any, ...]]:
    """``import -`` command lines (standard input holds the file); another engineer owns the
    format, so the fuzz asks only that no input takes the command down."""
    kind = mix("relaxation", "self-monitoring")
    return [
        ("import", "-"), ("import", "-", "--type", kind),
        ("import", "-", "--type", kind, "--assignment", mix(ids["agreed"], ids["proposed"])),
        ("import", "-", "--stop-on-error", "--json"),
    ]  # fmt: skip


def import_input() -> st.SearchStrategy[bytes]:
    """Random bytes, random lines, and lines shaped like CSV or JSON records."""
    cells = st.one_of(st.sampled_from(NASTY[:60]), st.text(max_size=12))
    csv = st.lists(st.lists(cells, min_size=1, max_size=5).map(",".join), max_size=6).map(
        lambda rows: "\n".join(["minutes,tension_before,tension_after,technique", *rows])
    )
    records = st.lists(
        st.dictionaries(st.sampled_from(RECORD_KEYS), st.one_of(cells, st.integers()), max_size=6)
        .map(lambda d: json.dumps(d, ensure_ascii=False)),
        max_size=5,
    ).map("\n".join)  # fmt: skip
    lines = st.lists(st.text(max_size=30), max_size=8).map("\n".join)
    text = st.one_of(csv, records, lines)
    return st.one_of(st.binary(max_size=300), text.map(lambda t: t.encode("utf-8", "replace")))


RECORD_KEYS = ["kind", "type", "id", "client", "assignment", "task_type", "fields", "by",
               "occurred_at", "code", "name", "therapist", "stage", "due"]  # fmt: skip


def argv(parts: tuple[Any, ...]) -> st.SearchStrategy[list[str]]:
    """Arguments: fixed words as they are, a value drawn for each strategy."""
    drawn = [p if isinstance(p, st.SearchStrategy) else st.just(p) for p in parts]
    return st.tuples(*drawn).map(list)


def count(store: Path) -> int:
    """Rows in the log, read as an auditor reads them (leaving no WAL file behind)."""
    with closing(sqlite3.connect(Store.parse(str(store)).read_only_uri(), uri=True)) as db:
        return db.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]


@pytest.fixture
def clinic(tmp_path: Path) -> dict[str, Any]:
    """A store with client C-1 (collaborator Sam), one proposed and one agreed assignment."""
    store = tmp_path / "fuzz.db"
    env = {"BETWEEN_STORE": str(store), "BETWEEN_ACTOR": "dr.lee", "BETWEEN_DEBUG": ""}

    def run(*args: str) -> str:
        return cli_stdout(env, *args)

    run("init")
    run("client", "add", "C-1", "--name", "Alex", "--therapist", "dr.lee")
    run("client", "collaborator", "C-1", "Sam", "--relationship", "partner")
    homework = ("assign", "C-1", "relaxation", "--stage", "practice", "--difficulty", "2",
                "--due", "+7", "--entries", "50", "--instructions", "i", "--rationale", "r",
                "--field", "technique=other", "--json")  # fmt: skip
    ids = {name: json.loads(run(*homework))["result"] for name in ("proposed", "agreed")}
    run("agree", ids["agreed"])
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("not JSON at all\n")
    (tmp_path / "fields.json").write_text('{"minutes": 5, "tension_before": 5, "tension_after": 1}')
    (tmp_path / "list.json").write_text("[1, 2, 3]")
    (tmp_path / "bytes.bin").write_bytes(b"\xff\xfe\x00")
    paths = [str(tmp_path / n) for n in ("folder", "notes.txt", "fields.json", "list.json", "bytes.bin", "missing.json")]  # fmt: skip
    paths += [str(store), "/", "/dev/null", "x" * 300]
    out = tmp_path / "out"  # everything -o names, and the working folder (report's default)
    out.mkdir()
    (out / "folder").mkdir()
    os.mkfifo(out / "pipe")
    (out / "kept.txt").write_text("kept\n")
    (out / "link").symlink_to("kept.txt")
    (out / "dangling").symlink_to("nowhere")
    return {"store": store, "env": env, "ids": ids, "paths": paths, "out": out}


def test_no_command_line_takes_between_down(clinic: dict[str, Any], monkeypatch):
    import between.portal.server

    store, env, out = clinic["store"], clinic["env"], clinic["out"]
    v = values(clinic["paths"], list(clinic["ids"].values()))
    served: list[Any] = []
    # ``serve`` whose options are accepted records its settings instead of listening.
    monkeypatch.setattr(between.portal.server, "serve", lambda config, *_: served.append(config))
    monkeypatch.chdir(out)

    @settings(
        max_examples=int(os.environ.get("BETWEEN_FUZZ_EXAMPLES", "1000")),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(drawn=commands(v, clinic["ids"], out))
    def one(drawn: tuple[list[str], bytes]) -> None:
        args, stdin = drawn
        before = count(store)
        result = CliRunner().invoke(build_cli(), args, env=env, input=stdin)
        output = result.stdout + result.stderr
        assert "Traceback" not in output, (args, output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            repr(result.exception),
        )
        command = next((a for a in args if a in ("import", "notify")), None)
        codes = (0, 1, 2, 3) if command == "notify" else (0, 1, 2)  # 3: a message failed
        assert result.exit_code in codes, (args, result.exit_code, output)
        if result.exit_code in (1, 2) and command != "import":  # an import keeps what it took
            assert count(store) == before, (args, output)
        # Issue 21's commands, without global options (whose messages are not yet all one line)
        mine = args[:1] in (["report"], ["export"], ["serve"], ["notify"]) or args[:2] == [
            "client",
            "link",
        ]
        if result.exit_code == 2 and mine and command != "import":  # one line (or click's)
            assert result.stderr.strip().count("\n") == 0 or "Usage:" in result.stderr, (
                args,
                result.stderr,
            )

    # Expected beside the store: notify's lock, and matplotlib's cache in $XDG_CONFIG_HOME.
    made = {f"{store.name}.notify-lock", "config"}
    files = sorted(store.parent.iterdir())
    one()
    assert sorted(p for p in store.parent.iterdir() if p.name not in made) == files
    # -o wrote regular files or nothing: the odd things it named are as they were
    assert stat.S_ISFIFO(os.lstat(out / "pipe").st_mode)
    assert os.readlink(out / "link") == "kept.txt" and os.readlink(out / "dangling") == "nowhere"
    assert (out / "kept.txt").read_text() == "kept\n" and not (out / "missing").exists()
    for p in out.rglob("*"):
        assert not p.name.endswith(".tmp"), p  # no temporary file left behind
        kind = os.lstat(p).st_mode
        assert stat.S_ISREG(kind) or p.name in ("pipe", "link", "dangling", "folder"), p
    for config in served:
        assert not any(c.isspace() for c in config.url), config.url


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("serve", "--url", "https://exa mple.com"), ("--url", "spaces")),
        (("serve", "--url", "http://[::1"), ("--url", "well-formed")),
        (("serve", "--url", "ftp://x.example"), ("--url", "http")),
        (("notify", "--follow", "--interval", "nan"), ("--interval",)),
        (("client", "link", "C-1", "--expires", "0"), ("1",)),
        (("report", "C-1", "-o", ""), ("-o",)),
        (("export", "fhir", "--since", "nope"), ("--since",)),
        (("export", "fhir", "--until", "nope"), ("--until",)),
    ],
)
def test_examples_are_refused_in_one_line_naming_the_option(
    clinic: dict[str, Any], monkeypatch, args: tuple[str, ...], words: tuple[str, ...]
):
    import between.portal.server

    monkeypatch.setattr(between.portal.server, "serve", lambda *_: pytest.fail("it served"))
    before = count(clinic["store"])
    result = invoke(clinic["env"], *args)
    assert result.exit_code == 2, (result.exit_code, result.output)
    line = result.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line, line
    for word in words:
        assert word in line, (word, line)
    assert count(clinic["store"]) == before
