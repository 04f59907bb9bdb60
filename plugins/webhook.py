"""The webhook channel: an HTTP POST of a JSON body, signed with the recipient's own secret.

Settings (``[channels.webhook]`` or ``BETWEEN_CHANNEL_WEBHOOK_<KEY>``): ``secret`` (required:
the clinic's webhook secret, never given to a receiver), ``timeout`` (seconds, default 10).
The URL is the recipient's ``webhook`` contact detail.

Each receiver gets a secret of its own, derived from the clinic's secret and its URL
(``between webhook-secret URL`` prints it): one receiver's secret cannot sign a message
for another. Headers: ``Idempotency-Key`` (the same on every attempt), ``X-Between-Timestamp``
(Unix seconds) and ``X-Between-Signature: sha256=<hex>``, the HMAC-SHA256 with the receiver's
secret over ``<timestamp>.<body>`` (the raw body bytes). A receiver checks it with::

    expected = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    hmac.compare_digest(expected, signature.removeprefix("sha256="))

rejects timestamps more than 5 minutes from its clock (replays) and drops an
``Idempotency-Key`` it has already processed. A 2xx response is delivered; 408, 429 and 5xx
are retried; a redirect is never followed (the URL must be updated) and, like any other 4xx,
is a permanent failure.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from between import Delivery, InvalidInput, Message, hookimpl

REPLAY_WINDOW_SECONDS = 300


def recipient_secret(clinic_secret: str, url: str) -> str:
    """The secret one receiver verifies with, bound to its URL."""
    import hashlib  # here, not at import: loading plugins must stay quick
    import hmac

    derived = hmac.new(clinic_secret.encode(), f"between-webhook:{url}".encode(), hashlib.sha256)
    return derived.hexdigest()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    import hashlib
    import hmac

    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _opener() -> Any:
    """An opener that does not follow redirects: a redirect is an answer, not a delivery (it
    surfaces as an HTTPError with its code). Built when sending: urllib is slow to import."""
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return urllib.request.build_opener(NoRedirects)


class Webhook:
    name = "webhook"
    address_key = "webhook"

    def send(self, message: Message, settings: Any) -> Delivery:
        import urllib.error
        import urllib.request

        conf = settings.channel("webhook")
        secret = conf.get("secret")
        if not secret:
            return Delivery("permanent", "webhook is not configured: set [channels.webhook] secret")
        if not message.address.startswith(("http://", "https://")):
            return Delivery("permanent", "the webhook address is not an http(s) URL")
        body = json.dumps(
            {"key": message.key, "kind": message.kind, "role": message.role,
             "subject": message.subject, "text": message.text, **message.data},
            ensure_ascii=False, sort_keys=True,
        ).encode("utf-8")  # fmt: skip
        stamp = str(int(time.time()))
        request = urllib.request.Request(
            message.address,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": message.key,
                "X-Between-Timestamp": stamp,
                "X-Between-Signature": signature(
                    recipient_secret(secret, message.address), stamp, body
                ),
            },
        )
        try:
            with _opener().open(request, timeout=float(conf.get("timeout", 10))) as reply:
                return Delivery("delivered", f"HTTP {reply.status}")
        except urllib.error.HTTPError as e:
            if 300 <= e.code < 400:
                moved = e.headers.get("Location", "elsewhere")
                return Delivery(
                    "permanent",
                    f"HTTP {e.code}: the receiver moved to {moved}; update the webhook URL",
                )
            retry = e.code in (408, 429) or e.code >= 500
            return Delivery("retryable" if retry else "permanent", f"HTTP {e.code}")
        except (OSError, ValueError) as e:
            return Delivery("retryable", f"{type(e).__name__}: {e}")


@click.command("webhook-secret")
@click.argument("url")
@click.pass_obj
def webhook_secret(session: Any, url: str) -> None:
    """Print the secret to give the receiver at URL (it verifies signatures with it)."""
    secret = session.settings.channel("webhook").get("secret")
    if not secret:
        raise InvalidInput("set [channels.webhook] secret in the clinic's configuration first")
    click.echo(recipient_secret(secret, url))


@hookimpl
def between_register_channels(registry: Any) -> None:
    registry.add(Webhook())


@hookimpl
def between_register_commands(cli: click.Group) -> None:
    cli.add_command(webhook_secret)
