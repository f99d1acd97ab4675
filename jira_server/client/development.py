"""The Development panel's summary of an issue, from the field search results already carry:
``__development``.

Jira Server / DC with a linked Bitbucket, GitHub, GitLab or CI app keeps a summary per issue
in the "Development" custom field (schema ``...:devsummarycf``). The REST API gives it as a
Java ``toString``, not JSON::

    {summaryBean=com.atlassian.jira.plugin.devstatus.rest.SummaryBean@6b86cd9f[summary={
     pullrequest=...PullRequestOverallBean{stateCount=0, state='OPEN', details=...}], build=...
     [failedBuildCount=0,successfulBuildCount=0,unknownBuildCount=0,count=0,...]...]},
     devSummaryJson={"cachedValue":{"summary":{"pullrequest":{"overall":{...}}, ...}}}}

The ``devSummaryJson`` part is JSON and is read first; older servers without it are read
from the bean text. Reading it costs no request per issue (the per-issue dev-status REST
resource is internal and slow). ``repository`` counts commits, as the panel shows them.
"""

from __future__ import annotations

import json
import re
from typing import Any

DEVELOPMENT_KEY = "__development"
DEV_SUMMARY_SCHEMA = "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf"

_JSON_START = "devSummaryJson="
_SECTIONS = ("pullrequest", "build", "review", "repository", "branch", "deployment-environment")


def empty_development() -> dict[str, Any]:
    return {
        "pullRequests": {"count": 0, "state": None, "open": 0, "merged": 0, "declined": 0},
        "builds": {"count": 0, "successful": 0, "failed": 0, "unknown": 0},
        "reviews": {"count": 0, "state": None},
        "commits": 0,
        "branches": 0,
        "deployments": 0,
        "lastUpdated": None,
    }


def parse_dev_summary(value: Any) -> dict[str, Any]:
    """The summary as plain numbers; an empty summary for an issue with no linked code or a
    value this parser cannot read (it never raises: one odd issue must not stop a sync)."""
    if isinstance(value, dict):
        summary = value.get("summary") if "summary" in value else value
        return _from_json(summary if isinstance(summary, dict) else {})
    if not isinstance(value, str) or not value.strip():
        return empty_development()
    summary = _json_summary(value)
    if summary is not None:
        return _from_json(summary)
    return _from_bean(value)


def _json_summary(text: str) -> dict[str, Any] | None:
    at = text.find(_JSON_START)
    if at < 0:
        return None
    try:
        body, _ = json.JSONDecoder().raw_decode(text, at + len(_JSON_START))
    except ValueError:
        return None
    cached = body.get("cachedValue") if isinstance(body, dict) else None
    summary = cached.get("summary") if isinstance(cached, dict) else None
    return summary if isinstance(summary, dict) else None


def _overall(summary: dict[str, Any], name: str) -> dict[str, Any]:
    section = summary.get(name)
    overall = section.get("overall") if isinstance(section, dict) else None
    return overall if isinstance(overall, dict) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _from_json(summary: dict[str, Any]) -> dict[str, Any]:
    prs, builds = _overall(summary, "pullrequest"), _overall(summary, "build")
    reviews = _overall(summary, "review")
    found = prs.get("details")
    details: dict[str, Any] = found if isinstance(found, dict) else {}
    pr_count = _int(prs.get("count")) or _int(details.get("total"))
    updated = [
        str(o["lastUpdated"])
        for o in (_overall(summary, s) for s in _SECTIONS)
        if isinstance(o.get("lastUpdated"), str)
    ]
    return {
        "pullRequests": {
            "count": pr_count,
            "state": prs.get("state") if pr_count else None,
            "open": _int(details.get("openCount")),
            "merged": _int(details.get("mergedCount")),
            "declined": _int(details.get("declinedCount")),
        },
        "builds": {
            "count": _int(builds.get("count")),
            "successful": _int(builds.get("successfulBuildCount")),
            "failed": _int(builds.get("failedBuildCount")),
            "unknown": _int(builds.get("unknownBuildCount")),
        },
        "reviews": {"count": _int(reviews.get("count")), "state": reviews.get("state")},
        "commits": _int(_overall(summary, "repository").get("count")),
        "branches": _int(_overall(summary, "branch").get("count")),
        "deployments": _int(_overall(summary, "deployment-environment").get("count")),
        "lastUpdated": max(updated) if updated else None,
    }


def _bean_section(text: str, name: str) -> str:
    """The text of one ``name=...SummaryItemBean@..[...]`` section, up to the next one."""
    match = re.search(rf"(?:[{{,]\s*){re.escape(name)}=", text)
    if not match:
        return ""
    following = [
        m.start()
        for other in _SECTIONS
        if other != name
        for m in re.finditer(rf"[{{,]\s*{re.escape(other)}=", text)
        if m.start() > match.start()
    ]
    return text[match.end() : min(following, default=len(text))]


def _bean_int(section: str, name: str) -> int:
    match = re.search(r"(?:^|[\[{,\s])" + re.escape(name) + r"=(\d+)", section)
    return int(match.group(1)) if match else 0


def _from_bean(text: str) -> dict[str, Any]:
    prs, builds = _bean_section(text, "pullrequest"), _bean_section(text, "build")
    reviews = _bean_section(text, "review")
    pr_count = _bean_int(prs, "stateCount")
    state = re.search(r"state='?([A-Z_]+)'?", prs)
    review_state = re.search(r"state=([A-Z_]+)", reviews)
    development = empty_development()
    development["pullRequests"] = {
        "count": pr_count,
        "state": state.group(1) if state and pr_count else None,
        "open": _bean_int(prs, "openCount"),
        "merged": _bean_int(prs, "mergedCount"),
        "declined": _bean_int(prs, "declinedCount"),
    }
    development["builds"] = {
        "count": _bean_int(builds, "count"),
        "successful": _bean_int(builds, "successfulBuildCount"),
        "failed": _bean_int(builds, "failedBuildCount"),
        "unknown": _bean_int(builds, "unknownBuildCount"),
    }
    development["reviews"] = {
        "count": _bean_int(reviews, "count"),
        "state": review_state.group(1) if review_state else None,
    }
    development["commits"] = _bean_int(_bean_section(text, "repository"), "count")
    development["branches"] = _bean_int(_bean_section(text, "branch"), "count")
    development["deployments"] = _bean_int(_bean_section(text, "deployment-environment"), "count")
    return development


def dev_summary_field_ids(fields: list[dict[str, Any]]) -> list[str]:
    """The ids of the Development summary fields in ``/rest/api/2/field``."""
    return [
        str(f.get("id"))
        for f in fields
        if isinstance(f.get("schema"), dict) and f["schema"].get("custom") == DEV_SUMMARY_SCHEMA
    ]
