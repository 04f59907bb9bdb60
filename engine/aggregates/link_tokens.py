"""Personal links: the token that lets a client (or a collaborator) open their homework.

A token is opaque URL-safe text: base64url, without padding, of 32 random bytes (256 bits from
``secrets``), with nothing derived from the client. Only the SHA-256 of those bytes is stored
(in ``LinkIssued``), so the token is shown once — when it is issued — and can never be shown
again, not even by someone holding the store and its keys. The read model indexes the stored
hashes (``rm_links``), so a token finds its link by its hash; the hash is then compared with
the client's record in constant time.

Tokens issued before this format (64 characters: the client's id, 16 bytes, then the 32 random
bytes, whose hash is stored) keep working until they expire or are revoked: their id finds the
client's record, as it always did. No new ones are made.

The engine reads two settings of the ``[portal]`` table (the portal plugin checks the table):
``url``, the portal's public base URL, and ``link_days``, how long a link sent with a message
lasts (default ``DEFAULT_DAYS``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from between.engine.settings import Settings

SECRET_BYTES = 32
TOKEN_LENGTH = 43  # characters: base64url of 32 bytes, no padding
OLD_TOKEN_LENGTH = 64  # the first format's: base64url of a client id (16) + 32 bytes
DEFAULT_DAYS = 14
MAX_DAYS = 365
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Grant:
    """What a valid personal link lets its holder do."""

    link_id: UUID
    client_id: UUID
    person: str  # "client", or a collaborator's name (personal: never log it)
    expires: datetime  # UTC

    @property
    def is_client(self) -> bool:
        return self.person == "client"


def new_token() -> tuple[str, str]:
    """A fresh token, and the hash to store (hex SHA-256 of its 32 random bytes)."""
    secret = secrets.token_bytes(SECRET_BYTES)
    return _b64(secret), secret_hash(secret)


def secret_hash(secret: bytes) -> str:
    return hashlib.sha256(secret).hexdigest()


def parse_token(token: Any) -> tuple[UUID | None, str] | None:
    """The client id (None in a current token: it holds none) and the secret's hash a token
    holds; None for anything not shaped like a token."""
    if not isinstance(token, str) or len(token) not in (TOKEN_LENGTH, OLD_TOKEN_LENGTH):
        return None
    if not _TOKEN.fullmatch(token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if _b64(raw) != token:  # not the canonical spelling of its bytes (unused trailing bits)
        return None
    if len(raw) == SECRET_BYTES:
        return None, secret_hash(raw)
    if len(raw) == 16 + SECRET_BYTES:
        return UUID(bytes=raw[:16]), secret_hash(raw[16:])
    return None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def same_hash(given: str, stored: Any) -> bool:
    """Constant-time comparison of two hex hashes."""
    return isinstance(stored, str) and hmac.compare_digest(given.encode(), stored.encode())


def link_url(base_url: str, token: str) -> str:
    """The link as sent: the portal's base URL and the token."""
    return f"{base_url.rstrip('/')}/l/{token}"


def portal_url(settings: Settings) -> str | None:
    """The portal's public base URL (``[portal] url``), or None when none is configured."""
    url = settings.section("portal").get("url")
    if isinstance(url, str) and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None


def link_days(settings: Settings) -> int:
    """How many days a link sent with a message lasts (``[portal] link_days``)."""
    days = settings.section("portal").get("link_days", DEFAULT_DAYS)
    valid = isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= MAX_DAYS
    return days if valid else DEFAULT_DAYS
