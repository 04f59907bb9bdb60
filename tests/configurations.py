"""The configuration matrix's machinery (``test_configurations``): Between built as a wheel and
installed into a fresh virtual environment, each command run as a process of that environment,
PostgreSQL roles set up as a clinic sets them up, and the normaliser that lets the outputs of
different stores be compared."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from helpers import PG_DB, PG_HOST, PG_PORT, PG_USER, require_postgres

ROOT = Path(__file__).resolve().parent.parent
#: The password carried in every PostgreSQL address (the test server trusts; it is not checked).
PASSWORD = "s3cret:pw@"  # characters a URL must quote
#: The six tables docs/auditing.md grants an auditor.
AUDITED_TABLES = (
    "stored_events",
    "between_meta",
    "rm_position",
    "rm_clients",
    "rm_assignments",
    "rm_notifications",
)


def sh(*args: str | Path, **options) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, **options
    )
    assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done.stdout


def install_between(work: Path) -> Path:
    """A wheel of this checkout (built from a copy: the checkout is left as it is), installed
    with its dependencies into a fresh virtual environment; that environment's ``between``."""
    checkout = work / "checkout"
    ignored = shutil.ignore_patterns(
        ".*", "build", "dist", "*.egg-info", "__pycache__", "*.db*", "tests", "bench"
    )
    shutil.copytree(ROOT, checkout, ignore=ignored)
    sh(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", work / "dist", checkout)
    (wheel,) = (work / "dist").glob("between_homework-*.whl")
    venv = work / "venv"
    sh(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    sh(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-compile", wheel)
    return venv / "bin" / "between"


def clean_environment(folder: Path) -> dict[str, str]:
    """This process's environment without Between's, Python's or a virtual environment's
    variables, with the XDG folders in ``folder``."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BETWEEN_", "PYTHON", "VIRTUAL"))
    }
    return env | {"XDG_CONFIG_HOME": str(folder / "xdg"), "XDG_DATA_HOME": str(folder / "xdg")}


@dataclass
class Ran:
    """One finished ``between`` process."""

    args: tuple[str, ...]
    code: int
    out: str
    err: str


@dataclass
class Clinic:
    """One store, and ``between`` run against it as separate processes."""

    name: str
    between: Path
    folder: Path
    store: str
    key_file: Path | None = None
    config: Path | None = None
    ids: dict[str, str] = field(default_factory=dict)  # what → assignment id
    #: Text that differs between stores however it is run: the folder, the addresses.
    local: dict[str, str] = field(default_factory=dict)  # text → its label
    #: Store, configuration and key as global options (``--store`` …) instead of variables.
    by_options: bool = False

    def settings(self) -> dict[str, str]:
        """The store, configuration file and key file, by variable name."""
        found = {"BETWEEN_STORE": self.store}
        found |= {"BETWEEN_CONFIG": str(self.config)} if self.config else {}
        return found | ({"BETWEEN_KEY_FILE": str(self.key_file)} if self.key_file else {})

    def options(self) -> list[str]:
        """The global options that give the settings, when given as options."""
        named = {"BETWEEN_STORE": "--store", "BETWEEN_CONFIG": "--config"}
        named["BETWEEN_KEY_FILE"] = "--key-file"
        given = self.settings().items() if self.by_options else ()
        return [part for var, value in given for part in (named[var], value)]

    def env(self, actor: str = "dr.lee", **more: str) -> dict[str, str]:
        env = clean_environment(self.folder) | ({} if self.by_options else self.settings())
        return env | ({"BETWEEN_ACTOR": actor} if actor else {}) | more

    def run(self, *args: str, code: int = 0, actor: str = "dr.lee", **env: str) -> Ran:
        """``between ARGS``: it must exit with ``code``, never with a traceback, and a refusal
        must be one line on standard error."""
        done = subprocess.run(
            [str(self.between), *self.options(), *args],
            capture_output=True,
            text=True,
            env=self.env(actor, **env),
            cwd=self.folder,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
        ran = Ran(args, done.returncode, done.stdout, done.stderr)
        said = f"[{self.name}] between {' '.join(args)} exited {ran.code}:\n{ran.out}{ran.err}"
        assert "Traceback" not in ran.out + ran.err, said
        assert ran.code == code, said
        if code:
            assert len(ran.err.strip().splitlines()) == 1, said
        return ran

    def normal(self, text: str) -> str:
        return normalise(text, self.local)


# -- normalising -----------------------------------------------------------------------------

_HEX = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|[0-9a-f]{8,})(?![0-9A-Za-z])"
)
#: A random token: a form's key in the portal's request keys, a link's in its address.
_TOKEN = re.compile(r"(?<=portal:)[\w-]{16,}|(?<=/l/)[\w-]{16,}")
_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"(?: UTC)?"
)
_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")


def normalise(text: str, local: dict[str, str] | None = None) -> str:
    """``text`` with what differs between two runs of the same commands replaced: the given
    local strings (folders, addresses) by their labels; random tokens by ``<token>``; ids,
    digests and hashes (hex of 8 or
    more characters, or UUIDs) by ``<#N>``, numbered in order of appearance, a short id by
    the number of the full id it begins; times by ``<time>``; dates by their distance from
    today (``<today+7>``)."""
    for value in sorted(local or {}, key=len, reverse=True):
        text = text.replace(value, (local or {})[value])
    text = _TOKEN.sub("<token>", text)
    tokens = [m.group(0).replace("-", "") for m in _HEX.finditer(text)]
    full = [t for t in tokens if len(t) >= 32]
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        token = match.group(0).replace("-", "")
        key = next((f for f in full if f.startswith(token)), token) if len(token) < 32 else token
        return f"<#{numbers.setdefault(key, len(numbers) + 1)}>"

    text = _HEX.sub(number, text)
    text = _TIME.sub("<time>", text)
    today = date.today()

    def relative(match: re.Match[str]) -> str:
        try:
            days = (date.fromisoformat(match.group(0)) - today).days
        except ValueError:
            return match.group(0)
        return f"<today{days:+d}>"

    return _DATE.sub(relative, text)


# -- PostgreSQL roles ----------------------------------------------------------------------


def admin_connection():
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, autocommit=True)


def address(role: str, schema: str) -> str:
    from urllib.parse import quote

    return f"postgresql://{role}:{quote(PASSWORD, safe='')}@{PG_HOST}:{PG_PORT}/{PG_DB}?schema={schema}"


@contextmanager
def owned_schema(name: str) -> Iterator[tuple[str, str]]:
    """A login role with a password — not a superuser — that owns only its schema in the test
    database; (its store address, the schema). Both are dropped afterwards."""
    require_postgres()
    role = schema = f"cfg_{name}_{os.urandom(4).hex()}"
    with admin_connection() as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
        admin.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {role}")
    try:
        yield address(role, schema), schema
    finally:
        with admin_connection() as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


@contextmanager
def auditor_of(schema: str) -> Iterator[str]:
    """The read-only auditor's role of docs/auditing.md on ``schema`` (with a password);
    its store address. Dropped afterwards."""
    role = f"cfg_auditor_{os.urandom(4).hex()}"
    tables = ", ".join(f"{schema}.{t}" for t in AUDITED_TABLES)
    with admin_connection() as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
        admin.execute(f"GRANT CONNECT ON DATABASE {PG_DB} TO {role}")
        admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        admin.execute(f"GRANT SELECT ON {tables} TO {role}")
        admin.execute(f"ALTER ROLE {role} SET default_transaction_read_only = on")
    try:
        yield address(role, schema)
    finally:
        with admin_connection() as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")
