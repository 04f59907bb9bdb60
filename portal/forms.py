"""HTML forms made from a task type's entry ``Schema``, and submitted forms read back into fields.

Each field type gets its own input: whole numbers and numbers with their range, choices as
radio buttons (or a list when there are many), yes/no as two radio buttons, date-times as
``datetime-local``, lists and ratings one per line, text as a text box (long text as a text
area). The browser's own checks are off (``novalidate``): the task type's validation — the
plugin's own — judges the values, and its messages are shown next to the fields in plain words
(``portal.field_messages``), with what was typed kept. Submitted values go to the engine as
text, which coerces them as ``submit`` does; date-times typed without a zone are read in the
client's (``in_zone``). Which input a field gets is its type's ``widget``
(``engine.contracts.field_types``); ``BUILDERS`` makes each widget and ``READERS`` reads the
ones that are not taken as typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from between import Field, InvalidInput, Schema
from between.engine import validate
from between.engine.contracts.field_types import FIELD_TYPES
from between.engine.reading.clock_zones import zone_of
from between.language import gettext as _
from between.portal.field_messages import label_of, question_of

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
        "label": question_of(f),  # the client's own words
        "required": f.required,
        "help": _(f.help) if f.help else "",
        "value": value,
        "error": error,
    }
    return BUILDERS[FIELD_TYPES[f.type].widget](f, common)


def _number(f: Field, common: dict[str, Any]) -> Widget:
    whole = f.type == "integer"
    attributes = {"step": "1" if whole else "any", "inputmode": "numeric" if whole else "decimal"}
    for key, bound in (("min", f.minimum), ("max", f.maximum)):
        if bound is not None:
            attributes[key] = _plain(bound)
    hint = _range(f, whole)
    return Widget(kind="input", input_type="number", attributes=attributes, hint=hint, **common)


def _yes_no(f: Field, common: dict[str, Any]) -> Widget:
    return _options(f, common, [("yes", _("Yes")), ("no", _("No"))])


def _choice(f: Field, common: dict[str, Any]) -> Widget:
    return _options(f, common, [(c, _(c)) for c in f.choices])  # the value stays the source


def _options(f: Field, common: dict[str, Any], pairs: list[tuple[str, str]]) -> Widget:
    value = common["value"]
    options = tuple(Option(v, label, value == v) for v, label in pairs)
    if len(options) > MAX_RADIOS:
        return Widget(kind="select", options=options, **common)
    if not f.required:
        options += (Option("", _("No answer"), value not in {v for v, _label in pairs}),)
    return Widget(kind="radios", options=options, **common)


def _datetime(f: Field, common: dict[str, Any]) -> Widget:
    hint = _("date and time, in your own time")
    return Widget(kind="input", input_type="datetime-local", hint=hint, **common)


def _items(f: Field, common: dict[str, Any]) -> Widget:
    hint = _("one item per line")
    return Widget(kind="textarea", hint=hint, attributes={"rows": "3"}, **common)


def _ratings(f: Field, common: dict[str, Any]) -> Widget:
    example = _("anxious: 80") if (f.maximum or 0) > 10 else _("calm: 7")
    hint = _(
        "one per line: a word, a colon, then its number (for example %(example)s)", example=example
    )
    if f.minimum is not None or f.maximum is not None:
        hint = _("%(hint)s; each rating %(range)s", hint=hint, range=_range(f, False))
    return Widget(kind="textarea", hint=hint, attributes={"rows": "3"}, **common)


def _text(f: Field, common: dict[str, Any]) -> Widget:
    limit = {"maxlength": str(f.max_length)}
    if f.min_length:
        common["hint"] = _("at least %(n)s characters", n=f.min_length)
    if f.max_length <= SHORT_TEXT:
        return Widget(kind="input", attributes=limit, **common)
    rows = "6" if f.min_length >= 20 else "3"
    return Widget(kind="textarea", attributes={**limit, "rows": rows}, **common)


#: The input of each widget named in ``engine.contracts.field_types.WIDGETS``.
BUILDERS: dict[str, Callable[[Field, dict[str, Any]], Widget]] = {
    "text": _text,
    "number": _number,
    "yes-no": _yes_no,
    "choice": _choice,
    "datetime": _datetime,
    "items": _items,
    "ratings": _ratings,
}


def _read_yes_no(raw: str) -> Any:
    return raw == "yes" if raw in ("yes", "no") else raw


def _read_items(raw: str) -> list[str]:
    return [i.strip() for i in re.split(r"[\n,]", raw) if i.strip()]


def _read_ratings(raw: str) -> dict[str, str]:
    pairs = [line.rpartition(":") for line in raw.splitlines() if line.strip()]
    if any(not sep or not label.strip() or not n.strip() for label, sep, n in pairs):
        raise ValueError("must look like label:number,label:number")  # as the engine says
    return {label.strip(): n.strip() for label, _colon, n in pairs}


#: How a widget's submitted text is read; the others go to the engine as typed.
READERS: dict[str, Callable[[str], Any]] = {
    "yes-no": _read_yes_no,
    "items": _read_items,
    "ratings": _read_ratings,
}


def read_fields(
    schema: Schema, form: Mapping[str, str], zone: str | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The entry's fields from a submitted form, and what could not be read, by field.

    Empty inputs are left out (a required one is then refused by the task type, by name);
    everything else goes to the engine as typed, except what ``READERS`` reads (yes/no, lists
    and ratings, line by line) and date-times, read in the client's ``zone`` (``in_zone``).
    """
    fields: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for f in schema.fields:
        raw = form.get(PREFIX + f.name, "").replace("\r\n", "\n")
        if not raw.strip():
            continue
        widget = FIELD_TYPES[f.type].widget
        if widget == "datetime":
            fields[f.name] = in_zone(raw, zone)
            continue
        read = READERS.get(widget)
        try:
            fields[f.name] = read(raw) if read is not None else raw
        except ValueError as e:
            problems[f.name] = str(e)
    return fields, problems


def in_zone(given: str | None, zone: str | None) -> str | None:
    """A typed date and time read in the client's ``zone`` (a ``datetime-local`` input has
    none): as an aware UTC ISO string. Without a zone (none recorded, no clinic default), or
    a time that names its own offset or is not a time at all, ``given`` is left as it is
    (the engine reads it, or says what is wrong)."""
    if not given or not zone:
        return given
    try:
        typed = datetime.fromisoformat(given.strip())
    except ValueError:
        return given
    if typed.tzinfo is not None:
        return given
    try:
        return typed.replace(tzinfo=zone_of(zone)).astimezone(UTC).isoformat()
    except (OverflowError, ValueError):  # e.g. 9999-12-31T23:00 far east of UTC
        return given


def error_target(w: Widget) -> str:
    """The id a link to ``w``'s message goes to: the field as a whole — its label, its
    message and its input, so a jump there shows all three (without JavaScript nothing can
    focus the input itself; the next Tab reaches it)."""
    return f"{w.id}-field"


def when_problem(given: str | None, now: datetime, zone: str | None = None) -> str:
    """What is wrong with the "when did it happen" input, in plain words ("" when nothing):
    judged by the engine's own rule (``validate.moment``), as the entry will be, the typed
    time read in the client's ``zone``."""
    try:
        validate.moment(WHEN_NAME, in_zone(given, zone), now)
    except InvalidInput as e:
        return when_message(str(e), now, zone)
    return ""


def when_message(said: str, now: datetime, zone: str | None = None) -> str:
    """The engine's message about when an entry happened, in plain words."""
    if said.endswith("is in the future"):
        return _("This can't be in the future. Enter when it happened, or leave it empty.")
    example = f"{now.astimezone(zone_of(zone)):%Y-%m-%d} 18:30"
    return _(
        "Please enter when this happened, like %(example)s, or leave it empty if it was just now.",
        example=example,
    )


def shown(f: Field | None, value: Any, zone: str | None = None) -> str:
    """A stored field value as the person reads it back."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v) if _is_number(v) else v}" for k, v in value.items())
    if f is not None and FIELD_TYPES[f.type].widget == "datetime" and isinstance(value, str):
        return local_time(value, zone)
    if f is not None and f.choices and isinstance(value, str) and value in f.choices:
        return _(value)  # a choice is recorded as its source word, read in the reader's
    return _plain(value) if _is_number(value) else str(value)


def local_time(iso: str, zone: str | None = None) -> str:
    """A stored time in the client's ``zone`` (None: the server's), as typed in the forms."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{moment.astimezone(zone_of(zone)):%Y-%m-%d %H:%M %Z}".strip()


def entry_lines(
    schema: Schema, fields: Mapping[str, Any], zone: str | None = None
) -> list[tuple[str, str]]:
    """An entry's fields in the schema's order, as (the question asked, value) pairs."""
    known = {f.name: f for f in schema.fields}
    order = [n for n in known if n in fields] + [n for n in fields if n not in known]
    return [
        (question_of(known[n]) if n in known else label_of(n), shown(known.get(n), fields[n], zone))
        for n in order
    ]


def _range(f: Field, whole: bool) -> str:
    """``a whole number from 0 to 100``, ``a number of at least 1``…"""
    low, high = f.minimum, f.maximum
    if low is not None and high is not None:
        if whole:
            return _("a whole number from %(low)s to %(high)s", low=_plain(low), high=_plain(high))
        return _("a number from %(low)s to %(high)s", low=_plain(low), high=_plain(high))
    if low is not None:
        if whole:
            return _("a whole number of at least %(low)s", low=_plain(low))
        return _("a number of at least %(low)s", low=_plain(low))
    if high is not None:
        if whole:
            return _("a whole number of at most %(high)s", high=_plain(high))
        return _("a number of at most %(high)s", high=_plain(high))
    return _("a whole number") if whole else _("a number")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _plain(number: Any) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
