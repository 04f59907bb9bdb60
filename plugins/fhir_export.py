"""``between export fhir``: the homework record as a FHIR R4 Bundle.

A built-in plugin: it adds the ``export`` group through ``between_register_commands``, the
hook any clinic's plugin uses; the command and the mapping live in ``between.fhir_r4``.
"""

from __future__ import annotations

import click

from between import hookimpl


@hookimpl
def between_register_commands(cli: click.Group) -> None:
    from between.fhir_r4.command import fhir

    group = cli.commands.get("export")
    if not isinstance(group, click.Group):
        group = click.Group("export", help="Export the homework record in other formats.")
        cli.add_command(group)
        group = cli.commands.get("export")
    if isinstance(group, click.Group):
        group.add_command(fhir)
