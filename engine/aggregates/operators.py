"""Least privilege: the operators who may act on a store, and what each role may do.

By default any actor may write (the actor is recorded, not authenticated). A store can
require that actors come from its operator list (``between operators require``); then each
write — and each command that copies the store or rewrites its read models (``rekey``,
``rebuild``) — is checked against the actor's role before anything else happens. The list
itself is kept as events, so auditors see who was allowed what, and since when.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import singledispatchmethod
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate

from between.engine.errors import Conflict, InvalidInput, RuleViolation
from between.engine.work.envelope import Envelope
from between.events import operators as ev
from between.events.base import stable_topic
from between.events.catalog import AGGREGATE_TOPICS, OPERATORS

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
        "link",
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


class OperatorsChanged(Exception):
    """The operator list changed after a command was checked against it (raised inside the
    write transaction, before anything is inserted: the command is checked again)."""


class Operators(Aggregate):
    """The store's operator list (one per store)."""

    @classmethod
    def start(cls, envelope: Envelope) -> Operators:
        return cls._create(ev.OperatorsListStarted, id=OPERATORS_ID, **envelope)

    def add(self, name: str, role: str, envelope: Envelope) -> None:
        if role not in ROLES:
            raise InvalidInput(
                "role must be one of %(roles)s; got %(role)r", roles=", ".join(ROLES), role=role
            )
        if self.roles.get(name) == role:
            raise RuleViolation("%(name)s is already a %(role)s", name=name, role=role)
        self.trigger_event(ev.OperatorAdded, name=name, role=role, **envelope)

    def remove(self, name: str, envelope: Envelope) -> None:
        if name not in self.roles:
            raise RuleViolation("%(name)s is not an operator", name=name)
        if self.required and self._therapists_without(name) == 0:
            raise RuleViolation(
                "cannot remove the last therapist while operators are required; "
                "turn the requirement off first"
            )
        self.trigger_event(ev.OperatorRemoved, name=name, **envelope)

    def require(self, required: bool, envelope: Envelope) -> None:
        if required and not any(r == "therapist" for r in self.roles.values()):
            raise RuleViolation("add at least one therapist before requiring operators")
        self.trigger_event(ev.OperatorsRequired, required=required, **envelope)

    def check(self, actor: str, command: str) -> None:
        """Refuse ``actor`` doing ``command`` when the list is required and says no."""
        if not self.required:
            return
        role = self.roles.get(actor)
        if role is None:
            raise RuleViolation(
                "%(actor)r is not an operator of this store, which requires actors from its "
                "operator list (see 'between operators')",
                actor=actor,
            )
        if command not in PERMISSIONS.get(role, frozenset()):
            allowed = [r for r, commands in PERMISSIONS.items() if command in commands]
            raise RuleViolation(
                "%(actor)s (%(role)s) may not %(command)s: this store requires operators, and "
                "%(command)s needs the role %(allowed)s",
                actor=actor,
                role=role,
                command=command,
                allowed=" or ".join(allowed),
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


stable_topic(Operators, AGGREGATE_TOPICS[OPERATORS])


class Gate:
    """The operator list a process checks commands against, read once and then trusted until
    a write finds it changed.

    ``check`` remembers the command and the list's version; the write carries that version
    (``operators_version``, see ``guard``) and the recorder compares it with the stored list
    under its write lock. If the list changed meanwhile, nothing is inserted
    (``OperatorsChanged``), the command is checked again against the list as it now is and,
    if still allowed, written. So a write costs no look-up of the list, and is never let
    through by a list older than the one in force when it is recorded.
    """

    def __init__(self, read: Callable[[], Operators | None]) -> None:
        self._read = read  # a fresh copy from the store: never one a command will change
        self._list: Operators | None = None
        self._known = False
        #: The last command checked and the version of the list it passed: (actor, command, v).
        self.checked: tuple[str, str, int] | None = None

    def current(self, *, fresh: bool = False) -> Operators | None:
        """The operator list (None: the store has none), read again if ``fresh``."""
        if fresh or not self._known:
            self._list, self._known = self._read(), True
        return self._list

    def check(self, actor: str, command: str, *, fresh: bool = False) -> None:
        """Refuse ``actor`` doing ``command`` if the list says no (see ``Operators.check``)."""
        operators = self.current(fresh=fresh or command == "operators")
        if operators is not None:
            operators.check(actor, command)
        self.checked = (actor, command, operators.version if operators else 0)

    @property
    def version(self) -> int | None:
        """The list's version the pending command was checked against (None: none was)."""
        return self.checked[2] if self.checked else None

    def guard(self, put: Callable[[dict], Any], aggregates: tuple[Any, ...], check: bool) -> Any:
        """``put(extra)`` writes the aggregates, passing ``extra`` to the recorder: with
        ``check``, the version of the list the pending command was checked against. If the
        list changed, the command is checked again (refused: nothing is recorded) and the
        write tried again."""
        for _ in range(8):
            version = self.version if check else None
            try:
                written = put({} if version is None else {"operators_version": version})
            except OperatorsChanged:
                assert self.checked is not None
                actor, command, _ = self.checked
                self.check(actor, command, fresh=True)
                continue
            self.checked = None  # done; a list it changed is read again
            if any(isinstance(a, Operators) for a in aggregates):
                self._known = False
            return written
        raise Conflict(
            "the operator list kept changing while this command ran; nothing was recorded — "
            "run the command again"
        )
