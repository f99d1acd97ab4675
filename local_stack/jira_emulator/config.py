"""Emulator configuration: the Jira version and server behaviour a test wants to face."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local_stack.jira_emulator.data import DatasetSpec
from local_stack.jira_emulator.faults import FaultConfig

USER_SEARCH_DC10_CAP = 100
BROWSE_USERS_MODES = ("allow", "forbidden", "empty")
SPRINT_FIELD_MODES = ("auto", "legacy", "json")


@dataclass
class Account:
    """A login: Basic needs ``password``, Bearer needs ``token`` (a PAT)."""

    username: str
    password: str | None = None
    token: str | None = None


def parse_version(version: str) -> tuple[int, int, int]:
    parts = [int(p) for p in version.split(".")[:3] if p.isdigit()]
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


@dataclass
class EmulatorConfig:
    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    version: str = "10.3.0"
    server_title: str = "Jira Emulator"
    # None: self links and baseUrl follow the request's Host header (random test ports).
    base_url: str | None = None
    time_zone: str = "Etc/UTC"
    accounts: list[Account] = field(
        default_factory=lambda: [Account("admin", password="admin", token="emulator-pat")]
    )
    basic_auth: bool | None = None  # None: enabled before 11.0 (Jira 11 disables Basic)
    captcha_after: int = 3  # failed Basic logins before the CAPTCHA lock-out
    default_max_results: int = 50
    max_results_cap: int = 1000  # jira.search.views.default.max
    deep_offset_limit: int = 10_000  # jira.search.platform.max.result.window
    recent_dc: bool | None = None  # None: on for version >= 9 (deep offsets answer 500)
    user_search_max: int = 1000
    user_search_dc10_cap: bool | None = None  # None: on for 10.0-10.2 (JRASERVER-78520)
    user_list: bool | None = None  # None: /user/list exists on 10.3+
    user_list_page: int = 2000
    browse_projects: bool = True  # False: the account lacks Browse Projects everywhere
    browse_users: str = "allow"  # "forbidden": 403 on user search/list; "empty": []
    hidden_projects: list[str] = field(default_factory=list)
    sprint_field: str = "auto"  # "legacy" Java toString (<10), "json" objects (10+)
    faults: FaultConfig = field(default_factory=FaultConfig)
    clock: Callable[[], float] = time.time
    # Moves Jira's "now" (serverTime, relative JQL dates, new writes): "the same Jira a day
    # later" without waiting a day.
    clock_offset_seconds: float = 0.0
    search_log_limit: int = 10_000
    # How many comments an issue's ``comment`` field embeds (``total`` counts them all).
    embedded_comment_limit: int = 20
    # /worklog/updated, /worklog/deleted and /worklog/list; None: on (Jira 7.0+). False
    # answers 404 like the old servers a client must fall back for.
    worklog_feeds: bool | None = None
    worklog_feed_page: int = 1000  # values per feed page (Jira: 1000)
    # Histories a search result embeds per issue with expand=changelog (the rest: total).
    changelog_search_limit: int = 100

    # ---- derived from the version -------------------------------------------------------

    @property
    def version_numbers(self) -> tuple[int, int, int]:
        return parse_version(self.version)

    @property
    def build_number(self) -> int:
        major, minor, patch = self.version_numbers
        return major * 1_000_000 + minor * 10_000 + patch

    @property
    def deep_offset_refused(self) -> bool:
        return self.recent_dc if self.recent_dc is not None else self.version_numbers[0] >= 9

    @property
    def basic_auth_enabled(self) -> bool:
        if self.basic_auth is not None:
            return self.basic_auth
        return self.version_numbers[0] < 11

    @property
    def user_search_capped(self) -> bool:
        if self.user_search_dc10_cap is not None:
            return self.user_search_dc10_cap
        return (10, 0) <= self.version_numbers[:2] < (10, 3)

    @property
    def user_list_available(self) -> bool:
        if self.user_list is not None:
            return self.user_list
        return self.version_numbers[:2] >= (10, 3)

    @property
    def legacy_sprint_field(self) -> bool:
        if self.sprint_field == "auto":
            return self.version_numbers[0] < 10
        return self.sprint_field == "legacy"

    def now_ms(self) -> int:
        return int((self.clock() + self.clock_offset_seconds) * 1000)


# Settings the control API may read and change at runtime, with their JSON types (the
# rest is fixed at start). ``None`` in the tuple means the setting may be null ("auto").
RUNTIME_SETTINGS: dict[str, tuple[type, ...] | tuple[type, None]] = {
    "version": (str,),
    "server_title": (str,),
    "base_url": (str, None),
    "basic_auth": (bool, None),
    "captcha_after": (int,),
    "default_max_results": (int,),
    "max_results_cap": (int,),
    "deep_offset_limit": (int,),
    "recent_dc": (bool, None),
    "user_search_max": (int,),
    "user_search_dc10_cap": (bool, None),
    "user_list": (bool, None),
    "user_list_page": (int,),
    "browse_projects": (bool,),
    "browse_users": (str,),
    "hidden_projects": (list,),
    "sprint_field": (str,),
    "clock_offset_seconds": (float, int),
    "embedded_comment_limit": (int,),
    "worklog_feeds": (bool, None),
    "worklog_feed_page": (int,),
}


def settings_json(config: EmulatorConfig) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(config, name) for name in RUNTIME_SETTINGS}
    out["time_zone"] = config.time_zone
    out["derived"] = {
        "versionNumbers": list(config.version_numbers),
        "basicAuthEnabled": config.basic_auth_enabled,
        "deepOffsetRefused": config.deep_offset_refused,
        "userSearchCapped": config.user_search_capped,
        "userListAvailable": config.user_list_available,
        "legacySprintField": config.legacy_sprint_field,
    }
    return out


def apply_settings(config: EmulatorConfig, changes: dict[str, Any]) -> None:
    """Validate then apply a partial settings object; raises ValueError naming the key."""
    for name, value in changes.items():
        allowed = RUNTIME_SETTINGS.get(name)
        if allowed is None:
            raise ValueError(f"unknown or read-only setting {name!r}")
        if value is None:
            if None not in allowed:
                raise ValueError(f"{name} may not be null")
            continue
        types = tuple(t for t in allowed if t is not None)
        # bool is an int subclass: an int setting must not accept true/false.
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            raise ValueError(f"{name} must be of type {' or '.join(t.__name__ for t in types)}")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name} must be a list of strings")
    if changes.get("browse_users", "allow") not in BROWSE_USERS_MODES:
        raise ValueError(f"browse_users must be one of {BROWSE_USERS_MODES}")
    if changes.get("sprint_field", "auto") not in SPRINT_FIELD_MODES:
        raise ValueError(f"sprint_field must be one of {SPRINT_FIELD_MODES}")
    for name, value in changes.items():
        setattr(config, name, value)
