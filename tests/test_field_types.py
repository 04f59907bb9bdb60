"""One registry of field types: each type has its part in the engine, the portal and FHIR.

A type added to ``FIELD_TYPES`` without an example here, a portal input or a FHIR shape fails
these tests — instead of the portal quietly showing a text box or the export failing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from fhir.resources.R4B import get_fhir_model_class

from between import Field, Schema, TaskType
from between.engine.contracts.field_types import FIELD_TYPES, WIDGETS, FieldType
from between.fhir_r4.questionnaires import answers, canonical, questionnaire
from between.portal import forms
from between.portal.app import create_app
from between.portal.config import PortalConfig

# Each type: what a person types, and the value stored.
EXAMPLES = {
    "text": ("a walk by the river", "a walk by the river"),
    "integer": ("7", 7),
    "number": ("2.5", 2.5),
    "boolean": ("yes", True),
    "choice": ("high", "high"),
    "datetime": ("2026-03-01T09:30:00+00:00", "2026-03-01T09:30:00+00:00"),
    "list": ("walk\nread", ["walk", "read"]),
    "ratings": ("calm: 7\nsad: 2", {"calm": 7.0, "sad": 2.0}),
}
# Each widget: the (tag, type) of the control(s) the portal renders for a field of the type.
CONTROLS = {
    "text": {("textarea", None)},  # long text by default; short text is an <input>
    "number": {("input", "number")},
    "yes-no": {("input", "radio")},
    "choice": {("input", "radio")},
    "datetime": {("input", "datetime-local")},
    "items": {("textarea", None)},
    "ratings": {("textarea", None)},
}
NAME = "every-type"


def _field(name: str) -> Field:
    choices = ("low", "high") if "choices" in FIELD_TYPES[name].settings else ()
    return Field(name, name, minimum=0, maximum=10, choices=choices)


SCHEMA = Schema(tuple(_field(name) for name in FIELD_TYPES))
STORED = {name: stored for name, (_, stored) in EXAMPLES.items()}


def test_every_type_has_an_example_and_every_part():
    assert list(EXAMPLES) == list(FIELD_TYPES)
    for name, kind in FIELD_TYPES.items():
        assert kind.name == name and kind.description.strip()
        assert callable(kind.coerce) and callable(kind.summarise) and callable(kind.holds)
        assert kind.widget in WIDGETS and kind.holds(EXAMPLES[name][1]), name


def test_typed_values_are_coerced_by_their_type():
    typed = {name: written for name, (written, _) in EXAMPLES.items()}
    typed["list"] = "walk, read"  # the command line's comma-separated form
    typed["ratings"] = "calm:7,sad:2"
    assert SCHEMA.validate(typed, "an entry") == STORED


def test_an_unknown_type_fails_when_the_field_is_built_naming_the_known_ones():
    with pytest.raises(ValueError) as raised:
        Field("colour", "colour")
    message = str(raised.value)
    assert "\n" not in message and message.startswith("field 'colour': unknown type 'colour'")
    assert message.endswith("known types: " + ", ".join(FIELD_TYPES))


def test_a_type_naming_no_widget_or_fhir_type_is_refused():
    parts = dict(coerce=str, settings=(), holds=bool, summarise=lambda e, n: {})
    with pytest.raises(ValueError, match="unknown widget 'slider'"):
        FieldType(
            "x", "x", widget="slider", fhir_item_type="text", fhir_answer_key="valueString", **parts
        )
    with pytest.raises(ValueError, match="unknown FHIR item type 'colour'"):
        FieldType(
            "x", "x", widget="text", fhir_item_type="colour", fhir_answer_key="valueString", **parts
        )


def test_the_set_is_fixed():
    with pytest.raises(TypeError):
        FIELD_TYPES["colour"] = FIELD_TYPES["text"]  # type: ignore[index]


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, set[tuple[str, str | None]]] = {}
        self.attributes: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        seen = dict(attrs)
        name = seen.get("name") or ""
        if name.startswith(forms.PREFIX):
            key = name.removeprefix(forms.PREFIX)
            self.found.setdefault(key, set()).add((tag, seen.get("type")))
            self.attributes[key] = seen


def test_the_portal_renders_each_types_widget():
    assert set(CONTROLS) == set(WIDGETS) == set(forms.BUILDERS)
    app = create_app(PortalConfig(), lambda: None)
    with app.app_context():
        macro = app.jinja_env.get_template("_form.html").module.widget  # type: ignore[attr-defined]
        page = "".join(str(macro(w)) for w in forms.widgets(SCHEMA, "f"))
    parsed = _Controls()
    parsed.feed(page)
    for name, kind in FIELD_TYPES.items():
        assert parsed.found.get(name) == CONTROLS[kind.widget], name
    assert (
        parsed.attributes["integer"] | {"min": "0", "max": "10", "step": "1"}
        == (parsed.attributes["integer"])
    )
    assert parsed.attributes["number"]["step"] == "any"


def test_what_the_portal_posts_reads_back_into_each_type():
    posted = {forms.PREFIX + name: written for name, (written, _) in EXAMPLES.items()}
    fields, problems = forms.read_fields(SCHEMA, posted)
    assert problems == {}
    assert SCHEMA.validate(fields, "an entry") == STORED


def test_each_type_exports_as_its_fhir_item_and_answer():
    made = questionnaire(NAME, 1, "Every type", "", SCHEMA, "active")
    get_fhir_model_class("Questionnaire").model_validate(made)
    assert {i["linkId"]: i["type"] for i in made["item"]} == {
        name: kind.fhir_item_type for name, kind in FIELD_TYPES.items()
    }
    items = answers(NAME, SCHEMA, STORED)
    response = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": canonical(NAME, 1),
        "status": "completed",
        "item": items,
    }
    get_fhir_model_class("QuestionnaireResponse").model_validate(response)
    for item in items:
        answer = item["answer"] if "answer" in item else item["item"][-1]["answer"]
        assert [*answer[0]] == [FIELD_TYPES[item["linkId"]].fhir_answer_key], item


def test_each_type_has_its_summary():
    entries = [
        {"fields": STORED, "by": "client", "occurred_at": "2026-03-01T09:30:00+00:00"},
        {
            "fields": {**STORED, "integer": 3},
            "by": "client",
            "occurred_at": "2026-03-02T09:30:00+00:00",
        },
    ]
    kind = TaskType(NAME, "Every type", "All of them.", "test", entries=SCHEMA)
    summary = kind.summarise(entries, {})
    assert json.loads(json.dumps(summary)) == summary
    assert summary == {"entries": 2, "mean_integer": 5, "mean_number": 2.5}
    for name, field_type in FIELD_TYPES.items():
        assert set(field_type.summarise(entries, name)) <= set(summary), name


def test_each_type_is_described_with_the_settings_that_apply():
    described = json.loads(json.dumps(SCHEMA.describe()))["fields"]
    assert {f["name"]: f["type"] for f in described} == {name: name for name in FIELD_TYPES}
    assert next(f for f in described if f["name"] == "choice")["choices"] == ["low", "high"]


def test_the_registry_imports_no_web_or_fhir_library():
    code = (
        "import sys, between.engine.contracts.field_types; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'fhir', 'pydantic')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
