"""https:// spoken to a plain-HTTP port: diagnosed as such (not as a CA problem), and not
retried (TLS failures do not heal)."""

from __future__ import annotations

import asyncio

import pytest

from jira_server.client.rest_client import JiraServerClient
from jira_server.errors import JiraConnectionError
from jira_server.settings import load_settings


async def test_https_to_a_plain_http_port_names_the_setting() -> None:
    connections = 0

    async def plain_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.read(1024)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(plain_http, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = load_settings(
        {"jira_server_host": f"https://127.0.0.1:{port}", "token": "t0k3n", "max_retries": 3}
    )
    client = JiraServerClient(settings)
    try:
        with pytest.raises(JiraConnectionError) as caught:
            await client.fetch_myself()
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
    message = str(caught.value)
    assert "did not answer with TLS" in message and "http://" in message
    assert "jiraServerHost (OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST)" in message
    assert "caBundle" not in message
    assert connections == 1
