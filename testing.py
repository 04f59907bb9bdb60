"""Test helpers for plugin authors: check a task type against Between's contract.

Subclass ``TaskTypeContract`` in a pytest module (name the subclass ``Test…``)::

    from between.testing import TaskTypeContract
    from between_gratitude import GRATITUDE

    class TestGratitude(TaskTypeContract):
        task_type = GRATITUDE
        parameters = {"items_per_day": "3"}
        entries = [{"items": "sun, tea, a call"}]
        bad_entries = [({"items": ""}, "items")]
        summary_keys = ("entries", "mean_items")

Every built-in task type passes this same contract. The store it runs on is isolated from
the author's environment: no configuration file, plugins directory, worksheets or other
installed plugins are loaded — only Between's built-ins and the task type under test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from between.engine.contracts.task_types import FIELD_TYPES, TaskType, check_task_type_name
from between.engine.errors import InvalidInput


class TaskTypeContract:
    """The behaviour every task type must have; subclass and fill in the examples."""

    task_type: ClassVar[TaskType]
    #: Valid parameters, as a therapist would give them (text from the command line is fine).
    parameters: ClassVar[dict[str, Any]] = {}
    #: Valid entries (at least one), as a client would record them.
    entries: ClassVar[list[dict[str, Any]]] = []
    #: Invalid entries, each with the name of the field its message must mention.
    bad_entries: ClassVar[list[tuple[dict[str, Any], str]]] = []
    #: Invalid parameters, each with the field its message must mention.
    bad_parameters: ClassVar[list[tuple[dict[str, Any], str]]] = []
    #: Keys the review summary must contain.
    summary_keys: ClassVar[tuple[str, ...]] = ("entries",)

    def test_has_a_name_title_description_and_category(self) -> None:
        t = self.task_type
        check_task_type_name(t.name)  # lower case without spaces
        assert t.title.strip() and t.description.strip() and t.category.strip()

    def test_schemas_are_well_formed_and_describable(self) -> None:
        described = json.loads(json.dumps(self.task_type.describe()))
        for part in ("parameters", "entries"):
            assert described[part]["version"] >= 1
            for f in described[part]["fields"]:
                assert f["type"] in FIELD_TYPES and f["name"]
        assert self.task_type.entries.fields, "a task type records at least one field"

    def test_valid_parameters_and_entries_are_accepted(self) -> None:
        assert self.entries, "give at least one valid entry"
        try:
            params = self.task_type.validate_parameters(self.parameters)
        except InvalidInput as e:
            pytest.fail(f"valid parameters {self.parameters!r} were refused: {e}")
        for entry in self.entries:
            try:
                clean = self.task_type.validate_entry(entry, params)
            except InvalidInput as e:
                pytest.fail(f"valid entry {entry!r} was refused: {e}")
            assert json.loads(json.dumps(clean)) == clean, f"entry {entry!r} is not stored as given"

    def test_bad_entries_are_refused_naming_the_field(self) -> None:
        params = self.task_type.validate_parameters(self.parameters)
        for entry, field in [*self.bad_entries, ({"no_such_field": "x"}, "no_such_field")]:
            _refused(
                "bad entry",
                entry,
                field,
                self.task_type.validate_entry,
                {**self.entries[0], **entry},
                params,
            )

    def test_bad_parameters_are_refused_naming_the_field(self) -> None:
        for params, field in self.bad_parameters:
            _refused(
                "bad parameters",
                params,
                field,
                self.task_type.validate_parameters,
                {**self.parameters, **params},
            )

    def test_summary_and_completion_describe_the_entries(self) -> None:
        params = self.task_type.validate_parameters(self.parameters)
        recorded = [
            {
                "fields": self.task_type.validate_entry(e, params),
                "by": "client",
                "occurred_at": f"2026-03-0{1 + i % 9}T10:00:00+00:00",
            }
            for i, e in enumerate(self.entries)
        ]
        for entries in ([], recorded):
            summary = json.loads(json.dumps(self.task_type.summarise(entries, params)))
            _has_keys(summary, self.summary_keys, f"summary of {len(entries)} entries")
            done = self.task_type.completion(entries, len(self.entries), params)
            assert isinstance(done["complete"], bool) and done["rule"]
        _has_keys(summary, ("entries",), f"summary of {len(recorded)} entries")
        assert summary["entries"] == len(self.entries), summary

    def test_assign_agree_submit_review_on_a_real_store(self, tmp_path: Path) -> None:
        with _store_with(self.task_type, tmp_path) as app:
            actor = {"actor": "contract"}
            app.register_client("C-1", "Contract Client", "contract", **actor)
            aid = app.propose(
                "C-1",
                self.task_type.name,
                instructions="Do it",
                rationale="Because",
                stage="practice",
                difficulty=2,
                due="+7",
                expected_entries=len(self.entries),
                parameters=self.parameters,
                **actor,
            ).result
            app.agree(aid, confidence=6, **actor)
            for entry in self.entries:
                app.submit(aid, entry, **actor)
            app.review(aid, quantity=4, quality=3, difficulty=2, next_step="close", **actor)
            shown = app.show(aid)
            assert shown["status"] == "closed" and shown["entries"] == len(self.entries)
            _has_keys(shown["summary"], self.summary_keys, "summary of the reviewed homework")
            assert {e["task_type"] for e in shown["entry_list"]} == {self.task_type.name}
            assert {e["schema_version"] for e in shown["entry_list"]} == {
                self.task_type.entries.version
            }


def _has_keys(summary: Any, keys: tuple[str, ...], what: str) -> None:
    """Fail naming each of ``keys`` that ``summary`` lacks (and the keys it has)."""
    if not isinstance(summary, dict):
        pytest.fail(f"the {what} is not an object of named figures: {summary!r}")
    missing = [k for k in keys if k not in summary]
    if missing:
        pytest.fail(
            f"the {what} lacks the key(s) {', '.join(map(repr, missing))} (summary_keys); "
            f"it has {', '.join(map(repr, summary)) or 'none'}"
        )


def _refused(
    what: str, example: dict[str, Any], field: str, check: Callable[..., object], *args: Any
) -> None:
    """``check(*args)`` must raise ``InvalidInput`` naming ``field``; failures name the example."""
    try:
        check(*args)
    except InvalidInput as e:
        if field not in str(e):
            pytest.fail(f"{what} {example!r} was refused without naming {field!r}: {e}")
    else:
        pytest.fail(f"{what} {example!r} was accepted; it should be refused naming {field!r}")


@contextmanager
def _store_with(task_type: TaskType, folder: Path) -> Iterator[Any]:
    """A new SQLite store whose plugins are the built-ins and ``task_type``, nothing else."""
    from between import TaskTypeRegistry, hookimpl
    from between.engine.app import Homework
    from between.engine.hooks.loading import load_plugins
    from between.engine.settings import Settings
    from between.engine.storage.store import Store

    class ThisTaskType:
        @hookimpl(trylast=True)  # after the built-ins, so a built-in under test is not added twice
        def between_register_task_types(self, registry: TaskTypeRegistry) -> None:
            if registry.items.get(task_type.name) is not task_type:
                registry.add(task_type)

    (folder / "config.toml").write_text("", encoding="utf-8")
    settings = Settings(
        store=str(folder / "contract.db"),
        config_file=folder / "config.toml",  # not $BETWEEN_CONFIG or ~/.config/between
        worksheets_dir=folder / "worksheets",  # none
        only_plugins=(),  # no installed plugins; no plugins directory
        environ={},
    )
    store = Store.parse(settings.store)
    Homework.initialise(store, environ={})
    app = Homework(store, plugins=load_plugins(settings, extra=(ThisTaskType(),)), environ={})
    try:
        yield app
    finally:
        app.close()
