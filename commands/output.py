"""How commands print: JSON, write outcomes, aligned tables, assignments and progress."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterable
from typing import Any

import click

ASSIGNMENT_COLUMNS = [
    ("ID", "id"),
    ("CLIENT", "client"),
    ("TYPE", "task_type"),
    ("STAGE", "stage"),
    ("STATUS", "status"),
    ("DUE", "due"),
    ("ENTRIES", "progress"),
    ("DAYS LATE", "days_late"),
]


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (dates and ids as text)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def short(record_id: str) -> str:
    """The first eight characters of an id: enough to name it on the command line."""
    return record_id[:8]


def report(outcome: Any, as_json: bool, what: str) -> None:
    """Print a write command's outcome."""
    if as_json:
        print_json(
            {"result": outcome.result, "repeated": outcome.repeated, "record": outcome.record}
        )
    elif outcome.repeated:
        click.echo(f"already recorded earlier with this idempotency key: {what}")
    else:
        click.echo(what)


def table(rows: Iterable[dict], columns: list[tuple[str, str]]) -> None:
    """Print rows as an aligned text table (header, then one line per row)."""
    cells = [[title for title, _ in columns]]
    cells += [[cell(row.get(key)) for _, key in columns] for row in rows]
    if len(cells) == 1:
        click.echo("(none)")
        return
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    for r in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def cell(value: Any) -> str:
    """One table cell: '-' for nothing, yes/no for flags, ids shortened."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return short(text) if len(text) == 36 and text.count("-") == 4 else text


def assignment_table(rows: Iterable[dict]) -> None:
    """Homework rows as a table, entries shown as done/expected."""
    table(
        [{**r, "progress": f"{r['entries']}/{r['expected_entries']}"} for r in rows],
        ASSIGNMENT_COLUMNS,
    )


def print_assignment(d: dict) -> None:
    """One assignment in full: what, why, agreement, entries, reviews and the summary."""
    click.echo(f"{d['id']}  {d['task_type']} for {d['client']}  [{d['status']}]")
    click.echo(
        f"  stage {d['stage']}, difficulty {d['difficulty']}, due {d['due']}"
        + (f" — OVERDUE by {d['days_late']} day(s)" if d["overdue"] else "")
    )
    click.echo(f"  instructions: {d['instructions']}")
    click.echo(f"  rationale:    {d['rationale']}")
    if d["parameters"]:
        click.echo("  parameters:   " + pairs(d["parameters"], "{}={}", ", "))
    if d["steps_up_from"]:
        click.echo(f"  steps up from {short(d['steps_up_from'])}")
    if d["agreement"]:
        click.echo(
            f"  agreed: confidence {d['agreement']['confidence']}, obstacles: "
            f"{d['agreement']['obstacles'] or '-'}"
        )
    if d["decline_reason"]:
        click.echo(f"  declined: {d['decline_reason']}")
    click.echo(f"  entries: {d['entries']} of {d['expected_entries']}")
    for e in d["entry_list"]:
        fields = pairs(e["fields"], "{}: {}", "; ")
        click.echo(f"    {e['occurred_at'][:16]} by {e['by']}: {fields}")
    for r in d["review_list"]:
        click.echo(
            f"  review {r['at'][:10]}: quantity {r['quantity']}, quality {r['quality']}, "
            f"difficulty {r['difficulty']}, next {r['next_step']}; {r['notes']}"
        )
    summary = d["summary"]
    unread = isinstance(summary, dict) and "unavailable" in summary
    click.echo("  summary: " + ("unavailable" if unread else pairs(summary, "{} {}", ", ")))
    done = d["completion"]
    state = {True: "yes", False: "no"}.get(done.get("complete"), "unknown")
    click.echo(f"  complete: {state} ({done.get('rule')})")
    for follow in d["follow_ups"]:
        click.echo(f"  stepped up to {short(follow)}")


def warn_unavailable(detail: dict) -> None:
    """One warning line for each part of ``show`` a plugin could not describe."""
    from between.engine.guarded import unavailable

    for line in unavailable(detail):
        click.secho(f"warning: {line} (shown as unavailable)", err=True, fg="yellow")


def pairs(value: Any, shape: str, sep: str) -> str:
    """A dict's items as text; a sealed value that did not open (a marker) as it is."""
    if not isinstance(value, dict):
        return str(value)
    return sep.join(shape.format(k, v) for k, v in value.items())


def stream_json_array(rows: Iterable[dict]) -> None:
    """Print a JSON array one element at a time (memory stays flat)."""
    click.echo("[", nl=False)
    for n, row in enumerate(rows):
        click.echo(("," if n else "") + "\n  " + json.dumps(row, ensure_ascii=False), nl=False)
    click.echo("\n]")


def progress(total: int, label: str) -> Any:
    """A progress bar on standard error, only when it is a terminal and the run is long."""
    if total < 50_000 or not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    return click.progressbar(length=total, label=label, file=sys.stderr)
