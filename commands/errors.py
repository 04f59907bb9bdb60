"""How failures reach the user: one line on standard error and an exit code, never a traceback.

``BetweenError`` (a refusal or bad input) prints its own message, in the clinic's operator
language (``[clinic] operator_language``, made current by the root command), with its exit code; an
unexpected exception prints what failed and why, exit 1, with the traceback only when asked
for (``--debug`` or ``BETWEEN_DEBUG=1``); Ctrl-C prints "interrupted", exit 130. Click's own
usage errors (a bad option value, a missing argument) become one line too, exit 2
(``OneLineUsageError``); click's exits pass through untouched.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

from between.language import N_
from between.language import gettext as _

DEBUG_HINT = N_("run with --debug or BETWEEN_DEBUG=1 for the traceback")
INTERRUPTED = 130
_OFF = ("", "0", "false", "no", "off")


def debug_requested(ctx: click.Context) -> bool:
    """Whether ``--debug`` was given or ``BETWEEN_DEBUG`` is set to something true."""
    if ctx.find_root().params.get("debug"):
        return True
    return os.environ.get("BETWEEN_DEBUG", "").strip().lower() not in _OFF


@contextmanager
def one_line_errors(ctx: click.Context, what: str | Callable[[], str]) -> Iterator[None]:
    """Turn anything raised inside into one line and an exit code; ``what`` names the work."""
    from between.engine.errors import BetweenError

    try:
        yield
    except BetweenError as e:
        click.secho(_("error: %(problem)s", problem=e.worded()), err=True, fg="red")
        ctx.exit(e.exit_code)
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except KeyboardInterrupt:
        click.secho(_("interrupted"), err=True, fg="red")
        ctx.exit(INTERRUPTED)
    except Exception as e:
        if isinstance(e, OSError) and e.errno == errno.EPIPE:
            raise  # click quietly handles a closed pipe (`between log | head`)
        debug = debug_requested(ctx)
        if debug:
            import traceback  # only when asked: its import is not free

            traceback.print_exception(e)
        described = what() if callable(what) else what
        hint = "" if debug else f" ({_(DEBUG_HINT)})"
        message = f"{described}: {describe(e)}{hint}"
        click.secho(_("error: %(problem)s", problem=message), err=True, fg="red")
        ctx.exit(1)


class OneLineUsageError(click.UsageError):
    """A click usage error shown as one line: ``error: MESSAGE (see 'COMMAND --help')``."""

    def __init__(self, error: click.UsageError, command: str = "between") -> None:
        super().__init__(" ".join(error.format_message().split()), error.ctx)
        self.command = command  # named when click did not say which command's parsing failed

    def format_message(self) -> str:
        return self.message

    def show(self, file: IO[Any] | None = None) -> None:
        path = self.ctx.command_path if self.ctx is not None else self.command
        message = self.message.rstrip(".")
        line = _("error: %(problem)s (see '%(command)s --help')", problem=message, command=path)
        click.secho(line, file, err=True, fg="red")


@contextmanager
def one_line_usage(command: Callable[[], str] = lambda: "between") -> Iterator[None]:
    """Turn click's usage errors raised inside into ``OneLineUsageError``, naming ``command()``
    when click does not (the error that shows a group's help when it is given no arguments
    is left alone)."""
    try:
        yield
    except (click.exceptions.NoArgsIsHelpError, OneLineUsageError):
        raise
    except click.UsageError as e:
        raise OneLineUsageError(e, command()) from None


def describe(error: BaseException) -> str:
    """``Type: message`` on one line (just ``Type`` when there is no message)."""
    message = " ".join(str(error).split())
    name = type(error).__name__
    return f"{name}: {message}" if message else name
