"""``between notify``: send the notifications the log calls for, show them, retry failures."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from between.commands.inputs import json_option
from between.commands.output import print_json, table

if TYPE_CHECKING:
    from between.cli import Session

#: A notification's statuses, in the order they are counted (the engine keeps no list of them).
NOTIFICATION_STATUSES = ("pending", "sent", "failed")


def print_status(app: Any, as_json: bool) -> None:
    """Counts by status, then every notification not yet sent."""
    rows = app.notifications()
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in NOTIFICATION_STATUSES}
    if as_json:
        print_json({"counts": counts, "notifications": rows})
        return
    click.echo(", ".join(f"{n} {s}" for s, n in counts.items()))
    table(
        [r for r in rows if r["status"] != "sent"],
        [
            ("ID", "id"),
            ("KIND", "kind"),
            ("TO", "role"),
            ("CHANNEL", "channel"),
            ("STATUS", "status"),
            ("ATTEMPTS", "attempts"),
            ("LAST", "last_detail"),
        ],
    )


def dispatch(session: Session, follow: bool, interval: float, as_json: bool) -> None:
    """Run the dispatcher once, or every ``interval`` seconds until Ctrl-C."""
    import time

    from between.engine.dispatcher import Dispatcher

    dispatcher = Dispatcher(session.app(), session.settings, actor=session.actor)
    while True:
        done = vars(dispatcher.run_once())
        if as_json:
            click.echo(json.dumps(done))
        else:
            click.echo(", ".join(f"{name} {count}" for name, count in done.items()))
        if not follow:
            return
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            return


@click.command("notify")
@click.option("--follow", is_flag=True, help="Keep running (for a service); Ctrl-C stops.")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between passes.")
@click.option("--status", "show_status", is_flag=True, help="Show pending, sent and failed.")
@click.option("--retry", "retry_id", metavar="ID", help="Send a failed notification again.")
@json_option
@click.pass_obj
def notify(
    session: Session,
    follow: bool,
    interval: float,
    show_status: bool,
    retry_id: str | None,
    as_json: bool,
) -> None:
    """Send the notifications the log calls for (once, or --follow)."""
    if show_status:
        print_status(session.app(), as_json)
    elif retry_id:
        session.app().retry_notification(retry_id, actor=session.actor)
        click.echo(f"notification {retry_id} will be sent again")
    else:
        dispatch(session, follow, interval, as_json)


def register(cli: click.Group) -> None:
    cli.add_command(notify)
