"""X-Hub-Signature verification (Data Center 10+) and the URL token (9.x)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from jira_server.webhooks.signature import sign, signature_valid, token_valid

SECRET = "s3cr3t-for-tests"
BODY = b'{"webhookEvent":"jira:issue_updated","issue":{"id":"10001","key":"PLAT-1"}}'


def test_sign_is_hex_hmac_sha256_of_the_raw_body() -> None:
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY) == f"sha256={expected}"
    assert signature_valid(SECRET, BODY, sign(SECRET, BODY))


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "sha256=",
        sign(SECRET, BODY)[7:],  # no prefix
        "sha1=" + sign(SECRET, BODY)[7:],
        "sha512=" + sign(SECRET, BODY)[7:],
        sign(SECRET, BODY)[:-1],  # one digit short
        sign(SECRET, BODY) + "0",  # one digit long
        sign(SECRET, BODY)[:-1] + "g",  # not hex
        sign("another-secret", BODY),
        sign(SECRET, BODY + b" "),  # the body was altered after signing
        sign(SECRET, BODY).replace("sha256=", "sha256= "),
    ],
)
def test_rejects_missing_malformed_or_wrong_signatures(header: str | None) -> None:
    assert not signature_valid(SECRET, BODY, header)


def test_prefix_and_hex_case_and_surrounding_space_are_tolerated() -> None:
    digest = sign(SECRET, BODY)[7:]
    assert signature_valid(SECRET, BODY, f"SHA256={digest.upper()}")
    assert signature_valid(SECRET, BODY, f"  sha256={digest}\t")


def test_a_well_formed_signature_is_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr("jira_server.webhooks.signature.hmac.compare_digest", spy)
    wrong = "sha256=" + "0" * 64
    assert not signature_valid(SECRET, BODY, wrong)
    assert signature_valid(SECRET, BODY, sign(SECRET, BODY))
    assert token_valid(SECRET, SECRET)
    assert len(calls) == 3
    assert calls[0] == (sign(SECRET, BODY)[7:].encode(), b"0" * 64)


@pytest.mark.parametrize("token", [None, "", "s3cr3t", SECRET + "x", SECRET.upper(), "ü" + SECRET])
def test_token_must_equal_the_secret(token: str | None) -> None:
    assert not token_valid(SECRET, token)
    assert token_valid(SECRET, SECRET)
