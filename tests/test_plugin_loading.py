"""Loading plugins: pluggy's calling rules hold, and every mistake is one line naming the plugin."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import ClassVar

import pytest

from between import Field, Schema, TaskType, TaskTypeRegistry, hookimpl
from between.engine.errors import InvalidInput
from between.engine.hooks.loading import PluginError, load_plugins
from between.engine.settings import Settings
from between.plugins.relaxation import RELAXATION
from between.testing import TaskTypeContract

ENTRIES = Schema((Field("note"),))


def kind(name: str) -> TaskType:
    return TaskType(name=name, title=name, description="d", category="practice", entries=ENTRIES)


def settings(tmp_path: Path, **given) -> Settings:
    return Settings(worksheets_dir=tmp_path / "worksheets", **{"only_plugins": (), **given})


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message, message
    return message


class First:
    @hookimpl(tryfirst=True)
    def between_register_task_types(self, registry: TaskTypeRegistry) -> None:
        self.saw = set(registry.items)
        registry.add(kind("first"))


class Plain:
    @hookimpl
    def between_register_task_types(self, registry: TaskTypeRegistry) -> None:
        registry.add(kind("plain"))


class Last:
    @hookimpl(trylast=True)
    def between_register_task_types(self, registry: TaskTypeRegistry) -> None:
        self.saw = set(registry.items)
        registry.add(kind("last"))


def test_registration_hooks_are_called_in_pluggys_order(tmp_path):
    first, last = First(), Last()
    plugins = load_plugins(settings(tmp_path), extra=(last, Plain(), first))
    caller = plugins.manager.hook.between_register_task_types
    pluggy_order = [i.plugin_name for i in reversed(caller.get_hookimpls())]
    registered_by = list(dict.fromkeys(plugins.task_type_owners.values()))
    assert registered_by == [name for name in pluggy_order if name in registered_by]
    assert registered_by[:2] == ["First", "Plain"]
    assert first.saw == set()  # tryfirst: before everyone
    assert {"relaxation", "plain", "first"} <= last.saw  # trylast: after every plain plugin
    assert plugins.task_type_owners["last"] == "Last"
    assert plugins.task_type_owners["relaxation"] == "between.relaxation"


@pytest.mark.parametrize("option", ["wrapper", "hookwrapper"])
def test_a_wrapper_on_a_registration_hook_is_refused_naming_the_plugin(tmp_path, option):
    class Wrapping:
        @hookimpl(**{option: True})
        def between_register_channels(self, registry):
            yield

    with pytest.raises(PluginError) as refused:
        load_plugins(settings(tmp_path), extra=(Wrapping(),))
    assert one_line(refused) == (
        "plugin Wrapping: between_register_channels may not be a wrapper; order it with "
        "@hookimpl(tryfirst=True) or @hookimpl(trylast=True) instead"
    )


def test_a_wrapper_on_another_hook_keeps_pluggys_meaning(tmp_path):
    class Wrapping:
        @hookimpl(wrapper=True)
        def between_render_message(self, notification, default):
            result = yield
            return result or default

    plugins = load_plugins(settings(tmp_path), extra=(Wrapping(),))
    assert plugins.manager.hook.between_render_message(notification={}, default="d") == "d"


def test_an_argument_the_hook_does_not_pass_is_one_line_naming_plugin_and_hook(tmp_path):
    class Misspelt:
        @hookimpl
        def between_register_task_types(self, registy):
            pass

    with pytest.raises(PluginError) as refused:
        load_plugins(settings(tmp_path), extra=(Misspelt(),))
    assert one_line(refused) == (
        "plugin Misspelt: between_register_task_types(registy) asks for registy, which the "
        "hook does not pass; it passes registry"
    )


def test_an_unknown_hook_is_one_line_naming_plugin_and_hook(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "typo.py").write_text(
        "from between import hookimpl\n\n@hookimpl\ndef between_register_task_type(registry):\n"
        "    pass\n"
    )
    with pytest.raises(PluginError) as refused:
        load_plugins(settings(tmp_path, plugins_dir=tmp_path / "plugins"))
    message = one_line(refused)
    assert message.startswith("plugin local:typo.py implements between_register_task_type, ")
    assert "between_register_task_types" in message  # the hooks there are


def test_a_failing_hook_names_its_plugin(tmp_path):
    class Failing:
        @hookimpl
        def between_register_channels(self, registry):
            raise RuntimeError("no network")

    with pytest.raises(PluginError) as refused:
        load_plugins(settings(tmp_path), extra=(Failing(),))
    assert one_line(refused) == "plugin Failing failed in between_register_channels: no network"


@pytest.mark.parametrize("name", ["Activity Plan", "activity plan", "Activity-Plan", ""])
def test_a_task_type_name_must_be_lower_case_without_spaces(tmp_path, name):
    class Shouting:
        @hookimpl
        def between_register_task_types(self, registry):
            registry.add(kind(name))

    with pytest.raises(PluginError) as refused:
        load_plugins(settings(tmp_path), extra=(Shouting(),))
    assert one_line(refused).startswith(
        f"plugin Shouting: task type name {name!r} must be lower case without spaces"
    )
    if name == "Activity Plan":
        assert str(refused.value).endswith("e.g. 'activity-plan'")


def installed_names() -> list[str]:
    dists = {ep.name: ep.dist.name if ep.dist else None for ep in entry_points(group="between")}
    return sorted(name for name, dist in dists.items() if dist != "between-homework")


def test_an_unknown_name_in_between_plugins_is_a_problem_listing_the_installed(tmp_path):
    plugins = load_plugins(settings(tmp_path, only_plugins=("activaton", "relaxation")))
    installed = ", ".join(installed_names()) or "none"
    assert plugins.problems == [
        f"BETWEEN_PLUGINS: no installed plugin is named 'activaton'; installed plugins: {installed}"
    ]
    with pytest.raises(InvalidInput, match=r"see 'between types', which also lists 1 problem"):
        plugins.task_type("activation")
    assert load_plugins(settings(tmp_path, only_plugins=())).problems == []


def worksheet(folder: Path, file: str, name: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / file
    path.write_text(json.dumps({"name": name, "title": name, "fields": [{"name": "note"}]}))
    return path


def test_a_worksheet_named_like_any_registered_type_is_skipped_with_a_problem(tmp_path):
    class Clinic:  # an installed plugin, registered after the built-ins
        @hookimpl
        def between_register_task_types(self, registry):
            registry.add(kind("sleep-diary"))

    folder = tmp_path / "worksheets"
    ours = worksheet(folder, "a.json", "sleep-diary")
    builtin = worksheet(folder, "b.json", "relaxation")
    fine = worksheet(folder, "c.json", "values-check")
    twice = worksheet(folder, "d.json", "values-check")
    shouting = worksheet(folder, "e.json", "Values Check")
    plugins = load_plugins(settings(tmp_path), extra=(Clinic(),))
    assert plugins.task_types["relaxation"] is RELAXATION
    assert plugins.task_type_owners["sleep-diary"] == "Clinic"
    assert plugins.task_type_owners["values-check"] == "between.worksheets"
    assert plugins.problems == [
        f"{ours}: task type name 'sleep-diary' is already taken by Clinic; rename the worksheet",
        f"{builtin}: task type name 'relaxation' is already taken by between.relaxation; "
        "rename the worksheet",
        f"{twice}: task type name 'values-check' is already taken by between.worksheets; "
        "rename the worksheet",
        f"{shouting}: task type name 'Values Check' must be lower case without spaces, "
        "e.g. 'values-check'",
    ]
    assert fine.exists()


class GoodContract(TaskTypeContract):
    task_type = RELAXATION
    parameters: ClassVar = {"technique": "mindfulness"}
    entries: ClassVar = [{"minutes": "10", "tension_before": "7", "tension_after": "3"}]


def test_the_contract_ignores_the_authors_environment(tmp_path, monkeypatch):
    broken = tmp_path / "mine"
    (broken / "plugins").mkdir(parents=True)
    (broken / "plugins" / "half_done.py").write_text("raise RuntimeError('work in progress')\n")
    (broken / "config.toml").write_text("this is [not toml\n")
    worksheet(broken / "worksheets", "clash.json", "relaxation")
    (broken / "xdg" / "between").mkdir(parents=True)
    (broken / "xdg" / "between" / "config.toml").write_text("[broken\n")
    for var, value in {
        "BETWEEN_CONFIG": broken / "config.toml",
        "BETWEEN_PLUGINS_DIR": broken / "plugins",
        "BETWEEN_WORKSHEETS_DIR": broken / "worksheets",
        "BETWEEN_PLUGINS": "no-such-plugin",
        "BETWEEN_KEY_FILE": broken / "missing.key",
        "XDG_CONFIG_HOME": broken / "xdg",
    }.items():
        monkeypatch.setenv(var, str(value))
    (tmp_path / "store").mkdir()
    GoodContract().test_assign_agree_submit_review_on_a_real_store(tmp_path / "store")


def test_an_accepted_bad_example_fails_naming_the_example():
    class Lenient(GoodContract):
        bad_entries: ClassVar = [({"minutes": "15"}, "minutes")]
        bad_parameters: ClassVar = [({"technique": "mindfulness"}, "technique")]

    with pytest.raises(pytest.fail.Exception) as failed:
        Lenient().test_bad_entries_are_refused_naming_the_field()
    assert str(failed.value) == (
        "bad entry {'minutes': '15'} was accepted; it should be refused naming 'minutes'"
    )
    with pytest.raises(pytest.fail.Exception) as failed:
        Lenient().test_bad_parameters_are_refused_naming_the_field()
    assert "bad parameters {'technique': 'mindfulness'} was accepted" in str(failed.value)


def test_a_refusal_that_does_not_name_the_field_fails_naming_the_example():
    class Vague(GoodContract):
        bad_entries: ClassVar = [({"minutes": "-1"}, "duration")]

    with pytest.raises(pytest.fail.Exception, match=r"bad entry \{'minutes': '-1'\} was refused "):
        Vague().test_bad_entries_are_refused_naming_the_field()
