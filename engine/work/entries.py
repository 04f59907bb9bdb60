"""Recording an entry: the checks every entry passes, whoever submits it and however.

An operator at the command line (``submit``), an integration (``submit ... via="api"``) and
a client or collaborator through their personal link (``submit_as``) all record entries here,
so one set of rules applies: the fields' size, who recorded it, when it happened, that the
homework accepts entries, the task type's validation (``validate_entry``), and that a
collaborator is one the client added.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, uuid5

from between.engine import validate
from between.engine.aggregates.assignments import Assignment
from between.engine.aggregates.clients import Client
from between.engine.contracts.guarded import validated
from between.engine.errors import RuleViolation
from between.engine.work.unit import Outcome
from between.events.catalog import ENTRY_SUBMITTED

if TYPE_CHECKING:
    from between.engine.reading.full import Reading
    from between.engine.work.envelope import Envelope

#: Where an entry's id is derived from its request key: the namespace of assignments' ids, in
#: which the entries recorded before this module existed were derived too.
ENTRY_NAMESPACE = uuid5(NAMESPACE_URL, "https://between.invalid/assignment")
#: The ways an entry comes in (``EntrySubmitted.via``).
ENTRY_WAYS = ("cli", "portal", "api", "import")


def record_entry(
    app: Reading,
    load: Callable[[], Assignment],
    fields: dict[str, Any],
    by: str,
    occurred_at: str | datetime | None,
    via: str,
    envelope: Envelope,
) -> Outcome:
    """Validate an entry and record it on the assignment ``load`` finds (loaded again on each
    attempt). ``envelope`` is the command's (see ``UnitOfWork.authorise``); with a request
    key the entry's id is derived from it, and a repeat reports the first entry."""
    validate.payload("entry fields", fields)
    by = validate.text("by", by or "client", limit=200)
    via = validate.choice("via", via, ENTRY_WAYS)
    when = validate.moment("occurred at", occurred_at, envelope.timestamp)
    request_key = envelope.request_key
    entry_id = uuid5(ENTRY_NAMESPACE, f"entry:{request_key}") if request_key else None

    def command(a: Assignment) -> str:
        kind, clean = checked_fields(app, a, fields)
        if by != "client":
            client = app.work.load(Client, a.client_id)
            if client is None or by not in client.collaborators:
                raise RuleViolation(
                    "%(by)r is not a collaborator of client %(code)s; entries come "
                    "from the client or a collaborator they added",
                    by=by,
                    code=a.row["client"],
                )
        return str(a.submit(by, when, clean, kind.entries.version, envelope, entry_id, via=via))

    return app.work.change(load, command, request_key, (ENTRY_SUBMITTED,))


def checked_fields(app: Reading, a: Assignment, fields: dict[str, Any]) -> tuple[Any, dict]:
    """The assignment's task type and ``fields`` as it cleans them, if ``a`` takes entries:
    ``RuleViolation`` if not, ``InvalidInput`` (by field) for fields it refuses."""
    a.require_entries_allowed()
    kind = app.plugins.task_type(a.task_type)
    return kind, validated(app.plugins, kind, "validate_entry", fields, a.parameters)
