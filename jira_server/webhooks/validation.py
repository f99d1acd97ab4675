"""What a delivery may name: keys and ids are checked against strict patterns before they
reach a URL, so a payload can never change the host, the path or the query of a request.
Anything else in a payload is ignored: the processors refetch the object from Jira."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]*-[1-9][0-9]*")
PROJECT_KEY = re.compile(r"[A-Z][A-Z0-9_]*")
NUMERIC_ID = re.compile(r"[1-9][0-9]{0,17}")
# Jira user keys (JIRAUSER10000, or a lower-cased legacy name) and usernames: letters,
# digits and the few punctuation marks usernames and e-mail addresses use.
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+\-]*")
MAX_KEY_LENGTH = 255


class InvalidReference(ValueError):
    """A payload names an object with a malformed key or id; the delivery is dropped."""


def _match(pattern: re.Pattern[str], value: Any, what: str) -> str:
    # Only str and int: a list, dict or float in a payload is never a key or an id.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidReference(f"{what} is missing or not a string")
    text = str(value)
    if len(text) > MAX_KEY_LENGTH or not pattern.fullmatch(text):
        raise InvalidReference(f"{what} has an invalid format")
    return text


def issue_key(value: Any) -> str:
    return _match(ISSUE_KEY, value, "issue key")


def project_key(value: Any) -> str:
    return _match(PROJECT_KEY, value, "project key")


def numeric_id(value: Any, what: str = "id") -> str:
    return _match(NUMERIC_ID, value, what)


def user_name(value: Any, what: str = "user key") -> str:
    return _match(USER_NAME, value, what)


def _optional(value: Any, check: Any) -> str | None:
    return None if value is None or value == "" else str(check(value))


@dataclass(frozen=True)
class KeyedRef:
    """An issue or a project as a delivery names it: an id, a key, or both."""

    id: str | None
    key: str | None

    @property
    def lookup(self) -> str:
        """The id when known (it survives a move to another project), else the key; the
        client encodes it as one path segment."""
        return self.id or self.key or ""


IssueRef = KeyedRef
ProjectRef = KeyedRef


@dataclass(frozen=True)
class UserRef:
    key: str | None
    name: str | None


def _object(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload.get(name)
    if not isinstance(value, dict):
        raise InvalidReference(f"the delivery has no '{name}' object")
    return value


def _keyed_ref(payload: dict[str, Any], name: str, key: Callable[[Any], str]) -> KeyedRef:
    found = _object(payload, name)
    ref = KeyedRef(
        id=_optional(found.get("id"), lambda v: numeric_id(v, f"{name} id")),
        key=_optional(found.get("key"), key),
    )
    if ref.id is None and ref.key is None:
        raise InvalidReference(f"the {name} has neither an id nor a key")
    return ref


def issue_ref(payload: dict[str, Any]) -> IssueRef:
    return _keyed_ref(payload, "issue", issue_key)


def project_ref(payload: dict[str, Any]) -> ProjectRef:
    return _keyed_ref(payload, "project", project_key)


def user_ref(payload: dict[str, Any]) -> UserRef:
    user = _object(payload, "user")
    ref = UserRef(
        key=_optional(user.get("key"), user_name),
        name=_optional(user.get("name"), lambda v: user_name(v, "username")),
    )
    if ref.key is None and ref.name is None:
        raise InvalidReference("the user has neither a key nor a name")
    return ref
