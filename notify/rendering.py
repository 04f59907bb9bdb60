"""Wording a notification: the default text, or a plugin's (``between_render_message``).

A plugin may reword a message, never redirect it: only its ``subject``, ``text`` and ``data``
are taken; the key, recipient, channel and address stay the dispatcher's. The hook is called
through pluggy (``hook_calls.call_hook``), so wrappers run. An implementation that raises or
returns something other than a ``Message`` is skipped as if it had returned None, and the
fault is reported (it is recorded with the delivery attempt, naming the plugin;
it is not blamed on the channel and causes no retry).

A message may carry its recipient's personal link (``link``): it goes into the text only —
never the subject or ``data`` — and a plugin's wording that leaves it out gets it appended.

Each message is worded in its recipient's language (docs/translating.md): the client's and
their collaborators' in the client's, the therapist's in the clinic's operator language
(``[clinic] operator_language``, English unless set). The default
wording, the hook and the link line all run inside ``between.language.use``, so a plugin's
``gettext`` and ``current()`` speak the recipient's language, its own catalogs merged in.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from between.engine.contracts.channels import Message
from between.engine.hooks.calls import Fault, call_hook
from between.engine.hooks.message_catalogs import plugin_catalogs
from between.engine.reading.views import iso
from between.language import use
from between.notify.messages import default_text, with_link

if TYPE_CHECKING:
    from between.engine.aggregates.assignments import Assignment
    from between.engine.app import Homework

HOOK = "between_render_message"
KEPT = ("key", "kind", "role", "recipient", "channel", "address")


class Renderer:
    """Builds each message, asking the plugins that implement ``between_render_message``."""

    def __init__(self, app: Homework) -> None:
        self.app = app
        self._catalogs: tuple[str, ...] | None = None

    @property
    def catalogs(self) -> tuple[str, ...]:
        """The plugins' catalog folders, asked once for this renderer's life."""
        if self._catalogs is None:
            self._catalogs = plugin_catalogs(self.app.plugins.manager)
        return self._catalogs

    def message(
        self, n: Any, assignment: Assignment, address: str, link: str | None = None
    ) -> tuple[Message, list[str]]:
        """The message for notification ``n`` to ``address`` (with the recipient's ``link``
        in its text, if given), and any plugin faults."""
        kind = self.app.plugins.task_types.get(assignment.task_type)
        row = assignment.row
        info = {
            "kind": n.row["kind"],
            "role": n.row["role"],
            "channel": n.row["channel"],
            "assignment": str(assignment.id),
            "task_type": assignment.task_type,
            "title": kind.title if kind else assignment.task_type,
            "due": row["due"],
            "client": row["client"],
            "entries": entries_as_of(assignment, getattr(n, "caused_at", None)),
            "expected_entries": row["expected_entries"],
            "status": row["status"],
        }
        prefs = self.app.client_preferences(assignment.client_id)  # the client's own clock
        info["timezone"] = prefs["timezone"]
        therapist = info["role"] == "therapist"
        wanted = self.app.clinic.operator_language if therapist else prefs["language"]
        with use(wanted, self.catalogs) as words:
            info["language"] = words.language  # the recipient's, as the plugins see it
            return self._worded(n, info, address, link)

    def _worded(
        self, n: Any, info: dict[str, Any], address: str, link: str | None
    ) -> tuple[Message, list[str]]:
        """The message in the current language: the default wording, then the plugins'."""
        subject, text = default_text(info)
        if link:
            text = with_link(text, link)
        default = Message(
            key=str(n.id),
            kind=info["kind"],
            role=info["role"],
            recipient=n.person,
            channel=info["channel"],
            address=address,
            subject=subject,
            text=text,
            data=info,
        )
        message, faults = self._reworded(info, default)
        if link and link not in message.text:
            message = replace(message, text=with_link(message.text, link))
        return message, faults

    def _reworded(self, info: dict, default: Message) -> tuple[Message, list[str]]:
        """Ask the hook through pluggy (wrappers included); a fault keeps the call going."""
        outcome = call_hook(
            self.app.plugins.manager,
            HOOK,
            contain=True,
            check=_not_a_message,
            notification=dict(info),
            default=default,
        )
        faults = [_fault_text(f) for f in outcome.faults]
        custom = outcome.result
        source = outcome.source(custom) or "?"
        if custom is not None and not _is_message(custom):  # a wrapper's answer
            faults.append(
                f"plugin {source}: {HOOK} returned {type(custom).__name__}, not a Message"
            )
            custom = None
        if custom is None:
            if faults:
                faults.append("the default wording was used")
            return default, faults
        changed = [f for f in KEPT if getattr(custom, f) != getattr(default, f)]
        if changed:
            faults.append(
                f"plugin {source}: {HOOK} may reword, not redirect; "
                f"kept the message's {', '.join(changed)}"
            )
        data = custom.data if isinstance(custom.data, dict) else default.data
        return replace(default, subject=custom.subject, text=custom.text, data=data), faults


def _not_a_message(answer: Any) -> str | None:
    return None if _is_message(answer) else f"returned {type(answer).__name__}, not a Message"


def _fault_text(fault: Fault) -> str:
    if fault.error is not None:
        return f"plugin {fault.plugin}: {HOOK} raised {_described(fault.error)}"
    return f"plugin {fault.plugin}: {HOOK} {fault.problem}"


def _is_message(value: Any) -> bool:
    return (
        isinstance(value, Message)
        and isinstance(value.subject, str)
        and isinstance(value.text, str)
    )


def _described(error: BaseException) -> str:
    text = " ".join(str(error).split())[:200]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def entries_as_of(assignment: Assignment, moment: datetime | None) -> int:
    """How many entries the homework had when ``moment`` was recorded (now when None): a
    message about an entry counts up to that entry, however late it is sent."""
    if moment is None:
        return int(assignment.row["entries"])
    return sum(1 for e in assignment.entries if e["recorded_at"] <= iso(moment))
