"""The portal's defences: response headers, CSRF tokens, a per-link rate limit, signed API calls.

Nothing here touches the store: each piece is a small, separately tested rule.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from werkzeug.datastructures import Headers

#: Sent with every response: nothing cached, nothing from elsewhere, no framing, no referrer.
HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

#: How far a signed API call's timestamp may be from the server's clock, in seconds.
WINDOW_SECONDS = 300


def new_token() -> str:
    """A random, URL-safe value (CSRF tokens, per-form idempotency keys)."""
    return secrets.token_urlsafe(24)


def same(given: str | None, expected: str | None) -> bool:
    """Whether two secrets match, compared in constant time (None matches nothing)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


class RateLimiter:
    """A token bucket per key (a link, an integration), kept in memory.

    Each key may make ``per_minute`` requests in a burst, refilled at ``per_minute`` a minute.
    Idle buckets are forgotten, so memory stays bounded by the keys seen in the last minute.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Take one request from ``key``'s bucket; False when it is empty."""
        with self._lock:
            now = self.clock()
            if len(self._buckets) > 10_000:
                self._forget_idle(now)
            tokens, then = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            return allowed

    def _forget_idle(self, now: float) -> None:
        full = self.capacity / self.rate  # seconds for an empty bucket to refill
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full}


@dataclass(frozen=True)
class Signed:
    """A verified API call: which integration sent it."""

    integration: str


class SignatureError(Exception):
    """An API call is not signed as it must be; the message says why (nothing secret)."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``"<timestamp>.<body>"`` with the integration's secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify(
    headers: Mapping[str, str] | Headers,
    body: bytes,
    secrets_by_name: Mapping[str, str],
    now: float | None = None,
) -> Signed:
    """The integration that signed this call, or ``SignatureError``.

    Checks the ``X-Between-Integration`` is configured, the ``X-Between-Timestamp`` is within
    ``WINDOW_SECONDS`` of now (a replay later is refused), and ``X-Between-Signature`` is the
    HMAC of exactly this timestamp and body (a replayed body under a new timestamp is refused).
    """
    name = headers.get("X-Between-Integration", "")
    secret = secrets_by_name.get(name)
    if not name or secret is None:
        raise SignatureError("unknown integration: send X-Between-Integration with its name")
    stamp = headers.get("X-Between-Timestamp", "")
    if not stamp.isdigit() or len(stamp) > 12:
        raise SignatureError("X-Between-Timestamp must be the time in whole Unix seconds")
    moment = time.time() if now is None else now
    if abs(moment - int(stamp)) > WINDOW_SECONDS:
        raise SignatureError(
            f"X-Between-Timestamp is more than {WINDOW_SECONDS} seconds from the server's clock"
        )
    if not same(headers.get("X-Between-Signature"), sign(secret, stamp, body)):
        raise SignatureError("X-Between-Signature does not match the body and timestamp")
    return Signed(name)
