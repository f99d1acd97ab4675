"""Loaded at interpreter start (``PYTHONPATH`` points here) by the benchmark's baseline run:
the integration made to behave like Port's published jira-server integration
(port-labs/ocean, integrations/jira-server):

- the framework's own resync (``BaseIntegration.sync_raw_all``): its comparison with the
  catalog in sequential searches of 50 entities before each page's upserts, pages pushed
  one after another, its reconciliation;
- the framework's stock JQ processor (one jq run per expression and item, in a pool);
- issues read as that integration reads them: ``GET /rest/api/2/search`` with the JQL and
  ``startAt``, Jira's default page of 50 and its default (navigable) fields, one offset scan
  over the whole JQL until ``total``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from port_ocean.core.handlers.entity_processor.jq_entity_processor import JQEntityProcessor
from port_ocean.core.integrations.base import BaseIntegration
from port_ocean.utils import misc

from jira_server.kinds.issue import IssuePages
from jira_server.mapping.entity_processor import JointProgramEntityProcessor


async def offset_scan(
    self: IssuePages, jql: str | None = None
) -> AsyncIterator[list[dict[str, Any]]]:
    jql = self.resource.selector.jql if jql is None else jql
    start = 0
    while True:
        body = await self.client.request_json(
            "GET", "/search", params={"jql": jql, "startAt": start}
        )
        issues: list[dict[str, Any]] = body.get("issues") or []
        if not issues:
            return
        await self.enrich(issues)  # the same mapping input: the computed __ keys
        yield issues
        start += len(issues)
        if start >= int(body.get("total", 0)):
            return


_integration_class = misc.get_integration_class


def stock_integration_class(path: str) -> Any:
    found = _integration_class(path)
    if found is None:
        return None

    class StockSync(found):  # type: ignore[misc, valid-type]
        async def sync_raw_all(self, *args: Any, **kwargs: Any) -> bool:
            result: bool = await BaseIntegration.sync_raw_all(self, *args, **kwargs)
            return result

        async def sync_incremental(self, *args: Any, **kwargs: Any) -> None:
            await BaseIntegration.sync_incremental(self, *args, **kwargs)

    return StockSync


misc.get_integration_class = stock_integration_class
IssuePages.all = offset_scan  # type: ignore[method-assign]
JointProgramEntityProcessor.parse_items_sync = JQEntityProcessor.parse_items_sync  # type: ignore[method-assign]
JointProgramEntityProcessor.parse_items_async = JQEntityProcessor.parse_items_async  # type: ignore[method-assign]
