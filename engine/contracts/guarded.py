"""Calling a task type's own code: a fault in it is its plugin's, and is said so in one line.

The validation hooks (``validate_parameters``, ``validate_entry``) guard writes: one that
raises anything but a ``BetweenError`` (``InvalidInput`` is how a task type refuses a value), or
returns something other than a dict, refuses the command with a ``PluginError`` naming the
plugin and the hook — before anything is recorded. ``summarise`` and ``completion`` only
describe: one that fails, or returns the wrong shape, leaves its part of ``show`` marked
unavailable (``{"unavailable": "plugin … failed in summarise: …"}``) and the rest is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from between.engine.contracts.task_types import TaskType
from between.engine.errors import BetweenError, InvalidInput
from between.engine.hooks.calls import PluginError

if TYPE_CHECKING:  # loading plugins is the caller's; describing a homework must not import it
    from between.engine.hooks.loading import Plugins


def owner(plugins: Plugins, kind: TaskType) -> str:
    """The plugin that registered the task type."""
    owners: dict[str, str] = getattr(plugins, "task_type_owners", {})
    return owners.get(kind.name, f"of task type {kind.name}")


def fault(plugins: Plugins, kind: TaskType, hook: str, problem: str) -> str:
    """``plugin NAME failed in HOOK: problem`` (the task type named too)."""
    return f"plugin {owner(plugins, kind)} failed in {hook} (task type {kind.name}): {problem}"


def validated(plugins: Plugins, kind: TaskType, hook: str, *args: Any) -> dict[str, Any]:
    """``kind.<hook>(*args)``: the clean values, ``InvalidInput``, or a ``PluginError``."""
    try:
        clean = getattr(kind, hook)(*args)
    except BetweenError:
        raise
    except RecursionError:
        raise InvalidInput("a field value is nested too deeply; fields are flat") from None
    except Exception as e:
        raise PluginError(
            "plugin %(plugin)s failed in %(hook)s (task type %(kind)s): %(problem)s; "
            "nothing was recorded",
            problem=_describe(e),
            **_naming(plugins, kind, hook),
        ) from None
    if not isinstance(clean, Mapping):
        raise PluginError(
            "plugin %(plugin)s failed in %(hook)s (task type %(kind)s): it returned %(returned)s, "
            "not a dict of fields; nothing was recorded",
            returned=type(clean).__name__,
            **_naming(plugins, kind, hook),
        )
    return dict(clean)


def _naming(plugins: Plugins, kind: TaskType, hook: str) -> dict[str, str]:
    """The values that name a fault's plugin, hook and task type (as ``fault`` does)."""
    return {"plugin": owner(plugins, kind), "hook": hook, "kind": kind.name}


def described(
    plugins: Plugins,
    kind: TaskType,
    entries: Sequence[Mapping[str, Any]],
    expected: int,
    parameters: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The task type's summary and completion; either one marked unavailable if it failed."""
    summary = _call(plugins, kind, "summarise", entries, parameters)
    completion = _call(plugins, kind, "completion", entries, expected, parameters)
    shaped = isinstance(completion.get("complete"), bool | None) and isinstance(
        completion.get("rule"), str
    )
    if "unavailable" not in completion and not shaped:
        wanted = "a dict with 'complete' (true, false or null) and 'rule' (text)"
        completion = _wrong(plugins, kind, "completion", completion, wanted)
    if "unavailable" in completion:
        completion = {"complete": None, "rule": "unavailable", **completion}
    return summary, completion


def unavailable(detail: Mapping[str, Any]) -> list[str]:
    """What a ``show`` detail could not describe, one line each (for warnings)."""
    parts = (detail.get("summary"), detail.get("completion"))
    return [p["unavailable"] for p in parts if isinstance(p, dict) and "unavailable" in p]


def _call(plugins: Plugins, kind: TaskType, hook: str, *args: Any) -> dict[str, Any]:
    try:
        result = getattr(kind, hook)(*args)
    except Exception as e:
        return {"unavailable": fault(plugins, kind, hook, _describe(e))}
    return result if isinstance(result, dict) else _wrong(plugins, kind, hook, result)


def _wrong(
    plugins: Plugins, kind: TaskType, hook: str, result: Any, wanted: str = "a dict"
) -> dict[str, str]:
    problem = f"it returned {type(result).__name__}, not {wanted}"
    return {"unavailable": fault(plugins, kind, hook, problem)}


def _describe(error: BaseException) -> str:
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
