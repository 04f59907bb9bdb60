"""Every stored event topic, in one place: which record it belongs to, which of its fields
are personal, and its class version.

Imports nothing but the standard library, so the light reading path, the folds, the row
steps and the feature packages can key on topics without loading eventsourcing or the event
classes. The event classes (``events.assignments`` …) take their ``PERSONAL`` paths and
``class_version`` from here; every consumer of events keys on these constants, and
``tests/test_event_catalog.py`` fails when one neither handles nor explicitly skips a topic.

Topics are a storage format: never rename one (add a new topic instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

#: The namespace every stored topic starts with (left out of the name shown to people).
NAMESPACE = "between."

#: The kinds of record an event belongs to (``aggregate`` below; ``kind`` in the export).
CLIENT, ASSIGNMENT, NOTIFICATION, OPERATORS = "client", "assignment", "notification", "operators"

#: Each kind of record's stored aggregate topic (``originator_topic`` of its first event).
AGGREGATE_TOPICS: Mapping[str, str] = MappingProxyType(
    {
        CLIENT: "between.Client",
        ASSIGNMENT: "between.Assignment",
        NOTIFICATION: "between.Notification",
        OPERATORS: "between.Operators",
    }
)

ASSIGNMENT_PROPOSED = "between.AssignmentProposed"
ASSIGNMENT_ADJUSTED = "between.AssignmentAdjusted"
ASSIGNMENT_AGREED = "between.AssignmentAgreed"
ASSIGNMENT_DECLINED = "between.AssignmentDeclined"
ENTRY_SUBMITTED = "between.EntrySubmitted"
ASSIGNMENT_REVIEWED = "between.AssignmentReviewed"
ASSIGNMENT_CANCELLED = "between.AssignmentCancelled"
ASSIGNMENT_CLOSED = "between.AssignmentClosed"
CLIENT_NOTE_SENT = "between.ClientNoteSent"

CLIENT_REGISTERED = "between.ClientRegistered"
COLLABORATOR_ADDED = "between.CollaboratorAdded"
CONTACT_DETAILS_CHANGED = "between.ContactDetailsChanged"
CLIENT_DISCHARGED = "between.ClientDischarged"
CONSENT_RECORDED = "between.ConsentRecorded"
CLIENT_ERASED = "between.ClientErased"
LINK_ISSUED = "between.LinkIssued"
LINK_REVOKED = "between.LinkRevoked"
CLIENT_PREFERENCES_SET = "between.ClientPreferencesSet"

NOTIFICATION_QUEUED = "between.NotificationQueued"
DELIVERY_ATTEMPTED = "between.DeliveryAttempted"
DELIVERY_RETRY_REQUESTED = "between.DeliveryRetryRequested"
DELIVERY_HELD = "between.DeliveryHeld"
NOTIFICATION_CANCELLED = "between.NotificationCancelled"
NOTIFICATION_DEFERRED = "between.NotificationDeferred"

OPERATORS_LIST_STARTED = "between.OperatorsListStarted"
OPERATOR_ADDED = "between.OperatorAdded"
OPERATOR_REMOVED = "between.OperatorRemoved"
OPERATORS_REQUIRED = "between.OperatorsRequired"


class EventInfo(NamedTuple):
    """What is known about one stored topic without its class."""

    topic: str
    #: The kind of record it belongs to: ``client``, ``assignment``, ``notification`` or
    #: ``operators``.
    aggregate: str
    #: The fields (or ``field.key`` inside a dict field) sealed with the client's own key.
    personal: tuple[str, ...] = ()
    #: The class version; above 1, an upcaster may rewrite an old stored state.
    version: int = 1

    @property
    def name(self) -> str:
        """The event type as shown to people: the topic without its namespace."""
        return self.topic.removeprefix(NAMESPACE)


_ALL = (
    EventInfo(
        ASSIGNMENT_PROPOSED,
        ASSIGNMENT,
        ("client", "instructions", "rationale", "parameters", "observers"),
    ),
    EventInfo(
        ASSIGNMENT_ADJUSTED,
        ASSIGNMENT,
        (
            "changes.instructions",
            "changes.rationale",
            "changes.parameters",
            "changes.observers",
        ),
    ),
    EventInfo(ASSIGNMENT_AGREED, ASSIGNMENT, ("obstacles",)),
    EventInfo(ASSIGNMENT_DECLINED, ASSIGNMENT, ("reason",)),
    EventInfo(ENTRY_SUBMITTED, ASSIGNMENT, ("by", "fields")),
    EventInfo(ASSIGNMENT_REVIEWED, ASSIGNMENT, ("obstacles", "notes")),
    EventInfo(ASSIGNMENT_CANCELLED, ASSIGNMENT, ("reason",)),
    EventInfo(ASSIGNMENT_CLOSED, ASSIGNMENT, ("reason",)),
    #: From a homework page, between sessions: "too hard", a question, what got in the way,
    #: or a change asked for before agreeing (``events.assignments.ClientNoteSent``).
    EventInfo(CLIENT_NOTE_SENT, ASSIGNMENT, ("text", "by")),
    EventInfo(CLIENT_REGISTERED, CLIENT, ("code", "name")),
    EventInfo(COLLABORATOR_ADDED, CLIENT, ("name", "relationship")),
    EventInfo(CONTACT_DETAILS_CHANGED, CLIENT, ("person", "contacts")),
    EventInfo(CLIENT_DISCHARGED, CLIENT, ("reason",)),
    EventInfo(CONSENT_RECORDED, CLIENT, ("person",)),
    EventInfo(CLIENT_ERASED, CLIENT),
    EventInfo(LINK_ISSUED, CLIENT, ("person",)),
    EventInfo(LINK_REVOKED, CLIENT, ("reason",)),
    #: The client's own clock and language (docs/time-zones.md): only the keys that changed.
    EventInfo(CLIENT_PREFERENCES_SET, CLIENT),
    EventInfo(NOTIFICATION_QUEUED, NOTIFICATION, ("person", "address")),
    EventInfo(DELIVERY_ATTEMPTED, NOTIFICATION),
    EventInfo(DELIVERY_RETRY_REQUESTED, NOTIFICATION),
    EventInfo(DELIVERY_HELD, NOTIFICATION),
    EventInfo(NOTIFICATION_CANCELLED, NOTIFICATION),
    #: Not sent yet on purpose: the client's quiet hours or reminder time (``until``, UTC).
    EventInfo(NOTIFICATION_DEFERRED, NOTIFICATION),
    EventInfo(OPERATORS_LIST_STARTED, OPERATORS),
    EventInfo(OPERATOR_ADDED, OPERATORS),
    EventInfo(OPERATOR_REMOVED, OPERATORS),
    EventInfo(OPERATORS_REQUIRED, OPERATORS),
)

#: Every stored event topic's record, by topic.
CATALOG: Mapping[str, EventInfo] = MappingProxyType({info.topic: info for info in _ALL})


def topics_of(aggregate: str) -> frozenset[str]:
    """The topics of one kind of record's events."""
    return frozenset(t for t, info in CATALOG.items() if info.aggregate == aggregate)
