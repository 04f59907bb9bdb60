"""The default wording of each notification: plain, with no clinical content beyond what the
recipient needs. A plugin may word its own (``between_render_message``).

When the clinic runs the portal, the messages that ask the client or a collaborator to do
something (``LINKED``) also carry that person's own link (see ``notify.sending``).

Every word goes through the message catalogs (docs/translating.md), in the language made
current for the message being rendered (``notify.rendering``: the recipient's).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from between.language import current
from between.language import gettext as _

#: The (kind, role) of the messages that carry the recipient's personal link: homework
#: agreed, and the reminders.
LINKED = frozenset(
    {
        ("agreed", "client"),
        ("agreed", "collaborator"),
        ("due-soon", "client"),
        ("due-soon", "collaborator"),
        ("overdue", "client"),
    }
)


def with_link(text: str, url: str) -> str:
    """The message text with the recipient's link on a line of its own, in the current
    language."""
    return text + "\n" + _("Record your homework here (this link is personal): %(url)s", url=url)


def default_text(info: dict[str, Any]) -> tuple[str, str]:
    """Plain messages with no clinical content beyond what the recipient needs, in the current
    language (``between.language.use``): the task type's title in that language, and the due
    date — the client's calendar day — written as that language writes a day."""
    words = current()
    short = info["assignment"][:8]
    v = {
        "title": words.gettext(info["title"]),
        "due": words.day(date.fromisoformat(info["due"])) if info.get("due") else "",
        "client": info["client"],
        "short": short,
        "kind": info["kind"],
    }
    v["progress"] = _(
        "%(entries)s of %(expected)s entries",
        entries=info["entries"],
        expected=info["expected_entries"],
    )
    texts = {
        ("agreed", "client"): (
            _("Homework agreed: %(title)s", **v),
            _("You agreed to '%(title)s'. It is due on %(due)s.", **v),
        ),
        ("agreed", "collaborator"): (
            _("You are asked to help with homework"),
            _("You agreed to record observations for homework due on %(due)s.", **v),
        ),
        ("due-soon", "client"): (
            _("Reminder: %(title)s is due on %(due)s", **v),
            _("'%(title)s' is due on %(due)s.", **v),
        ),
        ("due-soon", "collaborator"): (
            _("Reminder: observations due on %(due)s", **v),
            _("Your observations are due on %(due)s.", **v),
        ),
        ("overdue", "client"): (
            _("%(title)s was due on %(due)s", **v),
            _("'%(title)s' was due on %(due)s. Bring what you have to your next session.", **v),
        ),
        ("reviewed", "client"): (
            _("Homework reviewed: %(title)s", **v),
            _("Your homework '%(title)s' was reviewed.", **v),
        ),
        ("entry", "therapist"): (
            _("New entry for %(client)s", **v),
            _("%(client)s recorded an entry on %(short)s (%(progress)s).", **v),
        ),
        ("overdue", "therapist"): (
            _("Overdue homework for %(client)s", **v),
            _("Homework %(short)s for %(client)s was due on %(due)s (%(progress)s).", **v),
        ),
        ("declined", "therapist"): (
            _("Homework declined by %(client)s", **v),
            _("%(client)s declined homework %(short)s (%(title)s).", **v),
        ),
        ("client-note", "therapist"): (
            _("A note from %(client)s between sessions", **v),
            _(
                "%(client)s sent a note about homework %(short)s (%(title)s); "
                "see 'between show %(short)s'.",
                **v,
            ),
        ),
    }
    return texts.get(
        (info["kind"], info["role"]),
        (_("About homework %(short)s", **v), _("Homework %(short)s: %(kind)s.", **v)),
    )
