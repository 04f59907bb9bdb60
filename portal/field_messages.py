"""What the client reads when an answer is refused: the engine's refusal of a field
(``engine.contracts.field_types``: "is required", "must be at most 100"…) in plain words of
the reader's language, beside the field; in the summary at the top, the question first.

A refusal of an unknown kind reads as a kind, general request to check the answer; only an
English reader also sees the engine's own words (never a Spanish reader).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime

from between import Field, Schema
from between.language import current
from between.language import gettext as _


def label_of(name: str) -> str:
    """``suds_peak`` → ``Suds peak``."""
    words = re.sub(r"[_\-]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name


def question_of(f: Field) -> str:
    """What the client was asked: the field's question (translated), else its prettified name."""
    return _(f.question) if f.question else label_of(f.name)


def about(question: str, message: str) -> str:
    """A summary line: the question, then what is wrong with its answer."""
    joiner = " " if question.rstrip()[-1:] in "?.!:" else ": "
    return f"{question.rstrip()}{joiner}{message}"


def _number(f: Field) -> str:
    low, high = _plain(f.minimum), _plain(f.maximum)
    if low is not None and high is not None:
        return _("Please give a number from %(minimum)s to %(maximum)s.", minimum=low, maximum=high)
    if low is not None:
        return _("Please give a number of at least %(minimum)s.", minimum=low)
    if high is not None:
        return _("Please give a number of at most %(maximum)s.", maximum=high)
    return _("Please give a number.")


def _ratings(f: Field) -> str:
    return _("Please write one rating per line: a word, a colon, then its number.")


def _bounded(f: Field) -> bool:
    return f.minimum is not None or f.maximum is not None


def _moment(f: Field) -> str:
    example = f"{datetime.now():%Y-%m-%d} 18:30"
    return _("Please enter a date and time, like %(example)s.", example=example)


#: The engine's refusals (words found in them) and what the client reads instead; the first
#: that matches is used.
KINDS: tuple[tuple[str, Callable[[Field], str]], ...] = (
    ("rating for ", lambda f: _number(f) if _bounded(f) else _ratings(f)),
    ("is required", lambda f: _("Please answer this question.")),
    ("must be at least", _number),
    ("must be at most", _number),
    ("must be a whole number", lambda f: _("Please give a whole number.")),
    ("must be a number", lambda f: _("Please give a number.")),
    ("must be a finite number", lambda f: _("Please give a number.")),
    ("must be one of", lambda f: _("Please choose one of the options.")),
    ("must be yes or no", lambda f: _("Please choose one of the options.")),
    ("needs at least", lambda f: _("Please write at least %(n)s characters.", n=f.min_length)),
    ("the limit is", lambda f: _("Please write at most %(n)s characters.", n=f.max_length)),
    ("must be a date and time", _moment),
    ("must be in the years", _moment),
    ("must look like label:number", _ratings),
    ("must name at least one label", _ratings),
)  # fmt: skip


def plain_message(f: Field, said: str) -> str:
    """The engine's refusal ``said`` of ``f``'s answer, as the client reads it."""
    text = said.strip()
    text = text.removeprefix(f.name).strip() if text.startswith(f.name + " ") else text
    for start, words in KINDS:
        if start in text:
            return words(f)
    return fallback(text)


def fallback(said: str, whole_entry: bool = False) -> str:
    """A refusal of a kind not known here: the engine's words for an English reader only."""
    general = _("Please check your answers.") if whole_entry else _("Please check this answer.")
    if current().language.split("-")[0].lower() == "en" and said:
        return f"{general} ({said})"
    return general


def field_errors(schema: Schema, problems: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Messages to show next to each field ("Please give a number from 0 to 100."), and the
    ones that name no field of the form (shown at the top)."""
    known = {f.name: f for f in schema.fields}
    beside, top = {}, []
    for name, problem in problems.items():
        if name in known:
            beside[name] = plain_message(known[name], str(problem))
        else:
            top.append(fallback(str(problem).strip(), whole_entry=True))
    return beside, top


def _plain(number: float | None) -> str | None:
    if number is None:
        return None
    return str(int(number)) if float(number).is_integer() else str(number)
