"""The ``[portal]`` table of the clinic's configuration file, checked by the portal itself.

Between checks only its own tables (``engine.configuration``); this one belongs to the portal
plugin, which checks it the same way when ``between serve`` starts: a value of the wrong type,
out of range or a setting the table does not have stops it, exit 2, in one line naming the
file, the table and the setting. Command-line options win over the file.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from between import InvalidInput, Settings
from between.engine.configuration import Check, text, whole
from between.language import gettext as _

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
MIN_SECRET = 32  # characters of an integration's secret or the session secret
#: One label of a DNS name: letters, digits and inner hyphens, at most 63 characters.
DNS_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _secret(value: Any) -> str | None:
    ok = isinstance(value, str) and len(value) >= MIN_SECRET
    return None if ok else _("text of at least %(count)s characters", count=MIN_SECRET)


def _url(value: Any) -> str | None:
    if isinstance(value, str) and url_problem(value) is None:
        return None
    return _("an http(s):// URL")


def _yes_no(value: Any) -> str | None:
    return None if isinstance(value, bool) else _("true or false")


#: The portal's settings and what each must be (docs/portal.md documents them).
SETTINGS: dict[str, Check] = {
    "url": _url,
    "host": text,
    "port": whole(1, 65535),
    "clinic_name": text,
    "link_days": whole(1, 365),
    "rate_per_minute": whole(1, 100_000),
    "max_request_kib": whole(1, 10_240),
    "proxies": whole(0, 10),
    "threads": whole(1, 64),
    "session_secret": _secret,
    "agreement": _yes_no,
}
INTEGRATION: dict[str, Check] = {"secret": _secret}


@dataclass(frozen=True)
class PortalConfig:
    """How the portal runs (``[portal]`` overridden by ``serve``'s options)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    url: str = ""
    clinic_name: str = ""
    rate_per_minute: int = 30
    max_request_kib: int = 64
    proxies: int = 0
    threads: int = 8
    session_secret: str | None = field(default=None, repr=False)
    #: Whether clients see homework proposed to them and agree, ask for a change or decline
    #: from the portal (``portal.voice``).
    agreement: bool = True
    integrations: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def public_url(self) -> str:
        """Where people reach the portal: ``url``, or the address it listens on."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return self.url.rstrip("/") or f"http://{host}:{self.port}"

    @property
    def secure(self) -> bool:
        """Whether people reach it over HTTPS (its cookies are then ``Secure``)."""
        return self.public_url.startswith("https://")


def url_problem(url: str) -> str | None:
    """What is wrong with a public base URL, or None."""
    if any(c.isspace() or not c.isprintable() for c in url) or any(c in url for c in '<>"\\^`{|}'):
        return _('must not hold spaces, control characters or any of <>"\\^`{|}')
    try:
        parts = urlsplit(url)
        port = parts.port  # read to be checked: urlsplit checks a port only when it is read
    except ValueError:  # an unclosed [IPv6 address], a port that is not a number
        return _("is not a well-formed URL, e.g. https://homework.clinic.example")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("must be an http:// or https:// URL, e.g. https://homework.clinic.example")
    if parts.query or parts.fragment or parts.username or parts.password is not None:
        return _("must be a plain base URL, without a query, fragment or user")
    if not valid_host(parts.netloc.rpartition(":")[0] if port is not None else parts.netloc):
        return _("has no valid host: give a DNS name, an IPv4 address or a [bracketed IPv6] one")
    if port == 0:
        return _("has port 0; give a port from 1 to 65535, or none")
    return None


def valid_host(host: str) -> bool:
    """Is ``host`` (as written in a URL) a DNS name, an IPv4 address or a bracketed IPv6 one?"""
    if host.startswith("[") and host.endswith("]"):
        try:
            return ipaddress.ip_address(host[1:-1]).version == 6
        except ValueError:
            return False
    labels = host.removesuffix(".").split(".")
    if all(label.isdigit() for label in labels):  # only an IPv4 address is all numbers
        try:
            return ipaddress.ip_address(host).version == 4
        except ValueError:
            return False
    return len(host) <= 253 and all(DNS_LABEL.fullmatch(label) for label in labels)


def portal_config(
    settings: Settings, host: str | None, port: int | None, url: str | None
) -> PortalConfig:
    """The portal's settings: ``serve``'s options over the checked ``[portal]`` table."""
    table = check_portal_table(settings.section("portal"), settings.config_file)
    problem = url_problem(url) if url is not None else None
    if problem:
        raise InvalidInput("--url %(url)s %(problem)s", url=repr(url), problem=problem)
    integrations = table.pop("integrations", {})
    chosen = {k: v for k, v in table.items() if k in PortalConfig.__dataclass_fields__}
    given = {"host": host, "port": port, "url": url}
    chosen |= {k: v for k, v in given.items() if v is not None}
    secrets = {name: values["secret"] for name, values in integrations.items()}
    return PortalConfig(**chosen, integrations=secrets)


def check_portal_table(table: dict[str, Any], path: Path | None) -> dict[str, Any]:
    """A copy of ``[portal]`` if it has the documented shape, else ``InvalidInput``."""

    def refuse(setting: str, problem: str) -> InvalidInput:
        if path:
            return InvalidInput(
                "configuration file %(path)s: %(setting)s %(problem)s",
                path=path,
                setting=setting,
                problem=problem,
            )
        return InvalidInput(
            "the configuration file: %(setting)s %(problem)s", setting=setting, problem=problem
        )

    table = dict(table)
    integrations = table.pop("integrations", {})
    _check(table, SETTINGS, "portal", refuse)
    if not isinstance(integrations, dict):
        raise refuse("[portal] integrations", _("must be a table ([portal.integrations.NAME])"))
    for name, values in integrations.items():
        label = f"portal.integrations.{name}"
        if not isinstance(values, dict):
            raise refuse(f"[{label}]", _('must be a table with secret = "…"'))
        _check(values, INTEGRATION, label, refuse)
        if "secret" not in values:
            raise refuse(f"[{label}]", _('needs secret = "…" (the integration signs with it)'))
    return {**table, "integrations": integrations}


def _check(table: dict[str, Any], checks: dict[str, Check], label: str, refuse: Any) -> None:
    for key, value in table.items():
        if key not in checks:
            known = ", ".join(checks)
            raise refuse(f"[{label}] {key}", _("is not a setting (known: %(known)s)", known=known))
        problem = checks[key](value)
        if problem:
            shown = "…" if "secret" in key else repr(value)
            raise refuse(f"[{label}] {key} = {shown}", _("must be %(wanted)s", wanted=problem))
