"""Commands on the operator list: who may act on this store, and whether that is enforced.

The rules (roles, what each may do) live with the ``Operators`` aggregate in
``engine.aggregates.operators``; the unit of work checks them before every write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from between.engine import validate
from between.engine.aggregates.operators import OPERATORS_ID, Operators
from between.engine.work.unit import Outcome

if TYPE_CHECKING:
    from between.engine.work.envelope import Envelope
    from between.engine.work.unit import UnitOfWork


class OperatorCommands:
    """The operator list, read and changed. Composed into ``Homework``."""

    work: UnitOfWork

    def operators(self) -> dict:
        found = self.work.load(Operators, OPERATORS_ID)
        return found.detail() if found else {"required": False, "operators": []}

    def set_operator(self, name: str, role: str, *, actor: str) -> Outcome:
        envelope = self.work.authorise(actor, "operators")
        name = validate.text("operator name", name.strip(), limit=200)
        return self._change_operators(lambda o: o.add(name, role, envelope), envelope)

    def remove_operator(self, name: str, *, actor: str) -> Outcome:
        envelope = self.work.authorise(actor, "operators")
        return self._change_operators(lambda o: o.remove(name, envelope), envelope)

    def require_operators(self, required: bool, *, actor: str) -> Outcome:
        envelope = self.work.authorise(actor, "operators")
        return self._change_operators(lambda o: o.require(required, envelope), envelope)

    def _change_operators(
        self, command: Callable[[Operators], None], envelope: Envelope
    ) -> Outcome:
        """Change the list, starting it on first use."""
        return self.work.change(
            lambda: self.work.load(Operators, OPERATORS_ID) or Operators.start(envelope), command
        )
