"""The client's language: catalogs (Between's and plugins'), and locale formats."""

from __future__ import annotations

import logging
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from between.engine.hooks.loading import load_plugins
from between.engine.hooks.message_catalogs import plugin_catalogs
from between.engine.settings import Settings
from between.language import check_language, translator, use
from between.language import gettext as _


def compiled(folder: Path, domain: str, language: str, words: dict[str, str]) -> Path:
    """A compiled catalog of ``words`` for ``language`` in ``folder`` (as pybabel makes)."""
    catalog = Catalog(locale=language, domain=domain)
    for source, translated in words.items():
        catalog.add(source, translated)
    target = folder / language / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / f"{domain}.mo").open("wb") as mo:
        write_mo(mo, catalog)
    return folder


def plugins_with(tmp_path: Path, **modules: str):
    folder = tmp_path / "plugins"
    folder.mkdir()
    for name, code in modules.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(code), encoding="utf-8")
    return load_plugins(Settings(plugins_dir=folder))


def test_hook_between_message_catalogs(tmp_path):
    """A plugin's catalog is merged over Between's own for its language only."""
    locales = compiled(
        tmp_path / "locales", "gratitude", "es", {"Three good things": "Tres cosas buenas"}
    )
    plugins = plugins_with(
        tmp_path,
        gratitude=f"""
        from between import hookimpl

        @hookimpl
        def between_message_catalogs():
            return {str(locales)!r}
        """,
    )
    folders = plugin_catalogs(plugins.manager)
    assert folders == (str(locales),)
    assert translator("es", folders).gettext("Three good things") == "Tres cosas buenas"
    assert translator("en", folders).gettext("Three good things") == "Three good things"
    with use("es", folders):
        assert _("Three good things") == "Tres cosas buenas"
    assert _("Three good things") == "Three good things"  # outside the block: English again


def test_a_plugin_naming_no_folder_is_logged_by_name_and_left_in_english(tmp_path, caplog):
    plugins = plugins_with(
        tmp_path,
        broken="""
        from between import hookimpl

        @hookimpl
        def between_message_catalogs():
            return "/nowhere/at/all"
        """,
        raising="""
        from between import hookimpl

        @hookimpl
        def between_message_catalogs():
            raise OSError("disk gone")
        """,
    )
    with caplog.at_level(logging.WARNING, logger="between.language"):
        assert plugin_catalogs(plugins.manager) == ()
    lines = [r.getMessage() for r in caplog.records]
    assert any("broken.py" in line and "not an existing folder" in line for line in lines), lines
    assert any("raising.py" in line and "disk gone" in line for line in lines), lines


def test_languages_are_checked_in_one_line():
    assert check_language("es-ES") == "es" and check_language("EN") == "en"
    try:
        check_language("klingon", "--language")
    except ValueError as e:
        assert str(e) == "--language 'klingon' is not one Between speaks; use one of: en, es"
    else:
        raise AssertionError("accepted")


def test_dates_times_and_numbers_follow_the_language():
    en, es = translator("en"), translator("es")
    assert en.day(date(2026, 12, 10)) == "Thursday, 10 December 2026"
    assert es.day(date(2026, 12, 10)) == "jueves, 10 de diciembre de 2026"
    assert es.number(2.5) == "2,5" and en.number(2.5) == "2.5"
    instant = datetime(2026, 12, 11, 5, 0, tzinfo=UTC)  # 19:00 on the 10th in Honolulu
    assert (
        en.moment(instant, "Pacific/Honolulu")
        == "Thursday, 10 December 2026, 19:00 (Honolulu time)"
    )
    assert es.moment(instant, "Pacific/Honolulu").startswith(
        "jueves, 10 de diciembre de 2026, 19:00 ("
    )
