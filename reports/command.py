"""``between report``: a client's report before a session, or the clinic's (read-only)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import click

from between.commands.output_file import (
    STDOUT,
    names_folder,
    output_folder,
    output_target,
    shown,
    write_output,
)
from between.language import gettext as _

HELP = """A report, read-only: a client's homework (CODE, or their id once erased) or the
clinic's (--clinic). HTML unless --json. Without -o, HTML goes to
report-CODE-DATE.html (report-clinic-DATE.html) in the current folder and JSON to
standard output; -o - writes either to standard output, -o FOLDER/ that name inside
FOLDER. Only a regular file is written, whole: a folder, device, FIFO or link is refused."""


@click.command("report", help=HELP)
@click.argument("client", required=False, metavar="[CODE]")
@click.option("--clinic", is_flag=True, help="The clinic's report instead of a client's.")
@click.option(
    "-o", "--output", metavar="FILE", help="Where to write it ('-': standard output; DIR/: in DIR)."
)
@click.option("--since", help="Only what was recorded at or after this time (ISO date or time).")
@click.option("--until", help="Only what was recorded before this time; states as they were then.")
@click.option("--json", "as_json", is_flag=True, help="The figures as JSON instead of HTML.")
@click.pass_obj
def report(
    session: Any,
    client: str | None,
    clinic: bool,
    output: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
) -> None:
    from between.engine.errors import InvalidInput
    from between.reports import build

    if bool(client) == clinic and not clinic:
        raise InvalidInput("give a client's CODE, or --clinic for the clinic's report")
    if bool(client) == clinic:
        raise InvalidInput("give a client's CODE or --clinic, not both")
    if clinic and (since or until):
        raise InvalidInput("--since and --until go with a client's report, not --clinic")
    start, end = _moment("--since", since), _moment("--until", until)
    if start and end and start >= end:
        raise InvalidInput(
            "--since %(since)s is not before --until %(until)s", since=since, until=until
        )
    target = None
    if output is not None and names_folder(output):
        output_folder(output)  # checked before any work; the name comes with the figures
    elif output is not None and output != STDOUT:
        who = "clinic" if clinic else str(client)  # named in a refusal of a folder
        target = output_target(output, _file_name(who, datetime.now(UTC), as_json))
    app = session.app(read_only=True)
    language = app.clinic.operator_language  # the pages' words (docs/translating.md)
    if clinic:
        figures = build.clinic_report(app)
        text = _json(figures) if as_json else build.clinic_html(figures, language)
        name = "clinic"
    else:
        assert client is not None
        made = build.client_report(app, session.plugins(), client, since=start, until=end)
        figures = made.figures
        _protocol_steps(session, figures["homework"])
        text = _json(figures) if as_json else made.html(language)
        name = figures["client"]["code"] or figures["client"]["id"][:8]
    if output == STDOUT or (output is None and as_json):
        click.echo(text, nl=False)
        return
    default = _file_name(name, datetime.fromisoformat(figures["generated_at"]), as_json)
    if output is None:
        target = output_target(default, default)
    elif names_folder(output):
        target = output_target(output, default)
    assert target is not None
    write_output(target, text)
    click.echo(_("wrote %(path)s", path=shown(target)))


def _protocol_steps(session: Any, homework: list[dict[str, Any]]) -> None:
    """How many steps each homework's protocol has (None when it is not in the library)."""
    if any(h.get("protocol") for h in homework):
        protocols = session.library().protocols
        for h in homework:
            if h.get("protocol") in protocols:
                h["protocol_steps"] = len(protocols[h["protocol"]].steps)


def _file_name(name: str, when: datetime, as_json: bool) -> str:
    """The file a report is written to without -o, or inside the folder -o DIR/ names."""
    name = name.replace(os.sep, "_")
    return f"report-{name}-{when.date().isoformat()}.{'json' if as_json else 'html'}"


def _moment(name: str, text: str | None) -> datetime | None:
    from between.engine.validate import instant

    return instant(name, text) if text else None


def _json(figures: dict[str, Any]) -> str:
    return json.dumps(figures, indent=2, ensure_ascii=False) + "\n"
