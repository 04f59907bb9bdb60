"""Every word a client sees has its Spanish, and the shipped catalogs are the sources' own.

The words are found as ``make messages`` finds them (``babel.cfg``, Babel's extraction with
``between.language.extract``), so a new client-facing string without a Spanish translation —
in a portal page, a task type's field or a message — fails here, as does a translation whose
source is gone (stale) or one not yet compiled into the shipped ``.mo``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from between.language import LANGUAGES, translator

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "language" / "locales"
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def source_messages(root: Path = ROOT) -> dict[object, str]:
    """Each message id the sources under ``root`` ask for (a plural's is a tuple) and where it
    was found, read as ``make messages`` reads them (``root/babel.cfg``)."""
    with (root / "babel.cfg").open(encoding="utf-8") as cfg:
        methods, options = parse_mapping_cfg(cfg)
    found: dict[object, str] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(root),
        methods,
        options,  # Babel's default keywords, as `pybabel extract` uses
    ):
        if "/tests/" in f"/{filename}" or filename.startswith("."):
            continue
        found.setdefault(
            message if isinstance(message, str) else tuple(message), f"{filename}:{line}"
        )
    return found


def catalog(language: str, locales: Path = LOCALES):
    with (locales / language / "LC_MESSAGES" / "between.po").open("rb") as po:
        return read_po(po, locale=language)


def missing_from(sources: dict[object, str], language: str, locales: Path = LOCALES) -> list[str]:
    """Where each source message with no entry in ``language``'s catalog was found."""
    po = {m.id for m in catalog(language, locales) if m.id}
    return [f"{where}: {mid!r}" for mid, where in sources.items() if mid not in po]


@pytest.fixture(scope="module")
def sources() -> dict[object, str]:
    return source_messages()


def test_the_sources_have_client_facing_words(sources):
    assert len(sources) > 50  # the portal, the task types' fields and the messages


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_word_is_translated(sources, language):
    po = {m.id: m for m in catalog(language) if m.id}
    missing = missing_from(sources, language)
    assert not missing, (
        f"not in {language}.po (run `make messages`, then translate):\n" + "\n".join(missing)
    )
    untranslated = [
        repr(m.id)
        for m in po.values()
        if m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string])
    ]
    assert not untranslated, f"{language}.po has no (or a fuzzy) translation of:\n" + "\n".join(
        untranslated
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_translation_is_stale(sources, language):
    stale = [repr(mid) for mid in (m.id for m in catalog(language) if m.id) if mid not in sources]
    assert not stale, f"{language}.po translates words no source uses (run `make messages`):\n" + (
        "\n".join(stale)
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_their_placeholders(language):
    wrong = []
    for m in catalog(language):
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        wrong += [repr(m.id) for s in strings if s and set(PLACEHOLDER.findall(s)) != wanted]
    assert not wrong, "translations that drop or add a %(placeholder)s:\n" + "\n".join(wrong)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_shipped_catalog_is_compiled_from_the_translations(language):
    with (LOCALES / language / "LC_MESSAGES" / "between.mo").open("rb") as mo:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(mo) if m.id}
    written = {_key(m.id): _key(m.string) for m in catalog(language) if m.id and not m.fuzzy}
    assert compiled == written, "between.mo is out of date: run `make compile-messages`"


def _key(text: str | list | tuple) -> str | tuple:
    """A plural's forms as a tuple (the .mo reader gives a list)."""
    return text if isinstance(text, str) else tuple(text)


def test_spanish_words_and_formats():
    es = translator("es")
    assert es.day(__import__("datetime").date(2026, 12, 10)) == "jueves, 10 de diciembre de 2026"
    assert es.number(1234.5) == "1234,5"
    assert translator("pt").language == "en"  # an unknown language reads in English


def test_a_new_untranslated_portal_word_is_reported_missing(tmp_path):
    """The check reads the sources as they are: a word added to a copy of a portal page,
    with no Spanish yet, is reported with where it was found."""
    shutil.copy(ROOT / "babel.cfg", tmp_path / "babel.cfg")
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "portal" / "templates", tmp_path / "portal" / "templates", ignore=skip)
    shutil.copytree(ROOT / "language", tmp_path / "language", ignore=skip)
    locales = tmp_path / "language" / "locales"
    before = missing_from(source_messages(tmp_path), "es", locales)
    page = tmp_path / "portal" / "templates" / "home.html"
    page.write_text(
        page.read_text(encoding="utf-8") + "\n{% trans %}Brand new words{% endtrans %}\n",
        encoding="utf-8",
    )
    after = missing_from(source_messages(tmp_path), "es", locales)
    added = [line for line in after if line not in before]
    assert len(added) == 1 and added[0].startswith("portal/templates/home.html:"), added
    assert added[0].endswith(": 'Brand new words'"), added


def test_every_built_in_task_types_words_have_spanish():
    """What the loaded task types and starter templates show a client — titles, questions,
    help lines, choices, template titles and summaries — reads in Spanish: a check of the
    running plugins, beside the extraction's (a word the extractor cannot see fails here)."""
    from between.engine.hooks.library import load_library
    from between.engine.hooks.loading import load_plugins
    from between.engine.settings import Settings

    settings = Settings()
    plugins = load_plugins(settings)
    words = set()
    for name, kind in plugins.task_types.items():
        if not plugins.task_type_owners[name].startswith("between."):
            continue  # a clinic's plugin (the tests' example) brings its own catalogs
        words.add(kind.title)
        for field in kind.entries.fields:
            words.update(w for w in (field.question, field.help, *field.choices) if w)
    library = load_library(plugins, settings)
    for template in library.templates.values():
        words.update(w for w in (template.title, template.summary) if w)
    es = translator("es")
    untranslated = sorted(w for w in words if es.gettext(w) == w)
    assert not untranslated, "no Spanish for:\n" + "\n".join(untranslated)
