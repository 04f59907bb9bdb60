"""The portal's Flask application: settings, headers on every response, and the error boundary.

The pages (``portal.pages``) and the inbound API (``portal.api``) are blueprints on it. Every
response carries the headers of ``security.HEADERS``. Anything that goes wrong inside a request
becomes a plain page (or JSON for the API) that names nothing personal, and one line in the
server's log — naming the plugin when a plugin failed — never a traceback to the visitor. No
request is logged: paths hold tokens.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from between import BetweenError, StoreError
from between.language import current, use
from between.portal import api, pages, voice
from between.portal.config import PortalConfig
from between.portal.context import EXTENSION, PROBLEMS, Portal, PortalHomework, problem
from between.portal.security import HEADERS, RateLimiter
from between.portal.session_checks import session_grant
from between.portal.stores import TemplateWords, WriteLocks

log = logging.getLogger("between.portal")


def create_app(
    config: PortalConfig,
    homework: Callable[[], PortalHomework],
    catalogs: tuple[str, ...] = (),
    template_words: TemplateWords | None = None,
) -> Flask:
    """The WSGI application; ``homework()`` returns the calling thread's ``Homework``,
    ``catalogs`` are the plugins' message catalogs (``engine.hooks.message_catalogs``) and
    ``template_words`` the library's templates' own words."""
    app = Flask("between.portal")
    app.config.update(
        # A secret from the configuration keeps sessions across restarts and processes;
        # without one, each start makes its own and visitors open their link again.
        SECRET_KEY=config.session_secret or secrets.token_bytes(32),
        SESSION_COOKIE_NAME="between_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure,
        MAX_CONTENT_LENGTH=config.max_request_kib * 1024,
        MAX_FORM_MEMORY_SIZE=config.max_request_kib * 1024,
        MAX_FORM_PARTS=200,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    limiter = RateLimiter(config.rate_per_minute)
    app.extensions[EXTENSION] = Portal(config, homework, limiter, WriteLocks(), template_words)
    app.jinja_env.globals["clinic_name"] = config.clinic_name
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    _words(app, homework, catalogs)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(voice.blueprint)
    app.after_request(_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _failure)
    if config.proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = config.proxies
        trusted = {f"x_{h}": n for h in ("for", "proto", "host", "port", "prefix")}
        app.wsgi_app = ProxyFix(app.wsgi_app, **trusted)  # type: ignore[method-assign]
    return app


def _words(app: Flask, homework: Callable[[], PortalHomework], catalogs: tuple[str, ...]) -> None:
    """Every page in its reader's language: the templates' ``{% trans %}`` and ``_()`` (and the
    code's ``gettext``) translate with ``between.language.current()``, which each request makes
    the person's (``language_of``) until it ends."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: current().gettext(message),
        ngettext=_plural,
        newstyle=True,
    )
    app.jinja_env.globals["language"] = lambda: current().language

    def start() -> None:
        if request.path.startswith(("/api/", "/static/")):
            return
        words = use(language_of(homework()), catalogs)
        words.__enter__()
        g.words = words

    def end(error: BaseException | None) -> None:
        words = g.pop("words", None)
        if words is not None:
            words.__exit__(None, None, None)

    app.before_request(start)
    app.teardown_request(end)


def language_of(homework: PortalHomework) -> str | None:
    """The language of the person whose link this session holds — the client's setting (a
    collaborator reads the client's) — else the clinic's (``[clinic] language``)."""
    grant = session_grant()
    if grant is not None:
        return homework.client_preferences(grant.client_id).get("language")
    return homework.clinic.defaults.get("language")


def _plural(singular: str, plural: str, n: int) -> str:
    """The catalog's form for ``n``, its placeholders left for Jinja's newstyle gettext to fill
    (``Translator.ngettext`` fills them itself)."""
    return current().plural(singular, plural, n)


def _headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    response.vary.add("Cookie")
    return response


def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    return problem(status if status in PROBLEMS else 400)


def _failure(error: Exception) -> Any:
    """The boundary: one line in the log, a plain 500 (or 503 for the store) to the visitor."""
    from between.engine.hooks.loading import PluginError

    where = f"{request.method} {request.url_rule.rule if request.url_rule else '(no route)'}"
    if isinstance(error, PluginError):
        log.error("%s: %s", where, plugin_fault(str(error)))
        return problem(500)
    if isinstance(error, StoreError):
        log.error("%s: the store failed: %s", where, str(error).splitlines()[0][:300])
        return problem(503)
    if isinstance(error, BetweenError):
        log.error("%s: refused unexpectedly (%s)", where, type(error).__name__)
        return problem(500)
    log.error("%s: unexpected %s", where, type(error).__name__)
    return problem(500)


def plugin_fault(message: str) -> str:
    """``plugin NAME failed in HOOK (task type T)`` — without what the plugin said, which may
    quote what the person typed."""
    head, found, _ = message.partition("): ")
    return head + ")" if found else message.split(":")[0]
