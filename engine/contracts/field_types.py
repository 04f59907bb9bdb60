"""Field types: every kind of value a schema may hold, each declared once.

A ``FieldType`` says how a value is read (``coerce``), which of a field's settings apply to it,
which input the portal shows (``widget``), how the FHIR export writes it (the Questionnaire
item type and the answer's ``value[x]``), how to recognise a stored value of the type
(``holds``), and what it adds to the default review summary (``summarise``).

``FIELD_TYPES`` is the fixed set. Plugins use these types; they cannot add their own (yet):
a new type needs a portal widget and a FHIR shape, which live in Between's own code. The
module holds names and small functions only — no web or FHIR libraries — so the engine, the
portal and the FHIR export all look their parts up here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from between.engine.contracts.figures import mean_of
from between.engine.validate import utc_time

#: The portal's inputs (``portal.forms`` builds each one and reads each one back).
WIDGETS = ("text", "number", "yes-no", "choice", "datetime", "items", "ratings")
#: The settings of a ``Field`` that apply to some types only.
SETTINGS = ("minimum", "maximum", "choices", "min_length", "max_length")
#: FHIR R4 ``Questionnaire.item.type`` codes and ``QuestionnaireResponse`` answer keys.
FHIR_ITEM_TYPES = (
    *("group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time"),
    *("string", "text", "url", "choice", "open-choice", "attachment", "reference", "quantity"),
)
FHIR_ANSWER_KEYS = (
    *("valueBoolean", "valueDecimal", "valueInteger", "valueDate", "valueDateTime"),
    *("valueTime", "valueString", "valueUri", "valueAttachment", "valueCoding"),
    *("valueQuantity", "valueReference"),
)
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}

if TYPE_CHECKING:  # for annotations only: a Protocol costs start-up time to define
    from typing import Protocol

    Entries = Sequence[Mapping[str, Any]]

    class FieldSettings(Protocol):
        """What a coercion reads of its field (``tasktypes.Field`` has it all)."""

        @property
        def minimum(self) -> float | None: ...
        @property
        def maximum(self) -> float | None: ...
        @property
        def choices(self) -> tuple[str, ...]: ...
        @property
        def min_length(self) -> int: ...
        @property
        def max_length(self) -> int: ...


class FieldError(ValueError):
    """One field's value is wrong; the message says why."""


class FieldType:
    """One kind of field value, and its part in each place that shows or exports it; checked
    as it is made. (A plain class: every command's start-up defines it, and a dataclass or a
    named tuple costs a millisecond.)"""

    __slots__ = (
        "coerce",
        "description",
        "fhir_answer_key",
        "fhir_item_type",
        "holds",
        "name",
        "repeats",
        "settings",
        "summarise",
        "widget",
    )

    def __init__(
        self,
        name: str,
        description: str,
        coerce: Callable[[FieldSettings, Any], Any],
        settings: tuple[str, ...],
        widget: str,
        fhir_item_type: str,
        fhir_answer_key: str,
        holds: Callable[[Any], bool],
        summarise: Callable[[Entries, str], dict[str, Any]],
        repeats: bool = False,
    ) -> None:
        self.name = name
        self.description = description  # for people: "a whole number", in hints and the docs
        self.coerce = coerce  # the value in this type, or FieldError
        self.settings = settings  # which of SETTINGS apply (``types show``, FHIR constraints)
        self.widget = widget  # one of WIDGETS
        self.fhir_item_type = fhir_item_type  # Questionnaire.item.type
        self.fhir_answer_key = fhir_answer_key  # QuestionnaireResponse.item.answer.value[x]
        self.holds = holds  # whether a stored value is of this type
        self.summarise = summarise  # the default summary's figures
        self.repeats = repeats  # one answer per item (lists, ratings)
        self.check()

    def __repr__(self) -> str:
        return f"FieldType({self.name!r})"

    def check(self) -> None:
        """``ValueError`` naming the part that is not one of the known ones."""
        for part, value, known in (
            ("widget", self.widget, WIDGETS),
            ("FHIR item type", self.fhir_item_type, FHIR_ITEM_TYPES),
            ("FHIR answer key", self.fhir_answer_key, FHIR_ANSWER_KEYS),
            *(("setting", s, SETTINGS) for s in self.settings),
        ):
            if value not in known:
                raise ValueError(f"field type {self.name!r}: unknown {part} {value!r}")


def field_type(name: str, field: str = "") -> FieldType:
    """The registered type called ``name``, or ``ValueError`` listing the known ones."""
    try:
        return FIELD_TYPES[name]
    except (KeyError, TypeError):
        where = f"field {field!r}: " if field else ""
        known = ", ".join(FIELD_TYPES)
        raise ValueError(f"{where}unknown type {name!r}; known types: {known}") from None


def text(f: FieldSettings, value: Any, piece: bool = False) -> str:
    """Text within the field's lengths (``piece``: a list item or label, no minimum)."""
    if not isinstance(value, str):
        raise FieldError("must be text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError("is not valid Unicode text") from None
    if len(value) > f.max_length:
        raise FieldError(f"is {len(value):,} characters; the limit is {f.max_length:,}")
    if not piece and len(value.strip()) < f.min_length:
        raise FieldError(f"needs at least {f.min_length} characters")
    return value


def _number(value: Any, integer: bool) -> float | int:
    if isinstance(value, bool):
        raise FieldError("must be a number")
    try:
        number = (int if integer else float)(value) if isinstance(value, str) else value
    except ValueError:
        raise FieldError("must be a whole number" if integer else "must be a number") from None
    if integer and isinstance(number, float) and number.is_integer():
        number = int(number)
    if not isinstance(number, int if integer else (int, float)):
        raise FieldError("must be a whole number" if integer else "must be a number")
    if number != number or number in (float("inf"), float("-inf")):
        raise FieldError("must be a finite number")
    return number


def _ranged(f: FieldSettings, number: float) -> float:
    if f.minimum is not None and number < f.minimum:
        raise FieldError(f"must be at least {plain(f.minimum)}")
    if f.maximum is not None and number > f.maximum:
        raise FieldError(f"must be at most {plain(f.maximum)}")
    return number


def _integer(f: FieldSettings, value: Any) -> Any:
    return _ranged(f, _number(value, integer=True))


def _decimal(f: FieldSettings, value: Any) -> Any:
    return _ranged(f, _number(value, integer=False))


def _boolean(f: FieldSettings, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise FieldError("must be yes or no")


def _choice(f: FieldSettings, value: Any) -> Any:
    if value not in f.choices:
        raise FieldError(f"must be one of {', '.join(f.choices)}")
    return value


def _datetime(f: FieldSettings, value: Any) -> str:
    try:
        return utc_time(str(value)).isoformat()
    except ValueError as e:
        raise FieldError(str(e)) from None


def _list(f: FieldSettings, value: Any) -> list[str]:
    items = _split(value) if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise FieldError("must be a list of text (comma-separated, or a JSON list)")
    return [text(f, i, piece=True) for i in items]


def _ratings(f: FieldSettings, value: Any) -> dict[str, float]:
    if isinstance(value, str):
        written = value.strip()
        if written.startswith("{"):
            value = json.loads(written)
        else:
            pieces = _split(written)
            if not all(isinstance(p, str) for p in pieces):
                raise FieldError("must look like label:number,label:number")
            pairs = [p.rpartition(":") for p in pieces]
            if any(not sep or not label.strip() for label, sep, _ in pairs):
                raise FieldError("must look like label:number,label:number")
            value = {label.strip(): num.strip() for label, _, num in pairs}
    if not isinstance(value, dict) or not value:
        raise FieldError("must name at least one label with a rating")
    out = {}
    for label, number in value.items():
        text(f, label, piece=True)
        try:
            out[label] = _ranged(f, _number(number, integer=False))
        except FieldError as e:
            raise FieldError(f"rating for {label!r} {e}") from None
    return out


def _split(written: str) -> Any:
    """Comma-separated pieces, or whatever a JSON list holds (the caller checks it)."""
    written = written.strip()
    if written.startswith("["):
        try:
            return json.loads(written)
        except ValueError as e:
            raise FieldError(f"is malformed JSON: {e}") from None
    return [p.strip() for p in written.split(",") if p.strip()]


def plain(number: float) -> str:
    """``3.0`` → ``3``; other numbers as Python writes them."""
    return str(int(number)) if float(number).is_integer() else str(number)


def _mean(entries: Entries, name: str) -> dict[str, Any]:
    return {f"mean_{name}": mean_of(entries, name)}


def _nothing(entries: Entries, name: str) -> dict[str, Any]:
    return {}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_RANGE = ("minimum", "maximum")
_LENGTHS = ("min_length", "max_length")

_ALL = (
    FieldType(
        name="text",
        description="text",
        coerce=text,
        settings=_LENGTHS,
        widget="text",
        fhir_item_type="text",
        fhir_answer_key="valueString",
        holds=lambda v: isinstance(v, str),
        summarise=_nothing,
    ),
    FieldType(
        name="integer",
        description="a whole number",
        coerce=_integer,
        settings=_RANGE,
        widget="number",
        fhir_item_type="integer",
        fhir_answer_key="valueInteger",
        holds=lambda v: isinstance(v, int) and not isinstance(v, bool),
        summarise=_mean,
    ),
    FieldType(
        name="number",
        description="a number",
        coerce=_decimal,
        settings=_RANGE,
        widget="number",
        fhir_item_type="decimal",
        fhir_answer_key="valueDecimal",
        holds=_is_number,
        summarise=_mean,
    ),
    FieldType(
        name="boolean",
        description="yes or no",
        coerce=_boolean,
        settings=(),
        widget="yes-no",
        fhir_item_type="boolean",
        fhir_answer_key="valueBoolean",
        holds=lambda v: isinstance(v, bool),
        summarise=_nothing,
    ),
    FieldType(
        name="choice",
        description="one of the field's choices",
        coerce=_choice,
        settings=("choices",),
        widget="choice",
        fhir_item_type="choice",
        fhir_answer_key="valueCoding",
        holds=lambda v: isinstance(v, str),
        summarise=_nothing,
    ),
    FieldType(
        name="datetime",
        description="a date and time, stored as UTC ISO 8601",
        coerce=_datetime,
        settings=(),
        widget="datetime",
        fhir_item_type="dateTime",
        fhir_answer_key="valueDateTime",
        holds=lambda v: isinstance(v, str),
        summarise=_nothing,
    ),
    FieldType(
        name="list",
        description="a list of text",
        coerce=_list,
        settings=_LENGTHS,
        widget="items",
        fhir_item_type="string",
        fhir_answer_key="valueString",
        holds=lambda v: isinstance(v, list),
        summarise=_nothing,
        repeats=True,
    ),
    FieldType(
        name="ratings",
        description="labels, each with a number",
        coerce=_ratings,
        settings=(*_RANGE, "max_length"),
        widget="ratings",
        fhir_item_type="group",  # a label (string) and a rating (decimal) per answer
        fhir_answer_key="valueDecimal",
        holds=lambda v: isinstance(v, dict),
        summarise=_nothing,
        repeats=True,
    ),
)
#: Every field type by name, in the order they are documented. Fixed: plugins cannot add one.
FIELD_TYPES: Mapping[str, FieldType] = MappingProxyType({t.name: t for t in _ALL})
