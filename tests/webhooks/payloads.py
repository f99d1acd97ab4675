"""Jira-shaped webhook deliveries for tests (the fields the integration reads, plus a
little realistic noise that it must ignore)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any


def issue_event(event: str, issue_id: str, key: str, **fields: Any) -> dict[str, Any]:
    return {
        "timestamp": int(time.time() * 1000),
        "webhookEvent": event,
        "issue_event_type_name": event.removeprefix("jira:"),
        "user": {"name": "someone", "key": "JIRAUSER10000"},
        "issue": {
            "id": issue_id,
            "self": f"http://jira.invalid/rest/api/2/issue/{issue_id}",
            "key": key,
            "fields": {"summary": "from the payload, never trusted", **fields},
        },
    }


def user_event(event: str, key: str, name: str) -> dict[str, Any]:
    return {
        "timestamp": int(time.time() * 1000),
        "webhookEvent": event,
        "user": {"key": key, "name": name, "displayName": "from the payload"},
    }


def project_event(event: str, project_id: int, key: str) -> dict[str, Any]:
    return {
        "timestamp": int(time.time() * 1000),
        "webhookEvent": event,
        "project": {"id": project_id, "key": key, "name": "from the payload"},
    }


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
