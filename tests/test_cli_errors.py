"""The command line's one error boundary, and how plugin commands that clash or fail are reported."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import invoke

HINT = "(run with --debug or BETWEEN_DEBUG=1 for the traceback)"

FAULTY = """
    import click
    from between import hookimpl
    from between.engine.errors import InvalidInput

    @hookimpl
    def between_register_commands(cli):
        @cli.command("boom")
        def boom():
            raise RuntimeError("kaboom\\nsecond line")

        @cli.command("refuse")
        def refuse():
            raise InvalidInput("that value is not allowed")

        @cli.command("stop")
        def stop():
            raise KeyboardInterrupt

        @cli.command("leave")
        @click.pass_context
        def leave(ctx):
            click.echo("leaving")
            ctx.exit(3)

        @cli.group("tools")
        def tools():
            pass

        @tools.command("crash")
        def crash():
            {}["missing"]
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "plugins").mkdir()
    return {
        "BETWEEN_STORE": str(tmp_path / "e.db"),
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_PLUGINS_DIR": str(tmp_path / "plugins"),
        "BETWEEN_WORKSHEETS_DIR": str(tmp_path / "worksheets"),
        "BETWEEN_DEBUG": "",
    }


def plugin(env: dict[str, str], name: str, code: str) -> None:
    (Path(env["BETWEEN_PLUGINS_DIR"]) / name).write_text(textwrap.dedent(code))


def test_an_unexpected_exception_is_one_line_naming_the_command(env):
    plugin(env, "faulty.py", FAULTY)
    result = invoke(env, "boom", code=1)
    assert result.stdout == ""
    assert result.stderr == f"error: between boom failed: RuntimeError: kaboom second line {HINT}\n"
    result = invoke(env, "tools", "crash", code=1)
    assert result.stderr == f"error: between tools crash failed: KeyError: 'missing' {HINT}\n"


@pytest.mark.parametrize(
    ("args", "debug"), [(("--debug", "boom"), ""), (("boom",), "1"), (("boom",), "yes")]
)
def test_debug_prints_the_traceback(env, args, debug):
    plugin(env, "faulty.py", FAULTY)
    result = invoke({**env, "BETWEEN_DEBUG": debug}, *args, code=1)
    assert "Traceback (most recent call last)" in result.stderr
    assert 'raise RuntimeError("kaboom\\nsecond line")' in result.stderr
    assert result.stderr.endswith("error: between boom failed: RuntimeError: kaboom second line\n")
    assert "--debug" not in result.stderr.splitlines()[-1]


def test_debug_switched_off_by_the_environment_stays_quiet(env):
    plugin(env, "faulty.py", FAULTY)
    result = invoke({**env, "BETWEEN_DEBUG": "0"}, "boom", code=1)
    assert "Traceback" not in result.stderr and HINT in result.stderr


def test_a_refusal_keeps_its_own_line_and_exit_code(env):
    plugin(env, "faulty.py", FAULTY)
    result = invoke(env, "refuse", code=2)
    assert result.stderr == "error: that value is not allowed\n"


def test_ctrl_c_is_interrupted_with_exit_130(env):
    plugin(env, "faulty.py", FAULTY)
    result = invoke(env, "stop", code=130)
    assert result.stderr == "interrupted\n"


def test_ctx_exit_keeps_its_code_and_usage_errors_are_one_line_exit_2(env):
    plugin(env, "faulty.py", FAULTY)
    left = invoke(env, "leave", code=3)
    assert left.stdout == "leaving\n" and left.stderr == ""
    usage = invoke(env, "boom", "--nope", code=2)
    assert usage.stderr == "error: No such option '--nope' (see 'between boom --help')\n"
    missing = invoke(env, "assign", "C1", code=2)
    assert missing.stderr == "error: Missing argument 'TASK_TYPE' (see 'between assign --help')\n"
    assert missing.stdout == ""
    nothing = invoke(env, "nothing", code=2).stderr
    assert nothing.startswith("error: No such command 'nothing'.")
    assert nothing.endswith(" (see 'between --help')\n") and nothing.count("\n") == 1
    root = invoke(env, "--store", code=2).stderr
    assert root == "error: Option '--store' requires an argument (see 'between --help')\n"
    nested = invoke(env, "client", "add", "C1", "--name", code=2).stderr
    assert (
        nested == "error: Option '--name' requires an argument (see 'between client add --help')\n"
    )
    assert "Usage:" in invoke(env, "client", code=2).stderr  # a group alone still shows its help


def test_a_plugin_command_shadowed_by_a_built_in_is_a_warning_naming_the_plugin(env):
    plugin(
        env,
        "shadow.py",
        """
        import click
        from between import hookimpl

        @hookimpl
        def between_register_commands(cli):
            @cli.command("list")
            def list_():
                click.echo("the plugin's list")

            @cli.command("hello")
            def hello():
                click.echo("hello")
        """,
    )
    warning = (
        "warning: plugin local:shadow.py: its command 'list' is ignored; "
        "that is a built-in command\n"
    )
    helped = invoke(env, "--help", code=0)
    assert helped.stderr == warning and "hello" in helped.stdout
    said = invoke(env, "hello", code=0)
    assert said.stdout == "hello\n" and said.stderr == warning
    invoke(env, "init", code=0)
    listed = invoke(env, "list", code=0)
    assert listed.stdout == "(none)\n" and listed.stderr == ""


def test_two_plugins_adding_the_same_command_warns_about_the_second_asked(env):
    """pluggy asks the plugin registered last first (the folder's files go in name order)."""
    hello = """
        import click
        from between import hookimpl

        @hookimpl
        def between_register_commands(cli):
            @cli.command("hello")
            def hello():
                click.echo("hello from {name}")
    """
    plugin(env, "a_first.py", hello.replace("{name}", "a"))
    plugin(env, "b_second.py", hello.replace("{name}", "b"))
    result = invoke(env, "hello", code=0)
    assert result.stdout == "hello from b\n"
    assert result.stderr == (
        "warning: plugin local:a_first.py: its command 'hello' is ignored; "
        "plugin local:b_second.py added it first\n"
    )


@pytest.mark.parametrize("args", [("--help",), ("hello",)])
def test_a_failing_between_register_commands_is_one_line_naming_the_plugin(env, args):
    plugin(
        env,
        "broken_commands.py",
        """
        from between import hookimpl

        @hookimpl
        def between_register_commands(cli):
            raise ValueError("no commands today")
        """,
    )
    result = invoke(env, *args, code=1)
    assert result.stderr == (
        "error: plugin local:broken_commands.py failed in between_register_commands: "
        f"ValueError: no commands today {HINT}\n"
    )


def test_built_in_commands_do_not_load_plugin_commands(env):
    plugin(
        env,
        "broken_commands.py",
        """
        from between import hookimpl

        @hookimpl
        def between_register_commands(cli):
            raise ValueError("no commands today")
        """,
    )
    invoke(env, "init", code=0)
    assert invoke(env, "list", code=0).stdout == "(none)\n"


def test_help_starts_without_the_event_machinery_and_choices_come_from_the_engine():
    code = textwrap.dedent("""
        import sys
        from between.cli import main

        sys.argv = ["between", "--help"]
        try:
            main()
        except SystemExit:
            pass
        assert not [m for m in sys.modules if m.startswith("eventsourcing")], "eventsourcing"
        assert "between.engine.app" not in sys.modules
    """)
    env = {**os.environ, "BETWEEN_PLUGINS_DIR": ""}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Commands:" in done.stdout

    from between.engine.aggregates.assignments import NEXT_STEPS
    from between.engine.aggregates.operators import ROLES

    review = invoke(env, "review", "--help")
    assert f"[{'|'.join(NEXT_STEPS)}]" in review.output
    role = invoke(env, "operators", "add", "Kim", "--role", "boss")
    assert role.exit_code == 2 and f"{', '.join(map(repr, ROLES))}" in role.output
