"""The default wording of each notification: plain, with no clinical content beyond what the
recipient needs. A plugin may word its own (``between_render_message``).

When the clinic runs the portal, the messages that ask the client or a collaborator to do
something (``LINKED``) also carry that person's own link (see ``notify.sending``).
"""

from __future__ import annotations

from typing import Any

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
    """The message text with the recipient's link on a line of its own."""
    return f"{text}\nRecord your homework here (this link is personal): {url}"


def default_text(info: dict[str, Any]) -> tuple[str, str]:
    """Plain messages with no clinical content beyond what the recipient needs."""
    title, due, short = info["title"], info["due"], info["assignment"][:8]
    progress = f"{info['entries']} of {info['expected_entries']} entries"
    texts = {
        ("agreed", "client"): (
            f"Homework agreed: {title}",
            f"You agreed to '{title}'. It is due on {due}.",
        ),
        ("agreed", "collaborator"): (
            "You are asked to help with homework",
            f"You agreed to record observations for homework due on {due}.",
        ),
        ("due-soon", "client"): (
            f"Reminder: {title} is due on {due}",
            f"'{title}' is due on {due}.",
        ),
        ("due-soon", "collaborator"): (
            f"Reminder: observations due on {due}",
            f"Your observations are due on {due}.",
        ),
        ("overdue", "client"): (
            f"{title} was due on {due}",
            f"'{title}' was due on {due}. Bring what you have to your next session.",
        ),
        ("reviewed", "client"): (
            f"Homework reviewed: {title}",
            f"Your homework '{title}' was reviewed.",
        ),
        ("entry", "therapist"): (
            f"New entry for {info['client']}",
            f"{info['client']} recorded an entry on {short} ({progress}).",
        ),
        ("overdue", "therapist"): (
            f"Overdue homework for {info['client']}",
            f"Homework {short} for {info['client']} was due on {due} ({progress}).",
        ),
        ("declined", "therapist"): (
            f"Homework declined by {info['client']}",
            f"{info['client']} declined homework {short} ({title}).",
        ),
    }
    return texts.get(
        (info["kind"], info["role"]),
        (f"About homework {short}", f"Homework {short}: {info['kind']}."),
    )
