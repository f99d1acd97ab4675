"""Writes are never sent twice once Jira may have acted on them (a retried create after a
502 or a dropped answer would duplicate the issue), and path segments are encoded."""

from __future__ import annotations

import json

import httpx
import pytest

from jira_server.client.rest_client import JiraServerClient
from jira_server.errors import JiraConnectionError, JiraResponseError
from jira_server.settings import load_settings

CREATED = {"id": "10001", "key": "PLAT-1", "self": "http://jira.test/rest/api/2/issue/10001"}


class Script:
    """A mock Jira answering from a list of outcomes, recording the requests."""

    def __init__(self, *outcomes: int | Exception) -> None:
        self.outcomes = list(outcomes)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        if outcome == 204:
            return httpx.Response(204)
        body = CREATED if outcome < 400 else {"errorMessages": ["busy"], "errors": {}}
        return httpx.Response(outcome, json=body)


def client_for(script: Script) -> JiraServerClient:
    async def no_sleep(_: float) -> None:
        return None

    settings = load_settings({"jira_server_host": "http://jira.test", "token": "t0ken-abcdef"})
    return JiraServerClient(settings, transport=httpx.MockTransport(script), sleep=no_sleep)


FIELDS = {"project": {"key": "PLAT"}, "issuetype": {"name": "Task"}, "summary": "x"}


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_create_is_not_retried_after_a_gateway_error(status: int) -> None:
    script = Script(status, 201)
    with pytest.raises(JiraResponseError, match=f"with {status}: busy"):
        await client_for(script).create_issue(FIELDS)
    assert len(script.requests) == 1


async def test_create_is_not_retried_after_a_dropped_answer() -> None:
    script = Script(httpx.RemoteProtocolError("peer closed connection"), 201)
    with pytest.raises(JiraConnectionError):
        await client_for(script).create_issue(FIELDS)
    assert len(script.requests) == 1


@pytest.mark.parametrize("first", [429, httpx.ConnectError("refused")], ids=["429", "connect"])
async def test_create_is_retried_when_jira_cannot_have_acted(first: int | Exception) -> None:
    script = Script(first, 201)
    created = await client_for(script).create_issue(FIELDS)
    assert created["key"] == "PLAT-1"
    assert len(script.requests) == 2
    assert json.loads(script.requests[-1].content) == {"fields": FIELDS}


async def test_reads_are_still_retried_after_a_gateway_error() -> None:
    script = Script(502, 200)
    await client_for(script).fetch_issue("PLAT-1")
    assert len(script.requests) == 2


async def test_transition_sends_the_id_and_accepts_204() -> None:
    script = Script(204)
    await client_for(script).transition_issue("PLAT-1", "31")
    [request] = script.requests
    assert request.url.path == "/rest/api/2/issue/PLAT-1/transitions"
    assert json.loads(request.content) == {"transition": {"id": "31"}}


async def test_issue_keys_are_one_encoded_path_segment() -> None:
    script = Script(201)
    await client_for(script).add_comment("../../x?y", "hi")
    [request] = script.requests
    assert request.url.raw_path == b"/rest/api/2/issue/..%2F..%2Fx%3Fy/comment"


async def test_reads_by_key_or_id_encode_it_as_one_path_segment_too() -> None:
    script = Script(200)
    client = client_for(script)
    await client.fetch_issue("../../x?y")
    await client.fetch_project("A/../B")
    assert [r.url.raw_path for r in script.requests] == [
        b"/rest/api/2/issue/..%2F..%2Fx%3Fy",
        b"/rest/api/2/project/A%2F..%2FB",
    ]
