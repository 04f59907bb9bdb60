"""The ``between`` command line: parse, call the engine, print (a table, or ``--json``).

Exit codes: 0 success; 1 refused by a rule, not found, or a store problem; 2 bad input.
Heavy modules are imported inside the commands that need them, to keep start-up quick.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from functools import wraps
from pathlib import Path
from typing import Any

import click

WRITE_HELP = "Who is acting (or BETWEEN_ACTOR); required for anything that writes."


# -- plumbing ---------------------------------------------------------------------------


class Session:
    """What every command shares: settings, and the store opened on first use."""

    def __init__(self, **options: Any) -> None:
        from between.engine.settings import Settings

        self.settings = Settings.from_environment(**options)
        self._app: Any = None
        self._plugins: Any = None

    def app(self, *, read_only: bool = False, key_optional: bool = False) -> Any:
        """The store; auditor commands open it read-only, ``verify`` even without its key."""
        if self._app is None:
            from between.engine.app import Homework
            from between.engine.store import Store

            self._app = Homework(
                Store.parse(self.settings.store),
                read_only=read_only,
                plugins=self.plugins,
                key_file=self.settings.key_file,
                key_optional=key_optional,
            )
        return self._app

    def plugins(self) -> Any:
        if self._plugins is None:
            from between.engine.plugins import load_plugins

            self._plugins = load_plugins(self.settings)
        return self._plugins

    @property
    def actor(self) -> str | None:
        return self.settings.actor

    def query(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Answer a read-model query (``list``, ``agenda``, ``client list``).

        On a SQLite store whose read model is current, straight from the file — without
        loading the event machinery — so these commands start as fast as the interpreter.
        """
        from datetime import date

        from between.engine import queries
        from between.engine.store import Store

        store = Store.parse(self.settings.store)
        if store.is_sqlite and self._app is None:
            with queries.fast_reader(
                store.path, self.settings.environ, self.settings.key_file
            ) as c:
                if c is not None:
                    reader = queries.Queries(queries.SQLITE)
                    if name == "list_clients":
                        return queries.list_clients(reader, c, *args, **kwargs)
                    return getattr(queries, name)(reader, c, *args, today=date.today(), **kwargs)
        return getattr(self.app(), name)(*args, **kwargs)


class BetweenGroup(click.Group):
    """Turns user-facing errors into one line and an exit code; finds plugin commands."""

    def invoke(self, ctx: click.Context) -> Any:
        from between.engine.errors import BetweenError

        try:
            return super().invoke(ctx)
        except BetweenError as e:
            click.secho(f"error: {e}", err=True, fg="red")
            ctx.exit(e.exit_code)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        found = super().get_command(ctx, name)
        if found is None and self is ctx.find_root().command:
            self._add_plugin_commands(ctx)
            found = super().get_command(ctx, name)
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        if self is ctx.find_root().command:
            self._add_plugin_commands(ctx)
        return super().list_commands(ctx)

    def _add_plugin_commands(self, ctx: click.Context) -> None:
        if getattr(self, "_plugins_added", False):
            return
        self._plugins_added = True
        from between.engine.errors import BetweenError

        session = ctx.ensure_object(Session) if ctx.obj is None else ctx.obj
        try:
            session.plugins().manager.hook.between_register_commands(cli=self)
        except BetweenError as e:
            click.secho(f"error: {e}", err=True, fg="red")
            ctx.exit(e.exit_code)


def write_command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options every write command shares: --idempotency-key and --json."""

    @click.option(
        "--idempotency-key",
        "request_key",
        help="Repeat-safe key: running the command again with it records nothing new.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def report(outcome: Any, as_json: bool, what: str) -> None:
    """Print a write command's outcome."""
    if as_json:
        print_json(
            {"result": outcome.result, "repeated": outcome.repeated, "record": outcome.record}
        )
        return
    if outcome.repeated:
        click.echo(f"already recorded earlier with this idempotency key: {what}")
    else:
        click.echo(what)


def table(rows: Iterable[dict], columns: list[tuple[str, str]]) -> None:
    """Print rows as an aligned text table (header, then one line per row)."""
    cells = [[title for title, _ in columns]]
    for row in rows:
        cells.append([_cell(row.get(key)) for _, key in columns])
    if len(cells) == 1:
        click.echo("(none)")
        return
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    for r in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return text[:8] if len(text) == 36 and text.count("-") == 4 else text


def parse_fields(pairs: tuple[str, ...], fields_file: str | None) -> dict[str, Any]:
    """Fields from ``--fields-file`` (JSON object) then ``--field key=value`` options."""
    from between.engine.errors import InvalidInput
    from between.engine.validate import MAX_PAYLOAD

    fields: dict[str, Any] = {}
    if fields_file:
        stream = sys.stdin.buffer if fields_file == "-" else None
        if stream is None:
            path = Path(fields_file)
            if not path.is_file():
                raise InvalidInput(f"fields file {fields_file} does not exist")
            if path.stat().st_size > MAX_PAYLOAD:
                raise InvalidInput(
                    f"fields file {fields_file} is {path.stat().st_size:,} bytes; "
                    f"the limit is {MAX_PAYLOAD:,} bytes"
                )
            raw = path.read_bytes()
        else:
            raw = stream.read(MAX_PAYLOAD + 1)
            if len(raw) > MAX_PAYLOAD:
                raise InvalidInput(f"fields on standard input exceed {MAX_PAYLOAD:,} bytes")
        try:
            loaded = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise InvalidInput(f"fields file {fields_file} is not UTF-8 JSON: {e}") from None
        if not isinstance(loaded, dict):
            raise InvalidInput(f"fields file {fields_file} must hold a JSON object")
        fields.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--field {pair!r} must look like name=value")
        fields[key.strip()] = value
    return fields


def field_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--fields-file", help="A JSON object of fields ('-' reads standard input)."
    )(func)
    return click.option(
        "--field", "pairs", multiple=True, metavar="NAME=VALUE", help="A field; repeatable."
    )(func)


def _short(record_id: str) -> str:
    return record_id[:8]


# -- the command line -------------------------------------------------------------------


def build_cli() -> click.Group:
    """A fresh command tree (plugins add their commands to it on demand)."""

    @click.group(cls=BetweenGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.option("--store", help="SQLite file or postgresql://… URL (or BETWEEN_STORE).")
    @click.option("--actor", help=WRITE_HELP)
    @click.option("--plugins-dir", type=click.Path(), help="Folder of *.py plugins.")
    @click.option("--worksheets-dir", type=click.Path(), help="Folder of worksheet files.")
    @click.option("--config", "config_file", type=click.Path(), help="Clinic configuration file.")
    @click.option(
        "--key-file", type=click.Path(), help="The encrypted store's key (or BETWEEN_KEY_FILE)."
    )
    @click.version_option(package_name="between")
    @click.pass_context
    def cli(ctx: click.Context, **options: Any) -> None:
        """Between: homework between psychotherapy sessions, as an event-sourced log."""
        ctx.obj = Session(**options)

    @cli.command("init")
    @click.option("--encrypt", is_flag=True, help="Encrypt event contents with a new key.")
    @click.pass_obj
    def init(session: Session, encrypt: bool) -> None:
        """Create the store (a SQLite file by default) and its tables."""
        from between.engine.app import Homework
        from between.engine.store import Store

        store = Store.parse(session.settings.store)
        meta, key_path = Homework.initialise(
            store, encrypt=encrypt, key_file=session.settings.key_file
        )
        state = "created" if meta["created"] == "yes" else "already initialised"
        lock = ", encrypted" if meta["encrypted"] == "yes" else ""
        click.echo(f"{state}: {store.describe()}{lock}")
        if key_path:
            click.echo(
                f"key written to {key_path} (owner-only). Keep a copy somewhere safe: "
                "without it the store cannot be read."
            )

    # -- clients -----------------------------------------------------------------------

    @cli.group("client")
    def client() -> None:
        """Register clients and the people who help them."""

    @client.command("add")
    @click.argument("code")
    @click.option("--name", required=True, help="The client's display name.")
    @click.option("--therapist", required=True, help="The therapist responsible.")
    @write_command
    @click.pass_obj
    def client_add(
        session: Session,
        code: str,
        name: str,
        therapist: str,
        request_key: str | None,
        as_json: bool,
    ) -> None:
        """Register a client under the clinic's CODE."""
        outcome = session.app().register_client(
            code, name, therapist, actor=session.actor, request_key=request_key
        )
        report(outcome, as_json, f"registered client {code}")

    @client.command("list")
    @click.option("--status", type=click.Choice(["active", "discharged"]))
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def client_list(session: Session, status: str | None, as_json: bool) -> None:
        """List clients."""
        rows = session.query("list_clients", status)
        if as_json:
            print_json(rows)
        else:
            table(
                rows,
                [
                    ("CODE", "code"),
                    ("THERAPIST", "therapist"),
                    ("STATUS", "status"),
                    ("COLLABORATORS", "collaborator_count"),
                    ("REGISTERED", "registered_at"),
                ],
            )

    @client.command("show")
    @click.argument("code")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def client_show(session: Session, code: str, as_json: bool) -> None:
        """Show one client, their collaborators and their homework."""
        detail = session.app().show_client(code)
        if as_json:
            print_json(detail)
            return
        click.echo(
            f"{detail['code']}  {detail['name']}  "
            f"({detail['status']}, therapist {detail['therapist']})"
        )
        for person in detail["collaborators"]:
            click.echo(f"  collaborator: {person['name']} ({person['relationship']})")
        for person, contacts in detail["contacts"].items():
            click.echo(f"  contact {person}: " + ", ".join(f"{k} {v}" for k, v in contacts.items()))
        _assignment_table(detail["assignments"])

    @client.command("collaborator")
    @click.argument("code")
    @click.argument("name")
    @click.option("--relationship", required=True, help="e.g. partner, parent, friend.")
    @write_command
    @click.pass_obj
    def client_collaborator(
        session: Session,
        code: str,
        name: str,
        relationship: str,
        request_key: str | None,
        as_json: bool,
    ) -> None:
        """Let NAME (someone close to the client) record observations."""
        outcome = session.app().add_collaborator(
            code, name, relationship, actor=session.actor, request_key=request_key
        )
        report(outcome, as_json, f"{name} may now record observations for {code}")

    @client.command("contact")
    @click.argument("code")
    @click.option(
        "--person", default="client", show_default=True, help="'client' or a collaborator."
    )
    @click.option("--email")
    @click.option("--phone")
    @click.option("--webhook", help="A URL that receives this person's notifications.")
    @write_command
    @click.pass_obj
    def client_contact(
        session: Session,
        code: str,
        person: str,
        request_key: str | None,
        as_json: bool,
        **channels: str | None,
    ) -> None:
        """Change how to reach the client or a collaborator."""
        contacts = {k: v for k, v in channels.items() if v is not None}
        outcome = session.app().change_contacts(
            code, person, contacts, actor=session.actor, request_key=request_key
        )
        report(outcome, as_json, f"contact details of {person} ({code}) changed")

    @client.command("discharge")
    @click.argument("code")
    @click.option("--reason", required=True)
    @write_command
    @click.pass_obj
    def client_discharge(
        session: Session, code: str, reason: str, request_key: str | None, as_json: bool
    ) -> None:
        """Record that the client left therapy (no new homework after this)."""
        outcome = session.app().discharge(
            code, reason, actor=session.actor, request_key=request_key
        )
        report(outcome, as_json, f"discharged client {code}")

    @client.command("erase")
    @click.argument("client_ref", metavar="CODE")
    @click.option("--reason", required=True, help="Why (e.g. the request's reference).")
    @write_command
    @click.pass_obj
    def client_erase(
        session: Session, client_ref: str, reason: str, request_key: str | None, as_json: bool
    ) -> None:
        """Erase a discharged client's personal data by destroying their key.

        The erasure is recorded (who, when, why); event types, times, counts and ratings stay,
        and the log still verifies. CODE may also be the client's id.
        """
        outcome = session.app().erase_client(
            client_ref, reason=reason, actor=session.actor, request_key=request_key
        )
        report(outcome, as_json, f"erased the personal data of client {outcome.result[:8]}")

    @cli.command("rekey")
    @click.option("--to", "target", required=True, help="The new store (it must not exist yet).")
    @click.option("--new-key-file", type=click.Path(), help="Where to write the new key.")
    @click.pass_obj
    def rekey_(session: Session, target: str, new_key_file: str | None) -> None:
        """Copy this store into a new one encrypted with a new key, and prove the copy."""
        import os

        from between.audit.rekey import rekey
        from between.engine.store import Store

        environ = {
            k: v for k, v in os.environ.items() if k not in ("BETWEEN_KEY", "BETWEEN_KEY_FILE")
        }
        done = rekey(
            session.app(read_only=True),
            Store.parse(target),
            Path(new_key_file) if new_key_file else None,
            environ,
        )
        click.echo(f"copied {done.events} events; every event's contents are identical")
        click.echo(f"old store checkpoint: {done.source}")
        click.echo(f"new store checkpoint: {done.target}")
        if done.key_file:
            click.echo(
                f"new key written to {done.key_file} (owner-only); keep a copy somewhere safe"
            )

    @client.command("consent")
    @click.argument("code")
    @click.option("--channel", required=True, help="e.g. console, email, webhook.")
    @click.option(
        "--person", default="client", show_default=True, help="'client' or a collaborator."
    )
    @click.option("--withdraw", is_flag=True, help="Record that consent was withdrawn.")
    @write_command
    @click.pass_obj
    def client_consent(
        session: Session,
        code: str,
        channel: str,
        person: str,
        withdraw: bool,
        request_key: str | None,
        as_json: bool,
    ) -> None:
        """Record that a person agrees (or no longer agrees) to hear on a channel."""
        outcome = session.app().record_consent(
            code,
            channel,
            person=person,
            granted=not withdraw,
            actor=session.actor,
            request_key=request_key,
        )
        state = "withdrew consent to" if withdraw else "consented to"
        report(outcome, as_json, f"{person} ({code}) {state} {channel}")

    @cli.command("notify")
    @click.option("--follow", is_flag=True, help="Keep running (for a service); Ctrl-C stops.")
    @click.option("--interval", default=60.0, show_default=True, help="Seconds between passes.")
    @click.option("--status", "show_status", is_flag=True, help="Show pending, sent and failed.")
    @click.option("--retry", "retry_id", metavar="ID", help="Send a failed notification again.")
    @click.option("--json", "as_json", is_flag=True)
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
        import time

        from between.engine.notify import Dispatcher

        app = session.app()
        if show_status:
            rows = app.notifications()
            counts = {
                s: sum(1 for r in rows if r["status"] == s) for s in ("pending", "sent", "failed")
            }
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
            return
        if retry_id:
            app.retry_notification(retry_id, actor=session.actor)
            click.echo(f"notification {retry_id} will be sent again")
            return
        dispatcher = Dispatcher(app, session.settings, actor=session.actor)
        while True:
            done = dispatcher.run_once()
            if as_json:
                click.echo(json.dumps(vars(done)))
            else:
                click.echo(", ".join(f"{name} {count}" for name, count in vars(done).items()))
            if not follow:
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return

    # -- operators ---------------------------------------------------------------------

    @cli.group("operators", invoke_without_command=True)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def operators(ctx: click.Context, as_json: bool) -> None:
        """Who may act on this store, and whether that is enforced."""
        if ctx.invoked_subcommand:
            return
        listed = ctx.obj.app().operators()
        if as_json:
            print_json(listed)
            return
        click.echo(f"operators required: {'yes' if listed['required'] else 'no'}")
        table(listed["operators"], [("NAME", "name"), ("ROLE", "role")])

    @operators.command("add")
    @click.argument("name")
    @click.option("--role", required=True, type=click.Choice(["therapist", "staff", "auditor"]))
    @click.pass_obj
    def operators_add(session: Session, name: str, role: str) -> None:
        """Let NAME act with ROLE (or change their role)."""
        session.app().set_operator(name, role, actor=session.actor)
        click.echo(f"{name} is now a {role}")

    @operators.command("remove")
    @click.argument("name")
    @click.pass_obj
    def operators_remove(session: Session, name: str) -> None:
        """Stop NAME acting on this store."""
        session.app().remove_operator(name, actor=session.actor)
        click.echo(f"{name} removed")

    @operators.command("require")
    @click.argument("state", type=click.Choice(["on", "off"]))
    @click.pass_obj
    def operators_require(session: Session, state: str) -> None:
        """Require (on) or stop requiring (off) that actors be listed operators."""
        session.app().require_operators(state == "on", actor=session.actor)
        click.echo(f"listed operators {'required' if state == 'on' else 'no longer required'}")

    # -- homework ----------------------------------------------------------------------

    @cli.command("assign")
    @click.argument("code")
    @click.argument("task_type")
    @click.option("--instructions", required=True, help="What to do, in the client's words.")
    @click.option("--rationale", required=True, help="Why this homework, now.")
    @click.option(
        "--stage", required=True, type=click.Choice(["baseline", "practice", "relapse-prevention"])
    )
    @click.option("--difficulty", required=True, type=int, help="Step on the ladder, 1–10.")
    @click.option("--due", required=True, help="YYYY-MM-DD, or +N days from today.")
    @click.option(
        "--entries",
        "expected_entries",
        default=1,
        show_default=True,
        type=int,
        help="How many entries are expected.",
    )
    @click.option("--steps-up-from", help="The assignment this one steps up from.")
    @click.option(
        "--observer",
        "observers",
        multiple=True,
        help="A collaborator asked to observe; repeatable.",
    )
    @field_options
    @write_command
    @click.pass_obj
    def assign(
        session: Session,
        code: str,
        task_type: str,
        pairs: tuple[str, ...],
        fields_file: str | None,
        request_key: str | None,
        as_json: bool,
        **options: Any,
    ) -> None:
        """Propose homework of TASK_TYPE for client CODE (parameters as --field)."""
        outcome = session.app().propose(
            code,
            task_type,
            parameters=parse_fields(pairs, fields_file),
            observers=list(options.pop("observers")),
            actor=session.actor,
            request_key=request_key,
            **options,
        )
        record = outcome.record
        report(
            outcome,
            as_json,
            f"proposed {_short(record['id'])}: {record['task_type']} for "
            f"{record['client']}, due {record['due']}",
        )

    @cli.command("adjust")
    @click.argument("assignment")
    @click.option("--instructions")
    @click.option("--rationale")
    @click.option("--stage", type=click.Choice(["baseline", "practice", "relapse-prevention"]))
    @click.option("--difficulty", type=int)
    @click.option("--due")
    @click.option("--entries", "expected_entries", type=int)
    @click.option("--observer", "observers", multiple=True)
    @field_options
    @write_command
    @click.pass_obj
    def adjust(
        session: Session,
        assignment: str,
        pairs: tuple[str, ...],
        fields_file: str | None,
        request_key: str | None,
        as_json: bool,
        **options: Any,
    ) -> None:
        """Change a proposal together with the client, before they agree."""
        changes = {k: v for k, v in options.items() if v not in (None, ())}
        if "observers" in changes:
            changes["observers"] = list(changes["observers"])
        parameters = parse_fields(pairs, fields_file)
        if parameters:
            changes["parameters"] = parameters
        outcome = session.app().adjust(
            assignment, changes, actor=session.actor, request_key=request_key
        )
        report(
            outcome,
            as_json,
            f"adjusted {_short(outcome.record['id'])}: {', '.join(sorted(changes))}",
        )

    @cli.command("agree")
    @click.argument("assignment")
    @click.option("--confidence", type=int, help="The client's confidence they will do it, 0–10.")
    @click.option("--obstacles", default="", help="What might get in the way.")
    @write_command
    @click.pass_obj
    def agree(
        session: Session,
        assignment: str,
        confidence: int | None,
        obstacles: str,
        request_key: str | None,
        as_json: bool,
    ) -> None:
        """Record that the client agreed to the homework."""
        outcome = session.app().agree(
            assignment,
            confidence=confidence,
            obstacles=obstacles,
            actor=session.actor,
            request_key=request_key,
        )
        record = outcome.record
        report(outcome, as_json, f"agreed {_short(record['id'])}, due {record['due']}")

    @cli.command("decline")
    @click.argument("assignment")
    @click.option("--reason", required=True, help="The client's reason.")
    @write_command
    @click.pass_obj
    def decline(
        session: Session, assignment: str, reason: str, request_key: str | None, as_json: bool
    ) -> None:
        """Record that the client declined the homework, and why."""
        outcome = session.app().decline(
            assignment, reason=reason, actor=session.actor, request_key=request_key
        )
        report(outcome, as_json, f"declined {_short(outcome.record['id'])}")

    @cli.command("submit")
    @click.argument("assignment")
    @click.option(
        "--by", default="client", show_default=True, help="'client' or a collaborator's name."
    )
    @click.option("--occurred-at", help="When it happened (default: now), e.g. 2026-11-25T18:30.")
    @click.option("--prompt", is_flag=True, help="Ask for each field (the default at a terminal).")
    @field_options
    @write_command
    @click.pass_obj
    def submit(
        session: Session,
        assignment: str,
        by: str,
        occurred_at: str | None,
        prompt: bool,
        pairs: tuple[str, ...],
        fields_file: str | None,
        request_key: str | None,
        as_json: bool,
    ) -> None:
        """Record an entry (fields as --field, a JSON file, or answered at prompts)."""
        app = session.app()
        fields = parse_fields(pairs, fields_file)
        if prompt or (not fields and sys.stdin.isatty()):
            fields = {**fields, **_prompt_fields(app, assignment)}
        outcome = app.submit(
            assignment,
            fields,
            by=by,
            occurred_at=occurred_at,
            actor=session.actor,
            request_key=request_key,
        )
        record = outcome.record
        report(
            outcome,
            as_json,
            f"entry {_short(outcome.result)} recorded on {_short(record['id'])} "
            f"({record['entries']} of {record['expected_entries']})",
        )

    @cli.command("review")
    @click.argument("assignment")
    @click.option("--quantity", required=True, type=int, help="How much was done, 0–4.")
    @click.option("--quality", required=True, type=int, help="How well it was done, 0–4.")
    @click.option(
        "--difficulty", required=True, type=int, help="How hard it was for the client, 0–4."
    )
    @click.option(
        "--next-step", required=True, type=click.Choice(["continue", "step-up", "modify", "close"])
    )
    @click.option("--obstacles", default="", help="What got in the way.")
    @click.option("--notes", default="")
    @click.option("--due", "next_due", help="With 'continue': the new due date.")
    @write_command
    @click.pass_obj
    def review(
        session: Session, assignment: str, request_key: str | None, as_json: bool, **options: Any
    ) -> None:
        """Review the homework at the start of a session."""
        outcome = session.app().review(
            assignment, actor=session.actor, request_key=request_key, **options
        )
        record = outcome.record
        report(
            outcome,
            as_json,
            f"reviewed {_short(record['id'])}: next step {options['next_step']} "
            f"(now {record['status']})",
        )

    @cli.command("cancel")
    @click.argument("assignment")
    @click.option("--reason", required=True)
    @write_command
    @click.pass_obj
    def cancel(
        session: Session, assignment: str, reason: str, request_key: str | None, as_json: bool
    ) -> None:
        """Withdraw homework that is proposed or agreed."""
        outcome = session.app().cancel(
            assignment, reason=reason, actor=session.actor, request_key=request_key
        )
        report(outcome, as_json, f"cancelled {_short(outcome.record['id'])}")

    @cli.command("close")
    @click.argument("assignment")
    @click.option("--reason", default="done", show_default=True)
    @write_command
    @click.pass_obj
    def close(
        session: Session, assignment: str, reason: str, request_key: str | None, as_json: bool
    ) -> None:
        """Close agreed homework; nothing more can be recorded on it."""
        outcome = session.app().close_assignment(
            assignment, reason=reason, actor=session.actor, request_key=request_key
        )
        report(outcome, as_json, f"closed {_short(outcome.record['id'])}")

    # -- reading -----------------------------------------------------------------------

    @cli.command("show")
    @click.argument("assignment")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def show(session: Session, assignment: str, as_json: bool) -> None:
        """Show one assignment: what, why, entries, reviews and the summary."""
        detail = session.app().show(assignment)
        if as_json:
            print_json(detail)
        else:
            _print_assignment(detail)

    @cli.command("list")
    @click.option("--client", help="Only this client's homework.")
    @click.option(
        "--status",
        type=click.Choice(["proposed", "agreed", "declined", "cancelled", "closed", "open"]),
    )
    @click.option("--stage", type=click.Choice(["baseline", "practice", "relapse-prevention"]))
    @click.option(
        "--overdue", is_flag=True, help="Only agreed homework past its due date and incomplete."
    )
    @click.option("--due-before", help="Only homework due before this date.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def list_(session: Session, as_json: bool, **filters: Any) -> None:
        """List homework (from the read model)."""
        rows = session.query("list_assignments", **filters)
        if as_json:
            print_json(rows)
        else:
            _assignment_table(rows)

    @cli.command("agenda")
    @click.argument("code")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def agenda(session: Session, code: str, as_json: bool) -> None:
        """What to review at the start of this client's next session."""
        result = session.query("agenda", code)
        if as_json:
            print_json(result)
            return
        click.echo(f"Agenda for {result['client']} as of {result['as_of']}")
        for title, key in (
            ("To review", "to_review"),
            ("Awaiting agreement", "awaiting_agreement"),
            ("Declined since the last review", "declined_since_last_review"),
        ):
            click.echo(f"\n{title}:")
            _assignment_table(result[key])

    @cli.command("rebuild")
    @click.pass_obj
    def rebuild(session: Session) -> None:
        """Delete the read model and rebuild it from the log."""
        count = session.app().rebuild()
        click.echo(f"read model rebuilt from {count} events")

    # -- plugins -----------------------------------------------------------------------

    @cli.group("types", invoke_without_command=True)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def types(ctx: click.Context, as_json: bool) -> None:
        """List task types (the kinds of homework)."""
        if ctx.invoked_subcommand:
            return
        plugins = ctx.obj.plugins()
        rows = [
            {**t.describe(), "plugin": plugins.task_type_owners[name]}
            for name, t in sorted(plugins.task_types.items())
        ]
        if as_json:
            print_json({"task_types": rows, "problems": plugins.problems})
            return
        table(
            rows,
            [("NAME", "name"), ("CATEGORY", "category"), ("TITLE", "title"), ("PLUGIN", "plugin")],
        )
        for problem in plugins.problems:
            click.secho(f"skipped: {problem}", err=True, fg="yellow")

    @types.command("show")
    @click.argument("name")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def types_show(session: Session, name: str, as_json: bool) -> None:
        """Show a task type's parameter and entry fields."""
        described = session.plugins().task_type(name).describe()
        if as_json:
            print_json(described)
            return
        click.echo(f"{described['name']}: {described['title']} ({described['category']})")
        click.echo(described["description"])
        for part in ("parameters", "entries"):
            schema = described[part]
            click.echo(f"\n{part} (schema version {schema['version']}):")
            for f in schema["fields"]:
                bits = [f["type"], "required" if f["required"] else "optional"]
                if "minimum" in f or "maximum" in f:
                    bits.append(f"{f.get('minimum', '')}–{f.get('maximum', '')}")
                if "choices" in f:
                    bits.append("|".join(f["choices"]))
                click.echo(f"  {f['name']:<26} {', '.join(bits)}  {f.get('help', '')}".rstrip())

    @cli.command("plugins")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def plugins_(session: Session, as_json: bool) -> None:
        """List loaded plugins, their versions and the hooks they implement."""
        rows = session.plugins().describe()
        if as_json:
            print_json(rows)
            return
        for row in rows:
            row["hooks"] = ", ".join(h.removeprefix("between_") for h in row["hooks"])
        table(
            rows,
            [("PLUGIN", "name"), ("VERSION", "version"), ("SOURCE", "source"), ("HOOKS", "hooks")],
        )

    # -- auditing (read-only) ----------------------------------------------------------

    @cli.command("log")
    @click.option("--client", help="Only this client's events (their record and homework).")
    @click.option("--assignment", help="Only this assignment's events.")
    @click.option("--type", "types_", multiple=True, help="Only this event type; repeatable.")
    @click.option("--actor", "by_actor", help="Only events caused by this actor.")
    @click.option("--since", help="Only events at or after this time (ISO date or date-time).")
    @click.option("--until", help="Only events before this time.")
    @click.option("--json", "as_json", is_flag=True, help="JSON Lines, one event per line.")
    @click.pass_obj
    def log(session: Session, as_json: bool, **filters: Any) -> None:
        """Stream the log in order, read-only (a table, or the JSON Lines export)."""
        from between.audit.auditor import filtered_log

        app = session.app(read_only=True)
        for entry, record in filtered_log(app, **filters):
            if as_json:
                click.echo(json.dumps(record, ensure_ascii=False))
            else:
                click.echo(
                    f"{entry.position:>8}  {record['time'][:19]}  {record['actor']:<12}  "
                    f"{record['type']:<22}  {record['aggregate'][:8]}"
                )

    @cli.command("history")
    @click.argument("record")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def history(session: Session, record: str, as_json: bool) -> None:
        """One client's (by code) or assignment's (by id) timeline in plain language."""
        from between.audit.auditor import timeline

        lines = timeline(session.app(read_only=True), record)
        if as_json:
            print_json(lines)
            return
        for line in lines:
            click.echo(f"{line['time'][:16].replace('T', ' ')}  {line['text']}")

    @cli.command("replay")
    @click.argument("assignment", required=False)
    @click.option("--at", "at", help="Rebuild state as it stood at this time.")
    @click.option("--client", help="Only this client's homework.")
    @click.option("--check", is_flag=True, help="Rebuild the read models in memory and compare.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def replay(
        session: Session,
        assignment: str | None,
        at: str | None,
        client: str | None,
        check: bool,
        as_json: bool,
    ) -> None:
        """Rebuild state from events alone: at a moment (--at), or as a check (--check)."""
        from between.audit import auditor as audit
        from between.engine.errors import InvalidInput

        app = session.app(read_only=True)
        if check:
            differences = audit.check(app)
            if as_json:
                print_json({"differences": differences})
            for line in [] if as_json else differences:
                click.echo(line)
            if differences:
                raise SystemExit(1)
            if not as_json:
                click.echo("read models match the log")
            return
        if not at:
            raise InvalidInput("give --at TIME (or --check)")
        moment = audit.moment(at)
        if assignment:
            detail = audit.assignment_at(app, assignment, moment)
            print_json(detail) if as_json else _print_assignment(detail)
            return
        rows = audit.rows_at(app, moment, client)
        if as_json:
            _stream_json_array(rows)
        else:
            _assignment_table(list(rows))

    @cli.command("verify")
    @click.option("--against", help="A digest from 'between checkpoint' to prove the log extends.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def verify(session: Session, against: str | None, as_json: bool) -> None:
        """Check the log's hash chain; exit 0 when intact, 1 when broken."""
        from between.audit.auditor import verify_log

        app = session.app(read_only=True, key_optional=True)
        result = verify_log(app, against, progress=_progress)
        broken = result.first_break
        if as_json:
            print_json(
                {
                    "intact": result.intact,
                    "events": result.events,
                    "head_position": result.head_position,
                    "checkpoint": str(result.checkpoint()) if result.intact else None,
                    "break": broken and vars(broken),
                }
            )
        elif broken:
            click.echo(f"BROKEN at position {broken.position} ({broken.kind}): {broken.detail}")
        else:
            extends = f"; extends checkpoint {against}" if against else ""
            click.echo(
                f"intact: {result.events} events, head at position {result.head_position}{extends}"
            )
        if broken:
            raise SystemExit(1)

    @cli.command("checkpoint")
    @click.pass_obj
    def checkpoint(session: Session) -> None:
        """Verify the log, then print a digest of its head to keep somewhere else."""
        from between.audit.auditor import verify_log

        app = session.app(read_only=True, key_optional=True)
        result = verify_log(app, None, progress=_progress)
        if not result.intact:
            click.echo(
                f"BROKEN at position {result.first_break.position}: {result.first_break.detail}",
                err=True,
            )
            raise SystemExit(1)
        click.echo(str(result.checkpoint()))

    @cli.command("demo")
    @click.option("--keep", is_flag=True, help="Keep the demo store and print where it is.")
    def demo(keep: bool) -> None:
        """Walk one client through a week of homework on a fresh SQLite store."""
        from between.commands.demo import run_demo

        run_demo(build_cli, keep=keep)

    return cli


def _assignment_table(rows: list[dict]) -> None:
    table(
        [{**r, "progress": f"{r['entries']}/{r['expected_entries']}"} for r in rows],
        [
            ("ID", "id"),
            ("CLIENT", "client"),
            ("TYPE", "task_type"),
            ("STAGE", "stage"),
            ("STATUS", "status"),
            ("DUE", "due"),
            ("ENTRIES", "progress"),
            ("DAYS LATE", "days_late"),
        ],
    )


def _progress(total: int, label: str) -> Any:
    """A progress bar on standard error, only when it is a terminal and the run is long."""
    import contextlib

    if total < 50_000 or not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    return click.progressbar(length=total, label=label, file=sys.stderr)


def _stream_json_array(rows: Iterable[dict]) -> None:
    """Print a JSON array one element at a time (memory stays flat)."""
    click.echo("[", nl=False)
    for n, row in enumerate(rows):
        click.echo(("," if n else "") + "\n  " + json.dumps(row, ensure_ascii=False), nl=False)
    click.echo("\n]")


def _print_assignment(d: dict) -> None:
    click.echo(f"{d['id']}  {d['task_type']} for {d['client']}  [{d['status']}]")
    click.echo(
        f"  stage {d['stage']}, difficulty {d['difficulty']}, due {d['due']}"
        + (f" — OVERDUE by {d['days_late']} day(s)" if d["overdue"] else "")
    )
    click.echo(f"  instructions: {d['instructions']}")
    click.echo(f"  rationale:    {d['rationale']}")
    if d["parameters"]:
        click.echo("  parameters:   " + ", ".join(f"{k}={v}" for k, v in d["parameters"].items()))
    if d["steps_up_from"]:
        click.echo(f"  steps up from {d['steps_up_from'][:8]}")
    if d["agreement"]:
        click.echo(
            f"  agreed: confidence {d['agreement']['confidence']}, obstacles: "
            f"{d['agreement']['obstacles'] or '-'}"
        )
    if d["decline_reason"]:
        click.echo(f"  declined: {d['decline_reason']}")
    click.echo(f"  entries: {d['entries']} of {d['expected_entries']}")
    for e in d["entry_list"]:
        fields = "; ".join(f"{k}: {v}" for k, v in e["fields"].items())
        click.echo(f"    {e['occurred_at'][:16]} by {e['by']}: {fields}")
    for r in d["review_list"]:
        click.echo(
            f"  review {r['at'][:10]}: quantity {r['quantity']}, quality {r['quality']}, "
            f"difficulty {r['difficulty']}, next {r['next_step']}; {r['notes']}"
        )
    click.echo("  summary: " + ", ".join(f"{k} {v}" for k, v in d["summary"].items()))
    done = d["completion"]
    click.echo(f"  complete: {'yes' if done['complete'] else 'no'} ({done['rule']})")
    for follow in d["follow_ups"]:
        click.echo(f"  stepped up to {follow[:8]}")


def _prompt_fields(app: Any, assignment: str) -> dict[str, Any]:
    """Ask for each entry field, re-asking until the value is valid."""
    from between.engine.tasktypes import FieldError

    record = app.show(assignment)
    kind = app.plugins.task_type(record["task_type"])
    click.echo(f"Entry for {kind.title} ({record['id'][:8]}); leave optional fields empty.")
    fields: dict[str, Any] = {}
    for f in kind.entries.fields:
        label = f"{f.name} ({f.type}{', optional' if not f.required else ''})"
        while True:
            value = click.prompt(label, default="", show_default=False)
            if not value.strip():
                if not f.required:
                    break
                click.echo(f"  {f.name} is required")
                continue
            try:
                f.coerce(value)
            except (FieldError, ValueError) as e:
                click.echo(f"  {f.name} {e}")
                continue
            fields[f.name] = value
            break
    return fields


def main() -> None:
    build_cli()(prog_name="between")


if __name__ == "__main__":
    main()
