"""``between import FILE``: load a clinic's records in bulk (docs/import.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from between.commands.inputs import PathText
from between.commands.output import print_json, progress
from between.language import gettext as _

if TYPE_CHECKING:
    from between.commands.session import Session


@click.command("import")
@click.argument("file", type=PathText(allow_dash=True))
@click.option(
    "--type",
    "task_type",
    help="The file is CSV: entries of this task type (header: its fields, and optionally "
    "id, assignment, by, occurred_at).",
)
@click.option("--assignment", help="CSV: the assignment of every row (an import id or a UUID).")
@click.option(
    "--key-prefix",
    default="",
    help="Put after 'import:' and before each record's id to make its idempotency key; "
    "another prefix for files whose ids may repeat another file's.",
)
@click.option("--stop-on-error", is_flag=True, help="Stop at the first refused record.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def import_records(
    session: Session,
    file: str,
    task_type: str | None,
    assignment: str | None,
    key_prefix: str,
    stop_on_error: bool,
    as_json: bool,
) -> None:
    """Import clients, homework, entries and reviews from FILE (JSON Lines, or CSV entries).

    FILE '-' is standard input; a pipe or standard input is read once. Every record goes
    through the same checks as the command it stands for; each is stored once, however often
    the file is imported (an interrupted import resumes; refused records are tried again).
    Refused records are listed with their line; the exit code is 1 if any was refused. The
    format: docs/import.md.
    """
    from between.importing.file_format import ImportFile
    from between.importing.importer import Importer

    if assignment is not None and task_type is None:
        raise click.UsageError(_("--assignment goes with --type (a CSV file of entries)"))
    app = session.app()
    importer = Importer(app, session.actor, key_prefix)  # checks the prefix first
    fields: tuple[str, ...] = ()
    if task_type is not None:
        fields = tuple(f.name for f in app.plugins.task_type(task_type).entries.fields)
    with (
        ImportFile.open(file, task_type, fields, assignment) as source,
        progress(source.lines, _("importing")) as bar,
    ):
        summary = importer.run(
            source,
            refused=lambda refusal: click.secho(str(refusal), err=True, fg="red"),
            progress=bar and bar.update,
            stop_on_error=stop_on_error,
        )
    if as_json:
        print_json(summary.as_json())
    else:
        click.echo(describe(summary))
    if summary.refused:
        raise click.exceptions.Exit(1)


def describe(summary: Any) -> str:
    """The summary in a sentence."""
    counts = {
        "file": summary.file,
        "records": f"{summary.records:,}",
        "stored": f"{summary.stored:,}",
        "earlier": f"{summary.earlier_refusals_stored:,}",
        "present": f"{summary.already_present:,}",
        "refused": f"{summary.refused:,}",
    }
    if summary.earlier_refusals_stored:
        text = _(
            "%(file)s: %(records)s records read; %(stored)s stored (%(earlier)s refused by an "
            "earlier run), %(present)s already present, %(refused)s refused",
            **counts,
        )
    else:
        text = _(
            "%(file)s: %(records)s records read; %(stored)s stored, %(present)s already present, "
            "%(refused)s refused",
            **counts,
        )
    if summary.resumed_after_line:
        line = f"{summary.resumed_after_line:,}"
        text += _(" (resumed after line %(line)s, done by an earlier run)", line=line)
    if summary.stopped_at_line:
        line = f"{summary.stopped_at_line:,}"
        text += _("; stopped at line %(line)s (--stop-on-error)", line=line)
    return text


def register(cli: click.Group) -> None:
    """Add ``import``."""
    cli.add_command(import_records)
