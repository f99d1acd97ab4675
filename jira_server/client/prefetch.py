"""How far issue fetching runs ahead of the framework.

Fetching further ahead than the consumer needs only parks pages in memory: with Ocean
mapping ~1,000 issues a second and Jira serving a page in ~0.1 s, one or two pages ahead
keep the sync from ever waiting, while a fast consumer (or none) should get every allowed
request slot. The window therefore grows when the consumer had to wait for the next page and
shrinks when that page was already there.
"""

from __future__ import annotations

MIN_AHEAD = 2


class PrefetchWindow:
    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.size = min(MIN_AHEAD, self.limit)  # grows as soon as the consumer waits

    def record(self, consumer_waited: bool) -> None:
        if consumer_waited:
            self.size = min(self.limit, self.size + 1)
        else:
            self.size = max(min(MIN_AHEAD, self.limit), self.size - 1)
