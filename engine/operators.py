"""Least privilege: the operators who may act on a store, and what each role may do.

By default any actor may write (the actor is recorded, not authenticated). A store can
require that actors come from its operator list (``between operators require``); then each
write — and each command that copies the store or rewrites its read models (``rekey``,
``rebuild``) — is checked against the actor's role before anything else happens. The list
itself is kept as events, so auditors see who was allowed what, and since when.
"""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate

from between.engine.errors import InvalidInput, RuleViolation
from between.events import operators as ev
from between.events.base import stable_topic

OPERATORS_ID = uuid5(NAMESPACE_URL, "https://between.invalid/operators")
ROLES = ("therapist", "staff", "admin", "auditor")

#: The clinical writes: clients and their homework.
CLINICAL = frozenset(
    {
        "register",
        "collaborator",
        "contact",
        "discharge",
        "erase",
        "propose",
        "adjust",
        "agree",
        "decline",
        "submit",
        "review",
        "cancel",
        "close",
    }
)

#: What each role may do; commands not listed for a role are refused to it. Besides the
#: writes, two commands that record nothing are checked too: ``rebuild`` (rewrites the read
#: models) and ``rekey`` (makes a full, decryptable copy of the store).
PERMISSIONS: dict[str, frozenset[str]] = {
    "therapist": CLINICAL | {"operators", "rebuild", "notify"},
    "staff": frozenset(
        {"register", "collaborator", "contact", "agree", "decline", "submit", "notify"}
    ),
    "admin": frozenset({"rebuild", "rekey"}),
    "auditor": frozenset(),
}


class Operators(Aggregate):
    """The store's operator list (one per store)."""

    @classmethod
    def start(cls, **meta: Any) -> Operators:
        return cls._create(ev.OperatorsListStarted, id=OPERATORS_ID, **meta)

    def add(self, name: str, role: str, **meta: Any) -> None:
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}; got {role!r}")
        if self.roles.get(name) == role:
            raise RuleViolation(f"{name} is already a {role}")
        self.trigger_event(ev.OperatorAdded, name=name, role=role, **meta)

    def remove(self, name: str, **meta: Any) -> None:
        if name not in self.roles:
            raise RuleViolation(f"{name} is not an operator")
        if self.required and self._therapists_without(name) == 0:
            raise RuleViolation(
                "cannot remove the last therapist while operators are required; "
                "turn the requirement off first"
            )
        self.trigger_event(ev.OperatorRemoved, name=name, **meta)

    def require(self, required: bool, **meta: Any) -> None:
        if required and not any(r == "therapist" for r in self.roles.values()):
            raise RuleViolation("add at least one therapist before requiring operators")
        self.trigger_event(ev.OperatorsRequired, required=required, **meta)

    def check(self, actor: str, command: str) -> None:
        """Refuse ``actor`` doing ``command`` when the list is required and says no."""
        if not self.required:
            return
        role = self.roles.get(actor)
        if role is None:
            raise RuleViolation(
                f"{actor!r} is not an operator of this store, which requires actors from its "
                "operator list (see 'between operators')"
            )
        if command not in PERMISSIONS.get(role, frozenset()):
            allowed = [r for r, commands in PERMISSIONS.items() if command in commands]
            raise RuleViolation(
                f"{actor} ({role}) may not {command}: this store requires operators, and "
                f"{command} needs the role {' or '.join(allowed)}"
            )

    label = "the operator list"

    def _therapists_without(self, name: str) -> int:
        return sum(1 for n, r in self.roles.items() if r == "therapist" and n != name)

    @singledispatchmethod
    def evolve(self, event: Any) -> None:
        raise TypeError(f"not an operators event: {type(event).__name__}")

    @evolve.register
    def _(self, event: ev.OperatorsListStarted) -> None:
        self.roles: dict[str, str] = {}
        self.required = False
        self.request_keys: dict[str, dict] = {}

    @evolve.register
    def _(self, event: ev.OperatorAdded) -> None:
        self.roles[event.name] = event.role

    @evolve.register
    def _(self, event: ev.OperatorRemoved) -> None:
        self.roles.pop(event.name, None)

    @evolve.register
    def _(self, event: ev.OperatorsRequired) -> None:
        self.required = event.required

    def detail(self) -> dict:
        return {
            "required": self.required,
            "operators": [{"name": n, "role": r} for n, r in sorted(self.roles.items())],
        }


stable_topic(Operators, "between.Operators")
