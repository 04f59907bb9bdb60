"""Running the portal under waitress, a pure-Python production WSGI server.

One line on standard output when it starts; SIGTERM and SIGINT (Ctrl-C) stop it cleanly —
open requests finish, every store connection is closed — and the command exits 0. Nothing is
logged per request (waitress logs no access lines; neither do we), and waitress's own messages
lose the request path, which may hold a token.
"""

from __future__ import annotations

import errno
import logging
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from between import BetweenError
from between.language import gettext as _
from between.portal.config import PortalConfig
from between.portal.stores import PerThread

if TYPE_CHECKING:
    from between.engine.app import Homework


class ServeError(BetweenError):
    """The portal cannot start (exit 1)."""


class _NoPaths(logging.Filter):
    """Keep waitress's and Flask's own messages about a failed request, without the request
    (its path may hold a token) or a traceback: just what failed."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info or "serving" in str(record.msg).lower():
            failure = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
            record.msg, record.args = f"a request failed {failure}".strip(), ()
            record.exc_info = record.exc_text = None
        return True


def _logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("portal: %(message)s"))
    handler.addFilter(_NoPaths())
    for name in ("between.portal", "waitress"):  # Flask's own logger is "between.portal"
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a line per queued request
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def serve(
    config: PortalConfig,
    open_app: Callable[[], Homework],
    say: Callable[[str], None],
    template_words: Any = None,
) -> None:
    """Serve until SIGTERM or SIGINT; ``open_app()`` opens a ``Homework`` on the store;
    ``template_words``: the library's templates' own words (``stores.TemplateWords``)."""
    from waitress.server import create_server

    from between.engine.hooks.message_catalogs import plugin_catalogs
    from between.portal.app import create_app

    _logging()
    first = open_app()  # the store's problems are said now, in one line, not at the first visit
    if first.read_only:
        first.close()
        raise ServeError(
            "%(reason)s; the portal records entries: it needs to write",
            reason=first.read_only_reason,
        )
    catalogs = plugin_catalogs(first.plugins.manager)  # the plugins' words, found once
    homework = PerThread(open_app, spare=first)
    app = create_app(config, homework, catalogs, template_words)
    try:
        server = create_server(
            app, host=config.host, port=config.port, threads=config.threads, ident="between"
        )
    except OSError as e:
        homework.close()
        raise _listen_problem(config, e) from None
    except ValueError as e:  # waitress: a host it cannot resolve
        homework.close()
        raise ServeError(
            "cannot listen on %(where)s: %(problem)s", where=_where(config), problem=e
        ) from None
    url = config.url.rstrip("/") or _("not set: links need --url or [portal] url")
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        say(
            _(
                "serving the portal on http://%(address)s (public URL %(url)s); Ctrl-C stops",
                address=_address(server),
                url=url,
            )
        )
        server.run()  # returns on KeyboardInterrupt: SIGINT or SIGTERM
    except KeyboardInterrupt:
        pass  # before the loop started
    finally:
        for stop in (signal.SIGTERM, signal.SIGINT):  # a second signal waits for the cleanup
            signal.signal(stop, signal.SIG_IGN)
        server.close()
        homework.close()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _address(server: Any) -> str:
    host, port = server.effective_host, server.effective_port
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _where(config: PortalConfig) -> str:
    return f"{config.host}:{config.port}"


def _listen_problem(config: PortalConfig, error: OSError) -> ServeError:
    """Why the portal cannot listen where ``config`` says, in one line."""
    where = _where(config)
    if error.errno == errno.EADDRINUSE:
        return ServeError(
            "cannot listen on %(where)s: the port is in use (another server?); choose --port",
            where=where,
        )
    if error.errno == errno.EACCES:
        return ServeError(
            "cannot listen on %(where)s: permission denied; choose a port above 1023",
            where=where,
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return ServeError(
            "cannot listen on %(where)s: this machine has no such address; check --host",
            where=where,
        )
    return ServeError(
        "cannot listen on %(where)s: %(problem)s", where=where, problem=error.strerror or error
    )
