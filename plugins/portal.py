"""A built-in plugin: the client portal's ``serve`` command (docs/portal.md).

The command is contributed like any plugin's, and imports the web stack (Flask, waitress) only
when it runs, so the command line's start-up stays light.
"""

from __future__ import annotations

from typing import Any

import click

from between import hookimpl

HELP = """Serve the client portal: each client and collaborator opens their personal link
(between client link) to see their homework and record entries; form tools post entries to
the signed API. Defaults come from the [portal] table of the configuration file, then
127.0.0.1:8080. Stops cleanly on Ctrl-C or SIGTERM."""


@click.command("serve", help=HELP)
@click.option("--host", help="Address to listen on (default 127.0.0.1; [portal] host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default 8080; [portal] port).")
@click.option(
    "--url", help="Public base URL people reach it at, e.g. https://homework.clinic.example."
)
@click.pass_obj
def serve(session: Any, host: str | None, port: int | None, url: str | None) -> None:
    from between.portal.config import portal_config
    from between.portal.server import serve as run
    from between.portal.stores import TemplateWords, open_homework

    config = portal_config(session.settings, host, port, url)
    plugins = session.plugins()
    words = TemplateWords(plugins, session.settings)
    run(config, lambda: open_homework(session.settings, plugins), click.echo, words)


@hookimpl
def between_register_commands(cli: click.Group) -> None:
    cli.add_command(serve)
