"""Plugin faults are contained (issue 11): a broken channel costs only its own messages a
failed attempt naming it; a faulty ``between_render_message`` falls back to the default
wording; a message for a channel that is not loaded is held, visibly, and sent when it is back.
Run through the real command line with plugin files, and against a real SMTP server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from helpers import Clock, assign_args, invoke, relaxation
from peers import SmtpServer

from between import hookimpl
from between.engine.app import Homework
from between.engine.hooks.loading import load_plugins
from between.engine.settings import Settings
from between.engine.storage.store import Store
from between.notify.dispatcher import Dispatcher

ACTOR = {"actor": "dr.lee"}

JOTTER = """
from between import Delivery, hookimpl

class Jotter:
    name = "jotter"
    address_key = None

    def send(self, message, settings):
        with open({out!r}, "a") as f:
            f.write(message.key + " " + message.subject + "\\n")
        return Delivery("delivered")

@hookimpl
def between_register_channels(registry):
    registry.add(Jotter())
"""

BROKEN = """
from between import hookimpl

class Mute:  # returns nothing
    name = "mute"
    address_key = None

    def send(self, message, settings):
        return None

class Boom:  # raises
    name = "boom"
    address_key = None

    def send(self, message, settings):
        raise RuntimeError("gateway exploded")

@hookimpl
def between_register_channels(registry):
    registry.add(Mute())
    registry.add(Boom())
"""


def plugin_dir(tmp_path: Path, *, broken: bool = True) -> Path:
    folder = tmp_path / ("plugins" if broken else "jotter-only")
    folder.mkdir(exist_ok=True)
    (folder / "jotter.py").write_text(JOTTER.format(out=str(tmp_path / "jotted.txt")))
    if broken:
        (folder / "broken.py").write_text(BROKEN)
    return folder


def agree_homework(env: dict[str, str], code: str) -> None:
    out = invoke(env, *assign_args(code, "relaxation", "technique=other", due="+9"), "--json")
    assert invoke(env, "agree", json.loads(out.output)["result"][:8]).exit_code == 0


def jotted(tmp_path: Path) -> list[str]:
    path = tmp_path / "jotted.txt"
    return path.read_text().splitlines() if path.exists() else []


def test_a_broken_channel_beside_a_working_one_costs_only_its_own_messages(tmp_path):
    config = tmp_path / "clinic.toml"
    config.write_text("[notify]\nmax_attempts = 2\nbackoff_seconds = 0\n")
    env = {
        "BETWEEN_STORE": str(tmp_path / "p.db"),
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_PLUGINS_DIR": str(plugin_dir(tmp_path)),
        "BETWEEN_CONFIG": str(config),
    }
    invoke(env, "init")
    for code in ("C1", "C2", "C3"):
        invoke(env, "client", "add", code, "--name", f"Client {code}", "--therapist", "dr.lee")
        for channel in ("mute", "jotter", "boom"):
            assert invoke(env, "client", "consent", code, "--channel", channel).exit_code == 0
        agree_homework(env, code)
    first = invoke(env, "notify")
    assert first.exit_code == 0, first.output
    assert "queued 9, sent 3, retrying 6" in first.output
    assert len(jotted(tmp_path)) == 3  # every message of the working channel arrived
    rows = json.loads(invoke(env, "notify", "--status", "--json").stdout)["notifications"]
    details = {r["channel"]: r["last_detail"] for r in rows if r["status"] == "pending"}
    assert details == {
        "mute": "channel 'mute' (plugin local:broken.py) returned NoneType, not a Delivery",
        "boom": "channel 'boom' (plugin local:broken.py) raised RuntimeError: gateway exploded",
    }

    agree_homework(env, "C1")  # later runs keep working; the broken ones now fail for good
    second = invoke(env, "notify")
    assert "sent 1" in second.output and "failed 6" in second.output
    assert second.exit_code == 3  # so that cron alerts
    assert "6 notification(s) failed in this run" in second.output
    assert len(jotted(tmp_path)) == 4
    status = invoke(env, "notify", "--status")
    assert status.exit_code == 3 and "2 pending, 0 held, 4 sent, 6 failed" in status.output
    assert invoke(env, "notify").exit_code == 3  # C1's new ones, on their second attempt
    assert invoke(env, "notify").exit_code == 0  # nothing newly failed: nothing to alert

    follower = subprocess.Popen(
        [sys.executable, "-c", "from between.cli import main; main()", "notify", "--follow",
         "--interval", "0.1"],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        agree_homework(env, "C2")
        deadline = time.monotonic() + 240
        while len(jotted(tmp_path)) < 5:
            assert time.monotonic() < deadline and follower.poll() is None, follower.stderr
            time.sleep(0.05)
        agree_homework(env, "C3")
        while len(jotted(tmp_path)) < 6:
            assert time.monotonic() < deadline and follower.poll() is None
            time.sleep(0.05)
    finally:
        follower.send_signal(signal.SIGINT)
        _, err = follower.communicate(timeout=30)
    assert follower.returncode in (0, 130) and "Traceback" not in err, err  # 130: mid-pass


def test_a_channel_not_loaded_holds_its_messages_until_it_is_back(tmp_path):
    with_plugin = {
        "BETWEEN_STORE": str(tmp_path / "h.db"),
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_PLUGINS_DIR": str(plugin_dir(tmp_path, broken=False)),
    }
    without = {**with_plugin, "BETWEEN_PLUGINS_DIR": ""}
    invoke(with_plugin, "init")
    invoke(with_plugin, "client", "add", "C1", "--name", "Ana", "--therapist", "dr.lee")
    assert invoke(with_plugin, "client", "consent", "C1", "--channel", "jotter").exit_code == 0
    agree_homework(with_plugin, "C1")

    down = invoke(without, "notify")
    assert down.exit_code == 0 and "queued 1" in down.output and "held 1" in down.output
    assert "held 0" in invoke(without, "notify").output  # held once, not again and again
    status = invoke(without, "notify", "--status")
    assert "1 held" in status.output
    assert "channel 'jotter' is not loaded; held until it is" in status.output
    assert jotted(tmp_path) == []

    back = invoke(with_plugin, "notify")
    assert back.exit_code == 0 and "sent 1" in back.output
    [line] = jotted(tmp_path)
    assert "Homework agreed" in line
    [row] = json.loads(invoke(with_plugin, "notify", "--status", "--json").stdout)["notifications"]
    assert (row["status"], row["attempts"]) == ("sent", 1)  # holding is not an attempt


class Raising:
    @hookimpl
    def between_render_message(self, notification, default):
        if notification["kind"] == "agreed":
            raise ValueError("template missing")
        return None


class Scribbling:
    @hookimpl
    def between_render_message(self, notification, default):
        if notification["kind"] == "entry":
            return "not a message"
        if notification["kind"] == "declined":  # rewords, and tries to redirect
            return replace(default, subject="Declined", address="elsewhere@example.org")
        return None


def test_a_faulty_render_hook_falls_back_to_the_default_wording(tmp_path):
    smtp = SmtpServer()
    smtp.start()
    config = tmp_path / "clinic.toml"
    config.write_text(
        f'[channels.email]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
        '[therapists."dr.lee"]\nchannels = ["email"]\nemail = "lee@clinic.example"\n'
    )
    settings = Settings(store=str(tmp_path / "r.db"), config_file=config, plugins_dir=None)
    Homework.initialise(Store.parse(settings.store))
    clock = Clock()
    app = Homework(
        Store.parse(settings.store),
        clock=clock,
        plugins=load_plugins(settings, extra=(Raising(), Scribbling())),
    )
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    app.change_contacts("C1", "client", {"email": "ana@example.org"}, **ACTOR)
    app.record_consent("C1", "email", **ACTOR)
    aid = relaxation(app, "C1", due="+9", expected_entries=3)
    app.agree(aid, **ACTOR)
    app.submit(aid, {"minutes": 5, "tension_before": 5, "tension_after": 2}, **ACTOR)
    app.decline(relaxation(app, "C1"), reason="busy", **ACTOR)
    dispatcher = Dispatcher(app, settings)
    try:
        done = dispatcher.run_once()
        assert (done.sent, done.retrying, done.failed) == (3, 0, 0)
        assert dispatcher.run_once().sent == 0  # not retried
    finally:
        dispatcher.close()
        smtp.stop()
    mails = {m["Subject"]: m["To"] for m in smtp.messages}
    assert mails == {
        "Homework agreed: Breathing and relaxation practice": "ana@example.org",
        "New entry for C1": "lee@clinic.example",
        "Declined": "lee@clinic.example",  # reworded, not redirected
    }
    rows = {r["kind"]: r for r in app.notifications()}
    assert all(r["status"] == "sent" and r["attempts"] == 1 for r in rows.values())
    assert rows["agreed"]["last_detail"].endswith(
        "plugin Raising: between_render_message raised ValueError: template missing; "
        "the default wording was used"
    )
    assert (
        "plugin Scribbling: between_render_message returned str, not a Message"
        in (rows["entry"]["last_detail"])
    )
    assert (
        "may reword, not redirect; kept the message's address" in (rows["declined"]["last_detail"])
    )
    app.close()


def test_retry_says_what_it_does_and_the_statuses_match_the_engine(tmp_path):
    from between.commands.notifications import NOTIFICATION_STATUSES
    from between.engine.aggregates.notifications import STATUSES

    assert NOTIFICATION_STATUSES == STATUSES
    help_text = invoke({}, "notify", "--help").output
    assert "Queue a failed notification again" in help_text and "Exit codes" in help_text
    config = tmp_path / "clinic.toml"
    config.write_text("[notify]\nmax_attempts = 1\n")
    env = {
        "BETWEEN_STORE": str(tmp_path / "q.db"),
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_PLUGINS_DIR": str(plugin_dir(tmp_path)),
        "BETWEEN_CONFIG": str(config),
    }
    invoke(env, "init")
    invoke(env, "client", "add", "C1", "--name", "Ana", "--therapist", "dr.lee")
    invoke(env, "client", "consent", "C1", "--channel", "mute")
    agree_homework(env, "C1")
    assert invoke(env, "notify").exit_code == 3
    [row] = json.loads(invoke(env, "notify", "--status", "--json").stdout)["notifications"]
    retry = invoke(env, "notify", "--retry", row["id"][:8])
    assert retry.exit_code == 0
    assert retry.output.strip() == (
        f"notification {row['id'][:8]} is queued again: the next 'between notify' pass sends "
        "it (same idempotency key), if it may still be sent"
    )
    assert "1 pending" in invoke(env, "notify", "--status").output
