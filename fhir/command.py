"""``between export fhir``: parse the options, open the store read-only, export.

Imported when the command line is built; the mapping and the FHIR models are imported only
when the command runs, so ``between --help`` stays light.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import click

from between.engine.errors import InvalidInput, NotFound


@click.command("fhir")
@click.option("--client", "client_ref", metavar="CODE", help="Only this client (code or id).")
@click.option("--since", metavar="TIME", help="Only what changed from TIME on (incremental).")
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
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (default: standard output).",
)
@click.pass_obj
def fhir(
    session: Any,
    client_ref: str | None,
    since: str | None,
    until: str | None,
    transaction: bool,
    include_personal: bool,
    output: Path | None,
) -> None:
    """Export the homework record as a FHIR R4 Bundle (see docs/fhir.md)."""
    from between.audit.auditor import moment
    from between.fhir.bundle import BundleWriter
    from between.fhir.export import Options, export
    from between.fhir.scan import Scope

    start, end = (moment(since) if since else None), (moment(until) if until else None)
    if start and end and start >= end:
        raise InvalidInput(f"--since {since} is not before --until {until}: swap or widen them")
    app = session.app(read_only=True)
    client = _client(app, client_ref) if client_ref else None
    workers = os.environ.get("BETWEEN_FHIR_WORKERS")
    options = Options(Scope(client, start, end), transaction, include_personal, workers)
    writer = BundleWriter(output, transaction)
    try:
        counts = export(app, session.plugins().task_types, options, writer, _progress)
    except BaseException:
        writer.discard()
        raise
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "no resources"
    where = f" to {output}" if output else ""
    click.echo(f"exported {sum(counts.values())} resources{where}: {summary}", err=True)


def _client(app: Any, ref: str) -> UUID:
    """A client's id from their code (or the id itself: the handle left after erasure)."""
    try:
        found: UUID | None = UUID(ref)
    except ValueError:
        found = app.client_id(ref)
    else:
        first = next(iter(app.events.get(found, limit=1)), None)
        found = found if type(first).__name__ == "ClientRegistered" else None
    if found is None:
        raise NotFound(f"no client {ref!r}; see 'between client list' for the codes")
    return found


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], Any] | None]:
    """A progress bar on standard error, only when it is a terminal."""
    if not sys.stderr.isatty() or total == 0:
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update
