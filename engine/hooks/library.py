"""The clinic's homework library: templates from plugins and from the library folder.

``load_library(plugins, settings)`` asks every plugin (``between_register_templates``) and then
reads each ``*.toml`` file of the library folder (``settings.library``), one template per file
(see docs/library.md). A file naming a starter template (``STARTER_PLUGIN``'s) replaces it; a
file that cannot be read, or names any other template already added, is kept as a problem under
its name; ``Library.get`` refuses a broken or invalid template in one line
naming it, its source and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from between.engine.contracts.templates import Template
from between.engine.errors import InvalidInput
from between.engine.hooks.calls import call_hook
from between.engine.hooks.registries import TemplateRegistry
from between.engine.settings import Settings

#: A template file's keys, and the ``Template`` argument each fills.
FILE_KEYS = {
    "name": "name",
    "task_type": "task_type",
    "version": "version",
    "title": "title",
    "summary": "summary",
    "instructions": "instructions",
    "rationale": "rationale",
    "stage": "stage",
    "difficulty": "difficulty",
    "entries": "expected_entries",
    "due": "due_days",
    "parameters": "parameters",
}
REQUIRED = ("task_type", "instructions", "rationale", "stage", "difficulty")
#: The built-in plugin whose templates a library file of the same name replaces.
STARTER_PLUGIN = "between.starter_library"


class Library:
    """Templates by name, where each came from, and the ones that could not be read."""

    def __init__(self, registry: TemplateRegistry, task_types: dict[str, Any]) -> None:
        self.templates: dict[str, Template] = registry.items
        self.sources: dict[str, str] = dict(registry.owners)
        self.broken: dict[str, str] = {}
        self.task_types = task_types

    def problem(self, name: str) -> str | None:
        """Why the template ``name`` cannot be used (naming its source), or None."""
        if name in self.broken:
            return f"template {name} ({self.broken[name]})"
        problem = self.templates[name].problem(self.task_types)
        return f"template {name} ({self.sources[name]}): {problem}" if problem else None

    def problems(self) -> list[str]:
        return [p for name in self.names() if (p := self.problem(name))]

    def names(self) -> list[str]:
        return sorted({*self.templates, *self.broken})

    def get(self, name: str) -> Template:
        """The valid template ``name``, or ``InvalidInput`` in one line."""
        if name not in self.templates and name not in self.broken:
            known = ", ".join(self.names()) or "none"
            raise InvalidInput(
                f"unknown template {name!r}; known templates: {known} (see 'between template list')"
            )
        problem = self.problem(name)
        if problem:
            raise InvalidInput(f"{problem}; fix the template, or assign without it")
        return self.templates[name]


def load_library(plugins: Any, settings: Settings) -> Library:
    """Every plugin's templates, then the library folder's files."""
    registry = TemplateRegistry(settings, "template")
    call_hook(plugins.manager, "between_register_templates", registry=registry)
    library = Library(registry, plugins.task_types)
    folder = settings.library
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            _add_file(library, path)
    return library


class TemplateFileError(ValueError):
    """A template file that cannot be read; ``name`` is the template it meant to define."""

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name


def _add_file(library: Library, path: Path) -> None:
    try:
        template = read_template(path)
    except TemplateFileError as e:
        library.broken.setdefault(e.name, f"{path}: {e}")
        return
    name = template.name
    if library.sources.get(name) == STARTER_PLUGIN:
        library.templates[name] = template
        library.sources[name] = str(path)
        return
    if name in library.templates or name in library.broken:
        where = library.sources.get(name) or "another file"
        library.broken[f"{name} [{path.name}]"] = (
            f"{path}: 'name' {name!r} is already taken by {where}; rename the template"
        )
        return
    library.templates[name] = template
    library.sources[name] = str(path)


def read_template(path: Path) -> Template:
    """The template one TOML file defines, or ``TemplateFileError`` naming the field."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise TemplateFileError(f"cannot be read: {e}", path.stem) from None
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise TemplateFileError("'name' must be text", path.stem)
    try:
        return _template(path, data)
    except ValueError as e:
        raise TemplateFileError(str(e), name) from None


def _template(path: Path, data: dict[str, Any]) -> Template:
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)} (known: {', '.join(FILE_KEYS)})")
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise ValueError(f"'{missing[0]}' is required")
    if not isinstance(data.get("parameters", {}), dict):
        raise ValueError("'parameters' must be a table ([parameters])")
    if "version" in data and not isinstance(data["version"], str | int):
        raise ValueError("'version' must be text")
    arguments = {FILE_KEYS[key]: value for key, value in data.items()}
    arguments.setdefault("name", path.stem)
    if "version" in arguments:
        arguments["version"] = str(arguments["version"])
    name, task_type = arguments.pop("name"), arguments.pop("task_type")
    return Template(name, task_type, **arguments)
