"""The ``between report`` command, contributed like any plugin's command."""

from __future__ import annotations

import click

from between import hookimpl


@hookimpl
def between_register_commands(cli: click.Group) -> None:
    from between.reports.command import report

    cli.add_command(report)
