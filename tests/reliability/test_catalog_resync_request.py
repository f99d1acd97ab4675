"""The local catalog's resync request (what Port's "Resync" button sets), which the soak
uses to drive a POLLING ``ocean sail``: the framework reads it from
``GET /v1/integration/{id}/resync-request`` and resyncs when its ``updatedAt`` moves."""

from __future__ import annotations

import itertools

import httpx

from local_stack.catalog import create_app


async def test_resync_request_is_set_and_moves() -> None:
    app = create_app(":memory:")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://catalog.test"
    ) as http:
        token = (
            await http.post("/v1/auth/access_token", json={"clientId": "a", "clientSecret": "b"})
        ).json()["accessToken"]
        api = {"Authorization": f"Bearer {token}"}
        created = await http.post("/v1/integration", json={"installationId": "jira"}, headers=api)
        assert created.status_code == 200

        read = await http.get("/v1/integration/jira/resync-request", headers=api)
        assert read.json()["request"] is None  # nothing requested yet: no resync

        stamps = [
            (await http.post("/_catalog/integrations/jira/resync-request")).json()["request"]
            for _ in range(5)
        ]  # within a few milliseconds: each one still strictly later
        assert all(a["updatedAt"] < b["updatedAt"] for a, b in itertools.pairwise(stamps))
        second = stamps[-1]
        read = await http.get("/v1/integration/jira/resync-request", headers=api)
        assert read.json()["request"] == second

        missing = await http.post("/_catalog/integrations/nope/resync-request")
        assert missing.status_code == 404
