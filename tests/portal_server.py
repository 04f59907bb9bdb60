"""The portal tests' clinic and server: a store prepared through the Homework API, and
``between serve`` started as a real process on a free loopback port."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from uuid import uuid4

from helpers import BETWEEN, cli_stdout, envelope

from between.engine.aggregates.link_tokens import secret_hash
from between.engine.app import Homework
from between.engine.storage.store import Store

NAME = "Alex Rivera"
COLLABORATOR = "Sam Okafor"
SECRET = "s3cret-of-the-form-tool-0123456789abcdef"

WORKSHEET = """
name = "weekly-review"
title = "Weekly review"
description = "Look back on the week."

[[fields]]
name = "highlight"
max_length = 80
question = "What was the best moment of your week?"
help = "Small things count too."
[[fields]]
name = "slept_well"
type = "boolean"
[[fields]]
name = "energy"
type = "choice"
choices = ["low", "medium", "high"]
[[fields]]
name = "weekday"
type = "choice"
choices = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
required = false
[[fields]]
name = "hours_outside"
type = "number"
minimum = 0
maximum = 100
[[fields]]
name = "moments"
type = "list"
required = false
[[fields]]
name = "moods"
type = "ratings"
minimum = 0
maximum = 10
required = false
[[fields]]
name = "planned_for"
type = "datetime"
required = false
[[fields]]
name = "reflection"
min_length = 20
"""


@dataclass
class Clinic:
    """A prepared store: one client, a collaborator, homework of three task types, links."""

    store: str
    worksheets: Path
    config: Path
    homework: dict[str, str] = field(default_factory=dict)  # what → assignment id
    tokens: dict[str, str] = field(default_factory=dict)  # who → link token
    code: str = "C-104"
    plugins: Path | None = None  # a folder of plugins, when the clinic has its own
    library: Path | None = None  # a folder of homework templates, when the clinic has one

    @property
    def options(self) -> list[str]:
        """The global options that open this store with this clinic's task types."""
        found = ["--store", self.store, "--worksheets-dir", str(self.worksheets)]
        found += ["--library-dir", str(self.library)] if self.library else []
        return found + (["--plugins-dir", str(self.plugins)] if self.plugins else [])

    def open(self, clock: Any = None) -> Homework:
        from between.engine.hooks.loading import load_plugins
        from between.engine.settings import Settings

        settings = Settings(worksheets_dir=self.worksheets, plugins_dir=self.plugins)
        plugins = load_plugins(settings)
        return Homework(Store.parse(self.store), plugins=plugins, clock=clock)

    def cli(self, *args: str, code: int = 0) -> str:
        """``between ARGS`` on this store, in this process; its standard output."""
        return cli_stdout(None, *self.options, "--actor", "dr.lee", *args, code=code)

    def show(self, what: str) -> dict[str, Any]:
        return json.loads(self.cli("show", self.homework[what], "--json"))

    def log(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.cli("log", "--json").splitlines()]

    def link(self, person: str = "client", **how: Any) -> str:
        """A new link's token for the client or the collaborator."""
        app = self.open(how.pop("clock", None))
        try:
            return app.issue_link(self.code, person=person, actor="dr.lee", **how)[1]
        finally:
            app.close()

    def old_link(self, person: str = "client", days: int = 14) -> str:
        """A link of the first format (the client's id, then 32 random bytes, whose hash is
        stored), recorded as that format's links were."""
        app = self.open()
        try:
            client_id, secret, now = app.client_id(self.code), secrets.token_bytes(32), app.now()
            expires = now + timedelta(days=days)
            app.work.change(
                lambda: app._client(self.code),
                lambda c: c.issue_link(
                    uuid4(), person, secret_hash(secret), expires, envelope(at=now)
                ),
            )
        finally:
            app.close()
        return base64.urlsafe_b64encode(client_id.bytes + secret).decode().rstrip("=")


FAULTY = """
from between import Field, Schema, TaskType, hookimpl

class Faulty(TaskType):
    def validate_entry(self, data, parameters):
        raise ValueError(f"cannot digest {data}")

@hookimpl
def between_register_task_types(registry):
    registry.add(Faulty("faulty-diary", "Faulty diary", "fails", "test",
                        entries=Schema((Field("words"),))))
"""


def prepare(
    folder: Path, store: str | None = None, portal: str = "", faulty: bool = False
) -> Clinic:
    """A store with a client, their partner, and agreed self-monitoring (observed by the
    partner), graded exposure, a clinic worksheet, and declined relaxation homework.
    ``portal`` is more lines for the ``[portal]`` table of its configuration file."""
    folder.mkdir(parents=True, exist_ok=True)
    worksheets = folder / "worksheets"
    worksheets.mkdir(exist_ok=True)
    (worksheets / "weekly-review.toml").write_text(WORKSHEET)
    settings = folder / "config.toml"
    settings.write_text(
        f'[portal]\nclinic_name = "Riverside Clinic"\nurl = "http://portal.test"\n{portal}\n'
        f'[portal.integrations.forms]\nsecret = "{SECRET}"\n'
    )
    clinic = Clinic(store or str(folder / "between.db"), worksheets, settings)
    if faulty:  # a clinic plugin whose validation fails: homework "faulty" uses it
        clinic.plugins = folder / "plugins"
        clinic.plugins.mkdir(exist_ok=True)
        (clinic.plugins / "faulty.py").write_text(FAULTY)
    Homework.initialise(Store.parse(clinic.store))
    app = clinic.open()
    me = {"actor": "dr.lee"}
    try:
        app.register_client(clinic.code, NAME, "dr.lee", **me)
        app.add_collaborator(clinic.code, COLLABORATOR, "partner", **me)
        plans = {
            "monitoring": ("self-monitoring", {"target": "nail biting"}, [COLLABORATOR]),
            "exposure": ("graded-exposure", {"hierarchy_item": "take the bus"}, []),
            "worksheet": ("weekly-review", {}, []),
            "declined": ("relaxation", {"technique": "other"}, []),
        }
        if faulty:
            plans["faulty"] = ("faulty-diary", {}, [])
        for what, (kind, parameters, observers) in plans.items():
            aid = app.propose(
                clinic.code,
                kind,
                instructions=f"Do the {kind} homework",
                rationale="It helps us see the pattern",
                stage="practice",
                difficulty=2,
                due="+7",
                expected_entries=5,
                parameters=parameters,
                observers=observers,
                **me,
            ).result
            if what == "declined":
                app.decline(aid, reason="not now", **me)
            else:
                app.agree(aid, **me)
            clinic.homework[what] = aid
        for person in ("client", COLLABORATOR):
            clinic.tokens[person] = app.issue_link(clinic.code, person=person, **me)[1]
    finally:
        app.close()
    return clinic


def six_homework(clinic: Clinic, code: str = "C-206") -> str:
    """Another client of the clinic with six agreed homework, due over the next days; their
    link's token."""
    app = clinic.open()
    me = {"actor": "dr.lee"}
    kinds = [
        ("self-monitoring", {"target": "nail biting"}),
        ("graded-exposure", {"hierarchy_item": "take the bus"}),
        ("weekly-review", {}),
        ("relaxation", {"technique": "other"}),
        ("reflective-writing", {"prompt": "a good day"}),
        ("assertiveness", {"skill": "saying no"}),
    ]
    try:
        app.register_client(code, "Jo Example", "dr.lee", **me)
        for n, (kind, parameters) in enumerate(kinds):
            aid = app.propose(
                code,
                kind,
                # Long first lines: each card's line under its title is cut to 80 characters.
                instructions=f"Do the {kind} homework each evening, writing down what happened "
                "and how you felt about it afterwards.\nThen bring it along next time.",
                rationale="It helps us see the pattern",
                stage="practice",
                difficulty=2,
                due=f"+{n + 2}",
                expected_entries=5,
                parameters=parameters,
                **me,
            ).result
            app.agree(aid, **me)
        return app.issue_link(code, person="client", **me)[1]
    finally:
        app.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """``between serve`` running as a real process."""

    clinic: Clinic
    process: subprocess.Popen
    port: int
    output: Path
    errors: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, how: int = signal.SIGTERM) -> tuple[int, str, str]:
        """Stop it (SIGTERM, or ``how``); its exit code, standard output and standard error."""
        if self.process.poll() is None:
            self.process.send_signal(how)
        code = self.process.wait(timeout=30)
        return code, self.output.read_text(), self.errors.read_text()


def start(clinic: Clinic, folder: Path, *options: str, config: Path | None = None) -> Server:
    """``between serve`` on a free port (``config`` instead of the clinic's configuration
    file); returns once it listens."""
    port = free_port()
    out, err = folder / f"serve-{port}.out", folder / f"serve-{port}.err"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BETWEEN_")}
    env |= {"XDG_CONFIG_HOME": str(folder / "xdg"), "XDG_DATA_HOME": str(folder / "xdg")}
    args = [BETWEEN, *clinic.options]
    args += ["--config", str(config or clinic.config), "serve", "--port", str(port), *options]
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(args, stdout=stdout, stderr=stderr, env=env)
    server = Server(clinic, process, port, out, err)
    deadline = time.monotonic() + 60
    while "serving the portal" not in out.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise AssertionError(f"serve did not start: {err.read_text()}")
        time.sleep(0.05)
    return server


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    def form(self, assignment: str) -> dict[str, str]:
        """The hidden fields of the form for ``assignment`` on this page."""
        part = self.body.split(f'action="/homework/{assignment}"', 1)[1].split("</form>")[0]
        return dict(re.findall(r'name="(csrf_token|form_key)" value="([^"]*)"', part))


class Visitor:
    """A browser's HTTP side: one cookie, no redirects followed, every answer kept."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.cookie = ""
        self.answers: list[Answer] = []
        self.locations: list[str] = []

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        sent = {"Cookie": self.cookie} if self.cookie else {}
        connection.request(method, path, body=body, headers={**sent, **(headers or {})})
        response = connection.getresponse()
        answer = Answer(response.status, dict(response.getheaders()), response.read().decode())
        connection.close()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        if "Location" in answer.headers:
            self.locations.append(answer.headers["Location"])
        self.answers.append(answer)
        return answer

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Answer:
        body = urlencode(form).encode()
        kind = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", path, body, kind)

    def open_link(self, token: str) -> Answer:
        answer = self.get(f"/l/{token}")
        if answer.status == 303:
            assert urlsplit(answer.headers["Location"]).path == "/"
            return self.get("/")
        return answer


@contextmanager
def serving(clinic: Clinic) -> Iterator[Server]:
    """``between serve`` for the clinic while the block runs; it must then stop cleanly."""
    running = start(clinic, clinic.config.parent)
    yield running
    code, _, errors = running.stop()
    assert code == 0, errors
