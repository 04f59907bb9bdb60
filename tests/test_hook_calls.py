"""Every hook is called through pluggy: wrappers run, ``firstresult`` holds, faults name the plugin."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import invoke

from between import hookimpl
from between.engine.contracts.charts import Chart, Series
from between.engine.hooks.calls import HookFault, call_hook
from between.engine.hooks.loading import PluginError, load_plugins
from between.engine.settings import Settings
from between.notify.rendering import Renderer
from between.reports.charts import plugin_charts


def loaded(tmp_path: Path, *extra: object):
    return load_plugins(Settings(worksheets_dir=tmp_path / "w", only_plugins=()), extra=extra)


def rendered(tmp_path: Path, *extra: object):
    """The agreed message to client C1, with ``extra`` plugins loaded: (message, faults)."""
    app = SimpleNamespace(
        plugins=loaded(tmp_path, *extra),
        client_preferences=lambda client_id: {"timezone": None, "language": "en"},
    )
    n = SimpleNamespace(
        id="n1", person="C1", row={"kind": "agreed", "role": "client", "channel": "email"}
    )
    row = {"due": None, "client": "C1", "entries": 0, "expected_entries": 3, "status": "agreed"}
    assignment = SimpleNamespace(id="a1", client_id="c1", task_type="relaxation", row=row)
    return Renderer(app).message(n, assignment, "ana@example.org")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "plugins").mkdir()
    return {
        "BETWEEN_STORE": str(tmp_path / "h.db"),
        "BETWEEN_PLUGINS_DIR": str(tmp_path / "plugins"),
        "BETWEEN_WORKSHEETS_DIR": str(tmp_path / "worksheets"),
        "BETWEEN_DEBUG": "",
    }


def plugin(env: dict[str, str], name: str, code: str) -> None:
    (Path(env["BETWEEN_PLUGINS_DIR"]) / name).write_text(textwrap.dedent(code))


HELLO = """
    import click
    from between import hookimpl

    @hookimpl
    def between_register_commands(cli):
        @cli.command("hello")
        def hello():
            click.echo("hello")
"""


@pytest.mark.parametrize("style", ["wrapper=True", "hookwrapper=True"])
def test_a_wrapper_of_the_command_hook_runs_around_the_others(env, style):
    plugin(env, "hello.py", HELLO)
    plugin(
        env,
        "wrapping.py",
        f"""
        import click
        from between import hookimpl

        @hookimpl({style})
        def between_register_commands(cli):
            yield
            seen = ",".join(sorted(n for n in cli.commands if n.startswith("hel")))

            @cli.command("seen")
            def show():
                click.echo(seen)
        """,
    )
    assert invoke(env, "seen", code=0).stdout == "hello\n"
    assert invoke(env, "hello", code=0).stdout == "hello\n"


def test_a_raising_command_wrapper_is_one_line_naming_its_plugin(env):
    plugin(env, "hello.py", HELLO)
    plugin(
        env,
        "wrapping.py",
        """
        from between import hookimpl

        @hookimpl(wrapper=True)
        def between_register_commands(cli):
            yield
            raise KeyError("no room")
        """,
    )
    result = invoke(env, "hello", code=1)
    assert result.stderr.startswith(
        "error: plugin local:wrapping.py failed in between_register_commands: KeyError: 'no room'"
    )
    assert result.stderr.count("\n") == 1


def test_a_command_wrapper_sees_an_inner_fault_as_it_is(env):
    """An exception a wrapper lets through stays the inner plugin's, not the wrapper's."""
    plugin(
        env,
        "broken.py",
        """
        from between import hookimpl

        @hookimpl
        def between_register_commands(cli):
            raise ValueError("no commands today")
        """,
    )
    plugin(
        env,
        "wrapping.py",
        """
        from between import hookimpl

        @hookimpl(wrapper=True)
        def between_register_commands(cli):
            return (yield)
        """,
    )
    result = invoke(env, "--help", code=1)
    assert result.stderr.startswith(
        "error: plugin local:broken.py failed in between_register_commands: "
        "ValueError: no commands today"
    )


def test_a_wrapper_of_the_render_hook_changes_the_wording(tmp_path):
    class Wording:
        @hookimpl
        def between_render_message(self, default):
            return replace(default, subject="Plain subject")

    class Shouting:
        @hookimpl(wrapper=True)
        def between_render_message(self, default):
            message = yield
            return replace(message or default, subject=(message or default).subject.upper())

    message, faults = rendered(tmp_path, Wording(), Shouting())
    assert (message.subject, faults) == ("PLAIN SUBJECT", [])


def test_the_render_hook_takes_the_first_answer_in_pluggy_order(tmp_path):
    class Early:
        @hookimpl(tryfirst=True)
        def between_render_message(self, default):
            return replace(default, subject="early")

    class Late:
        @hookimpl
        def between_render_message(self, default):
            return replace(default, subject="late")

    assert rendered(tmp_path, Early(), Late())[0].subject == "early"


def test_a_raising_render_wrapper_is_a_fault_naming_it_and_the_default_goes_out(tmp_path):
    class Broken:
        @hookimpl(hookwrapper=True)
        def between_render_message(self):
            raise RuntimeError("template engine down")
            yield  # pragma: no cover

    message, faults = rendered(tmp_path, Broken())
    assert message.subject.startswith("Homework agreed")
    assert faults == [
        "plugin Broken: between_render_message raised RuntimeError: template engine down",
        "the default wording was used",
    ]


def test_a_render_hook_raising_a_between_error_is_contained_too(tmp_path):
    class Refusing:
        @hookimpl
        def between_render_message(self):
            raise PluginError("no wording for you")

    message, faults = rendered(tmp_path, Refusing())
    assert message.subject.startswith("Homework agreed")
    assert (
        faults[0]
        == "plugin Refusing: between_render_message raised PluginError: no wording for you"
    )


def test_a_raising_task_type_registration_names_its_plugin(tmp_path):
    class Failing:
        @hookimpl
        def between_register_task_types(self, registry):
            raise OSError("worksheets unreadable")

    with pytest.raises(PluginError) as refused:
        loaded(tmp_path, Failing())
    assert str(refused.value) == (
        "plugin Failing failed in between_register_task_types: worksheets unreadable"
    )


def test_a_chart_wrapper_runs_and_a_raising_chart_hook_is_a_note(tmp_path):
    chart = Chart(title="Extra", series=(Series("done", (("2026-01-01", 1),)),))

    class Adding:
        @hookimpl(wrapper=True)
        def between_report_charts(self):
            answers = yield
            return [*answers, [chart]]

    class Failing:
        @hookimpl
        def between_report_charts(self, task_type):
            raise ValueError(f"no {task_type}")

    manager = loaded(tmp_path, Failing(), Adding()).manager
    charts, notes = plugin_charts(manager, [{"task_type": "mood", "entry_list": []}])
    assert notes == ["plugin Failing: between_report_charts failed for mood: ValueError: no mood"]
    assert [(c.source, c.chart.title) for c in charts if c.chart is chart] == [("Adding", "Extra")]


def test_call_hook_outside_a_containment_raises_a_hook_fault(tmp_path):
    class Failing:
        @hookimpl
        def between_report_charts(self):
            raise ValueError("boom")

    manager = loaded(tmp_path, Failing()).manager
    with pytest.raises(HookFault) as failed:
        call_hook(manager, "between_report_charts", task_type="mood", assignments=[])
    assert (failed.value.plugin, str(failed.value)) == (
        "Failing",
        "plugin Failing failed in between_report_charts: boom",
    )
