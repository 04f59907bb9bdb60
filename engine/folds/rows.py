"""Summary rows: the list-shaped view of clients, assignments and notifications, from events.

One pure function per aggregate kind turns (previous row, event) into the next row
(``engine.folds.client_rows``, ``engine.folds.assignment_rows``,
``engine.folds.notification_rows``). The
read model stores these rows; ``replay --at`` and ``replay --check`` fold the same
function over the log, so every view of a record has one definition. Rows hold no
personal text (names, contacts, entry contents) — only codes, dates, counts and ratings.

The functions dispatch on the event's stored topic (``event.TOPIC``), never its class, so
none of these modules imports an event class: ``ROW_FOLDERS`` gives each topic's row
function, ``ROW_STEPS`` the step that function takes for it (found once, for long folds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from between.engine.folds.assignment_rows import ASSIGNMENT_STEPS, Step, assignment_row
from between.engine.folds.client_rows import CLIENT_STEPS, client_row
from between.engine.folds.notification_rows import NOTIFICATION_STEPS, notification_row
from between.engine.reading.views import ERASED, iso
from between.events.catalog import (
    OPERATOR_ADDED,
    OPERATOR_REMOVED,
    OPERATORS_LIST_STARTED,
    OPERATORS_REQUIRED,
)

__all__ = [
    "ERASED",
    "ROW_FOLDERS",
    "ROW_STEPS",
    "assignment_row",
    "client_row",
    "iso",
    "notification_row",
]

#: Each stored topic's row function (the summary table it belongs to).
ROW_FOLDERS: dict[str, Callable[[Any, dict | None], dict]] = {
    **dict.fromkeys(CLIENT_STEPS, client_row),
    **dict.fromkeys(ASSIGNMENT_STEPS, assignment_row),
    **dict.fromkeys(NOTIFICATION_STEPS, notification_row),
}
#: Each stored topic's own step (what its row function would dispatch to).
ROW_STEPS: dict[str, Step] = {**CLIENT_STEPS, **ASSIGNMENT_STEPS, **NOTIFICATION_STEPS}
#: The topics with no summary row, on purpose: the operator list is not listed anywhere.
SKIPS = frozenset({OPERATORS_LIST_STARTED, OPERATOR_ADDED, OPERATOR_REMOVED, OPERATORS_REQUIRED})
