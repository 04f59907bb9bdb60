"""Fuzzing the command line: whatever is typed, Between answers in one line and keeps its log.

Hypothesis drives ``between`` in-process (CliRunner) against a real SQLite store prepared once
for the test — a client with a collaborator, proposed and agreed homework — with commands
whose options and values are drawn from odd Unicode, control characters, very long strings,
paths (folders, missing files, files that are not JSON), negative and huge numbers and the
edges of the calendar. Every run: no traceback, exit code 0, 1 or 2, and a refused command
(exit ≠ 0) leaves the log as it was.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from between.cli import build_cli
from between.engine.store import Store

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


def commands(v: st.SearchStrategy[str], ids: dict[str, str]) -> st.SearchStrategy[list[str]]:
    """A command line: a template of words, each slot a value that is often plausible."""

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
    ]  # fmt: skip
    prefixes = st.sampled_from([(), (), (), ("--config", v), ("--key-file", v), ("--actor", v)])
    suffixes = st.sampled_from([(), (), ("--json",), ("--idempotency-key", v)])
    chosen = st.tuples(prefixes, st.sampled_from(templates), suffixes)
    return chosen.flatmap(lambda t: argv((*t[0], *t[1], *t[2])))


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
        result = CliRunner().invoke(build_cli(), list(args), env=env)
        assert result.exit_code == 0, result.output + result.stderr
        return result.stdout

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
    return {"store": store, "env": env, "ids": ids, "paths": paths}


def test_no_command_line_takes_between_down(clinic: dict[str, Any]):
    store, env = clinic["store"], clinic["env"]
    v = values(clinic["paths"], list(clinic["ids"].values()))

    @settings(
        max_examples=int(os.environ.get("BETWEEN_FUZZ_EXAMPLES", "1000")),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(args=commands(v, clinic["ids"]))
    def one(args: list[str]) -> None:
        before = count(store)
        result = CliRunner().invoke(build_cli(), args, env=env, input="")
        output = result.stdout + result.stderr
        assert "Traceback" not in output, (args, output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            repr(result.exception),
        )
        assert result.exit_code in (0, 1, 2), (args, result.exit_code, output)
        if result.exit_code != 0:
            assert count(store) == before, (args, output)

    files = sorted(store.parent.iterdir())
    one()
    assert sorted(store.parent.iterdir()) == files  # nothing created beside the store
