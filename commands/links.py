"""``between client link …``: personal portal links for a client or a collaborator."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add ``link`` to the ``client`` group (registered after ``commands.clients``)."""
