"""Every configuration a clinic runs works as the demo does (issue 21).

Between is built as a wheel and installed into a fresh virtual environment; every command runs
as a separate process of that environment's ``between``: the README's walkthrough and every
write, ``import``, the portal (``serve``, a link fetched over HTTP, an entry posted through its
form) and ``notify`` into a real SMTP server — on SQLite, on SQLite encrypted, and on
PostgreSQL (plain and encrypted) as a role with a password that owns only its schema (the
plain stores are named by variables, ``BETWEEN_STORE`` …, the encrypted ones by global options,
``--store`` …). Then each reading command must print the same on every store, once ids, times
and dates are normalised; and the documented read-only auditor role (docs/auditing.md, with a
password too) reads the PostgreSQL stores. The four stores are made side by side, one thread
each, once for the module (``Clinics``).
"""

from __future__ import annotations

import json
import signal
import subprocess
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from configurations import Clinic, Ran, auditor_of, install_between, owned_schema
from peers import SmtpServer, free_port
from portal_server import Visitor

pytestmark = pytest.mark.slow

STORES = [
    "sqlite",
    "sqlite-encrypted",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("postgres-encrypted", marks=pytest.mark.postgres),
]
AUDITORS = [
    pytest.param("auditor", marks=pytest.mark.postgres),
    pytest.param("auditor-encrypted", marks=pytest.mark.postgres),
]
STEPS = ["walkthrough", "import", "portal", "notify"]
NAME = "Alex Rivera"

#: Each reading command; ``@what`` is the id of that homework, ``@now`` the present moment.
READING = {
    "list": ["list"],
    "list-json": ["list", "--json"],
    "list-overdue": ["list", "--overdue"],
    "client-list": ["client", "list"],
    "client-list-json": ["client", "list", "--json"],
    "client-show": ["client", "show", "C-104"],
    "client-show-discharged": ["client", "show", "C-200"],
    "show": ["show", "@monitoring"],
    "show-json": ["show", "@relaxation", "--json"],
    "agenda": ["agenda", "C-104"],
    "agenda-json": ["agenda", "C-104", "--json"],
    "history": ["history", "C-104"],
    "history-assignment": ["history", "@monitoring"],
    "log": ["log"],
    "log-json": ["log", "--json"],
    "replay-at": ["replay", "--at", "@now", "--client", "C-104"],
    "replay-check": ["replay", "--check"],
    "verify": ["verify"],
    "checkpoint": ["checkpoint"],
    "types": ["types"],
    "plugins": ["plugins"],
    "notify-status": ["notify", "--status"],
    "report-json": ["report", "C-104", "--json"],
    "report-clinic-json": ["report", "--clinic", "--json"],
    "export-fhir": ["export", "fhir"],
}


def clinic_config(folder: Path, smtp_port: int, portal_port: int) -> Path:
    path = folder / "clinic.toml"
    path.write_text(
        textwrap.dedent(f"""
        [channels.email]
        host = "127.0.0.1"
        port = {smtp_port}
        security = "none"
        sender = "homework@clinic.example"
        timeout = 5

        [therapists."dr.lee"]
        channels = ["email"]
        email = "lee@clinic.example"

        [portal]
        clinic_name = "Riverside Clinic"
        url = "http://127.0.0.1:{portal_port}"
        port = {portal_port}
        """)
    )
    return path


# -- the clinic on each store ------------------------------------------------------------------


def assign(c: Clinic, what: str, code: str, kind: str, stage: str, due: str, *more: str) -> str:
    """Propose homework under the key ``what`` (so its id is the same on every store)."""
    args = ["assign", code, kind, "--stage", stage, "--difficulty", "3", "--due", due]
    args += ["--instructions", f"Do the {kind} homework", "--rationale", "To see the pattern"]
    ran = c.run(*args, *more, "--idempotency-key", f"key-{what}", "--json")
    c.ids[what] = json.loads(ran.out)["result"]
    return c.ids[what][:8]


def walkthrough(c: Clinic) -> None:
    """The README's week, and every other write."""
    c.run("init", "--encrypt") if c.key_file else c.run("init")
    for code, name in (("C-104", NAME), ("C-200", "Jo Park")):
        c.run("client", "add", code, "--name", name, "--therapist", "dr.lee",
              "--idempotency-key", f"key-{code}")  # fmt: skip
    c.run("client", "collaborator", "C-104", "Sam", "--relationship", "partner")
    c.run("client", "contact", "C-104", "--email", "alex@example.org")
    c.run("client", "contact", "C-104", "--person", "Sam", "--email", "sam@example.org")
    c.run("client", "consent", "C-104", "--channel", "email")
    c.run("client", "consent", "C-104", "--channel", "email", "--person", "Sam")
    m = assign(c, "monitoring", "C-104", "self-monitoring", "baseline", "+7", "--entries", "5",
               "--field", "target=nail biting", "--observer", "Sam")  # fmt: skip
    c.run("adjust", m, "--field", "per_day=1")
    c.run("agree", m, "--confidence", "7", "--obstacles", "busy workdays")
    c.run("submit", m, "--field", "situation=team meeting", "--field", "emotion=anxious",
          "--field", "intensity=70")  # fmt: skip
    c.run("submit", m, "--by", "Sam", "--field", "situation=watching TV", "--field", "intensity=30")
    c.run("review", m, "--quantity", "4", "--quality", "3", "--difficulty", "2",
          "--next-step", "step-up", "--obstacles", "late nights")  # fmt: skip
    r = assign(c, "relaxation", "C-104", "relaxation", "practice", "+8", "--entries", "7",
               "--steps-up-from", m, "--field", "technique=diaphragmatic-breathing",
               "--observer", "Sam")  # fmt: skip
    c.run("agree", r, "--confidence", "8")
    d = assign(c, "declined", "C-104", "thought-record", "practice", "+9")
    c.run("decline", d, "--reason", "not this week")
    x = assign(c, "cancelled", "C-104", "reflective-writing", "practice", "+10",
               "--field", "prompt=a letter to my younger self")  # fmt: skip
    c.run("cancel", x, "--reason", "replaced by reading")
    b = assign(c, "closed", "C-104", "bibliotherapy", "practice", "+11",
               "--field", "medium=book", "--field", "title=Feeling Good")  # fmt: skip
    c.run("agree", b)
    c.run(
        "submit", b, "--field", "reactions=hopeful", "--field", "takeaways=thoughts are not facts"
    )
    c.run("close", b, "--reason", "read it all")
    late = (date.today() - timedelta(days=3)).isoformat()
    e = assign(c, "late", "C-104", "graded-exposure", "practice", late, "--allow-past-due",
               "--field", "hierarchy_item=take the bus")  # fmt: skip
    c.run("agree", e)
    j = assign(
        c, "moving", "C-200", "assertiveness", "practice", "+5", "--field", "skill=saying no"
    )
    c.run("cancel", j, "--reason", "moving away")
    c.run("client", "discharge", "C-200", "--reason", "moved away")


def import_records(c: Clinic) -> None:
    due = (date.today() + timedelta(days=12)).isoformat()
    records = [
        {"type": "client", "id": "c-300", "code": "C-300", "name": "Robin Vale",
         "therapist": "dr.lee"},
        {"type": "assignment", "id": "a-300", "client": "C-300", "task_type": "relaxation",
         "stage": "practice", "difficulty": 2, "due": due, "entries": 3,
         "instructions": "Breathe", "rationale": "Calm", "fields": {"technique": "mindfulness"},
         "agreed": {"confidence": 6}},
        {"type": "entry", "id": "e-300-1", "assignment": "a-300",
         "fields": {"minutes": 10, "tension_before": 6, "tension_after": 3}},
    ]  # fmt: skip
    path = c.folder / "clinic.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    summary = json.loads(c.run("import", str(path), "--json").out)
    assert (summary["stored"], summary["refused"]) == (3, 0), summary
    again = json.loads(c.run("import", str(path), "--json").out)  # nothing new
    assert (again["stored"], again["refused"], again["resumed_after_line"]) == (0, 0, 3), again


def portal(c: Clinic, port: int) -> None:
    """``serve``; the client's link opened over HTTP and an entry posted through its form."""
    link = json.loads(c.run("client", "link", "C-104", "--json").out)
    assert link["url"].startswith(f"http://127.0.0.1:{port}/l/"), link
    out, err = c.folder / "serve.out", c.folder / "serve.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        server = subprocess.Popen(
            [str(c.between), *c.options(), "serve"],
            stdout=stdout,
            stderr=stderr,
            env=c.env(),
            cwd=c.folder,
        )
    try:
        deadline = time.monotonic() + 60
        while "serving the portal" not in out.read_text():
            assert server.poll() is None and time.monotonic() < deadline, err.read_text()
            time.sleep(0.05)
        visitor = Visitor(_Port(port))
        page = visitor.open_link(link["token"])
        assert page.status == 200 and "Self-monitoring log" in page.body, page
        assert NAME not in page.body.split("<title>")[1].split("</title>")[0]
        aid = c.ids["relaxation"]
        form = visitor.get(f"/homework/{aid}").form(aid)  # each homework's form is on its page
        form |= {"field.minutes": "12", "field.tension_before": "7", "field.tension_after": "4"}
        posted = visitor.post(f"/homework/{aid}", form)
        assert posted.status == 303, posted.body
        assert "Your entry was recorded." in visitor.get(visitor.locations[-1]).body
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    assert code == 0, err.read_text()


@dataclass
class _Port:
    port: int


def notify(c: Clinic, mail: SmtpServer) -> None:
    before = len(mail.messages)
    c.run("notify")
    sent = {(m["To"], m["Subject"]) for m in mail.messages[before:]}
    for to in ("lee@clinic.example", "alex@example.org", "sam@example.org"):
        assert any(address == to for address, _ in sent), (sent, c.run("notify", "--status").out)
    assert not any(NAME in str(m) for m in mail.messages[before:]), "no personal data in mail"


class Clinics:
    """One populated clinic per store, each made — and its reading commands run — on a thread
    of its own (the work is in the processes), and kept for the module."""

    def __init__(self, between: Path, folder: Path, names: list[str]) -> None:
        self.between, self.folder = between, folder
        self.failed: dict[tuple[str, str], str] = {}  # (store, step) → what went wrong
        self.outputs: dict[tuple[str, str], Ran | BaseException] = {}
        self.cleanup = ExitStack()
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max(1, len(names)))
        owners = sorted(names, key=lambda n: n.startswith("auditor"))  # first: auditors wait
        self.made: dict[str, Future[Clinic]] = {}
        for name in owners:  # an auditor's owner is in ``made`` before the auditor starts
            self.made[name] = self.pool.submit(self._make, name)

    def get(self, name: str) -> Clinic:
        return self.made[name].result()

    def read(self, name: str, command: str) -> Ran:
        """A reading command's output on a store (run once, when the store was made)."""
        self.get(name)
        found = self.outputs[(name, command)]
        if isinstance(found, BaseException):
            raise found
        return found

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)
        self.cleanup.close()

    def _enter(self, context):
        with self.lock:
            return self.cleanup.enter_context(context)

    def _make(self, name: str) -> Clinic:
        if name.startswith("auditor"):
            owner = self.get(name.replace("auditor", "postgres"))
            url = self._enter(auditor_of(owner.store.rsplit("=", 1)[1]))
            c = replace(owner, name=name, store=url, local=owner.local | {url: "<store>"})
        else:
            c = self._populate(name)
        for command in READING:
            self.outputs[(name, command)] = self._read(c, command)
        return c

    def _populate(self, name: str) -> Clinic:
        folder = self.folder / name
        folder.mkdir()
        if name.startswith("postgres"):
            store, _ = self._enter(owned_schema(name.replace("-", "_")))
        else:
            store = str(folder / "between.db")
        mail = SmtpServer()
        mail.start()
        with self.lock:
            self.cleanup.callback(mail.stop)
        port = free_port()
        key = folder / "store.key" if name.endswith("encrypted") else None
        config = clinic_config(folder, mail.port, port)
        c = Clinic(name, self.between, folder, store, key, config)
        c.by_options = key is not None  # the encrypted stores: as options; the others: variables
        c.local = {str(folder): "<folder>", store: "<store>"}
        c.local |= {f"127.0.0.1:{port}": "<portal>", f"127.0.0.1:{mail.port}": "<smtp>"}
        for step, do in (
            ("walkthrough", lambda: walkthrough(c)),
            ("import", lambda: import_records(c)),
            ("portal", lambda: portal(c, port)),
            ("notify", lambda: notify(c, mail)),
        ):
            try:
                do()
            except Exception as e:  # said by the step's test; the next steps still run
                self.failed[(name, step)] = f"{type(e).__name__}: {e}"
        return c

    @staticmethod
    def _read(c: Clinic, command: str) -> Ran | BaseException:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        known = {"@now": now} | {f"@{what}": aid for what, aid in c.ids.items()}
        try:
            return c.run(*[known.get(a, a) for a in READING[command]])
        except Exception as e:
            return e


@pytest.fixture(scope="module")
def between(tmp_path_factory) -> Path:
    return install_between(tmp_path_factory.mktemp("installed"))


@pytest.fixture(scope="module")
def clinics(between, tmp_path_factory, request) -> Iterator[Clinics]:
    """The stores this session's tests of the module ask for, made side by side."""
    names = {
        name
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
        for key, name in item.callspec.params.items()
        if key in ("store", "auditor")
    }
    names |= {n.replace("auditor", "postgres") for n in names if n.startswith("auditor")}
    names.add("sqlite")  # the reference, and where the plugin folder is tried
    made = Clinics(between, tmp_path_factory.mktemp("clinics"), sorted(names))
    yield made
    made.close()


# -- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("store", STORES)
def test_every_write_works(clinics, store, step):
    """Each step of the clinic's week (run once per store, before the reading commands)."""
    clinics.get(store)
    failure = clinics.failed.get((store, step))
    assert failure is None, f"{step} on {store}: {failure}"


@pytest.mark.parametrize("command", READING)
@pytest.mark.parametrize("store", STORES)
def test_each_reading_command_reads_alike_on_every_store(clinics, store, command):
    """SQLite's output is the reference; the others must match it once normalised."""
    ran = clinics.read(store, command)
    assert ran.out.strip(), f"{command} on {store} printed nothing"
    if store == "sqlite":
        return  # the reference the others are compared with
    reference = clinics.get("sqlite").normal(clinics.read("sqlite", command).out)
    assert clinics.get(store).normal(ran.out) == reference


@pytest.mark.parametrize("store", STORES)
def test_a_refusal_is_one_line_and_records_nothing(clinics, store):
    c = clinics.get(store)
    before = clinics.read(store, "checkpoint").out
    said = c.run("agree", c.ids["declined"], code=1).err
    assert said.startswith("error: ") and "declined" in said
    too_hard = ["assign", "C-104", "relaxation", "--stage", "practice", "--due", "+3",
                "--instructions", "i", "--rationale", "r", "--difficulty", "11",
                "--field", "technique=other"]  # fmt: skip
    assert "difficulty must be from 1 to 10" in c.run(*too_hard, code=2).err
    assert c.run("checkpoint").out == before


@pytest.mark.parametrize("store", STORES)
def test_a_report_is_written_to_a_file(clinics, store):
    c = clinics.get(store)
    target = c.folder / "report-c104.html"
    c.run("report", "C-104", "-o", str(target))
    page = target.read_text()
    assert page.lstrip().lower().startswith("<!doctype html") and "C-104" in page


#: What the auditor reads as the store's owner does: no personal field in the output.
AS_THE_OWNER = [
    "list", "list-json", "list-overdue", "client-list", "client-list-json", "verify",
    "checkpoint", "types", "plugins", "notify-status",
]  # fmt: skip


#: What shows the auditor personal fields as ``[restricted]``.
RESTRICTED = [
    "show", "show-json", "client-show", "client-show-discharged", "agenda", "agenda-json",
    "history", "history-assignment", "log-json", "report-json",
]  # fmt: skip


@pytest.mark.parametrize("command", READING)
@pytest.mark.parametrize("auditor", AUDITORS)
def test_the_read_only_auditor_reads(clinics, auditor, command):
    """docs/auditing.md's role: six tables, read-only transactions, no client keys."""
    ran = clinics.read(auditor, command)
    owner = auditor.replace("auditor", "postgres")
    c = clinics.get(auditor)
    assert NAME not in ran.out
    if command in AS_THE_OWNER:
        assert c.normal(ran.out) == c.normal(clinics.read(owner, command).out)
    elif command in RESTRICTED:
        assert "[restricted]" in ran.out
    if command.startswith("client-show"):  # the code stays readable, as in 'client list'
        assert ran.out.startswith(f"{READING[command][-1]}  [restricted]  (")
    if command == "replay-check":
        assert "client codes not compared" in ran.out


@pytest.mark.parametrize("auditor", AUDITORS)
def test_the_auditor_may_not_write(clinics, auditor):
    c = clinics.get(auditor)
    before = clinics.read(auditor, "checkpoint").out
    said = c.run("client", "add", "C-900", "--name", "N", "--therapist", "dr.lee", code=1).err
    assert "read-only" in said
    assert c.run("checkpoint").out == before


LOCAL_COMMAND = """
import click
from between import hookimpl


@hookimpl
def between_register_commands(cli):
    @cli.command("clinic-hello")
    def hello():
        \"\"\"Greet from the clinic's own plugin folder.\"\"\"
        click.echo("hello from the clinic's folder")
"""


def test_a_plugin_folder_adds_its_command_by_option_as_by_variable(clinics, tmp_path):
    c = clinics.get("sqlite")
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "clinic.py").write_text(LOCAL_COMMAND)
    option, variable = ["--plugins-dir", str(folder)], {"BETWEEN_PLUGINS_DIR": str(folder)}
    for ran in (c.run(*option, "clinic-hello"), c.run("clinic-hello", **variable)):
        assert ran.out == "hello from the clinic's folder\n"
    for ran in (
        c.run(*option, "--help"),
        c.run("--help", *option),  # wherever --help stands
        c.run("--help", **variable),
    ):
        assert "clinic-hello  " in ran.out and "Greet from the clinic's own" in ran.out
    assert "clinic-hello" not in c.run("--help").out


def spanish(c: Clinic) -> Clinic:
    """The same clinic read by operators in Spanish (``[clinic] operator_language``)."""
    assert c.config is not None
    config = c.folder / "clinic-es.toml"
    config.write_text(c.config.read_text() + '\n[clinic]\noperator_language = "es"\n')
    return replace(c, config=config)


#: What each reading command says in Spanish (a line or words of it).
IN_SPANISH = {
    "show": ["instrucciones: Do the self-monitoring homework", "anotaciones: 2 de 5"],
    "agenda": ["Agenda de C-104", "Por revisar:", "ANOTACIONES"],
    "list": ["CLIENTE", "ESTADO", "VENCE"],
    "client-show": ["(active, terapeuta dr.lee)", "zona horaria:"],
    "verify": ["íntegro: "],
}
#: The JSON a Spanish clinic reads is the English clinic's, byte for byte.
JSON_COMMANDS = ["list-json", "show-json", "agenda-json", "client-list-json", "log-json"]


@pytest.mark.parametrize("store", STORES)
def test_a_spanish_clinic_reads_the_command_line_in_spanish(clinics, store):
    """Issue 24: the CLI's text in the operator language, its JSON unchanged, a refusal in
    Spanish in one line that records nothing — on every store, as separate processes."""
    c = clinics.get(store)
    es = spanish(c)
    known = {f"@{what}": aid for what, aid in c.ids.items()}
    for command, words in IN_SPANISH.items():
        out = es.run(*[known.get(a, a) for a in READING[command]]).out
        for said in words:
            assert said in out, f"{command} on {store}: {said!r} not in\n{out}"
    for command in JSON_COMMANDS:
        args = [known.get(a, a) for a in READING[command]]
        assert c.normal(es.run(*args).out) == c.normal(c.run(*args).out), command

    before = es.run("checkpoint").out
    said = es.run("agree", c.ids["declined"], code=1).err
    assert said.startswith("error: no se puede aceptar la tarea ") and "declined" in said
    too_hard = ["assign", "C-104", "relaxation", "--stage", "practice", "--due", "+3",
                "--instructions", "i", "--rationale", "r", "--difficulty", "11",
                "--field", "technique=other"]  # fmt: skip
    assert "difficulty debe estar entre 1 y 10, no 11" in es.run(*too_hard, code=2).err
    assert "no hay ningún cliente con el código 'C-999'" in es.run("agenda", "C-999", code=1).err
    assert es.run("checkpoint").out == before

    # Spanish is read with the standard library's gettext: Babel stays unloaded
    imported = es.run("list", PYTHONPROFILEIMPORTTIME="1").err
    assert "babel" not in imported and "between.language" in imported
