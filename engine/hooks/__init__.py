"""Plugins: the hook specifications, the one hook caller, the registries the registration hooks
fill, and loading plugins from entry points and a folder."""

from __future__ import annotations

from collections.abc import Mapping


def chosen_plugins(environ: Mapping[str, str]) -> tuple[str, ...] | None:
    """The installed plugins ``BETWEEN_PLUGINS`` chooses by name (None: every one)."""
    only = environ.get("BETWEEN_PLUGINS")
    if only is None:
        return None
    return tuple(p.strip() for p in only.split(",") if p.strip())
