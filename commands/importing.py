"""``between import FILE``: load a clinic's records in bulk (docs/import.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from between.commands.inputs import PathText
from between.commands.output import print_json, progress

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
        raise click.UsageError("--assignment goes with --type (a CSV file of entries)")
    app = session.app()
    importer = Importer(app, session.actor, key_prefix)  # checks the prefix first
    fields: tuple[str, ...] = ()
    if task_type is not None:
        fields = tuple(f.name for f in app.plugins.task_type(task_type).entries.fields)
    with (
        ImportFile.open(file, task_type, fields, assignment) as source,
        progress(source.lines, "importing") as bar,
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
    earlier = summary.earlier_refusals_stored
    text = (
        f"{summary.file}: {summary.records:,} records read; {summary.stored:,} stored"
        + (f" ({earlier:,} refused by an earlier run)" if earlier else "")
        + f", {summary.already_present:,} already present, {summary.refused:,} refused"
    )
    if summary.resumed_after_line:
        text += f" (resumed after line {summary.resumed_after_line:,}, done by an earlier run)"
    if summary.stopped_at_line:
        text += f"; stopped at line {summary.stopped_at_line:,} (--stop-on-error)"
    return text


def register(cli: click.Group) -> None:
    """Add ``import``."""
    cli.add_command(import_records)
