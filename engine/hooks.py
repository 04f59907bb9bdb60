"""The hooks a Between plugin can implement — the whole public plugin API in one import.

A plugin is a module (or any object) with functions marked ``@hookimpl`` whose names are
the hook names below. Implementations may accept fewer arguments than the spec lists.

    from engine.hooks import hookimpl, TaskType, Schema, Field

    @hookimpl
    def between_register_task_types(registry):
        registry.add(TaskType(name="gratitude", title="Gratitude list", ...))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

from engine.tasktypes import Field, Schema, TaskType

if TYPE_CHECKING:
    import click

    from engine.plugins import TaskTypeRegistry

PROJECT = "between"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["Field", "Schema", "TaskType", "hookimpl"]


@hookspec
def between_register_task_types(registry: TaskTypeRegistry) -> None:
    """Add task types with ``registry.add(task_type)``.

    ``registry.settings`` holds the store, directories and configuration file;
    ``registry.problem(where, reason)`` reports a definition that could not be loaded
    without stopping the others (used for worksheet files).

    .. versionadded:: 0.1
    """


@hookspec
def between_register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``between`` command line with ``cli.add_command``.

    .. versionadded:: 0.1
    """
