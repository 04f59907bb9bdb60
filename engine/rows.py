"""Summary rows: the list-shaped view of clients, assignments and notifications, from events.

One pure function per aggregate kind turns (previous row, event) into the next row
(``engine.client_rows``, ``engine.assignment_rows``, ``engine.notification_rows``). The
read model stores these rows; ``replay --at`` and ``replay --check`` fold the same
function over the log, so every view of a record has one definition. Rows hold no
personal text (names, contacts, entry contents) — only codes, dates, counts and ratings.

This module names them all. ``assignment_row`` is imported at once; the others, and
``ROW_FOLDERS`` (event class → its folder), when first asked for, so that reading an
assignment does not build the client and notification event classes.
"""

from __future__ import annotations

from typing import Any

from between.engine.assignment_rows import assignment_row
from between.engine.views import ERASED, iso

__all__ = ["ERASED", "assignment_row", "iso"]  # and, on first use, those ``__getattr__`` gives


def __getattr__(name: str) -> Any:
    """``client_row``, ``notification_row`` and ``ROW_FOLDERS``, imported on first use."""
    if name == "client_row":
        from between.engine.client_rows import client_row

        return client_row
    if name == "notification_row":
        from between.engine.notification_rows import notification_row

        return notification_row
    if name == "ROW_FOLDERS":
        globals()[name] = folders = _row_folders()  # built once
        return folders
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _row_folders() -> dict[type, Any]:
    from between.engine.client_rows import client_row
    from between.engine.notification_rows import notification_row
    from between.events.assignments import ASSIGNMENT_EVENTS
    from between.events.clients import CLIENT_EVENTS
    from between.events.notifications import NOTIFICATION_EVENTS

    folders: dict[type, Any] = dict.fromkeys(CLIENT_EVENTS, client_row)
    folders.update(dict.fromkeys(ASSIGNMENT_EVENTS, assignment_row))
    folders.update(dict.fromkeys(NOTIFICATION_EVENTS, notification_row))
    return folders
