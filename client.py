"""The Jira client the integration uses: one per event loop, built from the validated
settings. The client itself (HTTP layers, paging, Jira's quirks) is in jira_server/client."""

from jira_server.client.provider import current_settings, get_client
from jira_server.client.rest_client import JiraServerClient

__all__ = ["JiraServerClient", "current_settings", "get_client"]
