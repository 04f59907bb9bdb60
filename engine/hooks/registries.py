"""What the registration hooks fill: each item added names the plugin that added it.

``between_register_task_types`` gets a ``TaskTypeRegistry`` and ``between_register_channels`` a
``ChannelRegistry`` (both in the public API, ``from between import TaskTypeRegistry``); a name
registered twice, or an item that is no task type or channel, is a ``PluginError`` naming the
plugin.
"""

from __future__ import annotations

from typing import Any

from between.engine.contracts.task_types import TaskType, check_task_type_name
from between.engine.contracts.templates import Protocol, Template
from between.engine.hooks.calls import PluginError, running_plugin
from between.engine.settings import Settings

__all__ = ["ChannelRegistry", "Registry", "TaskTypeRegistry", "TemplateRegistry"]


class Registry:
    """Items by name, the plugin that added each, and definitions that were skipped."""

    def __init__(self, settings: Settings, kind: str) -> None:
        self.settings, self.kind = settings, kind
        self.items: dict[str, Any] = {}
        self.owners: dict[str, str] = {}
        self.problems: list[str] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kind}: {', '.join(self.items) or 'none'})"

    @property
    def plugin(self) -> str:
        """The plugin whose implementation is running."""
        return running_plugin() or "?"

    def add(self, item: Any) -> None:
        name = getattr(item, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(
                "plugin %(plugin)s registered a %(kind)s without a name",
                plugin=self.plugin,
                kind=self.kind,
            )
        if name in self.items:
            raise PluginError(
                "%(kind)s %(name)r is registered by both %(first)s and "
                "%(plugin)s; rename one, or disable a plugin with BETWEEN_PLUGINS",
                kind=self.kind,
                name=name,
                first=self.owners[name],
                plugin=self.plugin,
            )
        self.items[name] = item
        self.owners[name] = self.plugin

    def problem(self, where: str, reason: str) -> None:
        """Report a definition that was skipped, without stopping the others."""
        self.problems.append(f"{where}: {reason}")


class TaskTypeRegistry(Registry):
    """Passed to ``between_register_task_types``: ``add(task_type)``, ``problem(...)``."""

    def add(self, item: TaskType) -> None:
        if not isinstance(item, TaskType):
            raise PluginError(
                "plugin %(plugin)s registered %(item)r, which is not a TaskType",
                plugin=self.plugin,
                item=item,
            )
        try:
            check_task_type_name(item.name)
        except ValueError as e:
            raise PluginError("plugin %(plugin)s: %(error)s", plugin=self.plugin, error=e) from None
        super().add(item)


class ChannelRegistry(Registry):
    """Passed to ``between_register_channels``: ``add(channel)``."""

    def add(self, item: Any) -> None:
        if not callable(getattr(item, "send", None)) or not hasattr(item, "address_key"):
            raise PluginError(
                "plugin %(plugin)s registered %(item)r, which is not a channel "
                "(it needs name, address_key and send(message, settings))",
                plugin=self.plugin,
                item=item,
            )
        super().add(item)


class TemplateRegistry(Registry):
    """Passed to ``between_register_templates``: ``add(template)``,
    ``add_protocol(protocol)``, ``problem(...)``."""

    def __init__(self, settings: Settings, kind: str) -> None:
        super().__init__(settings, kind)
        self.protocols: dict[str, Protocol] = {}
        self.protocol_owners: dict[str, str] = {}

    def add_protocol(self, item: Protocol) -> None:
        if not isinstance(item, Protocol):
            raise PluginError(
                "plugin %(plugin)s registered %(item)r, which is not a Protocol",
                plugin=self.plugin,
                item=item,
            )
        if not isinstance(item.name, str) or not item.name:
            raise PluginError(
                "plugin %(plugin)s registered a protocol without a name", plugin=self.plugin
            )
        if item.name in self.protocols:
            raise PluginError(
                "protocol %(name)r is registered by both %(first)s and %(plugin)s; rename one",
                name=item.name,
                first=self.protocol_owners[item.name],
                plugin=self.plugin,
            )
        self.protocols[item.name] = item
        self.protocol_owners[item.name] = self.plugin

    def add(self, item: Template) -> None:
        if not isinstance(item, Template):
            raise PluginError(
                "plugin %(plugin)s registered %(item)r, which is not a Template",
                plugin=self.plugin,
                item=item,
            )
        super().add(item)
