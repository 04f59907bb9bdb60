"""Loading the message catalogs of a language and translating with them.

A ``Translator`` is Between's catalog for one language merged with the catalogs plugins ship
(a plugin's translation of the same message wins, so a clinic's plugin can reword Between's
own text). Catalogs are read once per process and language. A message with no translation
stays in English, never an error: ``tests/test_translations.py`` is what keeps Spanish complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: the command line's English needs none of them
    import gettext as stdlib_gettext
    from datetime import date, datetime, time

#: The languages Between's own catalogs cover completely; English is the source.
LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
#: Where Between's own catalogs live.
LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "between"
#: The Babel locale used for formatting each language (British English spelling of dates).
FORMAT_LOCALE = {"en": "en_GB", "es": "es_ES"}
#: CLDR's minimum grouping digits, which Babel does not apply: Spanish writes 1234,5 but 12.345.
MIN_GROUPING = {"es": 2}


def check_language(value: Any, what: str = "language") -> str:
    """A supported language code (``es-ES`` and ``ES`` read as ``es``), or ``ValueError``
    naming the choices."""
    code = str(value or "").strip().replace("_", "-").split("-")[0].lower()
    if code not in LANGUAGES:
        raise ValueError(
            Word(
                N_("%(what)s %(value)r is not one Between speaks; use one of: %(languages)s"),
                what=what,
                value=value,
                languages=", ".join(LANGUAGES),
            )
        )
    return code


class Translator:
    """The words and formats of one language."""

    def __init__(self, language: str, catalog: stdlib_gettext.NullTranslations) -> None:
        self.language = language
        self.locale = FORMAT_LOCALE.get(language, language)
        self._catalog = catalog

    def gettext(self, message: str, /, **values: Any) -> str:
        """``message`` in this language, its ``%(name)s`` placeholders filled from ``values``
        (the gettext convention, as in the portal's templates); a value marked with ``N_``
        (a ``Word``) is translated too."""
        text = self._catalog.gettext(message) if message else message  # "" is the header's id
        return text % self._worded(values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        """The singular or plural form for ``n`` (``%(n)s`` is filled in too)."""
        return self.plural(singular, plural, n) % {"n": n, **self._worded(values)}

    def _worded(self, values: dict[str, Any]) -> dict[str, Any]:
        return {
            k: self.gettext(v.template, **v.values) if isinstance(v, Word) else v
            for k, v in values.items()
        }

    def plural(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural form for ``n`` with its placeholders left unfilled (for a
        template engine that fills them itself)."""
        return self._catalog.ngettext(singular, plural, n)

    def day(self, day: date) -> str:
        """A calendar day in full: "Thursday, 10 December 2026" (English)."""
        from babel.dates import format_date

        return format_date(day, "full", locale=self.locale)

    def clock(self, moment: time) -> str:
        """A time of day: "19:00"."""
        from babel.dates import format_time

        return format_time(moment, "short", locale=self.locale)

    def moment(self, instant: datetime, zone: str) -> str:
        """An instant as the client's local day and time, labelled with their zone:
        "Thursday, 10 December 2026, 19:00 (Honolulu time)"."""
        from zoneinfo import ZoneInfo

        from babel.dates import get_timezone_location

        local = instant.astimezone(ZoneInfo(zone))
        if zone == "UTC":
            place = "UTC"
        else:
            place = get_timezone_location(ZoneInfo(zone), locale=self.locale, return_city=True)
        label = self.gettext("%(place)s time", place=place)
        return (
            f"{self.day(local.date())}, {self.clock(local.timetz().replace(tzinfo=None))} ({label})"
        )

    def number(self, value: float) -> str:
        """A number with the locale's decimal mark and grouping: 1,234.5 / 1234,5 / 12.345."""
        from babel.numbers import format_decimal

        grouped = abs(value) >= 10 ** (2 + MIN_GROUPING.get(self.language, 1))
        return format_decimal(value, locale=self.locale, group_separator=grouped)


def translator(language: str | None = None, extra: Iterable[str | Path] = ()) -> Translator:
    """The translator of ``language`` (the default when None or unknown), with the catalogs
    in the folders ``extra`` (plugins') merged over Between's own."""
    try:
        code = check_language(language or DEFAULT_LANGUAGE)
    except ValueError:
        code = DEFAULT_LANGUAGE
    return _translator(code, tuple(str(p) for p in extra))


@lru_cache(maxsize=32)
def _translator(language: str, extra: tuple[str, ...]) -> Translator:
    import gettext

    found = _read(LOCALES, language, (DOMAIN,))
    for folder in map(Path, extra):
        found += _read(
            folder,
            language,
            sorted({mo.stem for mo in folder.glob(f"{language}/LC_MESSAGES/*.mo")}),
        )
    catalog = gettext.NullTranslations()
    for over in found:  # the last read wins: a plugin's word over Between's own
        over.add_fallback(catalog)
        catalog = over
    return Translator(language, catalog)


def _read(
    folder: Path, language: str, domains: Iterable[str]
) -> list[stdlib_gettext.GNUTranslations]:
    """The compiled catalogs of ``domains`` in ``folder`` for ``language`` (read with the
    standard library: Babel's loader costs a command line ~40 ms)."""
    import gettext

    catalogs = []
    for domain in domains:
        path = folder / language / "LC_MESSAGES" / f"{domain}.mo"
        if path.is_file():
            with path.open("rb") as mo:
                catalogs.append(gettext.GNUTranslations(mo))
    return catalogs


_current: ContextVar[Translator | None] = ContextVar("between_translator", default=None)


def current() -> Translator:
    """The translator in use here (English when none was chosen)."""
    return _current.get() or translator(DEFAULT_LANGUAGE)


@contextmanager
def use(language: str | None, extra: Iterable[str | Path] = ()) -> Iterator[Translator]:
    """Make ``language``'s translator current for the ``with`` block."""
    token = _current.set(translator(language, extra))
    try:
        yield current()
    finally:
        _current.reset(token)


class Word(str):
    """English words that remember how to be translated: ``Word("event #%(seq)s is missing",
    seq=4)`` *is* the English ``str`` (so JSON, ``==`` and ``in`` see the English, and it
    crosses to worker processes), and is translated where a person reads it — by ``worded``,
    or when given as a placeholder's value (``cannot %(doing)s`` with ``doing=N_("agree
    to")``). Words a user typed are never ``Word``s, so never translated. Its template is
    found by ``make messages`` when marked with ``N_``."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> Word:
        word = super().__new__(cls, template % values if values else template)
        word.template, word.values = str(template), values
        return word

    def __reduce__(self) -> tuple[Any, ...]:
        return (_word, (self.template, self.values))


def _word(template: str, values: dict[str, Any]) -> Word:
    return Word(template, **values)


def worded(text: Any) -> Any:
    """``text`` in the current language when it is a ``Word``, else ``text`` as it is."""
    return gettext(text.template, **text.values) if isinstance(text, Word) else text


def N_(message: str) -> Word:
    """``message`` unchanged, marked for ``make messages`` (a word kept in a constant, or given
    as a value to fill a message's placeholder) and translated where it is shown."""
    return Word(message)


def gettext(message: str, /, **values: Any) -> str:
    """``message`` in the current language (see ``use``)."""
    return current().gettext(message, **values)


def ngettext(singular: str, plural: str, n: int, /, **values: Any) -> str:
    """The singular or plural form for ``n`` in the current language."""
    return current().ngettext(singular, plural, n, **values)
