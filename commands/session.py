"""What every command shares: the settings, and the store and plugins opened on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Session:
    """What every command shares: settings, and the store opened on first use."""

    def __init__(self, **options: Any) -> None:
        from between.engine.settings import Settings

        self.settings = Settings.from_environment(**options)
        self._app: Any = None
        self._plugins: Any = None
        self._library: Any = None

    def app(self, *, read_only: bool = False, key_optional: bool = False) -> Any:
        """The store; auditor commands open it read-only, ``verify`` even without its key."""
        if self._app is None:
            from between.engine.app import Homework
            from between.engine.storage.store import Store

            self._app = Homework(
                Store.parse(self.settings.store),
                read_only=read_only,
                plugins=self.plugins,
                key_file=self.settings.key_file,
                key_optional=key_optional,
            )
            self._app.clinic = self.clinic_time()
        return self._app

    def close(self) -> None:
        """Close the store, if a command opened it (its connections, and SQLite's WAL files)."""
        if self._app is not None:
            app, self._app = self._app, None
            app.close()

    def plugins(self) -> Any:
        """The loaded plugins (task types, channels, commands), loaded on first use."""
        if self._plugins is None:
            from between.engine.hooks.loading import load_plugins

            self._plugins = load_plugins(self.settings)
        return self._plugins

    def library(self) -> Any:
        """The clinic's homework templates (``engine.hooks.library``), loaded on first use."""
        if self._library is None:
            from between.engine.hooks.library import load_library

            self._library = load_library(self.plugins(), self.settings)
        return self._library

    def clinic_time(self) -> Any:
        """The clinic's time defaults (``[clinic]``) and urgent kinds (``[notify] urgent``)."""
        from between.engine.reading.clock_zones import ClinicTime

        return ClinicTime.from_settings(self.settings)

    @property
    def actor(self) -> str | None:
        return self.settings.actor

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """What a reading command asks (``list``, ``agenda``, ``show``, ``client list|show``).

        A light reader when the store's read model is current (``engine.reading.light``): one plain
        connection, the read model, and a record's own events — without constructing the
        application — so these commands start about as fast as the interpreter. Otherwise
        (and once a command has opened the store) the application, by the same names.
        """
        if self._app is None:
            from between.engine.reading.light import open_reader
            from between.engine.storage.store import Store

            store = Store.parse(self.settings.store)
            environ, key_file = self.settings.environ, self.settings.key_file
            with open_reader(store, environ, key_file, self.plugins) as reader:
                if reader is not None:
                    reader.clinic = self.clinic_time()
                    yield reader
                    return
        yield self.app()
