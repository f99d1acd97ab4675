"""Authentication as Jira's Seraph filter does it, including the CAPTCHA lock-out.

A missing or unparseable Authorization header is *anonymous*, not an error; only
credentials that parse but do not match are rejected.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from local_stack.jira_emulator.config import Account, EmulatorConfig
from local_stack.jira_emulator.data import User
from local_stack.jira_emulator.store import Store
from local_stack.jira_emulator.wire import Response, error_collection, rest_error

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Caller:
    user: User | None  # None: anonymous
    scheme: str  # "anonymous" | "basic" | "bearer"

    @property
    def name(self) -> str:
        return ANONYMOUS if self.user is None else self.user.name


class Authenticator:
    def __init__(self, config: EmulatorConfig, store: Store) -> None:
        self.config = config
        self.store = store
        self.failures: dict[str, int] = {}
        self.denied = 0

    def _account(self, username: str) -> Account | None:
        lowered = username.lower()
        return next((a for a in self.config.accounts if a.username.lower() == lowered), None)

    def _user(self, account: Account) -> User | None:
        return self.store.find_user(account.username)

    def locked(self, username: str) -> bool:
        return self.failures.get(username.lower(), 0) >= self.config.captcha_after > 0

    def reset(self, username: str | None = None) -> None:
        if username is None:
            self.failures.clear()
        else:
            self.failures.pop(username.lower(), None)

    def authenticate(self, header: str | None, base: str) -> Caller | Response:
        anonymous = Caller(None, ANONYMOUS)
        if not header:
            return anonymous
        scheme, _, credentials = header.strip().partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "bearer":
            if not credentials:
                return anonymous
            account = next(
                (a for a in self.config.accounts if a.token and a.token == credentials), None
            )
            user = self._user(account) if account else None
            if user is None or not user.active:
                self.denied += 1
                return rest_error(401, "Client must be authenticated to access this resource.")
            return Caller(user, "bearer")
        if scheme.lower() != "basic" or not credentials:
            return anonymous
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return anonymous
        if ":" not in decoded:
            return anonymous
        username, _, password = decoded.partition(":")
        if not self.config.basic_auth_enabled:
            self.denied += 1
            response = error_collection(
                401, "Basic authentication has been disabled on this instance."
            )
            response.headers["X-Seraph-LoginReason"] = "AUTHENTICATION_DENIED"
            return response
        if self.locked(username):
            self.denied += 1
            response = error_collection(
                403,
                "CAPTCHA_CHALLENGE: too many failed login attempts. Log in through the web "
                "interface to answer the CAPTCHA.",
            )
            response.headers["X-Seraph-LoginReason"] = "AUTHENTICATION_DENIED"
            response.headers["X-Authentication-Denied-Reason"] = (
                f"CAPTCHA_CHALLENGE; login-url={base}/login.jsp"
            )
            return response
        account = self._account(username)
        user = self._user(account) if account else None
        if (
            account is None
            or user is None
            or account.password is None
            or account.password != password
        ):
            if account is not None:
                self.failures[username.lower()] = self.failures.get(username.lower(), 0) + 1
            self.denied += 1
            response = error_collection(
                401, "You are not authenticated. Authentication required to perform this operation."
            )
            response.headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
            response.headers["WWW-Authenticate"] = 'Basic realm="protected-area"'
            return response
        # A successful login clears the failure count, as Seraph does.
        self.failures.pop(username.lower(), None)
        return Caller(user, "basic")
