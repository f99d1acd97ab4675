"""Keeps secrets out of logs and error messages, in every form the project writes them.

A secret can reach a message as itself, URL-encoded (the legacy webhook URL carries the
webhook secret as ``?token=``), JSON-escaped (a request body in an error), or inside a Basic
authorization value (base64 of ``user:password``, added by the settings). Every form is
masked, whatever the secret's length: a short password is a weak one, not a public one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "***"
# Authorization values that may appear in exception texts or echoed request dumps.
_AUTH_HEADER = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(basic|bearer)\s+[^\s'\",}]+")


def encodings(secret: str) -> set[str]:
    """The forms of ``secret`` this project can write into a message."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    return {f for f in forms if f}


class Redactor:
    """Replaces every known secret (and any Authorization header value) with ``***``."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._forms: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret:
            return
        forms = set(self._forms) | encodings(secret)
        # Longest first: a secret that contains another is masked whole.
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, REDACTED)
        return _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)} {REDACTED}", text)
