"""Keeps secrets out of logs and error messages."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "***"
# Authorization values that may appear in exception texts or echoed request dumps.
_AUTH_HEADER = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(basic|bearer)\s+[^\s'\",}]+")


class Redactor:
    """Replaces every known secret (and any Authorization header value) with ``***``."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Short values would redact ordinary words; Jira secrets are never that short.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)} {REDACTED}", text)
