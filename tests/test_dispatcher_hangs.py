"""No channel can hold the dispatcher (issue 21): a plugin channel whose ``send`` never
answers costs its own messages a failed attempt naming the plugin, the other channels still
go, ``notify`` still exits; a dispatcher that hangs (``kill -STOP``) loses its lease and a
standby ``notify --follow`` takes over — on SQLite and PostgreSQL, as real processes, with a
real SMTP server on loopback. And ``--interval`` is a number of seconds, at least 0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import BETWEEN, invoke, relaxation, run_installed
from peers import SmtpServer

from between.engine.app import Homework
from between.engine.hooks.loading import load_plugins
from between.engine.settings import Settings
from between.engine.storage.kinds import lease_for
from between.engine.storage.store import Store

ACTOR = {"actor": "dr.lee"}

PLUGINS = """
import threading

from between import Delivery, hookimpl


class Hang:  # never answers
    name = "hang"
    address_key = None

    def send(self, message, settings):
        threading.Event().wait()


class Jotter:  # one line per message, in a file any process can read
    name = "jotter"
    address_key = None

    def send(self, message, settings):
        with open({out!r}, "a") as f:
            f.write(message.key + "\\n")
        return Delivery("delivered")


@hookimpl
def between_register_channels(registry):
    registry.add(Hang())
    registry.add(Jotter())
"""


def clinic(tmp_path: Path, store_url: str, config: str, channels: tuple[str, ...]) -> Homework:
    """A store whose client C1 consents to ``channels`` (email at ana@example.org)."""
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "channels.py").write_text(
        PLUGINS.format(out=str(jotted_file(tmp_path)))
    )
    (tmp_path / "clinic.toml").write_text(textwrap.dedent(config))
    settings = Settings(
        store=store_url, config_file=tmp_path / "clinic.toml", plugins_dir=tmp_path / "plugins"
    )
    Homework.initialise(Store.parse(store_url))
    app = Homework(Store.parse(store_url), plugins=load_plugins(settings))
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    app.change_contacts("C1", "client", {"email": "ana@example.org"}, **ACTOR)
    for channel in channels:
        app.record_consent("C1", channel, **ACTOR)
    return app


def agree(app: Homework, count: int = 1) -> None:
    for _ in range(count):
        app.agree(relaxation(app, "C1", due="+30", expected_entries=1), **ACTOR)


def env_of(tmp_path: Path, store_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "BETWEEN_STORE": store_url,
        "BETWEEN_CONFIG": str(tmp_path / "clinic.toml"),
        "BETWEEN_PLUGINS_DIR": str(tmp_path / "plugins"),
        "BETWEEN_ACTOR": "dr.lee",
    }


def jotted_file(tmp_path: Path) -> Path:
    return tmp_path / "jotted.txt"


def jotted(tmp_path: Path) -> list[str]:
    path = jotted_file(tmp_path)
    return path.read_text().splitlines() if path.exists() else []


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds until ``condition()`` held (fails after ``timeout``)."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"timed out waiting for {what}"
        time.sleep(0.02)
    return time.monotonic() - start


def holder_pid(store_url: str) -> int | None:
    probe = lease_for(Store.parse(store_url))
    try:
        words = probe.holder().split()
    finally:
        probe.release()
    return int(words[1]) if words[:1] == ["pid"] else None


def test_a_hanging_channel_costs_only_its_own_messages_and_notify_still_exits(tmp_path):
    smtp = SmtpServer()
    smtp.start()
    config = f"""
        [channels.email]
        host = "127.0.0.1"
        port = {smtp.port}
        security = "none"
        timeout = 2

        [channels.hang]
        send_timeout_seconds = 1

        [notify]
        max_attempts = 2
        backoff_seconds = 0
    """
    store = str(tmp_path / "h.db")
    app = clinic(tmp_path, store, config, ("hang", "email"))
    agree(app, 2)
    app.close()
    env = env_of(tmp_path, store)
    try:
        start = time.monotonic()
        first = run_installed(env, "notify", inherit=False, timeout=60)
        took = time.monotonic() - start
        assert first.returncode == 0, first.stderr
        assert "queued 4, sent 2, retrying 2" in first.stdout
        assert len(smtp.messages) == 2  # the email channel went on beside the hanging one
        assert took < 12  # one timeout of 1 s, not one per message, and not forever
        rows = json.loads(run_installed(env, "notify", "--status", "--json", inherit=False).stdout)[
            "notifications"
        ]
        details = sorted(r["last_detail"] for r in rows if r["channel"] == "hang")
        blame = "channel 'hang' (plugin local:channels.py)"
        assert details[0] == f"{blame} did not answer within 1 s"
        assert re.fullmatch(  # the second one is not queued behind the stuck send
            rf"{re.escape(blame)} has not answered an earlier message for \d+ s; "
            "not handed this one",
            details[1],
        ), details
        assert {r["status"] for r in rows if r["channel"] == "hang"} == {"pending"}

        # their last attempt: failed for good, exit 3 for cron
        second = run_installed(env, "notify", inherit=False, timeout=60)
        assert second.returncode == 3 and "failed 2" in second.stdout
        [line] = second.stderr.splitlines()
        assert "2 notification(s) failed in this run" in line
        status = run_installed(env, "notify", "--status", inherit=False)
        assert "0 pending, 0 held, 2 sent, 2 failed" in status.stdout
        assert "Traceback" not in first.stderr + second.stderr
    finally:
        smtp.stop()


def followers(env: dict[str, str], count: int = 2) -> list[subprocess.Popen]:
    follow = [BETWEEN, "notify", "--follow", "--interval", "0.2"]
    return [
        subprocess.Popen(follow, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]


def test_a_hung_dispatcher_loses_its_lease_and_a_standby_takes_over(store_url, tmp_path):
    config = "[notify]\nlease_seconds = 2\n"
    app = clinic(tmp_path, store_url, config, ("jotter",))
    procs = followers(env_of(tmp_path, store_url))
    try:
        agree(app)
        wait_for(lambda: len(jotted(tmp_path)) == 1, 60, "the first message")
        wait_for(lambda: holder_pid(store_url) in {p.pid for p in procs}, 30, "the holder")
        sent = {"sent"}
        wait_for(lambda: {r["status"] for r in app.notifications()} == sent, 30, "the record")
        time.sleep(0.5)  # stopped between passes, not inside a SQLite write (which would
        # hold the store itself, not only the lease, until the process ends)
        [hung] = [p for p in procs if p.pid == holder_pid(store_url)]
        [standby] = [p for p in procs if p is not hung]
        hung.send_signal(signal.SIGSTOP)
        agree(app)
        took = wait_for(lambda: len(jotted(tmp_path)) == 2, 60, "the standby to take over")
        assert took < 2 + 8  # the lease (2 s), a poll and a pass, on a busy machine
        assert holder_pid(store_url) == standby.pid
        hung.send_signal(signal.SIGCONT)  # it wakes up without its lease: it stops at once
        _, hung_err = hung.communicate(timeout=30)
        assert hung.returncode == 1
        [line] = hung_err.splitlines()[-1:]
        assert "lease" in line and "stopped before sending more" in line, hung_err
        agree(app)
        wait_for(lambda: len(jotted(tmp_path)) == 3, 60, "the standby to go on")
        assert len(set(jotted(tmp_path))) == 3  # nothing sent twice
        assert standby.poll() is None
    finally:
        for p in procs:
            p.send_signal(signal.SIGCONT)
            p.send_signal(signal.SIGINT)
        outs = [p.communicate(timeout=30) for p in procs]
        app.close()
    standby_err = outs[procs.index(standby)][1]
    assert "took over the dispatcher's lease: its holder has not renewed it for" in standby_err
    assert "Traceback" not in standby_err + hung_err


def test_a_dispatcher_waiting_for_a_hanging_channel_keeps_its_lease(tmp_path):
    config = """
        [notify]
        lease_seconds = 1.5
        max_attempts = 1

        [channels.hang]
        send_timeout_seconds = 3
    """
    store = str(tmp_path / "k.db")
    app = clinic(tmp_path, store, config, ("hang", "jotter"))
    procs = followers(env_of(tmp_path, store))
    try:
        wait_for(lambda: holder_pid(store) in {p.pid for p in procs}, 30, "the holder")
        holder = holder_pid(store)
        agree(app)
        wait_for(lambda: len(jotted(tmp_path)) == 1, 3 + 10, "the other channel's message")
        failed = {"failed"}
        wait_for(lambda: {r["status"] for r in app.notifications()} >= failed, 30, "the failure")
        assert holder_pid(store) == holder  # it renewed its lease while it waited
        assert all(p.poll() is None for p in procs)
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
        outs = [p.communicate(timeout=30) for p in procs]
        rows = app.notifications()
        app.close()
    assert not any("took over" in err for _, err in outs), outs
    [row] = [r for r in rows if r["channel"] == "hang"]
    assert (
        row["last_detail"] == "channel 'hang' (plugin local:channels.py) did not answer within 3 s"
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--interval", "5"], "--interval goes with --follow"),
        (["--interval", "-1"], "--interval goes with --follow"),
        (["--follow", "--interval", "-1"], "--interval must be a positive number of seconds"),
        (["--follow", "--interval", "0"], "--interval must be a positive number of seconds"),
        (["--follow", "--interval", "nan"], "--interval must be a positive number of seconds"),
        (["--follow", "--interval", "inf"], "--interval must be a positive number of seconds"),
        (["--follow", "--interval", "5s"], "--interval must be a positive number of seconds"),
        (["--follow", "--interval", "0.000001"], "--interval must be at least 0.1 seconds"),
        (["--follow", "--interval", "0.09"], "--interval must be at least 0.1 seconds"),
    ],
)
def test_interval_is_a_positive_number_of_seconds_with_follow(tmp_path, args, said):
    env = {"BETWEEN_STORE": str(tmp_path / "i.db"), "BETWEEN_ACTOR": "dr.lee"}
    assert invoke(env, "init").exit_code == 0
    run = invoke(env, "notify", *args)
    assert run.exit_code == 2
    [line] = run.output.splitlines()
    assert said in line and "Traceback" not in run.output


@pytest.mark.parametrize(
    ("config", "said"),
    [
        ("[notify]\nsend_timeout_seconds = 0\n", "[notify] send_timeout_seconds = 0 must be"),
        ("[notify]\nlease_seconds = nan\n", "[notify] lease_seconds = nan must be"),
        ('[channels.sms]\nsend_timeout_seconds = "x"\n', "[channels.sms] send_timeout_seconds"),
    ],
)
def test_a_wrong_timeout_or_lease_setting_is_refused_in_one_line(tmp_path, config, said):
    (tmp_path / "c.toml").write_text(config)
    env = {"BETWEEN_STORE": str(tmp_path / "c.db"), "BETWEEN_CONFIG": str(tmp_path / "c.toml")}
    run = invoke({**env, "BETWEEN_ACTOR": "dr.lee"}, "notify")
    assert run.exit_code == 2
    [line] = run.output.splitlines()
    assert said in line
