"""Server text is untrusted: diagnosis never crashes on it, quotes it verbatim, caps it.

Making control characters visible is the renderer's job (gatewatch.text); diagnose keeps
the text as sent so the evidence stays checkable, but never lets it grow without bound.
"""

from __future__ import annotations

import pytest

import gateway_pages as pages
from diagnose_factory import gateway_error, ok, origin_failing, response, result
from gatewatch.diagnose import annotate, diagnose, identify
from gatewatch.diagnose.context import LINE_LIMIT
from gatewatch.model import ProbeResult, Verdict, result_to_json
from gatewatch.report import render_result
from gatewatch.text import dumps

HOSTILE = [
    "[/]",
    "[bold red]x[/]",
    "\x1b]0;pwned\x07",
    "\x1b[2J\x9b31m\x7f",
    "\x00\ufffd",
    "moc.\u202eknab \x9b6n \u2066x\u200b",  # bidi override, C1 CSI, isolate, zero width
]


def _check(verdict: Verdict) -> None:
    assert verdict.summary and "\n" not in verdict.summary
    for line in verdict.evidence:
        assert len(line) <= LINE_LIMIT
        assert "\n" not in line and "\r" not in line


def _probes(text: str) -> list[ProbeResult]:
    long = text * 4000
    return [
        gateway_error(
            response(
                502, text, [("Server", text), ("Content-Type", "text/html")], f"<h1>{text}</h1>"
            )
        ),
        gateway_error(
            response(
                502,
                "Bad Gateway",
                [("Server", "nginx/1.22.1"), ("Content-Type", "application/json")],
                '{"error": "' + long + '"}',
            )
        ),
        gateway_error(pages.kong(503, text), elapsed_ms=1.0),
        gateway_error(pages.apache_proxy_error(502, long)),
        gateway_error(pages.vercel(502, text)),
        gateway_error(
            pages.envoy(
                503,
                "upstream connect error or disconnect/reset before headers. reset reason: " + long,
            )
        ),
        gateway_error(
            response(503, "Service Unavailable", [("Server", "nginx"), ("Retry-After", long)], text)
        ),
        gateway_error(
            response(
                502,
                "Bad Gateway",
                [("CF-RAY", long), ("Server", "cloudflare")],
                pages.nginx_body(502),
            )
        ),
        result(
            fail="upstream",
            kind="upstream_invalid_response",
            error=long,
            details={"upstream": {"raw_head": long}},
        ),
        result(
            fail="tls",
            kind="hostname_mismatch",
            error=text,
            details={"tls": {"subject": long, "issuer": text, "sans": [long, text]}},
        ),
        result(
            fail="dns",
            kind="nxdomain",
            error=text,
            details={
                "dns": {
                    "resolvers": [
                        {"resolver": text, "addresses": [long], "error": None, "ms": 1.0},
                        "junk",
                        None,
                    ]
                }
            },
        ),
        gateway_error(pages.nginx(502), origin=origin_failing("tcp", "refused", url=text)),
        ok(response(200, text, [(text, text)] * 3, long)),
    ]


@pytest.mark.parametrize("text", HOSTILE, ids=repr)
def test_hostile_text_never_crashes_and_is_capped(text: str) -> None:
    for probe in _probes(text):
        verdict = diagnose(probe)
        _check(verdict)
        annotated = annotate(probe)
        assert annotated.verdict == verdict


def test_quoted_text_is_kept_verbatim() -> None:
    hostile = "\x1b]0;pwned\x07[/]"
    page = response(502, "Bad Gateway", [("Server", hostile)], "{}")
    verdict = diagnose(gateway_error(page))
    assert any(hostile in line for line in verdict.evidence), verdict.evidence
    envoy = pages.envoy(503, pages.ENVOY_TERMINATION + hostile)
    verdict = diagnose(gateway_error(envoy))
    assert any(line.endswith("connection termination" + hostile + '"') for line in verdict.evidence)


def test_long_header_is_cut_with_an_ellipsis() -> None:
    found = identify(response(502, "Bad Gateway", [("Server", "x" * 10_000)], "ok"))
    line = next(line for line in found.evidence if line.startswith("Server: "))
    assert line.startswith("Server: " + "x" * 10) and "…" in line
    assert len(line) < 120


def test_detail_with_unexpected_types_does_not_crash() -> None:
    probe = ok(
        details={
            "tls": {"days_left": "soon", "sans": "not-a-list"},
            "upstream": {"first_byte_ms": "fast"},
        }
    )
    _check(diagnose(probe))
    odd = result(fail="upstream", kind=None, resp=None)
    _check(diagnose(odd))


RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\u200b")


@pytest.mark.parametrize("text", HOSTILE, ids=repr)
def test_hostile_text_reaches_no_output_raw(text: str) -> None:
    """The CLI's table and the JSON contract show every control and invisible character
    spelled out, wherever in the result it came from."""
    for probe in _probes(text):
        annotated = annotate(probe)
        for shown in (render_result(annotated), dumps(result_to_json(annotated), indent=2)):
            leaked = [f"U+{ord(c):04X}" for c in RAW if c in shown]
            assert leaked == [], shown
