"""Shared test helpers: stores on both backends, a settable clock, counting the log, and the
one way to run ``between``: in this process (:func:`invoke`, :func:`cli`, :func:`cli_stdout`)
or as the installed command in its own process (:func:`run_installed`)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from between.engine.work.envelope import Envelope

PG_HOST = os.environ.get("BETWEEN_TEST_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BETWEEN_TEST_PG_PORT", "5432")
PG_USER = os.environ.get("BETWEEN_TEST_PG_USER", "postgres")
PG_DB = os.environ.get("BETWEEN_TEST_PG_DB", "test")


def postgres_available() -> bool:
    import psycopg

    try:
        psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, connect_timeout=3
        ).close()
    except psycopg.Error:
        return False
    return True


def require_postgres() -> None:
    """Skip without PostgreSQL on a laptop; in CI (CI=true) its absence is a failure."""
    if postgres_available():
        return
    message = f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} (database {PG_DB})"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + " — required in CI")
    pytest.skip(message)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema in the test database; yields its store URL and drops it after."""
    import psycopg

    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, autocommit=True
    ) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}?schema={schema}"
    finally:
        with psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, autocommit=True
        ) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


class Clock:
    """A clock tests can move: ``clock.advance(days=3)``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(microseconds=1)
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def envelope(
    actor: str = "dr.lee", at: datetime | None = None, request_key: str | None = None
) -> Envelope:
    """The envelope an aggregate's command takes, for tests that call aggregates directly
    (the code makes them only through the unit of work); ``at`` defaults to now."""
    return Envelope(actor, request_key, at or datetime.now(UTC))


def count_events(app) -> int:
    """How many events the store holds."""
    with app.reading() as c:
        c.execute("SELECT COUNT(*) AS n FROM stored_events")
        return c.fetchone()["n"]


RELAXATION = {
    "instructions": "i",
    "rationale": "r",
    "stage": "practice",
    "difficulty": 1,
    "due": "+2",
    "expected_entries": 2,
    "parameters": {"technique": "other"},
}


def relaxation(app, code: str, **changes) -> str:
    """Propose relaxation homework for ``code`` (as dr.lee unless ``actor`` is given); its id."""
    fields = {**RELAXATION, "actor": "dr.lee", **changes}
    return app.propose(code, "relaxation", **fields).result


def assign_args(code: str, task_type: str, *fields: str, due: str = "+3") -> list[str]:
    """``between assign`` arguments for plain practice homework, with ``--field`` options."""
    args = ["assign", code, task_type, "--stage", "practice", "--difficulty", "1",
            "--due", due, "--instructions", "do it", "--rationale", "why"]  # fmt: skip
    for f in fields:
        args += ["--field", f]
    return args


BETWEEN = str(Path(sys.executable).with_name("between"))
"""The installed ``between`` command, beside this Python."""

Env = Mapping[str, str] | str | Path
"""Environment for a run; a bare store URL or path stands for ``{"BETWEEN_STORE": it}``."""


def _environment(env: Env | None) -> dict[str, str]:
    if env is None:
        return {}
    if isinstance(env, str | Path):
        return {"BETWEEN_STORE": str(env)}
    return dict(env)


def invoke(
    env: Env | None, *args: str, code: int | None = None, input: str | bytes | None = None
) -> Result:
    """``between ARGS`` in this process through click's CliRunner. An exception that escapes
    the command fails the test; so does an exit status other than ``code`` (None: any)."""
    from between.cli import build_cli

    result = CliRunner().invoke(build_cli(), list(args), env=_environment(env), input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    if code is not None:
        said = result.output  # standard output and error, interleaved
        assert result.exit_code == code, f"exit {result.exit_code}, expected {code}: {said}"
    return result


def cli(env: Env | None, *args: str, code: int = 0, input: str | None = None) -> str:
    """``between ARGS`` in this process, expected to exit ``code``; what it printed (standard
    output and error, as a terminal shows them)."""
    return invoke(env, *args, code=code, input=input).output


def cli_stdout(env: Env | None, *args: str, code: int = 0, input: str | None = None) -> str:
    """``between ARGS`` in this process, expected to exit ``code``; its standard output alone."""
    return invoke(env, *args, code=code, input=input).stdout


def run_installed(
    env: Env | None,
    *args: str,
    check: bool = False,
    inherit: bool = True,
    cwd: Path | None = None,
    input: str | None = None,
    timeout: float = 120,
    prefix: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """The installed ``between ARGS`` in its own process (after ``prefix``, a command such as
    ``setpriv …``), with ``env`` over this process's environment (over nothing unless
    ``inherit``); with ``check``, it must exit 0."""
    environment = {**(os.environ if inherit else {}), **_environment(env)}
    done = subprocess.run(
        [*prefix, BETWEEN, *args],
        env=environment,
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def library_clinic(folder: Path) -> dict[str, str]:
    """A SQLite clinic in ``folder`` with client C-104, its own (empty) library and plugin
    folders and only Between's built-in plugins: the environment that reaches it."""
    for name in ("library", "plugins"):
        (folder / name).mkdir()
    environment = {
        "BETWEEN_STORE": str(folder / "t.db"),
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_LIBRARY_DIR": str(folder / "library"),
        "BETWEEN_PLUGINS_DIR": str(folder / "plugins"),
        "BETWEEN_WORKSHEETS_DIR": str(folder / "worksheets"),
        "BETWEEN_PLUGINS": "",
    }
    cli(environment, "init")
    cli(environment, "client", "add", "C-104", "--name", "Alex", "--therapist", "dr.lee")
    return environment
