"""``between client link …``: personal portal links for a client or a collaborator.

The link is printed once, when it is issued: only a hash of its token is stored, so it can
never be shown again (issue a new one, and revoke the old one if it was lost).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from between.commands.inputs import write_command
from between.commands.output import print_json, report, short
from between.language import gettext as _

if TYPE_CHECKING:
    from between.commands.session import Session


@click.command("link")
@click.argument("code")
@click.option(
    "--person", default="client", show_default=True, help="'client' or a collaborator's name."
)
@click.option(
    "--expires",
    "days",
    type=int,
    help="Days the link works (1–365; default [portal] link_days, else 14).",
)
@click.option("--revoke", is_flag=True, help="End this person's live links instead.")
@write_command
@click.pass_obj
def link(
    session: Session,
    code: str,
    person: str,
    days: int | None,
    revoke: bool,
    request_key: str | None,
    as_json: bool,
) -> None:
    """Issue a personal link to the portal for the client (or a collaborator), or revoke
    that person's links. The link is shown once: only a hash of it is kept."""
    from between.engine.aggregates.link_tokens import link_days, link_url, portal_url
    from between.engine.errors import InvalidInput

    app = session.app()
    if revoke:
        if days is not None:
            raise InvalidInput("--expires goes with issuing a link, not with --revoke")
        outcome = app.revoke_links(
            code, person=person, actor=session.actor, request_key=request_key
        )
        revoked = _(
            "revoked %(count)s live link(s) of %(whose)s",
            count=outcome.result,
            whose=_whose(person, code),
        )
        report(outcome, as_json, revoked)
        return
    base = portal_url(session.settings)
    outcome, token = app.issue_link(
        code,
        person=person,
        expires_days=link_days(session.settings) if days is None else days,
        actor=session.actor,
        request_key=request_key,
    )
    url = link_url(base, token) if base and token else None
    issued = next(k for k in outcome.record["links"] if k["id"] == outcome.result)
    if as_json:
        print_json(_shown(outcome, token, url, issued["expires"]))
    elif outcome.repeated:
        repeated = _(
            "already issued earlier with this idempotency key: link %(id)s of %(whose)s; it was "
            "shown then and is not kept — revoke it and issue a new one if it was lost",
            id=short(outcome.result),
            whose=_whose(person, code),
        )
        click.echo(repeated)
    else:
        until = issued["expires"][:16].replace("T", " ")
        issued_line = _(
            "personal link of %(whose)s, working until %(until)s UTC:",
            whose=_whose(person, code),
            until=until,
        )
        click.echo(issued_line)
        click.echo(url or token)
        if url is None:
            click.echo(
                _(
                    "(no portal URL is configured: this is the link's token; set url in the "
                    "[portal] table of the configuration file, and the link is URL/l/TOKEN)"
                )
            )
        click.echo(_("It is shown only now: Between keeps only a hash of it."))


def _whose(person: str, code: str) -> str:
    """Whose link: 'client CODE', or 'NAME (CODE)' for a collaborator."""
    if person == "client":
        return _("client %(code)s", code=code)
    return _("%(person)s (%(code)s)", person=person, code=code)


def _shown(outcome: Any, token: str, url: str | None, expires: str) -> dict:
    """The ``--json`` shape: a write's, plus the link (empty on a repeat: it is not kept)."""
    return {
        "result": outcome.result,
        "repeated": outcome.repeated,
        "record": outcome.record,
        "token": token or None,
        "url": url,
        "expires": expires,
    }


def register(cli: click.Group) -> None:
    """Add ``link`` to the ``client`` group (registered after ``commands.clients``)."""
    client = cli.commands["client"]
    assert isinstance(client, click.Group)
    client.add_command(link)
