"""Client-facing words in the client's language: gettext message catalogs compiled with Babel,
and dates, times and numbers formatted for the client's locale.

Between's own catalog is ``language/locales/<language>/LC_MESSAGES/between.po`` (compiled
beside it as ``between.mo``, shipped in the wheel); a plugin adds its own folders through the hook
``between_message_catalogs``. ``translator(language)`` gives a ``Translator``; ``use(...)``
makes one current for the work in hand (a portal request, one message being sent), and
``gettext``/``ngettext`` translate in the current one. English is the source language.
See docs/translating.md.
"""

from between.language.catalogs import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    N_,
    Translator,
    Word,
    check_language,
    current,
    gettext,
    ngettext,
    translator,
    use,
    worded,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "Translator",
    "Word",
    "check_language",
    "current",
    "gettext",
    "ngettext",
    "translator",
    "use",
    "worded",
]
