"""The webhook channel: an HTTP POST of a JSON body, signed with a shared secret.

Settings (``[channels.webhook]`` or ``BETWEEN_CHANNEL_WEBHOOK_<KEY>``): ``secret`` (required),
``timeout`` (seconds, default 10). The URL is the recipient's ``webhook`` contact detail.

Headers: ``Idempotency-Key`` (the same on every attempt), ``X-Between-Timestamp`` (Unix seconds)
and ``X-Between-Signature: sha256=<hex>``, the HMAC-SHA256 with the secret over
``<timestamp>.<body>`` (the raw body bytes). A receiver checks it with::

    expected = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    hmac.compare_digest(expected, signature.removeprefix("sha256="))

and rejects timestamps more than a few minutes old. A 2xx response is delivered; 408, 429 and
5xx are retried; any other 4xx is a permanent failure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from between import Delivery, hookimpl


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class Webhook:
    name = "webhook"
    address_key = "webhook"

    def send(self, message, settings):
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
                "X-Between-Signature": signature(secret, stamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=float(conf.get("timeout", 10))) as reply:
                return Delivery("delivered", f"HTTP {reply.status}")
        except urllib.error.HTTPError as e:
            retry = e.code in (408, 429) or e.code >= 500
            return Delivery("retryable" if retry else "permanent", f"HTTP {e.code}")
        except (OSError, ValueError) as e:
            return Delivery("retryable", f"{type(e).__name__}: {e}")


@hookimpl
def between_register_channels(registry):
    registry.add(Webhook())
