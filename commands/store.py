"""The store as a whole: create it, copy it under a new key, rebuild its read model, a demo."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from between.commands.inputs import json_option
from between.commands.output import print_json, progress
from between.language import gettext as _

if TYPE_CHECKING:
    from between.commands.session import Session


@click.command("init")
@click.option("--encrypt", is_flag=True, help="Encrypt event contents with a new key.")
@json_option
@click.pass_obj
def init(session: Session, encrypt: bool, as_json: bool) -> None:
    """Create the store (a SQLite file by default) and its tables."""
    from between.engine.app import Homework
    from between.engine.storage.store import Store

    store = Store.parse(session.settings.store)
    meta, key_path = Homework.initialise(store, encrypt=encrypt, key_file=session.settings.key_file)
    if as_json:
        print_json(
            {
                "store": store.describe(),
                "created": meta["created"] == "yes",
                "encrypted": meta["encrypted"] == "yes",
                "key_file": str(key_path) if key_path else None,
            }
        )
        return
    click.echo(_initialised(meta["created"] == "yes", meta["encrypted"] == "yes", store.describe()))
    if key_path:
        click.echo(
            _(
                "key written to %(path)s (owner-only). Keep a copy somewhere safe: "
                "without it the store cannot be read.",
                path=key_path,
            )
        )


def _initialised(created: bool, encrypted: bool, store: str) -> str:
    """The line saying whether ``init`` created the store, and whether it is encrypted."""
    if created and encrypted:
        return _("created: %(store)s, encrypted", store=store)
    if created:
        return _("created: %(store)s", store=store)
    if encrypted:
        return _("already initialised: %(store)s, encrypted", store=store)
    return _("already initialised: %(store)s", store=store)


@click.command("rekey")
@click.option("--to", "target", required=True, help="The new store (it must not exist yet).")
@click.option("--new-key-file", type=click.Path(), help="Where to write the new key.")
@json_option
@click.pass_obj
def rekey(session: Session, target: str, new_key_file: str | None, as_json: bool) -> None:
    """Copy this store into a new one encrypted with a new key, and prove the copy."""
    import os
    from pathlib import Path

    from between.audit.rekey import rekey as copy_with_new_key
    from between.engine.storage.store import Store

    environ = {k: v for k, v in os.environ.items() if k not in ("BETWEEN_KEY", "BETWEEN_KEY_FILE")}
    done = copy_with_new_key(
        session.app(read_only=True),
        Store.parse(target),
        Path(new_key_file) if new_key_file else None,
        environ,
        actor=session.actor,
    )
    if as_json:
        print_json(
            {
                "events": done.events,
                "source_checkpoint": str(done.source),
                "target_checkpoint": str(done.target),
                "key_file": str(done.key_file) if done.key_file else None,
            }
        )
        return
    click.echo(
        _("copied %(events)s events; every event's contents are identical", events=done.events)
    )
    click.echo(_("old store checkpoint: %(digest)s", digest=done.source))
    click.echo(_("new store checkpoint: %(digest)s", digest=done.target))
    if done.key_file:
        click.echo(
            _(
                "new key written to %(path)s (owner-only); keep a copy somewhere safe",
                path=done.key_file,
            )
        )


@click.command("rebuild")
@json_option
@click.pass_obj
def rebuild(session: Session, as_json: bool) -> None:
    """Delete the read model and rebuild it from the log."""
    app = session.app()
    with progress(app.recorder.max_notification_id() or 0, _("rebuilding")) as bar:
        count = app.rebuild(actor=session.actor, progress=bar and bar.update)
    if as_json:
        print_json({"events": count})
    else:
        click.echo(_("read model rebuilt from %(events)s events", events=count))


@click.command("demo")
@click.option("--keep", is_flag=True, help="Keep the demo store and print where it is.")
@click.pass_context
def demo(ctx: click.Context, keep: bool) -> None:
    """Walk one client through a week of homework on a fresh SQLite store."""
    from between.commands.demo import run_demo

    root = ctx.find_root().command
    assert isinstance(root, click.Group)
    run_demo(lambda: root, keep=keep)


def register(cli: click.Group) -> None:
    for command in (init, rekey, rebuild, demo):
        cli.add_command(command)
