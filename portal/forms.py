"""HTML forms made from a task type's entry ``Schema``, and submitted forms read back into fields.

Each field type gets its own input: whole numbers and numbers with their range, choices as
radio buttons (or a list when there are many), yes/no as two radio buttons, date-times as
``datetime-local``, lists and ratings one per line, text as a text box (long text as a text
area). The browser's own checks are off (``novalidate``): the task type's validation — the
plugin's own — judges the values, and its messages are shown next to the fields, with what was
typed kept. Submitted values go to the engine as text, which coerces them as ``submit`` does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from between import Field, InvalidInput, Schema
from between.engine import validate

PREFIX = "field."  # submitted inputs are named field.<name>, apart from the form's own
SHORT_TEXT = 200  # text fields up to this long get a one-line box
MAX_RADIOS = 5  # more choices than this are a drop-down list
WHEN_NAME = "occurred at"  # what the engine calls the "when did it happen" input


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    chosen: bool


@dataclass(frozen=True)
class Widget:
    """One input of a generated form, ready for the template (``_form.html``)."""

    name: str  # the submitted name: field.<field name>
    id: str
    label: str
    kind: str  # input | textarea | radios | select
    required: bool
    help: str = ""
    hint: str = ""  # how to write the value (range, format)
    input_type: str = "text"
    attributes: dict[str, str] = field(default_factory=dict)
    value: str = ""
    options: tuple[Option, ...] = ()
    error: str = ""

    @property
    def described_by(self) -> str:
        """The ids of the notes that describe the input (``aria-describedby``)."""
        notes = (("help", self.help), ("hint", self.hint), ("error", self.error))
        return " ".join(f"{self.id}-{kind}" for kind, text in notes if text)


def label_of(name: str) -> str:
    """``suds_peak`` → ``Suds peak``."""
    words = re.sub(r"[_\-]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name


def widgets(
    schema: Schema,
    form_id: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> list[Widget]:
    """The inputs of one form (ids start with ``form_id``), with typed values and errors."""
    values, errors = values or {}, errors or {}
    return [
        _widget(f, f"{form_id}-{n}", values.get(PREFIX + f.name, ""), errors.get(f.name, ""))
        for n, f in enumerate(schema.fields, 1)
    ]


def _widget(f: Field, wid: str, value: str, error: str) -> Widget:
    common: dict[str, Any] = {
        "name": PREFIX + f.name,
        "id": wid,
        "label": label_of(f.name),
        "required": f.required,
        "help": f.help,
        "value": value,
        "error": error,
    }
    if f.type in ("integer", "number"):
        attributes = {"step": "1" if f.type == "integer" else "any"}
        attributes |= {"inputmode": "numeric" if f.type == "integer" else "decimal"}
        for key, bound in (("min", f.minimum), ("max", f.maximum)):
            if bound is not None:
                attributes[key] = _plain(bound)
        return Widget(
            kind="input", input_type="number", attributes=attributes, hint=_range(f), **common
        )
    if f.type in ("boolean", "choice"):
        yes_no = [("yes", "Yes"), ("no", "No")]
        pairs = yes_no if f.type == "boolean" else [(c, c) for c in f.choices]
        options = tuple(Option(v, label, value == v) for v, label in pairs)
        if len(options) > MAX_RADIOS:
            return Widget(kind="select", options=options, **common)
        if not f.required:
            options += (Option("", "No answer", value not in {v for v, _ in pairs}),)
        return Widget(kind="radios", options=options, **common)
    if f.type == "datetime":
        hint = "date and time (the clinic's time zone)"
        return Widget(kind="input", input_type="datetime-local", hint=hint, **common)
    if f.type == "list":
        return Widget(kind="textarea", hint="one item per line", attributes={"rows": "3"}, **common)
    if f.type == "ratings":
        hint = "one per line: what you rate, a colon, the rating (e.g. calm: 7)"
        if f.minimum is not None or f.maximum is not None:
            hint += f"; each rating {_range(f)}"
        return Widget(kind="textarea", hint=hint, attributes={"rows": "3"}, **common)
    limit = {"maxlength": str(f.max_length)}
    if f.min_length:
        common["hint"] = f"at least {f.min_length} characters"
    if f.max_length <= SHORT_TEXT:
        return Widget(kind="input", attributes=limit, **common)
    rows = "6" if f.min_length >= 20 else "3"
    return Widget(kind="textarea", attributes={**limit, "rows": rows}, **common)


def read_fields(schema: Schema, form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The entry's fields from a submitted form, and what could not be read, by field.

    Empty inputs are left out (a required one is then refused by the task type, by name);
    everything else goes to the engine as typed, except lists and ratings, read line by line.
    """
    fields: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for f in schema.fields:
        raw = form.get(PREFIX + f.name, "").replace("\r\n", "\n")
        if not raw.strip():
            continue
        if f.type == "boolean" and raw in ("yes", "no"):
            fields[f.name] = raw == "yes"
        elif f.type == "list":
            fields[f.name] = [i.strip() for i in re.split(r"[\n,]", raw) if i.strip()]
        elif f.type == "ratings":
            pairs = [line.rpartition(":") for line in raw.splitlines() if line.strip()]
            if any(not sep or not label.strip() or not n.strip() for label, sep, n in pairs):
                problems[f.name] = "needs one rating per line: a label, a colon, a number"
            else:
                fields[f.name] = {label.strip(): n.strip() for label, _, n in pairs}
        else:
            fields[f.name] = raw
    return fields, problems


def field_errors(schema: Schema, problems: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Messages to show next to each field (``"Intensity must be at most 100"``), and the
    ones that name no field of the form (shown at the top)."""
    labels = {f.name: label_of(f.name) for f in schema.fields}
    beside, top = {}, []
    for name, problem in problems.items():
        text = str(problem).strip()
        if name in labels:
            text = text.removeprefix(name).strip() if text.startswith(name + " ") else text
            beside[name] = f"{labels[name]} {text}"
        else:
            top.append(f"{label_of(name)}: {text}" if name else text)
    return beside, top


def error_target(w: Widget) -> str:
    """The id a link to ``w``'s message goes to: the field as a whole — its label, its
    message and its input, so a jump there shows all three (without JavaScript nothing can
    focus the input itself; the next Tab reaches it)."""
    return f"{w.id}-field"


def when_problem(given: str | None, now: datetime) -> str:
    """What is wrong with the "when did it happen" input, in plain words ("" when nothing):
    judged by the engine's own rule (``validate.moment``), as the entry will be."""
    try:
        validate.moment(WHEN_NAME, given, now)
    except InvalidInput as e:
        return when_message(str(e), now)
    return ""


def when_message(said: str, now: datetime) -> str:
    """The engine's message about when an entry happened, in plain words."""
    if said.endswith("is in the future"):
        return "This can't be in the future. Enter when it happened, or leave it empty."
    example = f"{now.astimezone():%Y-%m-%d} 18:30"
    return f"Please enter when this happened, like {example}, or leave it empty if it was just now."


def shown(f: Field | None, value: Any) -> str:
    """A stored field value as the person reads it back."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v) if _is_number(v) else v}" for k, v in value.items())
    if f is not None and f.type == "datetime" and isinstance(value, str):
        return local_time(value)
    return _plain(value) if _is_number(value) else str(value)


def local_time(iso: str) -> str:
    """A stored time in the clinic's (the server's) time zone, as typed in the forms."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{moment.astimezone():%Y-%m-%d %H:%M %Z}".strip()


def entry_lines(schema: Schema, fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """An entry's fields in the schema's order, as (label, value) pairs."""
    known = {f.name: f for f in schema.fields}
    order = [n for n in known if n in fields] + [n for n in fields if n not in known]
    return [(label_of(n), shown(known.get(n), fields[n])) for n in order]


def _range(f: Field) -> str:
    """``a whole number from 0 to 100``, ``a number of at least 1``…"""
    kind = "a whole number" if f.type == "integer" else "a number"
    low, high = f.minimum, f.maximum
    if low is not None and high is not None:
        return f"{kind} from {_plain(low)} to {_plain(high)}"
    if low is not None:
        return f"{kind} of at least {_plain(low)}"
    if high is not None:
        return f"{kind} of at most {_plain(high)}"
    return kind


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _plain(number: Any) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
