"""``between demo``: one client's week of homework, run command by command on a new store."""

from __future__ import annotations

import os
import shlex
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import click
from click.testing import CliRunner

from between.language import gettext as _


def script(due: str, later: str) -> list[str]:
    """The commands of the demo; ``@ID`` stands for the last proposed assignment's id."""
    return [
        "init",
        "client add C-104 --name 'Alex Rivera' --therapist dr.lee",
        "client collaborator C-104 Sam --relationship partner",
        "client consent C-104 --channel console",
        "types",
        "assign C-104 self-monitoring --stage baseline --difficulty 2 --entries 5 "
        f"--due {due} --instructions 'Note each time you bite your nails' "
        "--rationale 'Establish a baseline of the habit and its triggers' "
        "--field target='nail biting' --observer Sam",
        "adjust @ID --entries 5 --field per_day=1",
        "agree @ID --confidence 7 --obstacles 'busy workdays'",
        "notify",
        "submit @ID --field situation='team meeting' --field emotion=anxious --field intensity=70",
        "submit @ID --field situation='commute' --field intensity=55",
        "submit @ID --by Sam --field situation='watching TV' --field intensity=30",
        "submit @ID --field situation='email from boss' --field emotion=tense --field intensity=65",
        "submit @ID --field situation='waiting room' --field intensity=50",
        "agenda C-104",
        "review @ID --quantity 4 --quality 3 --difficulty 2 --next-step step-up "
        "--notes 'Triggers: work stress. Ready for competing-response practice.'",
        "assign C-104 relaxation --stage practice --difficulty 3 --entries 7 "
        f"--due {later} --steps-up-from @ID --field technique=diaphragmatic-breathing "
        "--instructions 'Breathe slowly for 10 minutes when the urge comes' "
        "--rationale 'Practise a competing response to the habit'",
        "decline @ID --reason 'Too much to do this week'",
        "notify",
        "show @PREV",
        "list",
        "history C-104",
        "verify",
    ]


def run_demo(build_cli: Callable[[], click.Group], keep: bool = False) -> None:
    today = date.today()
    folder = Path(tempfile.mkdtemp(prefix="between-demo-"))
    env = {
        "BETWEEN_STORE": str(folder / "demo.db"),
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_PLUGINS_DIR": "",
        "BETWEEN_WORKSHEETS_DIR": str(folder / "worksheets"),
    }
    click.secho(
        _(
            "A new SQLite store at %(store)s; acting as %(actor)s.",
            store=env["BETWEEN_STORE"],
            actor=env["BETWEEN_ACTOR"],
        ),
        bold=True,
    )
    runner = CliRunner()
    ids: list[str] = []
    for line in script(
        (today + timedelta(days=7)).isoformat(), (today + timedelta(days=14)).isoformat()
    ):
        if ids:
            line = line.replace("@PREV", ids[-2] if len(ids) > 1 else ids[-1]).replace(
                "@ID", ids[-1]
            )
        click.secho(f"\n$ between {line}", fg="cyan")
        result = runner.invoke(build_cli(), shlex.split(line), env=env, catch_exceptions=False)
        click.echo(result.output.rstrip())
        if result.exit_code:
            raise SystemExit(result.exit_code)
        if line.startswith("assign "):
            ids.append(result.output.split()[1].rstrip(":"))
    if keep:
        kept = _("Kept the store: BETWEEN_STORE=%(store)s", store=env["BETWEEN_STORE"])
        click.secho(f"\n{kept}", bold=True)
    else:
        for path in folder.glob("*"):
            os.remove(path)
        folder.rmdir()
