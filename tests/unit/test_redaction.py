"""Secrets are masked in every form the project writes them, whatever their length."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus, urlencode

import pytest
from loguru import logger

from jira_server import framework
from jira_server.redaction import REDACTED, Redactor
from jira_server.settings import load_settings

SECRET = 'w3b/h00k s3cret+&="x'


@pytest.mark.parametrize(
    "form",
    [
        SECRET,
        quote(SECRET, safe=""),
        quote_plus(SECRET),
        urlencode({"token": SECRET}).split("=", 1)[1],
        json.dumps(SECRET)[1:-1],
    ],
)
def test_every_encoding_is_masked(form: str) -> None:
    text = f"registered https://sync.example/integration/webhook?token={form} for you"
    assert form not in Redactor([SECRET])(text)


def test_basic_credentials_are_masked_as_sent() -> None:
    settings = load_settings(
        {"jira_server_host": "https://j.example", "username": "bot", "password": "pw"}
    )
    header = base64.b64encode(b"bot:pw").decode()
    redact = Redactor(settings.secrets)
    assert header not in redact(f"Authorization: Basic {header}")
    assert header not in redact(f"echoed {header}")


def test_short_secrets_are_masked_too() -> None:
    assert Redactor(["pw"])("user=bot password=pw") == f"user=bot password={REDACTED}"


def test_a_secret_containing_another_is_masked_whole() -> None:
    redact = Redactor(["abc", "abcdef"])
    assert redact("x abcdef y") == f"x {REDACTED} y"


def test_every_log_record_is_redacted_before_any_handler() -> None:
    lines: list[str] = []
    # diagnose=False as the framework's handlers (variable values are never printed).
    sink = logger.add(lambda m: lines.append(str(m)), format="{message}", diagnose=False)
    try:
        framework.redact_every_log_record(Redactor([SECRET]))
        logger.info(f"the framework logged {quote_plus(SECRET)} in a URL")
        try:
            raise RuntimeError(f"failed with {SECRET}")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.remove(sink)
        framework.redact_every_log_record(lambda text: text)
    output = "".join(lines)
    assert quote_plus(SECRET) not in output and SECRET not in output
    assert output.count(REDACTED) >= 2
