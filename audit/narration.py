"""Each event in plain language, for ``between history``: one sentence per topic.

Keyed by the stored topic (``events.catalog``), so a decoded event and a plain one read the
same; ``SKIPS`` names the topics told only as "actor: Type" on purpose. Each sentence is a
``Word``: the English text (as ``--json`` shows it) that ``worded`` tells in the operator's
language; a fragment given as a value ("the client", "via the portal") is a ``Word`` too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from between.events import catalog as t
from between.events.base import short_name
from between.language import N_, Word

#: The topics narrated only as "actor: Type" (nothing worth saying beyond their name).
SKIPS = frozenset({t.OPERATORS_LIST_STARTED})


def narrate(e: Any) -> str:
    """One event in plain language (a ``Word`` when the topic has a sentence)."""
    tell = NARRATIONS.get(e.TOPIC)
    return tell(e, e.actor) if tell is not None else f"{e.actor}: {short_name(e)}"


def _short(value: Any) -> str:
    return str(value)[:8]


def _person(person: str) -> str:
    """A recorded person as told: "the client", or the collaborator's name."""
    return N_("the client") if person == "client" else person


def _contacts(e: Any, who: str) -> Word:
    channels = ", ".join(sorted(e.contacts)) if isinstance(e.contacts, dict) else e.contacts
    return Word(
        N_("%(who)s changed the contact details of %(person)s (%(channels)s)"),
        who=who,
        person=e.person,
        channels=channels,
    )


def _preferences(e: Any, who: str) -> Word:
    keys = ("timezone", "language", "remind_at", "quiet_hours")
    changed = ", ".join(f"{k} {v}" for k in keys if (v := getattr(e, k, None)) is not None)
    return Word(N_("%(who)s set the client's %(changed)s"), who=who, changed=changed)


def _consent(e: Any, who: str) -> Word:
    if e.granted:
        sentence = N_("%(who)s recorded that %(person)s may now hear on %(channel)s")
    else:
        sentence = N_("%(who)s recorded that %(person)s no longer hears on %(channel)s")
    return Word(sentence, who=who, person=_person(e.person), channel=e.channel)


def _link_issued(e: Any, who: str) -> Word:
    return Word(
        N_("%(who)s issued a personal link %(link)s to %(person)s, working until %(until)s"),
        who=who,
        link=_short(e.link_id),
        person=_person(e.person),
        until=e.expires.isoformat()[:16],
    )


def _proposed(e: Any, who: str) -> Word:
    step = ""
    if e.steps_up_from:
        step = Word(N_(", stepping up from %(id)s"), id=_short(e.steps_up_from))
    template, source = getattr(e, "template", None), ""
    if template:
        source = Word(
            N_(", from template %(name)s version %(version)s"),
            name=template,
            version=e.template_version,
        )
    protocol, in_protocol = getattr(e, "protocol", None), ""
    if protocol:
        in_protocol = Word(
            N_(", step %(step)s of protocol %(protocol)s"), step=e.protocol_step, protocol=protocol
        )
    return Word(
        N_(
            "%(who)s proposed %(task_type)s homework %(id)s for %(client)s (%(stage)s, "
            "difficulty %(difficulty)s, %(entries)s due %(due)s%(step)s%(source)s%(protocol)s)"
        ),
        who=who,
        task_type=e.task_type,
        id=_short(e.originator_id),
        client=e.client,
        stage=e.stage,
        difficulty=e.difficulty,
        entries=_entries(e.expected_entries),
        due=e.due,
        step=step,
        source=source,
        protocol=in_protocol,
    )


def _entries(count: int) -> Word:
    return N_("1 entry") if count == 1 else Word(N_("%(n)s entries"), n=count)


def _adjusted(e: Any, who: str) -> Word:
    changed = ", ".join(sorted(e.changes)) if isinstance(e.changes, dict) else e.changes
    return Word(
        N_("%(who)s adjusted %(id)s with the client: %(changed)s"),
        who=who,
        id=_short(e.originator_id),
        changed=changed,
    )


def _agreed(e: Any, who: str) -> Word:
    confidence = ""
    if e.confidence is not None:
        confidence = Word(N_(", confidence %(confidence)s/10"), confidence=e.confidence)
    return Word(
        N_("the client agreed to %(id)s%(confidence)s %(way)s"),
        id=_short(e.originator_id),
        confidence=confidence,
        way=_recorded(e, who),
    )


def _declined(e: Any, who: str) -> Word:
    return Word(
        N_("the client declined %(id)s: %(reason)s %(way)s"),
        id=_short(e.originator_id),
        reason=e.reason,
        way=_recorded(e, who),
    )


def _recorded(e: Any, who: str) -> Word:
    """How the client's word came in: through their link, or recorded by an operator."""
    if getattr(e, "via", None) == "portal":
        return N_("(via the portal)")
    return Word(N_("(recorded by %(who)s)"), who=who)


#: How each kind of client note is told (``show`` and ``agenda`` fill ``{id}`` with the
#: homework's short id).
NOTE_KINDS = {
    "too-hard": N_("said {id} is too hard"),
    "question": N_("asked a question about {id}"),
    "got-in-the-way": N_("said something got in the way of {id}"),
    "change": N_("asked for a change to {id}"),
}

#: Each kind of client note as a whole sentence of ``history``; other kinds are told as
#: ``NOTE_SENT``.
NOTE_SENTENCES = {
    "too-hard": N_("%(by)s said %(id)s is too hard%(text)s %(way)s"),
    "question": N_("%(by)s asked a question about %(id)s%(text)s %(way)s"),
    "got-in-the-way": N_("%(by)s said something got in the way of %(id)s%(text)s %(way)s"),
    "change": N_("%(by)s asked for a change to %(id)s%(text)s %(way)s"),
}
NOTE_SENT = N_("%(by)s sent a note about %(id)s%(text)s %(way)s")


def _note(e: Any, who: str) -> Word:
    way = {
        "portal": N_("via the portal"),
        "api": Word(N_("via an integration (%(who)s)"), who=who),
    }.get(e.via or "", Word(N_("(recorded by %(who)s)"), who=who))
    return Word(
        NOTE_SENTENCES.get(e.kind, NOTE_SENT),
        by=_person(e.by),
        id=_short(e.originator_id),
        text=f': "{e.text}"' if e.text else "",
        way=way,
    )


def _entry(e: Any, who: str) -> Word:
    way = {
        "portal": N_("via the portal"),
        "api": Word(N_("via an integration (%(who)s)"), who=who),
        "import": Word(N_("(imported by %(who)s)"), who=who),
    }.get(e.via or "", Word(N_("(entered by %(who)s)"), who=who))
    return Word(
        N_("%(by)s recorded an entry on %(id)s for %(at)s %(way)s"),
        by=_person(e.by),
        id=_short(e.originator_id),
        at=e.occurred_at.isoformat()[:16],
        way=way,
    )


def _reviewed(e: Any, who: str) -> Word:
    return Word(
        N_(
            "%(who)s reviewed %(id)s: quantity %(quantity)s/4, quality %(quality)s/4, "
            "difficulty %(difficulty)s/4, next step %(next_step)s"
        ),
        who=who,
        id=_short(e.originator_id),
        quantity=e.quantity,
        quality=e.quality,
        difficulty=e.difficulty,
        next_step=e.next_step,
    )


def _required(e: Any, who: str) -> Word:
    if e.required:
        return Word(N_("%(who)s required listed operators"), who=who)
    return Word(N_("%(who)s stopped requiring listed operators"), who=who)


def _with_reason(sentence: str) -> Callable[[Any, str], Word]:
    """A sentence about the event's record (``%(id)s``) and its ``%(reason)s``."""
    return lambda e, who: Word(sentence, who=who, id=_short(e.originator_id), reason=e.reason)


#: Each topic's sentence: (event, actor) → text.
NARRATIONS: dict[str, Callable[[Any, str], str]] = {
    t.CLIENT_REGISTERED: lambda e, who: Word(
        N_("%(who)s registered client %(code)s (therapist %(therapist)s)"),
        who=who,
        code=e.code,
        therapist=e.therapist,
    ),
    t.COLLABORATOR_ADDED: lambda e, who: Word(
        N_("%(who)s added %(name)s (%(relationship)s) as a collaborator"),
        who=who,
        name=e.name,
        relationship=e.relationship,
    ),
    t.CONTACT_DETAILS_CHANGED: _contacts,
    t.CLIENT_DISCHARGED: lambda e, who: Word(
        N_("%(who)s discharged the client: %(reason)s"), who=who, reason=e.reason
    ),
    t.CONSENT_RECORDED: _consent,
    t.CLIENT_ERASED: lambda e, who: Word(
        N_("%(who)s erased the client's personal data: %(reason)s"), who=who, reason=e.reason
    ),
    t.LINK_ISSUED: _link_issued,
    t.LINK_REVOKED: lambda e, who: Word(
        N_("%(who)s revoked personal link %(link)s: %(reason)s"),
        who=who,
        link=_short(e.link_id),
        reason=e.reason,
    ),
    t.ASSIGNMENT_PROPOSED: _proposed,
    t.ASSIGNMENT_ADJUSTED: _adjusted,
    t.ASSIGNMENT_AGREED: _agreed,
    t.ASSIGNMENT_DECLINED: _declined,
    t.ENTRY_SUBMITTED: _entry,
    t.ASSIGNMENT_REVIEWED: _reviewed,
    t.ASSIGNMENT_CANCELLED: _with_reason(N_("%(who)s cancelled %(id)s: %(reason)s")),
    t.ASSIGNMENT_CLOSED: _with_reason(N_("%(who)s closed %(id)s: %(reason)s")),
    t.CLIENT_NOTE_SENT: _note,
    t.NOTIFICATION_QUEUED: lambda e, who: Word(
        N_("%(who)s queued a %(kind)s message for %(person)s (%(role)s) on %(channel)s"),
        who=who,
        kind=e.kind,
        person=e.person,
        role=e.role,
        channel=e.channel,
    ),
    t.DELIVERY_ATTEMPTED: lambda e, who: Word(
        N_("%(who)s tried to deliver message %(id)s: %(outcome)s"),
        who=who,
        id=_short(e.originator_id),
        outcome=e.outcome,
    ),
    t.DELIVERY_RETRY_REQUESTED: lambda e, who: Word(
        N_("%(who)s asked for message %(id)s to be sent again"),
        who=who,
        id=_short(e.originator_id),
    ),
    t.DELIVERY_HELD: _with_reason(N_("%(who)s held message %(id)s: %(reason)s")),
    t.NOTIFICATION_DEFERRED: lambda e, who: Word(
        N_("%(who)s held message %(id)s until %(until)s: %(reason)s"),
        who=who,
        id=_short(e.originator_id),
        until=e.until,
        reason=e.reason,
    ),
    t.CLIENT_PREFERENCES_SET: _preferences,
    t.NOTIFICATION_CANCELLED: _with_reason(N_("%(who)s cancelled message %(id)s: %(reason)s")),
    t.OPERATOR_ADDED: lambda e, who: Word(
        N_("%(who)s made %(name)s a %(role)s"), who=who, name=e.name, role=e.role
    ),
    t.OPERATOR_REMOVED: lambda e, who: Word(
        N_("%(who)s removed operator %(name)s"), who=who, name=e.name
    ),
    t.OPERATORS_REQUIRED: _required,
}
