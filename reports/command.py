"""``between report``: a client's report before a session, or the clinic's (read-only)."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import click

HELP = """A report, read-only: a client's homework (CODE, or their id once erased) or the
clinic's (--clinic). HTML unless --json. Without -o, HTML goes to
report-CODE-DATE.html (report-clinic-DATE.html) in the current folder and JSON to
standard output; -o - writes either to standard output."""


@click.command("report", help=HELP)
@click.argument("client", required=False, metavar="[CODE]")
@click.option("--clinic", is_flag=True, help="The clinic's report instead of a client's.")
@click.option("-o", "--output", metavar="FILE", help="Where to write it ('-': standard output).")
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

    if bool(client) == clinic:
        raise InvalidInput(
            "give a client's CODE, or --clinic for the clinic's report"
            if not clinic
            else "give a client's CODE or --clinic, not both"
        )
    if clinic and (since or until):
        raise InvalidInput("--since and --until go with a client's report, not --clinic")
    start, end = _moment("--since", since), _moment("--until", until)
    if start and end and start >= end:
        raise InvalidInput(f"--since {since} is not before --until {until}")
    app = session.app(read_only=True)
    if clinic:
        figures = build.clinic_report(app)
        text = _json(figures) if as_json else build.clinic_html(figures)
        name = "clinic"
    else:
        assert client is not None
        made = build.client_report(app, session.plugins(), client, since=start, until=end)
        figures = made.figures
        text = _json(figures) if as_json else made.html()
        name = figures["client"]["code"] or figures["client"]["id"][:8]
    if output is None and not as_json:
        output = f"report-{name}-{figures['generated_at'][:10]}.html"
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    _write(Path(output), text)
    click.echo(f"wrote {output}")


def _moment(name: str, text: str | None) -> datetime | None:
    from between.engine.validate import instant

    return instant(name, text) if text else None


def _json(figures: dict[str, Any]) -> str:
    return json.dumps(figures, indent=2, ensure_ascii=False) + "\n"


def _write(path: Path, text: str) -> None:
    """Write the whole file or nothing (a reader never sees half a report)."""
    from between.engine.errors import InvalidInput

    folder = path.parent
    if not folder.is_dir():
        raise InvalidInput(f"cannot write {path}: folder {folder} does not exist")
    temporary = None
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)  # mkstemp's file is the owner's alone: it holds health information
        os.replace(temporary, path)
    except OSError as e:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {path}: {e.strerror or e}") from None
