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

from between.engine.contracts.templates import Protocol, Template
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
        self.protocols: dict[str, Protocol] = dict(registry.protocols)
        self.protocol_sources: dict[str, str] = dict(registry.protocol_owners)
        self.broken_protocols: dict[str, str] = {}

    def protocol_problem(self, name: str) -> str | None:
        """Why the protocol ``name`` cannot be used (naming its source), or None."""
        if name in self.broken_protocols:
            return f"protocol {name} ({self.broken_protocols[name]})"
        problem = self.protocols[name].problem(self.templates)
        return f"protocol {name} ({self.protocol_sources[name]}): {problem}" if problem else None

    def protocol_names(self) -> list[str]:
        return sorted({*self.protocols, *self.broken_protocols})

    def protocol_problems(self) -> list[str]:
        return [p for name in self.protocol_names() if (p := self.protocol_problem(name))]

    def protocol(self, name: str) -> Protocol:
        """The usable protocol ``name``, or ``InvalidInput`` in one line."""
        if name not in self.protocols and name not in self.broken_protocols:
            known = ", ".join(self.protocol_names()) or "none"
            raise InvalidInput(
                "unknown protocol %(name)r; known protocols: %(known)s "
                "(see 'between protocol list')",
                name=name,
                known=known,
            )
        problem = self.protocol_problem(name)
        if problem:
            raise InvalidInput(
                "%(problem)s; fix the protocol, or assign without it", problem=problem
            )
        return self.protocols[name]

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
                "unknown template %(name)r; known templates: %(known)s "
                "(see 'between template list')",
                name=name,
                known=known,
            )
        problem = self.problem(name)
        if problem:
            raise InvalidInput(
                "%(problem)s; fix the template, or assign without it", problem=problem
            )
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
    if _is_protocol(path):
        _add_protocol_file(library, path)
        return
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


def _is_protocol(path: Path) -> bool:
    """A file with a top-level ``steps`` key is a protocol (see docs/library.md)."""
    import tomllib

    try:
        return "steps" in tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


PROTOCOL_KEYS = ("name", "title", "description", "steps", "version")


def _add_protocol_file(library: Library, path: Path) -> None:
    import tomllib

    data = tomllib.loads(path.read_text(encoding="utf-8"))
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        name = path.stem
    problem = None
    unknown = sorted(set(data) - set(PROTOCOL_KEYS))
    steps = data.get("steps")
    if unknown:
        problem = f"unknown key(s) {', '.join(unknown)} (known: {', '.join(PROTOCOL_KEYS)})"
    elif not isinstance(steps, list):
        problem = "'steps' must be a list of template names"
    elif any(not isinstance(data.get(k), str | None) for k in ("title", "description")):
        problem = "'title' and 'description' must be text"
    elif library.protocol_sources.get(name) == STARTER_PLUGIN:
        pass  # a file replaces a starter protocol of the same name, as it does a template
    elif name in library.protocols or name in library.broken_protocols:
        where = library.protocol_sources.get(name) or "another file"
        problem = f"'name' {name!r} is already taken by {where}; rename the protocol"
        name = f"{name} [{path.name}]"
    if problem:
        library.broken_protocols[name] = f"{path}: {problem}"
        return
    version = data.get("version")
    library.protocols[name] = Protocol(
        name,
        steps,  # type: ignore[arg-type]
        title=data.get("title"),
        description=data.get("description"),
        version=str(version) if version is not None else None,
    )
    library.protocol_sources[name] = str(path)
