"""Each event in plain language, for ``between history``: one sentence per topic.

Keyed by the stored topic (``events.catalog``), so a decoded event and a plain one read the
same; ``SKIPS`` names the topics told only as "actor: Type" on purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from between.events import catalog as t
from between.events.base import short_name

#: The topics narrated only as "actor: Type" (nothing worth saying beyond their name).
SKIPS = frozenset({t.OPERATORS_LIST_STARTED})


def narrate(e: Any) -> str:
    """One event in plain language."""
    tell = NARRATIONS.get(e.TOPIC)
    return tell(e, e.actor) if tell is not None else f"{e.actor}: {short_name(e)}"


def _short(value: Any) -> str:
    return str(value)[:8]


def _contacts(e: Any, who: str) -> str:
    channels = ", ".join(sorted(e.contacts)) if isinstance(e.contacts, dict) else e.contacts
    return f"{who} changed the contact details of {e.person} ({channels})"


def _preferences(e: Any, who: str) -> str:
    keys = ("timezone", "language", "remind_at", "quiet_hours")
    changed = ", ".join(f"{k} {v}" for k in keys if (v := getattr(e, k, None)) is not None)
    return f"{who} set the client's {changed}"


def _consent(e: Any, who: str) -> str:
    whose = "the client" if e.person == "client" else e.person
    change = "may now hear" if e.granted else "no longer hears"
    return f"{who} recorded that {whose} {change} on {e.channel}"


def _link_issued(e: Any, who: str) -> str:
    whose = "the client" if e.person == "client" else e.person
    until = e.expires.isoformat()[:16]
    return f"{who} issued a personal link {_short(e.link_id)} to {whose}, working until {until}"


def _proposed(e: Any, who: str) -> str:
    step = f", stepping up from {_short(e.steps_up_from)}" if e.steps_up_from else ""
    entries = "1 entry" if e.expected_entries == 1 else f"{e.expected_entries} entries"
    template = getattr(e, "template", None)
    source = f", from template {template} version {e.template_version}" if template else ""
    protocol = getattr(e, "protocol", None)
    if protocol:
        source += f", step {e.protocol_step} of protocol {protocol}"
    return (
        f"{who} proposed {e.task_type} homework {_short(e.originator_id)} for "
        f"{e.client} ({e.stage}, difficulty {e.difficulty}, {entries} due {e.due}{step}{source})"
    )


def _adjusted(e: Any, who: str) -> str:
    changed = ", ".join(sorted(e.changes)) if isinstance(e.changes, dict) else e.changes
    return f"{who} adjusted {_short(e.originator_id)} with the client: {changed}"


def _agreed(e: Any, who: str) -> str:
    confidence = "" if e.confidence is None else f", confidence {e.confidence}/10"
    return f"the client agreed to {_short(e.originator_id)}{confidence} {_recorded(e, who)}"


def _declined(e: Any, who: str) -> str:
    return f"the client declined {_short(e.originator_id)}: {e.reason} {_recorded(e, who)}"


def _recorded(e: Any, who: str) -> str:
    """How the client's word came in: through their link, or recorded by an operator."""
    return "(via the portal)" if getattr(e, "via", None) == "portal" else f"(recorded by {who})"


#: How each kind of client note is told.
NOTE_KINDS = {
    "too-hard": "said {id} is too hard",
    "question": "asked a question about {id}",
    "got-in-the-way": "said something got in the way of {id}",
    "change": "asked for a change to {id}",
}


def _note(e: Any, who: str) -> str:
    by = "the client" if e.by == "client" else e.by
    said = NOTE_KINDS.get(e.kind, "sent a note about {id}").format(id=_short(e.originator_id))
    text = f': "{e.text}"' if e.text else ""
    way = {"portal": "via the portal", "api": f"via an integration ({who})"}.get(
        e.via or "", f"(recorded by {who})"
    )
    return f"{by} {said}{text} {way}"


def _entry(e: Any, who: str) -> str:
    by = "the client" if e.by == "client" else e.by
    way = {
        "portal": "via the portal",
        "api": f"via an integration ({who})",
        "import": f"(imported by {who})",
    }.get(e.via or "", f"(entered by {who})")
    return (
        f"{by} recorded an entry on {_short(e.originator_id)} for "
        f"{e.occurred_at.isoformat()[:16]} {way}"
    )


def _reviewed(e: Any, who: str) -> str:
    return (
        f"{who} reviewed {_short(e.originator_id)}: quantity {e.quantity}/4, quality "
        f"{e.quality}/4, difficulty {e.difficulty}/4, next step {e.next_step}"
    )


def _required(e: Any, who: str) -> str:
    return f"{who} {'required' if e.required else 'stopped requiring'} listed operators"


#: Each topic's sentence: (event, actor) → text.
NARRATIONS: dict[str, Callable[[Any, str], str]] = {
    t.CLIENT_REGISTERED: lambda e, who: (
        f"{who} registered client {e.code} (therapist {e.therapist})"
    ),
    t.COLLABORATOR_ADDED: lambda e, who: (
        f"{who} added {e.name} ({e.relationship}) as a collaborator"
    ),
    t.CONTACT_DETAILS_CHANGED: _contacts,
    t.CLIENT_DISCHARGED: lambda e, who: f"{who} discharged the client: {e.reason}",
    t.CONSENT_RECORDED: _consent,
    t.CLIENT_ERASED: lambda e, who: f"{who} erased the client's personal data: {e.reason}",
    t.LINK_ISSUED: _link_issued,
    t.LINK_REVOKED: lambda e, who: f"{who} revoked personal link {_short(e.link_id)}: {e.reason}",
    t.ASSIGNMENT_PROPOSED: _proposed,
    t.ASSIGNMENT_ADJUSTED: _adjusted,
    t.ASSIGNMENT_AGREED: _agreed,
    t.ASSIGNMENT_DECLINED: _declined,
    t.ENTRY_SUBMITTED: _entry,
    t.ASSIGNMENT_REVIEWED: _reviewed,
    t.ASSIGNMENT_CANCELLED: lambda e, who: f"{who} cancelled {_short(e.originator_id)}: {e.reason}",
    t.ASSIGNMENT_CLOSED: lambda e, who: f"{who} closed {_short(e.originator_id)}: {e.reason}",
    t.CLIENT_NOTE_SENT: _note,
    t.NOTIFICATION_QUEUED: lambda e, who: (
        f"{who} queued a {e.kind} message for {e.person} ({e.role}) on {e.channel}"
    ),
    t.DELIVERY_ATTEMPTED: lambda e, who: (
        f"{who} tried to deliver message {_short(e.originator_id)}: {e.outcome}"
    ),
    t.DELIVERY_RETRY_REQUESTED: lambda e, who: (
        f"{who} asked for message {_short(e.originator_id)} to be sent again"
    ),
    t.DELIVERY_HELD: lambda e, who: f"{who} held message {_short(e.originator_id)}: {e.reason}",
    t.NOTIFICATION_DEFERRED: lambda e, who: (
        f"{who} held message {_short(e.originator_id)} until {e.until}: {e.reason}"
    ),
    t.CLIENT_PREFERENCES_SET: _preferences,
    t.NOTIFICATION_CANCELLED: lambda e, who: (
        f"{who} cancelled message {_short(e.originator_id)}: {e.reason}"
    ),
    t.OPERATOR_ADDED: lambda e, who: f"{who} made {e.name} a {e.role}",
    t.OPERATOR_REMOVED: lambda e, who: f"{who} removed operator {e.name}",
    t.OPERATORS_REQUIRED: _required,
}
