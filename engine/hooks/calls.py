"""Calling a hook: always through pluggy, with each plugin's fault named.

``call_hook(manager, name, contain=..., check=..., **kwargs)`` calls ``manager.hook.<name>``,
so ``tryfirst``/``trylast``, ``firstresult`` and wrappers (``wrapper=True`` and the older
``hookwrapper=True``) behave as pluggy documents. While the call runs, every implementation
runs inside a guard that knows its plugin (``running_plugin()`` names it, so a registry or the
command line knows who adds what):

- an implementation that raises stops the call with a ``HookFault`` naming the plugin (a
  ``BetweenError``, already one line for the user, passes as it is) — or, with
  ``contain=True``, is recorded as a ``Fault`` and counts as an answer of None;
- an answer ``check`` finds wrong is recorded as a ``Fault`` and counts as None;
- a wrapper that raises stops the call with a ``HookFault`` naming it (with ``contain=True``
  it is recorded and the call answers None, or no results).

The guard is put in place with pluggy's public ``add_hookcall_monitoring``: just before pluggy
runs a call started by ``call_hook``, each implementation in the list it is about to run is
replaced by a guarded ``pluggy.HookImpl`` (same plugin, options and arguments).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple, cast

import pluggy

from between.engine.errors import BetweenError
from between.language import N_


class PluginError(BetweenError):
    """A plugin could not be loaded, conflicts with another one, or failed in a hook."""


class HookFault(PluginError):
    """An implementation (or wrapper) of ``hook`` in ``plugin`` raised ``error``."""

    def __init__(self, plugin: str, hook: str, error: BaseException) -> None:
        template = N_("plugin %(plugin)s failed in %(hook)s: %(error)s")
        super().__init__(template, plugin=plugin, hook=hook, error=error)
        self.plugin, self.hook, self.error = plugin, hook, error


class Fault(NamedTuple):
    """What one plugin got wrong in a contained call: the ``error`` it raised, or ``problem``."""

    plugin: str
    error: BaseException | None = None
    problem: str = ""


class HookOutcome:
    """The hook's result as pluggy gives it, the faults, and who answered what (the plugin
    behind each implementation's answer, by identity; the outermost wrapper, which had the
    last word)."""

    __slots__ = ("faults", "result", "sources", "wrapped_by")

    def __init__(
        self,
        result: Any,
        faults: list[Fault],
        sources: list[tuple[Any, str]],
        wrapped_by: str | None = None,
    ) -> None:
        self.result, self.faults, self.sources, self.wrapped_by = (
            result,
            faults,
            sources,
            wrapped_by,
        )

    def source(self, answer: Any) -> str | None:
        """The plugin that gave ``answer``: its implementation's, else the last wrapper's."""
        found = (plugin for value, plugin in self.sources if value is answer)
        return next(found, self.wrapped_by)


class _Call:
    """One hook call under way: what it contains, and what it has found so far."""

    __slots__ = ("check", "contain", "faults", "hook", "plugin", "sources", "wrapped_by")

    def __init__(self, hook: str, contain: bool, check: Callable[[Any], str | None] | None) -> None:
        self.hook, self.contain, self.check = hook, contain, check
        self.faults: list[Fault] = []
        self.sources: list[tuple[Any, str]] = []
        self.wrapped_by: str | None = None
        self.plugin: str | None = None

    @contextmanager
    def running(self, plugin: str) -> Iterator[None]:
        outer, self.plugin = self.plugin, plugin
        try:
            yield
        finally:
            self.plugin = outer


_ACTIVE: ContextVar[_Call | None] = ContextVar("between_hook_call", default=None)


def running_plugin() -> str | None:
    """The plugin whose implementation is running in the current ``call_hook``, if any."""
    call = _ACTIVE.get()
    return call.plugin if call else None


def install(manager: pluggy.PluginManager) -> None:
    """Let ``call_hook`` guard the implementations ``manager`` runs."""
    manager.add_hookcall_monitoring(_guard, _done)


def call_hook(
    manager: pluggy.PluginManager,
    name: str,
    *,
    contain: bool = False,
    check: Callable[[Any], str | None] | None = None,
    **kwargs: Any,
) -> HookOutcome:
    """Call hook ``name`` through pluggy with ``kwargs``; see the module's docstring."""
    call = _Call(name, contain, check)
    token = _ACTIVE.set(call)
    try:
        result = getattr(manager.hook, name)(**kwargs)
    except HookFault as fault:
        if not contain:
            raise
        call.faults.append(Fault(fault.plugin, fault.error))
        caller = getattr(manager.hook, name)
        result = None if caller.spec and caller.spec.opts.get("firstresult") else []
    finally:
        _ACTIVE.reset(token)
    return HookOutcome(result, call.faults, call.sources, call.wrapped_by)


def _guard(hook: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, object]) -> None:
    call = _ACTIVE.get()
    if call is None or call.hook != hook or not isinstance(impls, list):
        return
    for i, impl in enumerate(impls):
        wraps = impl.wrapper or impl.hookwrapper
        function = (_guarded_wrapper if wraps else _guarded)(call, impl)
        impls[i] = pluggy.HookImpl(impl.plugin, impl.plugin_name, function, impl.opts)


def _done(outcome: Any, hook: str, impls: Sequence[pluggy.HookImpl], kwargs: object) -> None:
    """Nothing to do after a call (pluggy's monitoring asks for both halves)."""


def _guarded(call: _Call, impl: pluggy.HookImpl) -> Callable[..., Any]:
    @functools.wraps(impl.function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        plugin = impl.plugin_name
        try:
            with call.running(plugin):
                answer = impl.function(*args, **kwargs)
        except Exception as e:
            if call.contain:
                call.faults.append(Fault(plugin, e))
                return None
            if isinstance(e, BetweenError):
                raise
            raise HookFault(plugin, call.hook, e) from e
        problem = call.check(answer) if call.check and answer is not None else None
        if problem:
            call.faults.append(Fault(plugin, problem=problem))
            return None
        if answer is not None:
            call.sources.append((answer, plugin))
        return answer

    return guarded


def _guarded_wrapper(call: _Call, impl: pluggy.HookImpl) -> Callable[..., Any]:
    """A generator standing in for a wrapper's: it passes everything through, and names the
    plugin when the wrapper itself raises (not when it re-raises what pluggy threw in)."""

    @functools.wraps(impl.function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        plugin = impl.plugin_name
        inner = cast(Generator[Any, Any, Any], impl.function(*args, **kwargs))
        thrown: BaseException | None = None
        try:
            with call.running(plugin):
                value = next(inner)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    inner.close()
                    raise
                except BaseException as e:
                    thrown = e
                    with call.running(plugin):
                        value = inner.throw(e)
                else:
                    thrown = None
                    with call.running(plugin):
                        value = inner.send(sent)
        except StopIteration as stop:
            call.wrapped_by = plugin  # the outermost wrapper finishes last
            return stop.value
        except Exception as e:
            if e is thrown or (isinstance(e, BetweenError) and not call.contain):
                raise
            raise HookFault(plugin, call.hook, e) from e

    return guarded
