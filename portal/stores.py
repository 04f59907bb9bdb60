"""One ``Homework`` per server thread: the portal's requests never share an application object.

The engine's unit of work keeps recently saved aggregates in memory and fast-forwards them in
place, which is not safe to share between threads; each thread therefore opens its own
application on the same store, and the threads meet only in the store — exactly as several
operators' processes do (SQLite's write lock, PostgreSQL's transactions, and the engine's
reload-and-retry on a conflicting write). Waitress has a fixed number of threads, so at most
that many applications are opened. Entries for the same homework through this server take
turns (``WriteLocks``), so they do not spend the engine's retries on each other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from between import Settings

if TYPE_CHECKING:
    from between.engine.app import Homework


class Closing(Protocol):
    def close(self) -> None: ...


A = TypeVar("A", bound=Closing)


class PerThread(Generic[A]):
    """The calling thread's application, opened on first use (the first thread to ask takes
    ``spare``, one opened already); ``close`` closes them all."""

    def __init__(self, open_app: Callable[[], A], spare: A | None = None) -> None:
        self._open = open_app
        self._local = threading.local()
        self._spare: list[A] = [] if spare is None else [spare]
        self._opened: list[A] = list(self._spare)
        self._lock = threading.Lock()

    def __call__(self) -> A:
        app: A | None = getattr(self._local, "app", None)
        if app is None:
            with self._lock:
                app = self._spare.pop() if self._spare else None
            if app is None:
                app = self._open()
                with self._lock:
                    self._opened.append(app)
            self._local.app = app
        return app

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for app in opened:
            app.close()


class WriteLocks:
    """A lock for each homework (from a fixed set, so memory stays bounded)."""

    def __init__(self, stripes: int = 64) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]

    def __call__(self, assignment_id: str) -> threading.Lock:
        return self._locks[hash(assignment_id) % len(self._locks)]


def open_homework(settings: Settings, plugins: Any) -> Homework:
    """A ``Homework`` on the settings' store, with the plugins already loaded and the clinic's
    defaults (``[clinic]``: the clients' zone and language when they chose none)."""
    from between.engine.app import Homework
    from between.engine.reading.clock_zones import ClinicTime
    from between.engine.storage.store import Store

    app = Homework(Store.parse(settings.store), plugins=plugins, key_file=settings.key_file)
    app.clinic = ClinicTime.from_settings(settings)
    return app


class TemplateWords:
    """The client-facing ``title`` and ``summary`` of the library's templates
    (``engine.hooks.library``: the plugins' and the ``--library-dir`` folder's), read once, on
    first use — for homework assigned from a template whose recorded version is still the
    library's (an edited template's new words may not fit homework given under the old)."""

    def __init__(self, plugins: Any, settings: Settings) -> None:
        self._plugins, self._settings = plugins, settings
        self._words: dict[str, tuple[str, str, str]] | None = None
        self._lock = threading.Lock()

    def __call__(self, name: str | None, version: str | None) -> tuple[str, str] | None:
        """(title, summary) of template ``name`` at ``version``, or None (unknown, another
        version, or no words of its own)."""
        if not name or not version:
            return None
        found = self._library().get(name)
        if found is None or found[0] != version or not (found[1] or found[2]):
            return None
        return found[1], found[2]

    def _library(self) -> dict[str, tuple[str, str, str]]:
        with self._lock:
            if self._words is None:
                self._words = self._read()
            return self._words

    def _read(self) -> dict[str, tuple[str, str, str]]:
        from between.engine.hooks.library import load_library

        try:
            library = load_library(self._plugins, self._settings)
        except Exception:  # a broken library costs the pages only the templates' own words
            logging.getLogger("between.portal").warning("the template library could not be read")
            return {}
        return {
            name: (t.version, t.title or "", t.summary or "")
            for name, t in library.templates.items()
        }
