"""Facts about who may act on the store: operators, their roles, and whether that is enforced."""

from __future__ import annotations

from between.events import catalog
from between.events.base import Fact, Started, topic


@topic(catalog.OPERATORS_LIST_STARTED)
class OperatorsListStarted(Started):
    """The store's list of operators was created (by its first entry)."""


@topic(catalog.OPERATOR_ADDED)
class OperatorAdded(Fact):
    """An operator (therapist, staff or auditor) may act under this name, or changed role."""

    name: str
    role: str


@topic(catalog.OPERATOR_REMOVED)
class OperatorRemoved(Fact):
    """The name may no longer act."""

    name: str


@topic(catalog.OPERATORS_REQUIRED)
class OperatorsRequired(Fact):
    """Whether every write must come from a listed operator whose role allows it."""

    required: bool


OPERATOR_EVENTS = (OperatorsListStarted, OperatorAdded, OperatorRemoved, OperatorsRequired)
