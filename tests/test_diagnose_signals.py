"""What a gateway says about its error in headers: Proxy-Status, Envoy, Cloudflare, ALB, Age.

Pure data: each test builds the response a vendor documents (or the lab's gateway sends)
and checks the verdict reads the header, not the page.
"""

from __future__ import annotations

import pytest

from diagnose_factory import gateway_error, response
from gatewatch.diagnose import annotate, diagnose
from gatewatch.diagnose.advice import KIND_CAUSE
from gatewatch.diagnose.consistent import contradictions
from gatewatch.diagnose.proxy_status import ERROR_KINDS, kind_of, read_proxy_status
from gatewatch.diagnose.signals import CLOUDFLARE_CODES, ENVOY_FLAGS
from gatewatch.diagnose.structured import Item, StructuredError, Token, parse_list
from gatewatch.monitor.state import assess

#: Every error type of RFC 9209 §2.3, and the kind the issue's table asks for.
RFC_9209 = {
    "dns_timeout": "upstream_dns", "dns_error": "upstream_dns",
    "destination_not_found": "gateway_misconfigured",
    "destination_unavailable": "no_healthy_upstream",
    "destination_ip_prohibited": "gateway_misconfigured",
    "destination_ip_unroutable": "upstream_refused",
    "connection_refused": "upstream_refused", "connection_terminated": "upstream_closed",
    "connection_timeout": "upstream_timeout", "connection_read_timeout": "upstream_timeout",
    "connection_write_timeout": "upstream_timeout",
    "connection_limit_reached": "gateway_overloaded",
    "tls_protocol_error": "upstream_tls", "tls_certificate_error": "upstream_tls",
    "tls_alert_received": "upstream_tls",
    "http_request_error": "gateway_error", "http_request_denied": "waf_block",
    "http_response_incomplete": "upstream_invalid_response",
    "http_response_header_section_size": "upstream_invalid_response",
    "http_response_header_size": "upstream_invalid_response",
    "http_response_body_size": "upstream_invalid_response",
    "http_response_trailer_section_size": "upstream_invalid_response",
    "http_response_trailer_size": "upstream_invalid_response",
    "http_response_transfer_coding": "upstream_invalid_response",
    "http_response_content_coding": "upstream_invalid_response",
    "http_response_timeout": "upstream_timeout",
    "http_upgrade_failed": "upstream_invalid_response",
    "http_protocol_error": "upstream_invalid_response",
    "proxy_internal_response": "gateway_error", "proxy_internal_error": "gateway_error",
    "proxy_configuration_error": "gateway_misconfigured",
    "proxy_loop_detected": "gateway_misconfigured",
}  # fmt: skip


# --------------------------------------------------------------------------- RFC 8941


def test_structured_list_parses_members_parameters_and_inner_lists() -> None:
    parsed = parse_list('edge; error=dns_timeout; details="a \\"b\\"", "cdn";x=1.5, (a b);y=?1')
    assert parsed[0] == Item(
        Token("edge"), (("error", Token("dns_timeout")), ("details", 'a "b"'))
    )
    assert parsed[1] == Item("cdn", (("x", 1.5),))
    assert parsed[2].value == (Item(Token("a")), Item(Token("b"))) and parsed[2].param("y") is True


@pytest.mark.parametrize(
    "bad",
    ['edge; error="unterminated', "edge,", "edge; Error=x", "edge;;", '"\x07"', "1.2345", "a b"],
)
def test_malformed_fields_fail_whole(bad: str) -> None:
    with pytest.raises(StructuredError):
        parse_list(bad)


@pytest.mark.parametrize(("error", "kind"), sorted(RFC_9209.items()))
def test_every_rfc_9209_error_type_maps_to_a_kind(error: str, kind: str) -> None:
    assert kind_of(error) == kind
    assert kind in KIND_CAUSE


def test_the_table_holds_nothing_else() -> None:
    assert all(kind_of(k.rstrip("*") + ("x" if k.endswith("*") else "")) for k in ERROR_KINDS)
    assert kind_of("made_up_error") is None


def test_proxy_status_outranks_the_page_and_quotes_details() -> None:
    page = response(
        502,
        "Bad Gateway",
        [("Server", "nginx"), ("Content-Type", "text/html"),
         ("Proxy-Status", 'cdn.example; received-status=502, '
                          'edgeproxy; error=connection_refused; details="connect() failed (111)"')],
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
        "</h1></center><hr><center>nginx</center></body></html>",
    )  # fmt: skip
    verdict = diagnose(gateway_error(page))
    assert (verdict.generator, verdict.kind, verdict.cause) == (
        "edgeproxy", "upstream_refused", "backend")  # fmt: skip
    assert verdict.confidence >= 0.85
    assert any('details: "connect() failed (111)"' in line for line in verdict.evidence)


def test_a_broken_proxy_status_is_ignored_not_half_read() -> None:
    page = response(502, "Bad Gateway", [("Proxy-Status", "edge; error=")], "")
    assert read_proxy_status(page) is None


# --------------------------------------------------------------------------- Envoy


def test_envoy_ratelimited_on_429() -> None:
    headers = [("server", "envoy"), ("x-envoy-ratelimited", "true")]
    page = response(429, "Too Many Requests", headers)
    verdict = diagnose(gateway_error(page))
    assert (verdict.generator, verdict.kind, verdict.cause) == ("envoy", "rate_limited", "overload")


@pytest.mark.parametrize(
    ("flag", "kind"),
    [("NR", "no_route"), ("UH", "no_healthy_upstream"), ("UT", "upstream_timeout"),
     ("UC", "upstream_closed"), ("DF", "upstream_dns"), ("OM", "gateway_overloaded"),
     ("DO", "gateway_overloaded"), ("UF", "upstream_failed"), ("URX", "upstream_failed")],
)  # fmt: skip
def test_envoy_response_flags(flag: str, kind: str) -> None:
    status = 404 if flag == "NR" else 503
    page = response(status, "x", [("server", "envoy"), ("x-envoy-response-flags", flag)], "")
    verdict = diagnose(gateway_error(page))
    assert (verdict.generator, verdict.kind) == ("envoy", kind), verdict
    if ENVOY_FLAGS[flag].candidates:
        assert any("could be" in line for line in verdict.evidence)


def test_envoy_flags_in_proxy_status_details() -> None:
    value = 'envoy; error=destination_unavailable; details="upstream_reset_before_response; UH"'
    page = response(503, "Service Unavailable", [("server", "envoy"), ("proxy-status", value)])
    verdict = diagnose(gateway_error(page))
    assert (verdict.generator, verdict.kind) == ("envoy", "no_healthy_upstream")


def test_no_route_is_a_proxy_problem() -> None:
    page = response(404, "Not Found", [("server", "envoy"), ("x-envoy-response-flags", "NR")])
    verdict = diagnose(gateway_error(page))
    assert verdict.cause == "proxy" and verdict.kind == "no_route"


# --------------------------------------------------------------------------- Cloudflare


def _cloudflare(status: int, code: str, *extra: tuple[str, str]) -> str:
    return f"<html><body><h1>Error {code}</h1><p>Ray ID: 8a1b</p></body></html>"


@pytest.mark.parametrize("code", sorted(CLOUDFLARE_CODES))
def test_cloudflare_codes(code: str) -> None:
    headers = [("Server", "cloudflare"), ("CF-RAY", "8a1b-AMS"), ("cf-error-type", "error")]
    page = response(530 if code != "1015" else 429, "x", headers, _cloudflare(530, code))
    verdict = diagnose(gateway_error(page))
    assert (verdict.generator, verdict.kind) == ("cloudflare", CLOUDFLARE_CODES[code].kind)
    assert any("Cloudflare generated this error itself" in line for line in verdict.evidence)


def test_tunnel_down_is_not_a_refused_origin() -> None:
    page = response(530, "x", [("Server", "cloudflare"), ("CF-RAY", "1")], "error code: 1033")
    verdict = diagnose(gateway_error(page))
    assert verdict.kind == "tunnel_down" and "cloudflared" in " ".join(verdict.next_steps)


@pytest.mark.parametrize(
    ("headers", "body", "kind"),
    [([("cf-mitigated", "challenge")], "<title>Just a moment...</title>", "challenge"),
     ([], "<h1>Error 1020</h1> Access denied", "waf_block")],
)  # fmt: skip
def test_challenge_and_waf_block_are_blocked_and_degraded_never_down(
    headers: list[tuple[str, str]], body: str, kind: str
) -> None:
    page = response(403, "Forbidden", [("Server", "cloudflare"), ("CF-RAY", "1"), *headers], body)
    probe = gateway_error(page)
    verdict = diagnose(probe)
    assert (verdict.cause, verdict.kind, verdict.generator) == ("blocked", kind, "cloudflare")
    assert verdict.hop == "upstream"
    assert assess(probe.with_verdict(verdict)).health == "degraded"


# --------------------------------------------------------------------------- AWS ALB, caches


def _alb(status: int, reason: str) -> str:
    title = f"{status} {reason}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    )


@pytest.mark.parametrize(
    ("status", "kind"),
    [(460, "gateway_error"), (463, "gateway_misconfigured"), (561, "gateway_misconfigured"),
     (403, "waf_block"), (500, "gateway_error")],
)  # fmt: skip
def test_alb_own_codes(status: int, kind: str) -> None:
    page = response(status, "x", [("Server", "awselb/2.0")], _alb(status, "Whatever"))
    verdict = diagnose(gateway_error(page))
    assert (verdict.generator, verdict.kind) == ("aws-alb", kind), verdict


def test_alb_502_lists_the_causes_the_hints_missed() -> None:
    page = response(502, "Bad Gateway", [("Server", "awselb/2.0")], _alb(502, "Bad Gateway"))
    text = " ".join(diagnose(gateway_error(page)).evidence)
    for cause in ("deregistration delay", "over 1 MB", "Content-Length larger"):
        assert cause in text


def test_a_cached_error_may_be_stale() -> None:
    page = response(502, "Bad Gateway", [("Server", "awselb/2.0"), ("Age", "7")],
                    _alb(502, "Bad Gateway"))  # fmt: skip
    verdict = diagnose(gateway_error(page))
    assert any(line.startswith("Age: 7: this error was served from a cache") for line in
               verdict.evidence)  # fmt: skip
    assert verdict.next_steps[0].startswith("This error came from a cache")


# --------------------------------------------------------------------------- no contradiction


_CF = [("Server", "cloudflare"), ("CF-RAY", "1")]


@pytest.mark.parametrize(
    ("status", "headers", "body", "kind"),
    [(403, [*_CF, ("cf-mitigated", "challenge")], "", "challenge"),
     (403, _CF, "Error 1020", "waf_block"),
     (530, _CF, "error code: 1033", "tunnel_down"),
     (404, [("server", "envoy"), ("x-envoy-response-flags", "NR")], "", "no_route"),
     (503, [("server", "envoy"), ("x-envoy-response-flags", "OM")], "", "gateway_overloaded"),
     (502, [("Proxy-Status", "lb; error=proxy_loop_detected")], "", "gateway_misconfigured")],
)  # fmt: skip
def test_new_kinds_never_contradict_the_hop_strip(
    status: int, headers: list[tuple[str, str]], body: str, kind: str
) -> None:
    annotated = annotate(gateway_error(response(status, "x", headers, body)))
    assert annotated.verdict is not None and annotated.verdict.kind == kind
    assert contradictions(annotated) == []
