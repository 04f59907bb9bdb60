"""The folders of message catalogs the loaded plugins ship (hook ``between_message_catalogs``),
for ``between.language`` to merge over Between's own."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from between.engine.hooks.calls import call_hook

HOOK = "between_message_catalogs"
log = logging.getLogger("between.language")


def plugin_catalogs(manager: Any) -> tuple[str, ...]:
    """Every folder a plugin names that exists, in pluggy's order; a fault is logged in one
    line naming the plugin, and that plugin's words stay in English."""

    def wrong(answer: Any) -> str | None:
        if isinstance(answer, str | Path) and Path(answer).is_dir():
            return None
        return f"returned {answer!r}, not an existing folder of catalogs"

    outcome = call_hook(manager, HOOK, contain=True, check=wrong)
    for fault in outcome.faults:
        reason = fault.problem or f"{type(fault.error).__name__}: {fault.error}"
        log.warning("plugin %s: %s %s; its words stay in English", fault.plugin, HOOK, reason)
    answers = outcome.result if isinstance(outcome.result, list) else [outcome.result]
    return tuple(str(a) for a in answers if a is not None and wrong(a) is None)
