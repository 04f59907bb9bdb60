"""The ``between`` command line: the root group, its global options and the error boundary.

The commands themselves live in ``between.commands``, one module per group of commands, each
adding its commands with ``register(cli)``. Exit codes: 0 success; 1 refused by a rule, not
found, a store problem or an unexpected failure; 2 bad input; 130 interrupted. Heavy modules
are imported inside the commands that need them, to keep start-up quick.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

import click

from between.commands.catalog import COMMAND_MODULES, SHORT_HELP
from between.commands.errors import one_line_errors, one_line_usage
from between.commands.inputs import PathText
from between.commands.output import QuickContext
from between.commands.session import Session
from between.language import gettext as _
from between.language import use

WRITE_HELP = "Who is acting (or BETWEEN_ACTOR); required for anything that writes."

#: Where ``ctx.meta`` keeps the path of the command being run, to name it when it fails.
RUNNING = "between.running"
#: Where ``ctx.meta`` notes that the root's ``--help`` was asked for (shown once every global
#: option is known: ``--plugins-dir`` decides which commands there are).
HELP_ASKED = "between.help"
#: The variable naming a plugins directory, as ``--plugins-dir`` does.
PLUGINS_DIR = "BETWEEN_PLUGINS_DIR"


class CommandNamingGroup(click.Group):
    """A group that notes in ``ctx.meta`` the command it runs, so a failure can name it."""

    group_class: type[click.Group | type] | None = type  # its sub-groups note theirs too
    context_class = QuickContext

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            ctx.meta[RUNNING] = f"{ctx.command_path} {name}"
        return name, command, rest


class BetweenGroup(CommandNamingGroup):
    """The root: one error boundary for every command, and commands loaded on demand.

    A built-in command's module is imported when the command runs (``COMMAND_MODULES``), every
    one when plugins add theirs. Plugin commands are loaded only when the command asked for is
    not a built-in one; one whose name is taken is skipped with a warning naming its plugin.
    ``--help`` lists the built-in commands from their catalog (``between.commands.catalog``)
    and the commands installed plugins declare (entry points of ``between.commands``) without
    importing either; with a plugins directory (``--plugins-dir`` or ``BETWEEN_PLUGINS_DIR``)
    it loads the plugins, as their commands are declared nowhere else. The root's ``--help``
    is shown after every global option is read, wherever it stands among them.
    """

    group_class = CommandNamingGroup

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plugins_added = False
        #: While plugins add commands: names the plugin whose implementation is running.
        self._registering: Callable[[], str | None] | None = None
        self._plugin_commands: dict[str, str] = {}  # command name → plugin
        self._declared_commands: dict[str, str] | None = None  # read once, for --help
        self._built_in: list[str] = list(COMMAND_MODULES)  # modules not registered yet

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with one_line_usage():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        running = lambda: ctx.meta.get(RUNNING, ctx.command_path)  # noqa: E731
        with (
            one_line_usage(running),
            one_line_errors(ctx, lambda: _("%(command)s failed", command=running())),
        ):
            return super().invoke(ctx)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """click's help option, noting the request instead of answering it at once: click
        reads eager options first, before ``--plugins-dir``."""
        option = super().get_help_option(ctx)
        if option is not None and option.callback is not _note_help:
            option.callback = _note_help
        return option

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        if ctx.meta.pop(HELP_ASKED, False):
            click.echo(ctx.get_help(), color=ctx.color)
            ctx.exit()
        return rest

    def session(self, ctx: click.Context) -> Session:
        """The command's session, made from the global options once they are read — before
        the root's callback runs when a plugin's command is looked up (the callback keeps it)."""
        if ctx.obj is None:
            ctx.obj = Session(**{k: v for k, v in ctx.params.items() if k != "debug"})
        return ctx.obj

    def add_built_in(self, name: str | None = None) -> None:
        """Register the built-in modules that add the command ``name`` (every one if None)."""
        for module in [m for m in self._built_in if name is None or name in COMMAND_MODULES[m]]:
            self._built_in.remove(module)
            import_module(f"between.commands.{module}").register(self)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self.add_built_in(name)
        found = super().get_command(ctx, name)
        if found is None:
            self._add_plugin_commands(ctx)
            found = super().get_command(ctx, name)
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        declared = self._declared(ctx)
        if declared is None:
            self._add_plugin_commands(ctx)
            return super().list_commands(ctx)
        return sorted({*SHORT_HELP, *self.commands, *declared})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands with their help line; a declared plugin command, not loaded, says
        which plugin adds it."""
        declared = self._declared(ctx)
        if declared is None:
            super().format_commands(ctx, formatter)
            return
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = []
        for name in names:
            command = self.commands.get(name)
            if command is None and name in SHORT_HELP:  # built in, not imported: its catalog line
                command = click.Command(name, help=SHORT_HELP[name])
            if command is None:
                rows.append((name, f"Added by plugin {declared[name]}; see its --help."))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _declared(self, ctx: click.Context) -> dict[str, str] | None:
        """The plugin commands installed plugins declare, not yet loaded (command → plugin);
        None once plugins are loaded, or when a plugins directory must be loaded to know."""
        import os

        from between.engine.hooks import chosen_plugins
        from between.engine.hooks.entry_points import declared_commands

        # read as ``Settings`` reads them, without constructing it (``--help`` stays light)
        if self._plugins_added or ctx.params.get("plugins_dir") or os.environ.get(PLUGINS_DIR):
            return None
        if self._declared_commands is None:
            found = declared_commands(chosen_plugins(os.environ))
            built_in = {*SHORT_HELP, *self.commands}
            self._declared_commands = {n: p for n, p in found.items() if n not in built_in}
        return self._declared_commands

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        plugin = self._registering() if self._registering else None
        if plugin is not None and name is not None and name in self.commands:
            first = self._plugin_commands.get(name)
            if first:
                taken = _("plugin %(first)s added it first", first=first)
            else:
                taken = _("that is a built-in command")
            warning = _(
                "warning: plugin %(plugin)s: its command %(name)s is ignored; %(taken)s",
                plugin=plugin,
                name=repr(name),
                taken=taken,
            )
            click.secho(warning, err=True, fg="yellow")
            return
        if plugin is not None and name is not None:
            self._plugin_commands[name] = plugin
        super().add_command(cmd, name)

    def _add_plugin_commands(self, ctx: click.Context) -> None:
        """Ask each plugin for its commands, so that a failure names the plugin."""
        if self._plugins_added:
            return
        self._plugins_added = True
        self.add_built_in()  # a plugin's command may not take a built-in name
        session = self.session(ctx)
        with one_line_errors(ctx, _("loading plugins failed")):
            manager = session.plugins().manager
        from between.engine.hooks.calls import HookFault, call_hook, running_plugin

        failed: HookFault | None = None
        self._registering = running_plugin
        with one_line_errors(ctx, _("adding the plugins' commands failed")):
            try:
                call_hook(manager, "between_register_commands", cli=self)
            except HookFault as fault:
                failed = fault
            finally:
                self._registering = None
        if failed:  # one line naming the plugin, with a traceback under --debug
            what = _("plugin %(plugin)s failed in %(hook)s", plugin=failed.plugin, hook=failed.hook)
            with one_line_errors(ctx, what):
                raise failed.error from None


def _note_help(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        ctx.meta[HELP_ASKED] = True


def build_cli() -> click.Group:
    """A fresh command tree (plugins add their commands to it on demand)."""

    @click.group(
        "between", cls=BetweenGroup, context_settings={"help_option_names": ["-h", "--help"]}
    )
    @click.option("--store", help="SQLite file or postgresql://… URL (or BETWEEN_STORE).")
    @click.option("--actor", help=WRITE_HELP)
    @click.option("--plugins-dir", type=PathText(), help="Folder of *.py plugins.")
    @click.option("--worksheets-dir", type=PathText(), help="Folder of worksheet files.")
    @click.option("--library-dir", type=PathText(), help="Folder of homework template files.")
    @click.option("--config", "config_file", type=PathText(), help="Clinic configuration file.")
    @click.option(
        "--key-file", type=PathText(), help="The encrypted store's key (or BETWEEN_KEY_FILE)."
    )
    @click.option(
        "--debug",
        is_flag=True,
        help="Print the traceback of an unexpected error (or BETWEEN_DEBUG=1).",
    )
    @click.version_option(package_name="between-homework")
    @click.pass_context
    def cli(ctx: click.Context, debug: bool, **options: Any) -> None:
        """Between: homework between psychotherapy sessions, as an event-sourced log."""
        if not isinstance(ctx.obj, Session):  # made already if a plugin's command was looked up
            ctx.obj = Session(**options)
        ctx.call_on_close(ctx.obj.close)
        ctx.obj.settings.config  # noqa: B018 — a broken configuration file stops every command alike
        # what the commands print is worded in the clinic's operator language (JSON stays English)
        operator_language = ctx.obj.settings.section("clinic").get("operator_language")
        ctx.with_resource(use(operator_language))

    return cli


def main() -> None:
    build_cli()(prog_name="between")


if __name__ == "__main__":
    main()
