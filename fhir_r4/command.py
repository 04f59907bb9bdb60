"""``between export fhir``: parse the options, open the store read-only, export.

Imported when the command line is built; the mapping and the FHIR models are imported only
when the command runs, so ``between --help`` stays light.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from between.commands.output_file import STDOUT, output_target, shown
from between.engine.errors import BetweenError, InvalidInput, NotFound
from between.events.catalog import CLIENT_REGISTERED
from between.language import gettext as _

if TYPE_CHECKING:
    from pathlib import Path

    from between.audit.log_source import RecordSource


@click.command("fhir")
@click.option("--client", "client_ref", metavar="CODE", help="Only this client (code or id).")
@click.option(
    "--since",
    metavar="TIME|CHECKPOINT",
    help="Only what changed from TIME, or after an earlier export's CHECKPOINT (incremental).",
)
@click.option("--until", metavar="TIME", help="The record as it stood just before TIME.")
@click.option(
    "--transaction", is_flag=True, help="A transaction Bundle (PUT requests) for a FHIR server."
)
@click.option(
    "--include-personal", is_flag=True, help="Include names and contact details (never erased)."
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write to FILE, or into FOLDER/ (default and '-': standard output).",
)
@click.pass_obj
def fhir(
    session: Any,
    client_ref: str | None,
    since: str | None,
    until: str | None,
    transaction: bool,
    include_personal: bool,
    output: str | None,
) -> None:
    """Export the homework record as a FHIR R4 Bundle (see docs/fhir.md)."""
    from between.audit.auditor import moment
    from between.fhir_r4.bundle import BundleWriter
    from between.fhir_r4.export import Options, export
    from between.fhir_r4.scan import Scope, since_of

    start = since_of(since) if since else None  # a time, or an earlier export's checkpoint
    end = moment(until, "--until") if until else None
    if isinstance(start, datetime) and end and start >= end:
        raise InvalidInput(
            "--since %(since)s is not before --until %(until)s: swap or widen them",
            since=since,
            until=until,
        )
    if output == "":
        output_target(output, "")  # refused before opening the store
    app = session.app(read_only=True)
    client = _client(app, client_ref) if client_ref else None
    target = None
    if output is not None and output != STDOUT:  # before any work: a known client's name
        target = output_target(output, _file_name(client_ref))
    workers = os.environ.get("BETWEEN_FHIR_WORKERS")
    options = Options(Scope(client, start, end), transaction, include_personal, workers)
    writer = BundleWriter(target, transaction)
    try:
        plugins, library = session.plugins(), session.library()
        counts = export(app, plugins.task_types, options, writer, _progress, library)
    except BaseException as e:
        writer.discard()
        if target is not None and isinstance(e, OSError):  # a full disk, say
            raise BetweenError(
                "cannot write %(path)s: %(reason)s; it was left as it was",
                path=shown(target),
                reason=str(e.strerror or e),
            ) from None
        raise
    click.echo(_exported(counts, target), err=True)


def _exported(counts: dict[str, int], target: Path | None) -> str:
    """The line saying how many resources of each type were exported, and where."""
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or _("no resources")
    total = sum(counts.values())
    if target:
        return _(
            "exported %(total)s resources to %(path)s: %(summary)s",
            total=total,
            path=shown(target),
            summary=summary,
        )
    return _("exported %(total)s resources: %(summary)s", total=total, summary=summary)


def _file_name(client_ref: str | None) -> str:
    """The file written inside the folder ``-o FOLDER/`` names (today being UTC's)."""
    from datetime import UTC, datetime

    who = f"{client_ref.replace(os.sep, '_')}-" if client_ref else ""
    return f"fhir-{who}{datetime.now(UTC).date().isoformat()}.json"


def _client(app: RecordSource, ref: str) -> UUID:
    """A client's id from their code (or the id itself: the handle left after erasure)."""
    try:
        parsed = UUID(ref)
    except ValueError:
        found = app.client_id(ref)
    else:
        first = next(iter(app.events.get(parsed, limit=1)), None)
        found = parsed if getattr(first, "TOPIC", None) == CLIENT_REGISTERED else None
    if found is None:
        raise NotFound(
            "no client %(code)s; see 'between client list' for the codes", code=repr(ref)
        )
    return found


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], Any] | None]:
    """A progress bar on standard error, only when it is a terminal."""
    if not sys.stderr.isatty() or total == 0:
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update
