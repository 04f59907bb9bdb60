"""Loading plugins: built-ins, installed distributions and a plugins directory.

``load_plugins(settings)`` builds a fresh ``pluggy.PluginManager`` (there is no import-time
global) and asks every plugin for its task types and channels (into the registries of
``engine.hooks.registries``). Any plugin that fails to import, implements a hook that does not
exist (or with arguments the hook does not pass), or registers a name already taken is a
one-line ``PluginError`` naming the plugin — never a silent skip. Every hook is called through
pluggy by ``engine.hooks.calls.call_hook``, so ``tryfirst``/``trylast``, ``firstresult`` and
wrappers hold and a failing plugin is named.
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import FunctionType, MethodType, ModuleType
from typing import Any

import pluggy

from between.engine.contracts.task_types import TaskType
from between.engine.errors import InvalidInput
from between.engine.hooks import specs as hookspecs
from between.engine.hooks.calls import PluginError, call_hook, install
from between.engine.hooks.entry_points import entry_points, is_between
from between.engine.hooks.registries import ChannelRegistry, Registry, TaskTypeRegistry
from between.engine.settings import Settings

ENTRY_POINT_GROUP = "between"
#: Hooks that fill a registry: it names the plugin adding each item, so no wrapper may intervene.
REGISTRATION_HOOKS = (
    "between_register_task_types",
    "between_register_channels",
    "between_register_templates",
)


__all__ = ["PluginError", "Plugins", "load_plugins", "plugin_manager"]


@dataclass
class Plugins:
    """What loading found: the manager, task types, channels and any problems."""

    manager: pluggy.PluginManager
    task_types: dict[str, TaskType]
    task_type_owners: dict[str, str]
    channels: dict[str, Any]
    problems: list[str]
    versions: dict[str, str]
    #: The plugin that registered each channel (named when a channel fails).
    channel_owners: dict[str, str] = field(default_factory=dict)

    def task_type(self, name: str) -> TaskType:
        try:
            return self.task_types[name]
        except KeyError:
            known = ", ".join(sorted(self.task_types)) or "none"
            if self.problems:
                raise InvalidInput(
                    "unknown task type %(name)r; known task types: %(known)s (see 'between "
                    "types', which also lists %(count)s problem(s))",
                    name=name,
                    known=known,
                    count=len(self.problems),
                ) from None
            raise InvalidInput(
                "unknown task type %(name)r; known task types: %(known)s (see 'between types')",
                name=name,
                known=known,
            ) from None

    def describe(self) -> list[dict[str, Any]]:
        """Each plugin with its version, source and the hooks it implements."""
        out = []
        for name, plugin in self.manager.list_name_plugin():
            if plugin is None:
                continue
            callers = self.manager.get_hookcallers(plugin) or []
            out.append(
                {
                    "name": name,
                    "version": self.versions.get(name) or getattr(plugin, "__version__", "-"),
                    "source": _source(name),
                    "hooks": sorted(c.name for c in callers),
                }
            )
        return sorted(out, key=lambda p: p["name"])


class _Manager(pluggy.PluginManager):
    """pluggy's manager, quicker to register modules: a module's attribute that is no
    function carrying the marker is no hook, so it is skipped without pluggy's static
    look-up (which inspects every imported name of every plugin module, twice)."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        if isinstance(plugin, ModuleType) and not _marked(plugin, name, "_impl"):
            return None
        return super().parse_hookimpl_opts(plugin, name)

    def parse_hookspec_opts(self, module_or_class: Any, name: str) -> Any:
        if isinstance(module_or_class, ModuleType) and not _marked(module_or_class, name, "_spec"):
            return None
        return super().parse_hookspec_opts(module_or_class, name)


def _marked(module: ModuleType, name: str, marker: str) -> bool:
    value = vars(module).get(name)
    if isinstance(value, FunctionType):
        return hasattr(value, hookspecs.PROJECT + marker)
    return isinstance(value, MethodType)  # a bound method: pluggy looks at it itself


def plugin_manager() -> pluggy.PluginManager:
    """A fresh manager that knows Between's hook specifications."""
    pm = _Manager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    install(pm)
    return pm


def load_plugins(settings: Settings, extra: tuple[object, ...] = ()) -> Plugins:
    """Register built-ins, installed plugins, the plugins directory and ``extra`` objects."""
    pm = plugin_manager()
    versions, problems = _load_entry_points(pm, settings.only_plugins)
    if settings.plugins_dir:
        _load_directory(pm, settings.plugins_dir)
    for obj in extra:
        _register(pm, obj, getattr(obj, "__name__", type(obj).__name__))

    types = TaskTypeRegistry(settings, "task type")
    _collect(pm, "between_register_task_types", types)
    channels = ChannelRegistry(settings, "channel")
    _collect(pm, "between_register_channels", channels)
    problems += types.problems + channels.problems
    return Plugins(
        pm, types.items, types.owners, channels.items, problems, versions, channels.owners
    )


def _collect(pm: pluggy.PluginManager, hook_name: str, registry: Registry) -> None:
    """Call a registration hook; the registry names the plugin of each implementation."""
    call_hook(pm, hook_name, registry=registry)


def _register(pm: pluggy.PluginManager, obj: object, name: str) -> None:
    _check_hooks(pm, obj, name)
    try:
        pm.register(obj, name=name)
    except pluggy.PluginValidationError as e:  # what _check_hooks leaves to pluggy
        problem = "; ".join(str(e).splitlines())
        raise PluginError("plugin %(name)s: %(problem)s", name=name, problem=problem) from None
    except ValueError as e:
        raise PluginError(
            "plugin %(name)s could not be registered: %(error)s", name=name, error=e
        ) from None


def _check_hooks(pm: pluggy.PluginManager, obj: object, name: str) -> None:
    """Refuse unknown hooks, arguments a hook does not pass, and registration wrappers."""
    known = sorted(n for n, c in vars(pm.hook).items() if n[0] != "_" and c.has_spec())
    for attr in dir(obj):
        opts = pm.parse_hookimpl_opts(obj, attr)
        if opts is None:
            continue
        hook = opts.get("specname") or attr
        caller = getattr(pm.hook, hook, None)
        if caller is None or not caller.has_spec():
            if opts.get("optionalhook"):
                continue
            raise PluginError(
                "plugin %(name)s implements %(hook)s, which is not a hook; the hooks are "
                "%(known)s (see docs/plugins.md)",
                name=name,
                hook=hook,
                known=", ".join(known),
            )
        function = getattr(obj, attr)
        taken = pluggy.HookImpl(obj, name, function, opts).argnames
        unknown = [a for a in taken if a not in caller.spec.argnames]
        if unknown:
            raise PluginError(
                "plugin %(name)s: %(hook)s%(signature)s asks for "
                "%(unknown)s, which the hook does not pass; it passes %(passed)s",
                name=name,
                hook=hook,
                signature=inspect.signature(function),
                unknown=", ".join(unknown),
                passed=", ".join(caller.spec.argnames),
            )
        if hook in REGISTRATION_HOOKS and (opts.get("wrapper") or opts.get("hookwrapper")):
            raise PluginError(
                "plugin %(name)s: %(hook)s may not be a wrapper; order it with "
                "@hookimpl(tryfirst=True) or @hookimpl(trylast=True) instead",
                name=name,
                hook=hook,
            )


def _load_entry_points(
    pm: pluggy.PluginManager, only: tuple[str, ...] | None
) -> tuple[dict[str, str], list[str]]:
    """Load the built-ins, then installed plugins (optionally only those named).

    Built-ins are entry points of Between's own distribution, registered as ``between.NAME``
    and never filtered. Returns each plugin's version, and a problem for each name in
    ``only`` that is no plugin at all.
    """
    found = list(entry_points(group=ENTRY_POINT_GROUP))
    builtins = [ep for ep in found if is_between(ep.dist_name)]
    installed = [ep for ep in found if not is_between(ep.dist_name)]
    problems = []
    unknown = sorted(set(only or ()) - {ep.name for ep in found})
    if unknown:
        names = ", ".join(sorted({ep.name for ep in installed})) or "none"
        problems.append(
            f"BETWEEN_PLUGINS: no installed plugin is named {', '.join(map(repr, unknown))}; "
            f"installed plugins: {names}"
        )
    versions = {}
    for ep in builtins + installed:
        name = f"between.{ep.name}" if ep in builtins else ep.name
        if ep not in builtins and only is not None and ep.name not in only:
            continue
        if pm.get_plugin(name) is not None:
            continue
        try:
            plugin = ep.load()
        except Exception as e:
            raise PluginError(
                "installed plugin %(name)s (%(value)s) failed to import: %(kind)s: %(error)s",
                name=ep.name,
                value=ep.value,
                kind=type(e).__name__,
                error=e,
            ) from None
        _register(pm, plugin, name)
        versions[name] = ep.version
    return versions, problems


def _load_directory(pm: pluggy.PluginManager, directory: Path) -> None:
    import importlib.util

    if not directory.is_dir():
        raise PluginError(
            "plugins directory %(path)s does not exist; fix --plugins-dir/BETWEEN_PLUGINS_DIR",
            path=directory,
        )
    for path in sorted(directory.glob("*.py")):
        name = f"between_local_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            sys.modules.pop(name, None)
            raise PluginError(
                "plugin file %(path)s failed to import: %(kind)s: %(error)s",
                path=path,
                kind=type(e).__name__,
                error=e,
            ) from None
        _register(pm, module, f"local:{path.name}")


def _source(name: str) -> str:
    if name.startswith("between."):
        return "built-in"
    return "directory" if name.startswith("local:") else "installed"
