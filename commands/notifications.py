"""``between notify``: send the notifications the log calls for, show them, retry failures.

Exit codes (besides the usual 0, 1, 2 and 130): **3** — this run left a notification failed
for good (``notify``), or some notification is failed (``notify --status``); **4** — another
dispatcher is working the store (``notify`` without ``--follow``, which waits instead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from between.commands.inputs import json_option
from between.commands.output import print_json, table
from between.language import N_
from between.language import gettext as _

if TYPE_CHECKING:
    from between.commands.session import Session

#: A notification's statuses, in the order they are counted (as ``engine.aggregates.notifications``
#: lists them; not imported from there, to keep this module light).
NOTIFICATION_STATUSES = ("pending", "held", "sent", "failed", "cancelled")
#: Statuses listed one by one in ``--status`` (the others are only counted).
LISTED = ("pending", "held", "failed")
#: How ``--status`` counts each status: "3 pending" (the status word is a label, translated).
COUNTED = {
    "pending": N_("%(n)s pending"),
    "held": N_("%(n)s held"),
    "sent": N_("%(n)s sent"),
    "failed": N_("%(n)s failed"),
    "cancelled": N_("%(n)s cancelled"),
}
DEFAULT_INTERVAL = 60.0
#: The shortest ``--interval``: a tenth of a second keeps a ``--follow`` loop from spinning a
#: core (each pass reads the store) while still letting tests and demos follow quickly.
MIN_INTERVAL = 0.1


def print_status(app: Any, as_json: bool) -> None:
    """Counts by status, then every notification still to be sent or failed; exit 3 if any
    is failed."""
    from between.notify.dispatcher import DeliveryFailed

    rows = app.notifications()
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in NOTIFICATION_STATUSES}
    if as_json:
        print_json({"counts": counts, "notifications": rows})
    else:
        click.echo(", ".join(_(COUNTED[s], n=n) for s, n in counts.items()))
        table(
            [r for r in rows if r["status"] in LISTED],
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
    if counts["failed"]:
        raise DeliveryFailed(
            "%(failed)s notification(s) failed; fix the cause, then 'between notify --retry ID'",
            failed=counts["failed"],
        )


def dispatch(session: Session, follow: bool, interval: float, as_json: bool) -> None:
    """Run the dispatcher once, or every ``interval`` seconds until Ctrl-C."""
    from between.notify.dispatcher import DeliveryFailed, Dispatcher

    dispatcher = Dispatcher(session.app(), session.settings, actor=session.actor)
    failed = 0
    try:
        with dispatcher.leased(
            wait=follow, on_wait=lambda line: click.echo(line, err=True), poll=min(interval, 1.0)
        ):
            while True:
                done = vars(dispatcher.run_once())
                if not follow or any(done.values()):  # a follower reports only what it did
                    if as_json:
                        import json

                        click.echo(json.dumps(done))
                    else:
                        click.echo(", ".join(f"{name} {count}" for name, count in done.items()))
                failed = done["failed"]
                if not follow:
                    break
                try:
                    dispatcher.pause(interval)  # renewing the lease meanwhile
                except KeyboardInterrupt:
                    return
    finally:
        dispatcher.close()
    if failed:
        raise DeliveryFailed(
            "%(failed)s notification(s) failed in this run; "
            "fix the cause, then 'between notify --retry ID'",
            failed=failed,
        )


def check_interval(follow: bool, given: str | None) -> float:
    """``--interval``: seconds, at least ``MIN_INTERVAL`` and finite; only with ``--follow``."""
    import math

    from between.engine.errors import InvalidInput

    if given is None:
        return DEFAULT_INTERVAL
    if not follow:
        raise InvalidInput("--interval goes with --follow (a single pass has no interval)")
    try:
        interval = float(given)
    except ValueError:
        interval = math.nan
    if not math.isfinite(interval) or interval <= 0:
        raise InvalidInput(
            "--interval must be a positive number of seconds, not %(given)s", given=repr(given)
        )
    if interval < MIN_INTERVAL:
        raise InvalidInput(
            "--interval must be at least %(minimum)s seconds, not %(given)s",
            minimum=f"{MIN_INTERVAL:g}",
            given=repr(given),
        )
    return interval


@click.command("notify", epilog="Exit codes: 0 done; 3 a notification failed; 4 another "
               "dispatcher is working the store; 1 and 2 as for every command.")  # fmt: skip
@click.option(
    "--follow",
    is_flag=True,
    help="Keep running (for a service); Ctrl-C stops. Waits while another dispatcher works.",
)
@click.option(
    "--interval",
    metavar="SECONDS",
    default=None,
    help=f"Seconds between passes of --follow (default {DEFAULT_INTERVAL:g}, "
    f"at least {MIN_INTERVAL:g}).",
)
@click.option(
    "--status",
    "show_status",
    is_flag=True,
    help="Show counts and unsent messages (exit 3 if any failed).",
)
@click.option(
    "--retry",
    "retry_id",
    metavar="ID",
    help="Queue a failed notification again; the next 'notify' pass sends it (nothing now).",
)
@json_option
@click.pass_obj
def notify(
    session: Session,
    follow: bool,
    interval: str | None,
    show_status: bool,
    retry_id: str | None,
    as_json: bool,
) -> None:
    """Send the notifications the log calls for (once, or --follow).

    Each message is checked again just before it is sent: one whose person withdrew consent
    (or is no longer an observer) is cancelled, one for a channel whose plugin is not loaded
    is held until it is, and a changed address is used.
    """
    seconds = check_interval(follow, interval)
    if show_status:
        print_status(session.app(), as_json)
    elif retry_id:
        outcome = session.app().retry_notification(retry_id, actor=session.actor)
        if as_json:
            print_json({"result": outcome.result, "repeated": False, "record": outcome.record})
        else:
            click.echo(
                _(
                    "notification %(id)s is queued again: the next 'between notify' pass sends "
                    "it (same idempotency key), if it may still be sent",
                    id=outcome.record["id"][:8],
                )
            )
    else:
        dispatch(session, follow, seconds, as_json)


def register(cli: click.Group) -> None:
    cli.add_command(notify)
