"""Between: homework between psychotherapy sessions, as an event-sourced log.

Everything a plugin needs is one import::

    from between import hookimpl, TaskType, Schema, Field

    @hookimpl
    def between_register_task_types(registry):
        registry.add(TaskType(name="gratitude", title="Gratitude list", ...))

The names are loaded on first use, so ``import between`` (and the CLI's start-up) stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from between.engine.contracts.channels import (
        DELIVERED,
        PERMANENT,
        RETRYABLE,
        Channel,
        Delivery,
        Message,
    )
    from between.engine.contracts.charts import Chart, Series, entries_of, points_of
    from between.engine.contracts.figures import (
        by_person,
        days_spanned,
        mean,
        mean_of,
        trend,
        values_of,
    )
    from between.engine.contracts.task_types import (
        Field,
        FieldError,
        Schema,
        TaskType,
        check_task_type_name,
    )
    from between.engine.contracts.templates import Protocol, Template
    from between.engine.errors import (
        BetweenError,
        Conflict,
        InvalidEntry,
        InvalidInput,
        NotFound,
        RuleViolation,
        StoreError,
    )
    from between.engine.hooks.registries import ChannelRegistry, TaskTypeRegistry, TemplateRegistry
    from between.engine.hooks.specs import hookimpl, hookspec
    from between.engine.settings import Settings

_EXPORTS = {
    "between.engine.contracts.channels": (
        "DELIVERED",
        "PERMANENT",
        "RETRYABLE",
        "Channel",
        "Delivery",
        "Message",
    ),
    "between.engine.contracts.charts": ("Chart", "Series", "entries_of", "points_of"),
    "between.engine.errors": (
        "BetweenError",
        "Conflict",
        "InvalidEntry",
        "InvalidInput",
        "NotFound",
        "RuleViolation",
        "StoreError",
    ),
    "between.engine.contracts.figures": (
        "by_person",
        "days_spanned",
        "mean",
        "mean_of",
        "trend",
        "values_of",
    ),
    "between.engine.hooks.specs": ("hookimpl", "hookspec"),
    "between.engine.hooks.registries": ("ChannelRegistry", "TaskTypeRegistry", "TemplateRegistry"),
    "between.engine.contracts.templates": ("Protocol", "Template"),
    "between.engine.settings": ("Settings",),
    "between.engine.contracts.task_types": (
        "Field",
        "FieldError",
        "Schema",
        "TaskType",
        "check_task_type_name",
    ),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "DELIVERED",
    "PERMANENT",
    "RETRYABLE",
    "BetweenError",
    "Channel",
    "ChannelRegistry",
    "Chart",
    "Conflict",
    "Delivery",
    "Field",
    "FieldError",
    "InvalidEntry",
    "InvalidInput",
    "Message",
    "NotFound",
    "Protocol",
    "RuleViolation",
    "Schema",
    "Series",
    "Settings",
    "StoreError",
    "TaskType",
    "TaskTypeRegistry",
    "Template",
    "TemplateRegistry",
    "by_person",
    "check_task_type_name",
    "days_spanned",
    "entries_of",
    "hookimpl",
    "hookspec",
    "mean",
    "mean_of",
    "points_of",
    "trend",
    "values_of",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'between' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
