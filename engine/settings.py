"""Settings from the command line, the environment and the clinic's configuration file.

Precedence: command-line option > environment variable > configuration file > default.
The configuration file is TOML, at ``--config`` / ``BETWEEN_CONFIG`` or
``$XDG_CONFIG_HOME/between/config.toml``; each plugin reads its own table from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from between.engine.errors import InvalidInput
from between.engine.hooks import chosen_plugins


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "between"


@dataclass(frozen=True)
class Settings:
    """Everything a command or a plugin may need to know about where it runs."""

    store: str | None = None
    actor: str | None = None
    plugins_dir: Path | None = None
    worksheets_dir: Path | None = None
    library_dir: Path | None = None
    config_file: Path | None = None
    key_file: Path | None = None
    #: Names of installed (entry-point) plugins to load; None loads them all.
    only_plugins: tuple[str, ...] | None = None
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ), repr=False)

    @classmethod
    def from_environment(cls, **given: Any) -> Settings:
        env = dict(os.environ)

        def pick(name: str, var: str) -> Any:
            return given.get(name) or env.get(var) or None

        def path(name: str, var: str) -> Path | None:
            value = pick(name, var)
            return Path(value).expanduser() if value else None

        return cls(
            store=pick("store", "BETWEEN_STORE"),
            actor=pick("actor", "BETWEEN_ACTOR"),
            plugins_dir=path("plugins_dir", "BETWEEN_PLUGINS_DIR"),
            worksheets_dir=path("worksheets_dir", "BETWEEN_WORKSHEETS_DIR"),
            library_dir=path("library_dir", "BETWEEN_LIBRARY_DIR"),
            config_file=path("config_file", "BETWEEN_CONFIG"),
            key_file=path("key_file", "BETWEEN_KEY_FILE"),
            only_plugins=chosen_plugins(env),
            environ=env,
        )

    @cached_property
    def config(self) -> dict[str, Any]:
        """The parsed configuration file ({} when there is none), checked against its documented
        shape (see ``engine.configuration``); a file that is not that is ``InvalidInput``."""
        path = self.config_file or _config_home() / "config.toml"
        try:
            if not path.exists():
                if self.config_file:
                    raise InvalidInput(
                        "configuration file %(path)s does not exist; fix --config or "
                        "BETWEEN_CONFIG",
                        path=path,
                    )
                return {}
            raw = path.read_text(encoding="utf-8")
        except OSError as e:
            raise InvalidInput(
                "cannot read the configuration file %(path)s: %(reason)s",
                path=path,
                reason=e.strerror,
            ) from None
        except UnicodeDecodeError:
            raise InvalidInput("configuration file %(path)s is not UTF-8 text", path=path) from None
        import tomllib

        from between.engine.configuration import check_config

        try:
            parsed = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as e:
            raise InvalidInput(
                "configuration file %(path)s is not valid TOML: %(reason)s", path=path, reason=e
            ) from None
        return check_config(parsed, path)

    def section(self, name: str) -> dict[str, Any]:
        """One table of the configuration file, e.g. ``[channels.email]`` → ``"channels.email"``."""
        table: Any = self.config
        for part in name.split("."):
            table = table.get(part, {}) if isinstance(table, dict) else {}
        return table if isinstance(table, dict) else {}

    def channel(self, name: str) -> dict[str, Any]:
        """A channel's settings: ``[channels.NAME]`` overridden by ``BETWEEN_CHANNEL_NAME_KEY``."""
        values = dict(self.section(f"channels.{name}"))
        prefix = f"BETWEEN_CHANNEL_{name.upper().replace('-', '_')}_"
        for var, value in self.environ.items():
            if var.startswith(prefix):
                values[var.removeprefix(prefix).lower()] = value
        return values

    @property
    def worksheets(self) -> Path:
        """Where worksheet files (task types as data) are read from."""
        return self.worksheets_dir or Path(
            self.section("worksheets").get("dir") or _config_home() / "worksheets"
        )

    @property
    def library(self) -> Path:
        """Where the clinic's homework templates (TOML files) are read from."""
        return self.library_dir or Path(
            self.section("library").get("dir") or _config_home() / "library"
        )
