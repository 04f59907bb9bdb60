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

Every built-in task type passes this same contract.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from between.engine.errors import InvalidInput
from between.engine.tasktypes import FIELD_TYPES, TaskType


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
        assert t.name and t.name == t.name.strip().lower() and " " not in t.name
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
        params = self.task_type.validate_parameters(self.parameters)
        for entry in self.entries:
            clean = self.task_type.validate_entry(entry, params)
            assert json.loads(json.dumps(clean)) == clean  # stored as JSON, unchanged

    def test_bad_entries_are_refused_naming_the_field(self) -> None:
        params = self.task_type.validate_parameters(self.parameters)
        for entry, field in [*self.bad_entries, ({"no_such_field": "x"}, "no_such_field")]:
            with pytest.raises(InvalidInput) as refused:
                self.task_type.validate_entry({**self.entries[0], **entry}, params)
            assert field in str(refused.value)

    def test_bad_parameters_are_refused_naming_the_field(self) -> None:
        for params, field in self.bad_parameters:
            with pytest.raises(InvalidInput) as refused:
                self.task_type.validate_parameters({**self.parameters, **params})
            assert field in str(refused.value)

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
            assert set(self.summary_keys) <= set(summary), summary
            done = self.task_type.completion(entries, len(self.entries), params)
            assert isinstance(done["complete"], bool) and done["rule"]
        assert summary["entries"] == len(self.entries)

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
            assert set(self.summary_keys) <= set(shown["summary"])
            assert {e["task_type"] for e in shown["entry_list"]} == {self.task_type.name}
            assert {e["schema_version"] for e in shown["entry_list"]} == {
                self.task_type.entries.version
            }


@contextmanager
def _store_with(task_type: TaskType, folder: Path) -> Iterator[Any]:
    """A new SQLite store whose plugins include ``task_type``."""
    from between import hookimpl
    from between.engine.app import Homework
    from between.engine.plugins import load_plugins
    from between.engine.settings import Settings
    from between.engine.store import Store

    class ThisTaskType:
        @hookimpl
        def between_register_task_types(self, registry: Any) -> None:
            if task_type.name not in registry.items:
                registry.add(task_type)

    store = Store.parse(str(folder / "contract.db"))
    Homework.initialise(store)
    plugins = load_plugins(Settings.from_environment(), extra=(ThisTaskType(),))
    app = Homework(store, plugins=plugins)
    try:
        yield app
    finally:
        app.close()
