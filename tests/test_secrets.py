"""The one redaction path: gatewatch.secrets.redact_url / redact_headers / redact_text."""

from __future__ import annotations

import pytest

from gatewatch.checklist.redact import Redactor
from gatewatch.secrets import (
    credentials_conflict,
    redact_headers,
    redact_text,
    redact_url,
)

SECRET_PARAMS = [
    "token",
    "access_token",
    "key",
    "api_key",
    "apikey",
    "sig",
    "signature",
    "secret",
    "password",
    "auth",
    "refresh_token",
    "client_key",
]


@pytest.mark.parametrize("name", SECRET_PARAMS)
def test_secret_query_parameters_are_masked(name: str) -> None:
    shown = redact_url(f"https://h.example/p?{name}=s3cr3t-value&page=2")
    assert shown == f"https://h.example/p?{name}=REDACTED&page=2"


@pytest.mark.parametrize("name", ["page", "q", "monkey", "keyboard", "sort"])
def test_harmless_parameters_are_kept(name: str) -> None:
    url = f"https://h.example/p?{name}=value"
    assert redact_url(url) == url


def test_userinfo_is_masked_and_redaction_is_idempotent() -> None:
    shown = redact_url("http://bob:hunter2@127.0.0.1:8080/health?token=t0k3n")
    assert shown == "http://REDACTED@127.0.0.1:8080/health?token=REDACTED"
    assert redact_url(shown) == shown
    assert redact_url("env:SHOP_URL") == "env:SHOP_URL"


def test_secret_headers_are_masked_references_kept() -> None:
    shown = redact_headers(
        {
            "Authorization": "Bearer abc",
            "Cookie": "sid=1",
            "Proxy-Authorization": "Basic eA==",
            "X-Api-Key": "k-123",
            "Accept": "*/*",
            "X-Token": "env:SHOP_TOKEN",
        }
    )
    assert shown == {
        "Authorization": "[REDACTED]",
        "Cookie": "[REDACTED]",
        "Proxy-Authorization": "[REDACTED]",
        "X-Api-Key": "[REDACTED]",
        "Accept": "*/*",
        "X-Token": "env:SHOP_TOKEN",
    }


def test_text_pass_masks_urls_and_header_lines() -> None:
    text = "GET https://u:p4ss@h/x?sig=abcd failed\nAuthorization: Bearer zzz\nhost:8443 ok"
    shown = redact_text(text)
    assert "p4ss" not in shown and "abcd" not in shown and "zzz" not in shown
    assert "host:8443 ok" in shown


def test_the_checklist_redactor_is_built_on_the_same_rules() -> None:
    url = "https://u:p4ss@h.example/p?api_key=k&q=1"
    assert Redactor().url(url) == redact_url(url)


def test_credentials_conflict() -> None:
    assert credentials_conflict("https://u:p@h/", [("Authorization", "env:T")])
    assert credentials_conflict("https://u:p@h/", [("authorization ", "x")])
    assert credentials_conflict("https://h/", [("Authorization", "env:T")]) is None
    assert credentials_conflict("https://u:p@h/", [("X-Api-Key", "k")]) is None
