"""Installed entry points, read straight from the distributions' metadata files.

The same discovery as ``importlib.metadata.entry_points`` — each ``*.dist-info`` and
``*.egg-info`` folder on ``sys.path``, the first distribution of a name winning — without its
cost: importing ``importlib.metadata`` takes as long as importing click, and naming each
distribution parses its whole metadata file (description included). Here a distribution's
name and version come from the header lines of that file, read only for distributions that
have an entry point in the group asked for. So ``between --help`` can list plugin commands,
and loading plugins stays quick, without importing anything heavy.
"""

from __future__ import annotations

import os
import re
import sys
from importlib import import_module
from typing import Any, NamedTuple

#: Installed plugins: each entry point names a plugin module (built-ins are Between's own).
PLUGINS_GROUP = "between"
#: The commands plugins add: each entry point's name is a command, its value the plugin module
#: that adds it through ``between_register_commands`` (so ``--help`` lists it unloaded).
COMMANDS_GROUP = "between.commands"
#: How built-in plugins are named (``between.NAME``).
BUILT_IN = "between"
#: Between's own distribution (``pip install between-homework``; the import package is
#: ``between``, and ``between`` on the package index is an unrelated project).
DISTRIBUTION = "between-homework"
_METADATA_DIRS = (".dist-info", ".egg-info")
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?(\[.*\]\s*)?$")


class EntryPoint(NamedTuple):
    """One entry point: its name, what it points at, and its distribution."""

    name: str
    value: str
    group: str
    folder: str  # the distribution's metadata folder

    @property
    def module(self) -> str:
        found = _VALUE.match(self.value)
        return found["module"] if found else self.value

    def load(self) -> Any:
        """The object it names (``module`` or ``module:attribute``), imported now."""
        found = _VALUE.match(self.value)
        if found is None:
            raise ValueError(f"{self.value!r} is not an entry point (module or module:attr)")
        obj = import_module(found["module"])
        for attr in (found["attr"] or "").split(".") if found["attr"] else ():
            obj = getattr(obj, attr)
        return obj

    @property
    def dist_name(self) -> str | None:
        return _headers(self.folder).get("name")

    @property
    def version(self) -> str:
        return _headers(self.folder).get("version") or "-"


def is_between(distribution: str | None) -> bool:
    """Whether a distribution name is Between's own, however it is spelled (PEP 503)."""
    return re.sub(r"[-_.]+", "-", distribution or "").lower() == DISTRIBUTION


def entry_points(group: str) -> list[EntryPoint]:
    """The entry points of ``group``, in the order ``importlib.metadata`` gives them."""
    found: list[EntryPoint] = []
    for folder in _distributions():
        found.extend(ep for ep in _entry_points_of(folder) if ep.group == group)
    return found


def declared_commands(only: tuple[str, ...] | None) -> dict[str, str]:
    """Each command installed plugins declare, with the plugin that adds it — named as
    ``between plugins`` names it — skipping plugins ``BETWEEN_PLUGINS`` (``only``) leaves out."""
    declared: dict[str, str] = {}
    for folder in _distributions():
        points = _entry_points_of(folder)
        plugins = {ep.module: ep.name for ep in points if ep.group == PLUGINS_GROUP}
        built_in = is_between(_headers(folder).get("name")) if plugins else False
        for ep in points:
            if ep.group != COMMANDS_GROUP:
                continue
            plugin = plugins.get(ep.module)
            if plugin is None:
                continue  # not a plugin's module: nothing would add the command
            if built_in:
                declared.setdefault(ep.name, f"{BUILT_IN}.{plugin}")
            elif only is None or plugin in only:
                declared.setdefault(ep.name, plugin)
    return declared


def _distributions() -> list[str]:
    """Each distribution's metadata folder on ``sys.path``, the first of each name only."""
    seen: set[str] = set()
    folders = []
    for entry in sys.path:
        base = entry or "."
        try:
            names = os.listdir(base)
        except OSError:  # not a folder (a zip file), or gone
            continue
        for name in names:
            stem, ext = os.path.splitext(name)
            if ext.lower() not in _METADATA_DIRS:
                continue
            key = re.sub(r"[-_.]+", "_", stem.partition("-")[0]).lower()
            if key not in seen:
                seen.add(key)
                folders.append(os.path.join(base, name))
    return folders


def _entry_points_of(folder: str) -> list[EntryPoint]:
    """The parsed ``entry_points.txt`` of one distribution (none if it has no such file)."""
    try:
        with open(os.path.join(folder, "entry_points.txt"), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    found, group = [], None
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
        elif group is not None and "=" in line:
            name, _, value = line.partition("=")
            found.append(EntryPoint(name.strip(), value.strip(), group, folder))
    return found


_HEADERS: dict[str, dict[str, str]] = {}


def _headers(folder: str) -> dict[str, str]:
    """Name and version from a distribution's metadata header (read once per folder)."""
    if folder not in _HEADERS:
        headers: dict[str, str] = {}
        for file in ("METADATA", "PKG-INFO"):
            try:
                with open(os.path.join(folder, file), encoding="utf-8") as f:
                    for line in f:
                        if not line.strip():
                            break  # the headers end at the first blank line
                        key, sep, value = line.partition(":")
                        if sep and key.lower() in ("name", "version"):
                            headers.setdefault(key.lower(), value.strip())
            except (OSError, UnicodeDecodeError):
                continue
            break
        _HEADERS[folder] = headers
    return _HEADERS[folder]
