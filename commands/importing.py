"""``between import FILE``: load a clinic's records in bulk (docs/import.md)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add ``import``."""
