"""Static Jira reference data: statuses, issue types, priorities, resolutions, custom fields.

Ids, names and icon paths follow a stock Jira Software Data Center install, so rendered
objects look like the captured fixtures (e.g. status 10000 "To Do" in category 2 "new").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Named(Protocol):
    """A catalogue entry looked up by id or name (status, issue type, priority ...)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class StatusCategory:
    id: int
    key: str
    name: str
    color: str


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    description: str
    icon: str
    category: StatusCategory


@dataclass(frozen=True)
class IssueType:
    id: str
    name: str
    description: str
    icon: str
    subtask: bool
    avatar_id: int


@dataclass(frozen=True)
class Priority:
    id: str
    name: str
    icon: str


@dataclass(frozen=True)
class Resolution:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class CustomField:
    id: str
    name: str
    schema_type: str
    custom: str
    items: str | None = None


NEW = StatusCategory(2, "new", "To Do", "blue-gray")
IN_PROGRESS = StatusCategory(4, "indeterminate", "In Progress", "yellow")
DONE = StatusCategory(3, "done", "Done", "green")
STATUS_CATEGORIES = (NEW, IN_PROGRESS, DONE)

STATUSES: tuple[Status, ...] = (
    Status("10000", "To Do", "", "/", NEW),
    Status(
        "1",
        "Open",
        "The issue is open and ready for the assignee to start work on it.",
        "/images/icons/statuses/open.png",
        NEW,
    ),
    Status(
        "4",
        "Reopened",
        "This issue was once resolved, but the resolution was deemed incorrect. From here issues "
        "are either marked assigned or resolved.",
        "/images/icons/statuses/reopened.png",
        NEW,
    ),
    Status(
        "3",
        "In Progress",
        "This issue is being actively worked on at the moment by the assignee.",
        "/images/icons/statuses/inprogress.png",
        IN_PROGRESS,
    ),
    Status("10001", "In Review", "", "/images/icons/statuses/generic.png", IN_PROGRESS),
    Status(
        "5",
        "Resolved",
        "A resolution has been taken, and it is awaiting verification by reporter. From here "
        "issues are either reopened, or are closed.",
        "/images/icons/statuses/resolved.png",
        DONE,
    ),
    Status(
        "6",
        "Closed",
        "The issue is considered finished, the resolution is correct. Issues which are closed "
        "can be reopened.",
        "/images/icons/statuses/closed.png",
        DONE,
    ),
    Status("10002", "Done", "", "/", DONE),
)
STATUS_TODO, STATUS_OPEN, STATUS_REOPENED, STATUS_IN_PROGRESS, STATUS_IN_REVIEW = range(5)
STATUS_RESOLVED, STATUS_CLOSED, STATUS_DONE = 5, 6, 7

ISSUE_TYPES: tuple[IssueType, ...] = (
    IssueType(
        "10000",
        "Epic",
        "Created by Jira Software - do not edit or delete. Issue type for a big user story "
        "that needs to be broken down.",
        "/images/icons/issuetypes/epic.svg",
        False,
        10307,
    ),
    IssueType(
        "10001",
        "Story",
        "Created by Jira Software - do not edit or delete. Issue type for a user story.",
        "/images/icons/issuetypes/story.svg",
        False,
        10315,
    ),
    IssueType("3", "Task", "A task that needs to be done.", "", False, 10318),
    IssueType(
        "1",
        "Bug",
        "A problem which impairs or prevents the functions of the product.",
        "",
        False,
        10303,
    ),
    IssueType(
        "4",
        "Improvement",
        "An improvement or enhancement to an existing feature or task.",
        "",
        False,
        10310,
    ),
    IssueType("5", "Sub-task", "The sub-task of the issue", "", True, 10316),
    IssueType("10002", "Technical Sub-task", "A technical sub-task.", "", True, 10316),
)
TYPE_EPIC, TYPE_STORY, TYPE_TASK, TYPE_BUG, TYPE_IMPROVEMENT, TYPE_SUBTASK, TYPE_TECH_SUBTASK = (
    range(7)
)

PRIORITIES: tuple[Priority, ...] = (
    Priority("1", "Highest", "/images/icons/priorities/highest.svg"),
    Priority("2", "High", "/images/icons/priorities/high.svg"),
    Priority("3", "Medium", "/images/icons/priorities/medium.svg"),
    Priority("4", "Low", "/images/icons/priorities/low.svg"),
    Priority("5", "Lowest", "/images/icons/priorities/lowest.svg"),
)
PRIORITY_MEDIUM = 2

RESOLUTIONS: tuple[Resolution, ...] = (
    Resolution("1", "Fixed", "A fix for this issue is checked in and tested."),
    Resolution("2", "Won't Fix", "The problem described is an issue which will never be fixed."),
    Resolution("3", "Duplicate", "The problem is a duplicate of an existing issue."),
    Resolution(
        "5",
        "Cannot Reproduce",
        "All attempts at reproducing this issue failed, or not enough information was "
        "available to reproduce the issue.",
    ),
    Resolution("10000", "Done", "Work has been completed on this issue."),
)

# Custom fields as a Jira Software install with a few apps has them: most are null on most
# issues, which is exactly what makes `*all` payloads large and mostly useless.
_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
_GH = "com.pyxis.greenhopper.jira:"
CUSTOM_FIELDS: tuple[CustomField, ...] = (
    CustomField(
        "customfield_10000",
        "Development",
        "any",
        "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf",
    ),
    CustomField("customfield_10100", "Rank", "any", _GH + "gh-lexo-rank"),
    CustomField("customfield_10101", "Sprint", "array", _GH + "gh-sprint", "string"),
    CustomField("customfield_10102", "Epic Link", "any", _GH + "gh-epic-link"),
    CustomField("customfield_10103", "Epic Status", "option", _GH + "gh-epic-status"),
    CustomField("customfield_10104", "Epic Name", "string", _GH + "gh-epic-label"),
    CustomField("customfield_10105", "Epic Colour", "string", _GH + "gh-epic-color"),
    CustomField("customfield_10106", "Story Points", "number", _CF + "float"),
    CustomField("customfield_10107", "Flagged", "array", _CF + "multicheckboxes", "option"),
    CustomField("customfield_10108", "Team", "option", _CF + "select"),
    CustomField("customfield_10109", "Start date", "date", _CF + "datepicker"),
    CustomField("customfield_10110", "Target end", "date", _CF + "datepicker"),
    CustomField("customfield_10111", "Business Value", "number", _CF + "float"),
    CustomField("customfield_10112", "Severity", "option", _CF + "select"),
    CustomField("customfield_10113", "Customer", "string", _CF + "textfield"),
    CustomField("customfield_10114", "Acceptance Criteria", "string", _CF + "textarea"),
    CustomField("customfield_10115", "Release Notes", "string", _CF + "textarea"),
    CustomField("customfield_10116", "External ID", "string", _CF + "textfield"),
    CustomField("customfield_10117", "Approvers", "array", _CF + "multiuserpicker", "user"),
    CustomField("customfield_10118", "Reviewer", "user", _CF + "userpicker"),
    CustomField("customfield_10119", "Platforms", "array", _CF + "multiselect", "option"),
    CustomField("customfield_10120", "Due Time", "datetime", _CF + "datetime"),
    CustomField("customfield_10121", "Root Cause", "string", _CF + "textarea"),
    CustomField("customfield_10122", "Git Branch", "string", _CF + "textfield"),
    CustomField("customfield_10123", "Test Plan", "string", _CF + "url"),
    CustomField("customfield_10124", "Regression", "option", _CF + "radiobuttons"),
    CustomField("customfield_10125", "Original Story Points", "number", _CF + "float"),
    CustomField("customfield_10126", "Cost Center", "string", _CF + "textfield"),
    CustomField("customfield_10127", "Affected Customers", "number", _CF + "float"),
    CustomField("customfield_10128", "Labels (legacy)", "array", _CF + "labels", "string"),
    CustomField(
        "customfield_10129", "Parent Link", "any", "com.atlassian.jpo:jpo-custom-field-parent"
    ),
)

TEAMS = ("Platform", "Payments", "Mobile", "Data", "Identity", "Growth")
SEVERITIES = ("S1 - Critical", "S2 - Major", "S3 - Minor", "S4 - Trivial")
PLATFORMS = ("Linux", "Windows", "macOS", "iOS", "Android")
ENVIRONMENTS = ("Production", "Staging", "QA cluster eu-west-1", "Chrome 124 on Windows 11")

LABELS = (
    "backend",
    "frontend",
    "tech-debt",
    "customer",
    "security",
    "performance",
    "ux",
    "infra",
    "flaky-test",
    "regression",
    "documentation",
    "q3-goal",
    "migration",
    "api",
)

SUMMARY_VERBS = (
    "Fix",
    "Add",
    "Remove",
    "Refactor",
    "Investigate",
    "Update",
    "Improve",
    "Document",
    "Migrate",
    "Support",
    "Validate",
    "Cache",
)
SUMMARY_OBJECTS = (
    "login flow",
    "payment webhook",
    "search index",
    "user avatar upload",
    "REST client retries",
    "CSV export",
    "dashboard widgets",
    "session timeout",
    "audit log",
    "notification emails",
    "rate limiter",
    "SSO configuration",
    "mobile push tokens",
    "report scheduler",
    "billing invoices",
    "feature flags",
    "database connection pool",
    "the onboarding wizard",
    "release pipeline",
    "permission checks",
)
SUMMARY_TAILS = (
    "",
    " for large tenants",
    " on Safari",
    " after upgrade to 9.12",
    " when the cache is cold",
    " in the EU region",
    " (follow-up)",
    " - part 2",
    " for Müller GmbH",
    ", again",
)

PARAGRAPHS = (
    "Steps to reproduce: open the page, wait for the spinner to disappear and click the "
    "primary button twice. The second click is ignored and the request is never sent.",
    "Expected result: the operation completes within two seconds and the user sees a "
    "confirmation. Actual result: a generic error banner and a 500 in the server log.",
    "This has been reported by three customers this week. It looks related to the change "
    "in connection pooling we shipped in the last release, but nobody has confirmed it yet.",
    "Acceptance criteria:\n* the endpoint returns 200 for valid input\n* invalid input gives "
    "400 with a field-level message\n* the change is covered by an integration test",
    "We should measure before optimising. A flame graph from staging shows most of the time "
    "spent serialising the response, not in the database query itself.",
    "The current behaviour is documented nowhere, so we need to decide what is correct "
    "first. See the discussion in the architecture channel and the linked design doc.",
    "Rollout plan: ship behind a feature flag, enable for internal users, watch error rates "
    "for a day, then enable for 10%, 50% and 100% of tenants.",
    "Logs attached. Note the timestamps: the retry happens before the timeout elapses, which "
    "suggests the client and the load balancer disagree about idle connection lifetime.",
    "Out of scope: the legacy XML export, which is scheduled for removal next quarter, and "
    "any change to the public API contract.",
    "Dependencies: this needs the new schema migration to be deployed first; otherwise the "
    "background job fails on the missing column and keeps retrying.",
    "Customer impact is limited to tenants with more than 10,000 users, roughly 2% of the "
    "fleet, but they are the ones with premium support contracts.",
    "Tried on Firefox, Chrome and Edge; only Safari is affected. The console shows a CORS "
    "preflight failure for the avatar CDN.",
    "Café menu descriptions with accents (é, ü, ñ) are rendered as question marks in the "
    "PDF export; the font embedding is probably missing a glyph subset.",
    "Security review requested: the token is currently logged at debug level, which must "
    "never reach production log aggregation.",
    "Performance budget: p95 below 300 ms for the list endpoint at 50 requests per second "
    "with a warm cache and below 800 ms cold.",
    "The fix is a one-liner but the test setup is not: we need a fake clock to reproduce the "
    "daylight-saving transition deterministically.",
)

COMMENT_SENTENCES = (
    "I can reproduce this on staging.",
    "Could you attach the full stack trace?",
    "Fixed in the latest build, please verify.",
    "This is blocked by the infrastructure ticket.",
    "Moving to the next sprint, we ran out of capacity.",
    "Discussed in planning: we keep the current behaviour for now.",
    "The PR is up for review, feedback welcome.",
    "Verified on production, closing.",
    "Reopening: the problem is back after the rollback.",
    "Adding the customer to watchers as requested.",
    "Root cause was a missing index on the audit table.",
    "Thanks! That workaround works for us.",
    "Deployed to QA, waiting for the regression suite.",
    "Can we split this into two smaller stories?",
    "Duplicate of the issue reported last month, linking both.",
    "Estimate looks optimistic, I'd say three days rather than one.",
)

FIRST_NAMES = (
    "Alice",
    "Bob",
    "Carol",
    "David",
    "Eve",
    "Frank",
    "Grace",
    "Heidi",
    "Ivan",
    "Judy",
    "Mallory",
    "Niaj",
    "Olivia",
    "Peggy",
    "Rupert",
    "Sybil",
    "Trent",
    "Victor",
    "Walter",
    "Zoë",
    "José",
    "Mei",
    "Anika",
    "Lars",
    "Fatima",
    "Kenji",
    "Priya",
    "Tomasz",
    "Ingrid",
    "Omar",
)
LAST_NAMES = (
    "Anderson",
    "Brown",
    "Chen",
    "Dubois",
    "Evans",
    "Fischer",
    "García",
    "Hansen",
    "Ivanova",
    "Jones",
    "Kowalski",
    "Lopez",
    "Müller",
    "Nakamura",
    "O'Brien",
    "Patel",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Young",
    "Zimmermann",
)
TIME_ZONES = (
    "Etc/UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "ja_JP", "en_AU")

PROJECT_WORDS = (
    ("PLAT", "Platform"),
    ("WEB", "Web Frontend"),
    ("API", "Public API"),
    ("OPS", "Operations"),
    ("MOB", "Mobile Apps"),
    ("DATA", "Data Pipeline"),
    ("SEC", "Security"),
    ("PAY", "Payments"),
    ("ID", "Identity"),
    ("DOC", "Documentation"),
    ("QA", "Quality Assurance"),
    ("INFRA", "Infrastructure"),
    ("GROW", "Growth Experiments"),
    ("SUP", "Customer Support"),
    ("HR", "People Team"),
    ("MKT", "Marketing Site"),
    ("BILL", "Billing"),
    ("SRCH", "Search"),
    ("NOTIF", "Notifications"),
    ("LEGAL", "Legal Requests"),
)
COMPONENT_NAMES = (
    "Backend",
    "Frontend",
    "Database",
    "Auth",
    "CI",
    "Docs",
    "Reporting",
    "Integrations",
    "Notifications",
    "Admin UI",
)
