"""Plugins: the hooks, the three ways in, loud errors, worksheets and the plugin command."""

from __future__ import annotations

import json
import os
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from helpers import assign_args, invoke
from helpers import cli as run

from between.engine.hooks.loading import PluginError, load_plugins
from between.engine.settings import Settings


@pytest.fixture
def env(tmp_path: Path) -> dict:
    environment = {
        "BETWEEN_STORE": str(tmp_path / "p.db"),
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_PLUGINS_DIR": str(tmp_path / "plugins"),
        "BETWEEN_WORKSHEETS_DIR": str(tmp_path / "worksheets"),
    }
    (tmp_path / "plugins").mkdir()
    (tmp_path / "worksheets").mkdir()
    run(environment, "init")
    run(environment, "client", "add", "C1", "--name", "Ana", "--therapist", "dr.lee")
    return environment


def plugin_file(env: dict, name: str, code: str) -> Path:
    path = Path(env["BETWEEN_PLUGINS_DIR"]) / name
    path.write_text(textwrap.dedent(code))
    return path


def assign(env: dict, task_type: str, *fields: str) -> str:
    args = assign_args("C1", task_type, *fields)
    return json.loads(run(env, *args, "--entries", "2", "--json"))["result"]


def test_hook_between_register_task_types(env):
    plugin_file(
        env,
        "sleep_diary.py",
        """
        from between import Field, Schema, TaskType, hookimpl

        @hookimpl
        def between_register_task_types(registry):
            registry.add(TaskType(
                name="sleep-diary", title="Sleep diary", description="Bed and wake times.",
                category="self-monitoring",
                entries=Schema((Field("hours", "number", minimum=0, maximum=24),)),
            ))
    """,
    )
    assert "sleep-diary" in run(env, "types")
    aid = assign(env, "sleep-diary")
    run(env, "agree", aid[:8])
    run(env, "submit", aid[:8], "--field", "hours=7.5")
    out = run(env, "submit", aid[:8], "--field", "hours=30", code=2)
    assert "hours must be at most 24" in out
    shown = json.loads(run(env, "show", aid[:8], "--json"))
    assert shown["summary"] == {"entries": 1, "mean_hours": 7.5}
    plugins = json.loads(run(env, "plugins", "--json"))
    mine = next(p for p in plugins if p["name"] == "local:sleep_diary.py")
    assert mine["source"] == "directory" and mine["hooks"] == ["between_register_task_types"]


def test_hook_between_register_commands(env):
    plugin_file(
        env,
        "hello.py",
        """
        import click
        from between import hookimpl

        @hookimpl
        def between_register_commands(cli):
            @cli.command("hello")
            @click.argument("name")
            def hello(name):
                click.echo(f"hello {name}")
    """,
    )
    assert run(env, "hello", "world") == "hello world\n"
    assert "hello" in run(env, "--help")


def test_a_misspelled_hook_is_an_error_naming_the_plugin(env):
    plugin_file(
        env,
        "typo.py",
        """
        from between import hookimpl

        @hookimpl
        def between_register_task_type(registry):
            pass
    """,
    )
    out = run(env, "types", code=1)
    assert "local:typo.py" in out and "between_register_task_type" in out
    assert len(out.strip().splitlines()) == 1


def test_a_plugin_that_fails_to_import_is_an_error_naming_it(env):
    path = plugin_file(env, "broken.py", "import no_such_module\n")
    out = run(env, "types", code=1)
    assert f"plugin file {path} failed to import: ModuleNotFoundError" in out


def test_a_duplicate_task_type_name_is_an_error_naming_both_plugins(env):
    plugin_file(
        env,
        "copycat.py",
        """
        from between import hookimpl
        from between.plugins.relaxation import RELAXATION

        @hookimpl
        def between_register_task_types(registry):
            registry.add(RELAXATION)
    """,
    )
    out = run(env, "types", code=1)
    # pluggy calls the most recently registered plugin first: the directory before built-ins
    assert out == (
        "error: task type 'relaxation' is registered by both local:copycat.py and "
        "between.relaxation; rename one, or disable a plugin with BETWEEN_PLUGINS\n"
    )


def test_a_hook_asking_for_an_argument_it_is_not_given_is_one_line(env):
    plugin_file(
        env,
        "sleep.py",
        """
        from between import hookimpl

        @hookimpl
        def between_register_task_types(registy):
            pass
    """,
    )
    assert run(env, "types", code=1) == (
        "error: plugin local:sleep.py: between_register_task_types(registy) asks for registy, "
        "which the hook does not pass; it passes registry\n"
    )


def test_a_task_type_name_with_capitals_or_spaces_is_refused_naming_the_plugin(env):
    plugin_file(
        env,
        "plan.py",
        """
        from between import Field, Schema, TaskType, hookimpl

        @hookimpl
        def between_register_task_types(registry):
            registry.add(TaskType(
                name="Activity Plan", title="Activity plan", description="Plan.",
                category="practice", entries=Schema((Field("activity"),)),
            ))
    """,
    )
    assert run(env, "types", code=1) == (
        "error: plugin local:plan.py: task type name 'Activity Plan' must be lower case without "
        "spaces, e.g. 'activity-plan'\n"
    )


def test_a_misspelt_name_in_between_plugins_is_reported_not_silently_ignored(env):
    out = run({**env, "BETWEEN_PLUGINS": "activaton"}, "types")
    problems = [line for line in out.splitlines() if line.startswith("skipped: ")]
    assert len(problems) == 1
    assert problems[0].startswith(
        "skipped: BETWEEN_PLUGINS: no installed plugin is named 'activaton'; installed plugins: "
    )


def test_worksheets_without_code_validate_like_coded_task_types(env):
    folder = Path(env["BETWEEN_WORKSHEETS_DIR"])
    (folder / "activity.toml").write_text(
        textwrap.dedent("""
        name = "activity-schedule"
        title = "Activity schedule"
        description = "Plan activities and rate mastery and pleasure."

        [[parameters]]
        name = "week_focus"
        required = false

        [[fields]]
        name = "activity"
        [[fields]]
        name = "mastery"
        type = "integer"
        minimum = 0
        maximum = 10
        [[fields]]
        name = "pleasure"
        type = "integer"
        minimum = 0
        maximum = 10
    """)
    )
    (folder / "values.json").write_text(
        json.dumps(
            {
                "name": "values-check",
                "title": "Values check",
                "version": 2,
                "fields": [
                    {"name": "value", "type": "choice", "choices": ["family", "work", "health"]}
                ],
            }
        )
    )
    (folder / "broken.toml").write_text(
        'name = "broken"\ntitle = "Broken"\n[[fields]]\nname = "x"\ntype = "colour"\n'
    )
    (folder / "garbled.json").write_text("{not json")

    result = invoke(env, "types")
    assert result.exit_code == 0
    assert "activity-schedule" in result.output and "values-check" in result.output
    assert (
        f"skipped: {folder / 'broken.toml'}: fields field 'x': field 'x': unknown type 'colour'"
        in result.output
    )
    assert f"skipped: {folder / 'garbled.json'}: cannot be parsed" in result.output

    described = json.loads(run(env, "types", "show", "activity-schedule", "--json"))
    assert [f["name"] for f in described["entries"]["fields"]] == [
        "activity",
        "mastery",
        "pleasure",
    ]
    aid = assign(env, "activity-schedule", "week_focus=evenings")
    run(env, "agree", aid[:8])
    out = run(env, "submit", aid[:8], "--field", "activity=walk", "--field", "mastery=12", code=2)
    assert "mastery must be at most 10" in out and "pleasure is required" in out
    run(
        env,
        "submit",
        aid[:8],
        "--field",
        "activity=walk",
        "--field",
        "mastery=6",
        "--field",
        "pleasure=8",
    )
    shown = json.loads(run(env, "show", aid[:8], "--json"))
    assert shown["summary"] == {"entries": 1, "mean_mastery": 6.0, "mean_pleasure": 8.0}
    vid = assign(env, "values-check")
    run(env, "agree", vid[:8])
    run(env, "submit", vid[:8], "--field", "value=health")
    assert json.loads(run(env, "show", vid[:8], "--json"))["entry_list"][0]["schema_version"] == 2


def test_submit_prompts_for_each_field_and_reasks_on_invalid_input(env):
    aid = assign(env, "relaxation", "technique=mindfulness")
    run(env, "agree", aid[:8])
    out = run(env, "submit", aid[:8], "--prompt", input="ten\n10\n7\n11\n3\n\n")
    assert "minutes must be a whole number" in out
    assert "tension_after must be at most 10" in out
    shown = json.loads(run(env, "show", aid[:8], "--json"))
    assert shown["entry_list"][0]["fields"] == {
        "minutes": 10,
        "tension_before": 7,
        "tension_after": 3,
    }


def test_environment_limits_which_installed_plugins_load(monkeypatch):
    monkeypatch.setenv("BETWEEN_PLUGINS", "")
    names = {
        name for name, _ in load_plugins(Settings.from_environment()).manager.list_name_plugin()
    }
    assert names and all(n.startswith("between.") for n in names)


def installed_example() -> bool:
    present = any(ep.name == "gratitude" for ep in entry_points(group="between"))
    if not present and os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("the example plugin (tests/example_plugin) must be installed in CI")
    return present


def test_an_installed_distribution_is_discovered_through_its_entry_point(env):
    if not installed_example():
        pytest.skip("pip install -e tests/example_plugin to run this test")
    plugins = {p["name"]: p for p in json.loads(run(env, "plugins", "--json"))}
    assert plugins["gratitude"] == {
        "name": "gratitude",
        "version": "1.2.0",
        "source": "installed",
        "hooks": [
            "between_register_commands",
            "between_register_task_types",
            "between_report_charts",
        ],
    }
    assert run(env, "gratitude", "--items", "2").count("went well") == 2
    aid = assign(env, "gratitude-list")
    run(env, "agree", aid[:8])
    run(env, "submit", aid[:8], "--field", "items=sun, tea")
    assert json.loads(run(env, "show", aid[:8], "--json"))["summary"] == {
        "entries": 1,
        "mean_items": 2.0,
    }
    limited = {**env, "BETWEEN_PLUGINS": "someone-else"}
    assert "gratitude" not in run(limited, "plugins")
    refused = run(limited, *assign_args("C1", "gratitude-list"), code=2)
    assert "unknown task type 'gratitude-list'" in refused
    assert "which also lists 1 problem(s)" in refused  # BETWEEN_PLUGINS names no plugin
    assert "installed plugins: gratitude" in run(limited, "types")


def test_a_worksheet_named_like_an_installed_plugins_type_is_skipped(env):
    if not installed_example():
        pytest.skip("pip install -e tests/example_plugin to run this test")
    folder = Path(env["BETWEEN_WORKSHEETS_DIR"])
    (folder / "mine.toml").write_text(
        'name = "gratitude-list"\ntitle = "Mine"\n[[fields]]\nname = "x"\n'
    )
    out = run(env, "types")
    assert (
        f"skipped: {folder / 'mine.toml'}: task type name 'gratitude-list' is already taken by "
        "gratitude; rename the worksheet"
    ) in out
    run(env, "list")  # every other command still runs


def test_load_errors_are_plugin_errors(tmp_path):
    (tmp_path / "bad.py").write_text("raise RuntimeError('boom')\n")
    with pytest.raises(PluginError, match="bad.py failed to import: RuntimeError: boom"):
        load_plugins(Settings(plugins_dir=tmp_path))
    with pytest.raises(PluginError, match="plugins directory .* does not exist"):
        load_plugins(Settings(plugins_dir=tmp_path / "missing"))
