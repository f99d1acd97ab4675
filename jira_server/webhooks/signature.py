"""Checks of a delivery's credentials: Data Center 10+ signs the raw body with the shared
secret (``X-Hub-Signature: sha256=<hex HMAC-SHA256>``); older servers cannot sign, so the
secret travels as a token in the webhook URL."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "x-hub-signature"
_PREFIX = "sha256="
_HEX_LENGTH = hashlib.sha256().digest_size * 2
_HEX_DIGITS = frozenset("0123456789abcdef")


def sign(secret: str, body: bytes) -> str:
    """The header value Jira sends for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"{_PREFIX}{digest}"


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """True only for ``sha256=<64 hex digits>`` equal to the HMAC of ``body``; compared in
    constant time so the response time tells nothing about how much of it was right."""
    if not header:
        return False
    value = header.strip()
    if value[: len(_PREFIX)].lower() != _PREFIX:
        return False
    given = value[len(_PREFIX) :].lower()
    # The length is public (it is in the spec): rejecting a wrong one early leaks nothing.
    if len(given) != _HEX_LENGTH or not set(given) <= _HEX_DIGITS:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.encode())


def token_valid(secret: str, token: str | None) -> bool:
    if not token:
        return False
    return hmac.compare_digest(secret.encode(), token.encode())
