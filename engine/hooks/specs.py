"""The hooks a Between plugin can implement (plugins import ``hookimpl`` from ``between``).

A plugin is a module (or any object) with functions marked ``@hookimpl`` whose names are
the hook names below. Implementations may accept fewer arguments than the spec lists. Every
hook is called through pluggy (``engine.hooks.calls.call_hook``); each spec says how the results
combine and what an implementation that raises gets.

    from between import hookimpl, TaskType, Schema, Field

    @hookimpl
    def between_register_task_types(registry):
        registry.add(TaskType(name="gratitude", title="Gratitude list", ...))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from between.engine.contracts.channels import Message
    from between.engine.contracts.charts import Chart
    from between.engine.hooks.registries import (
        ChannelRegistry,
        TaskTypeRegistry,
        TemplateRegistry,
    )

PROJECT = "between"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def between_register_task_types(registry: TaskTypeRegistry) -> None:
    """Add task types with ``registry.add(task_type)``.

    ``registry.settings`` holds the store, directories and configuration file;
    ``registry.problem(where, reason)`` reports a definition that could not be loaded
    without stopping the others (used for worksheet files).

    Results: none; each implementation adds to the registry, which names its plugin. Raising:
    loading stops, one line naming the plugin. Wrappers are refused.

    .. versionadded:: 0.1
    """


@hookspec
def between_register_channels(registry: ChannelRegistry) -> None:
    """Add notification channels with ``registry.add(channel)``.

    A channel has ``name``, ``address_key`` (the contact detail it sends to, or None) and
    ``send(message, settings) -> Delivery``; see ``engine.contracts.channels``.

    Results: none; each implementation adds to the registry, which names its plugin. Raising:
    loading stops, one line naming the plugin. Wrappers are refused.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def between_render_message(notification: dict[str, Any], default: Message) -> Message | None:
    """Return a replacement for the ``default`` message, or None to keep it.

    ``notification`` describes what happened (``kind``, ``role``, ``channel``, the assignment's
    ``task_type``, ``title``, ``due``, ``client`` code…). The first plugin that returns a
    message wins; plugins registered last are asked first; a wrapper may change it.

    Results: the first ``Message`` (``firstresult``). Raising, or answering something that is
    no ``Message``: the implementation is skipped and the fault is recorded with the delivery,
    naming the plugin; with no answer the message goes out in the default wording.

    .. versionadded:: 0.1
    """


@hookspec
def between_register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``between`` command line with ``cli.add_command``.

    Results: none; plugins are asked in pluggy's order and the first to add a name keeps it
    (built-in names are never taken). Raising: the command stops, one line naming the plugin.

    .. versionadded:: 0.1
    """


@hookspec
def between_report_charts(task_type: str, assignments: list[dict[str, Any]]) -> list[Chart] | None:
    """Charts for a client's report, drawn from their homework of one task type, or None.

    Called once for each task type in the report, with that client's homework of the type,
    oldest first, each in the ``show --json`` shape; its ``entry_list`` holds only the entries
    recorded in the report's period. Every implementation is asked (answer None for task
    types that are not yours).

    Results: every list returned, in pluggy's order (a wrapper may change them). Raising, or
    answering something that is no list of ``Chart``: a note in the report naming the plugin;
    the rest of the report is produced.

    .. versionadded:: 0.2
    """


@hookspec
def between_register_templates(registry: TemplateRegistry) -> None:
    """Add homework templates with ``registry.add(Template(...))``.

    Asked the first time a command needs the clinic's library (``between template``,
    ``assign --template``); the library folder's files are added after every plugin's.
    A template is checked against its task type when it is used, not when it is added.

    Results: none; each implementation adds to the registry, which names its plugin. Raising:
    the command stops, one line naming the plugin. Wrappers are refused.

    .. versionadded:: 0.3
    """


@hookspec
def between_message_catalogs() -> str | None:
    """The folder of this plugin's compiled message catalogs, or None.

    The folder holds ``<language>/LC_MESSAGES/<domain>.mo`` files (``pybabel compile``); their
    translations are merged over Between's own for the client-facing words of the plugin's
    task types, channels and messages (docs/translating.md).

    Results: every folder returned. Raising, or answering something that is not an existing
    folder: one line in the log naming the plugin; its words stay in English.

    .. versionadded:: 0.4
    """
