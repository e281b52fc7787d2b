"""gatewatch.diagnose: every rule over a realistic probe result.

Responses come from tests/gateway_pages.py (nginx/HAProxy: lab captures of gateways.md
§1; others: the vendor documents cited there). Results are built with diagnose_factory.
"""

from __future__ import annotations

import pytest

import gateway_pages as pages
from diagnose_factory import (
    gateway_error,
    history,
    ok,
    origin_failing,
    origin_ok,
    response,
    result,
)
from gatewatch.diagnose import RULES, diagnose
from gatewatch.diagnose.advice import SEED
from gatewatch.model import AddressResult, Hop, HopName, ProbeResult, Verdict


def _has(verdict: Verdict, text: str) -> bool:
    return any(text in line for line in verdict.evidence)


def _steps_mention(verdict: Verdict, text: str) -> bool:
    return any(text in step for step in verdict.next_steps)


# --------------------------------------------------------------------------- hops observed directly

HOP_KINDS: list[tuple[HopName, str, str]] = [
    ("dns", "nxdomain", "dns"),
    ("dns", "servfail", "dns"),
    ("dns", "no_answer", "dns"),
    ("dns", "timeout", "dns"),
    ("tcp", "refused", "network"),
    ("tcp", "connect_timeout", "network"),
    ("tcp", "unreachable", "network"),
    ("tcp", "reset", "network"),
    ("tls", "expired", "tls"),
    ("tls", "not_yet_valid", "tls"),
    ("tls", "self_signed", "tls"),
    ("tls", "unknown_ca", "tls"),
    ("tls", "hostname_mismatch", "tls"),
    ("tls", "handshake_failed", "tls"),
    ("tls", "handshake_timeout", "tls"),
    ("proxy", "proxy_refused", "proxy"),
    ("proxy", "proxy_auth_required", "proxy"),
    ("proxy", "proxy_tunnel_failed", "proxy"),
]


@pytest.mark.parametrize(("hop", "kind", "cause"), HOP_KINDS, ids=[k for _, k, _ in HOP_KINDS])
def test_failing_hop_maps_to_its_cause(hop: HopName, kind: str, cause: str) -> None:
    probe = result(
        fail=hop,
        kind=kind,
        error=f"{hop} said {kind}",
        proxy="http://proxy.corp:3128",
    )
    verdict = diagnose(probe)
    assert (verdict.cause, verdict.kind, verdict.hop) == (cause, kind, hop)
    assert verdict.confidence >= 0.9
    assert verdict.summary and verdict.evidence
    assert _has(verdict, f"{hop} said {kind}")
    assert verdict.next_steps[-1] == SEED[cause]
    assert len(verdict.next_steps) >= 2, "a kind-specific step before the seed advice"


def test_dns_failure_lists_each_resolver() -> None:
    resolvers = [
        {"resolver": "127.0.0.1:53", "addresses": [], "error": "NXDOMAIN", "ms": 1.2},
        {"resolver": "1.1.1.1:53", "addresses": [], "error": "NXDOMAIN", "ms": 9.8},
    ]
    probe = result(fail="dns", kind="nxdomain", details={"dns": {"resolvers": resolvers}})
    verdict = diagnose(probe)
    assert _has(verdict, "resolver 1.1.1.1:53: NXDOMAIN (10 ms)")
    assert _steps_mention(verdict, "dig shop.example A")


def test_tls_failure_quotes_the_certificate() -> None:
    verdict = diagnose(result(fail="tls", kind="hostname_mismatch", error="name mismatch"))
    assert _has(verdict, "SANs: shop.example, www.shop.example")
    assert _steps_mention(verdict, "SANs cover shop.example")


def test_gateway_down_while_origin_answers_is_still_the_gateway_hop() -> None:
    verdict = diagnose(result(fail="tcp", kind="refused", origin=origin_ok()))
    assert (verdict.cause, verdict.kind) == ("network", "refused")
    assert _has(verdict, "only the path through the gateway is broken")


# --------------------------------------------------------------------------- gateway pages


def test_nginx_502_alone_is_upstream_failed_with_candidates() -> None:
    verdict = diagnose(gateway_error(pages.nginx(502)))
    assert (verdict.cause, verdict.kind, verdict.hop, verdict.generator) == (
        "backend", "upstream_failed", "upstream", "nginx",
    )  # fmt: skip
    # Sure of the claim "one of these", which the evidence lists (bench/accuracy.py).
    assert verdict.confidence == 0.85
    assert _has(verdict, "Server: nginx/1.22.1; body is nginx's stock 502 page")
    assert _has(verdict, "upstream_refused, upstream_closed, upstream_invalid_response")
    assert _has(verdict, "an immediate error")
    assert _steps_mention(verdict, "Configure `origin`")
    assert _steps_mention(verdict, "connect() failed (111: Connection refused)")
    assert _steps_mention(verdict, "no live upstreams while connecting to upstream")


@pytest.mark.parametrize(
    ("elapsed_ms", "expected", "confidence"),
    [
        (60_012.0, "close to nginx's proxy_read_timeout / proxy_connect_timeout (60 s default)",
         0.95),
        (2003.0, "answered after 2003 ms, not near nginx's defaults", 0.9),
    ],
    ids=["60s-default", "2s-configured"],
)  # fmt: skip
def test_nginx_504_reads_elapsed_time(elapsed_ms: float, expected: str, confidence: float) -> None:
    verdict = diagnose(gateway_error(pages.nginx(504), elapsed_ms=elapsed_ms))
    assert (verdict.cause, verdict.kind, verdict.generator) == (
        "backend", "upstream_timeout", "nginx",
    )  # fmt: skip
    assert _has(verdict, expected)
    assert verdict.confidence == confidence
    assert _steps_mention(verdict, "upstream timed out (110: Connection timed out)")


def test_nginx_502_at_resolver_timeout_points_at_dns() -> None:
    verdict = diagnose(gateway_error(pages.nginx(502), elapsed_ms=30_050.0))
    assert verdict.kind == "upstream_dns"
    assert _has(verdict, "resolver_timeout")


@pytest.mark.parametrize(
    ("elapsed_ms", "kind"),
    [(2.0, "no_healthy_upstream"), (1004.0, "upstream_refused"), (4003.0, "upstream_failed")],
    ids=["instant-alldown", "1s-refused-retried", "4s-connect-timeout-or-queue"],
)
def test_haproxy_503_reads_elapsed_time(elapsed_ms: float, kind: str) -> None:
    """[lab] #1, #11, #12: HAProxy's one 503 page, told apart only by timing."""
    verdict = diagnose(gateway_error(pages.haproxy(503), elapsed_ms=elapsed_ms))
    assert (verdict.cause, verdict.kind, verdict.generator) == ("backend", kind, "haproxy")
    assert verdict.confidence <= 0.85
    assert _has(verdict, "could be: ")  # timing picks the likeliest; the others are listed
    assert _has(verdict, "No server is available to handle this request.")


def test_chain_nginx_to_haproxy_names_haproxy() -> None:
    """[lab] #27: HAProxy's 503 body under Server: nginx."""
    verdict = diagnose(gateway_error(pages.nginx_chain_haproxy_alldown(), elapsed_ms=2.0))
    assert (verdict.generator, verdict.kind) == ("haproxy", "no_healthy_upstream")
    assert _has(verdict, "haproxy generated it, nginx relayed it")
    assert _steps_mention(verdict, "SC-- with <NOSRV>")
    assert not _steps_mention(verdict, "no live upstreams"), "the outer nginx logged nothing"


def test_platform_codes_are_trusted() -> None:
    verdict = diagnose(gateway_error(pages.cloudflare_52x(521, "Web server is down")))
    assert (verdict.cause, verdict.kind, verdict.generator) == (
        "backend", "upstream_refused", "cloudflare",
    )  # fmt: skip
    assert verdict.confidence >= 0.85
    assert _has(verdict, "CF-RAY: 8a1b2c3d4e5f6789-AMS")


def test_gateway_own_failure_is_a_proxy_cause() -> None:
    """[doc] Cloudflare: the plain 'cloudflare' page is an error inside Cloudflare."""
    page = pages.nginx(502, server="cloudflare", footer="cloudflare")
    verdict = diagnose(gateway_error(page))
    assert (verdict.cause, verdict.kind, verdict.hop) == ("proxy", "gateway_error", "proxy")


def test_heroku_page_asks_for_the_h_code() -> None:
    verdict = diagnose(gateway_error(pages.heroku_503()))
    assert (verdict.generator, verdict.kind) == ("heroku", "upstream_failed")
    assert _steps_mention(verdict, "at=error code=H")


def test_varnish_retry_after_is_its_own_not_the_apps() -> None:
    """[src] builtin.vcl adds Retry-After: 5 to every synthetic 503."""
    verdict = diagnose(gateway_error(pages.varnish_503()))
    assert (verdict.generator, verdict.kind) == ("varnish", "upstream_failed")
    assert _steps_mention(verdict, "varnishlog")


# --------------------------------------------------------------------------- the application


def test_app_502_json_behind_nginx_is_the_apps_error() -> None:
    """[lab] #25."""
    verdict = diagnose(gateway_error(pages.nginx_app502_json()))
    assert (verdict.cause, verdict.kind, verdict.generator) == ("backend", "app_error", "app")
    assert _has(verdict, "application/json")
    assert _steps_mention(verdict, "$upstream_status")


def test_app_502_behind_haproxy() -> None:
    verdict = diagnose(gateway_error(pages.haproxy_app502()))
    assert (verdict.kind, verdict.generator) == ("app_error", "app")
    assert _has(verdict, "Server: gunicorn is an application server")
    assert _steps_mention(verdict, "termination flags ----")


def test_app_503_with_retry_after_is_unavailable() -> None:
    """[lab] #26."""
    verdict = diagnose(gateway_error(pages.nginx_app503_retry_after()))
    assert (verdict.cause, verdict.kind, verdict.generator) == ("overload", "unavailable", "app")
    assert "Retry-After: 30" in verdict.summary


# --------------------------------------------------------------------------- overload


def test_429_is_rate_limited() -> None:
    page = response(
        429,
        "Too Many Requests",
        [("Content-Type", "application/json"), ("Retry-After", "12")],
        '{"error":"slow down"}',
    )
    verdict = diagnose(gateway_error(page))
    assert (verdict.cause, verdict.kind, verdict.hop) == ("overload", "rate_limited", "upstream")
    assert _has(verdict, "Retry-After: 12")
    assert verdict.confidence >= 0.9


def test_haproxy_429_is_rate_limited_at_the_proxy() -> None:
    verdict = diagnose(gateway_error(pages.haproxy(429)))
    assert (verdict.kind, verdict.hop, verdict.generator) == ("rate_limited", "proxy", "haproxy")


def test_nginx_limit_req_503_is_rate_limited() -> None:
    """[lab] #23: limit_req answers nginx's own 503 'Service Temporarily Unavailable'."""
    verdict = diagnose(gateway_error(pages.nginx(503)))
    assert (verdict.cause, verdict.kind, verdict.generator) == ("overload", "rate_limited", "nginx")
    assert _steps_mention(verdict, "limiting requests, excess")


def test_nginx_limit_req_503_with_healthy_origin_stays_rate_limited() -> None:
    verdict = diagnose(gateway_error(pages.nginx(503), origin=origin_ok()))
    assert verdict.kind == "rate_limited"


def test_envoy_overflow_is_rate_limited() -> None:
    page = pages.envoy(503, pages.ENVOY_OVERFLOW, ("x-envoy-overloaded", "true"))
    assert diagnose(gateway_error(page)).kind == "rate_limited"


def test_slow_against_its_own_history() -> None:
    past = history("......", first_byte_ms=80.0)
    verdict = diagnose(ok(first_byte_ms=900.0), history=past)
    assert (verdict.cause, verdict.kind, verdict.hop) == ("overload", "slow", "upstream")
    assert _has(verdict, "the median of the last 6 passing probes is 80 ms")


@pytest.mark.parametrize(
    ("points", "first_byte"),
    [(4, 900.0), (6, 250.0), (6, 270.0)],
    ids=["too-little-history", "below-3x", "3x-but-within-200ms"],
)
def test_not_slow(points: int, first_byte: float) -> None:
    verdict = diagnose(ok(first_byte_ms=first_byte), history=history("." * points))
    assert verdict.healthy


def test_intermittent_when_current_passes() -> None:
    verdict = diagnose(ok(), history=history("..x....x.."))
    assert (verdict.cause, verdict.kind, verdict.hop) == ("overload", "intermittent", "tcp")
    assert _has(verdict, "2 of the last 10 probes failed (this one passed)")
    assert _has(verdict, "refused ×2")


def test_one_old_failure_is_not_intermittent() -> None:
    assert diagnose(ok(), history=history("..x.......")).healthy


def test_unexplained_failure_amid_passing_probes_is_intermittent() -> None:
    page = response(502, "Bad Gateway", [("Content-Type", "text/html")], "<p>error</p>")
    verdict = diagnose(gateway_error(page), history=history(".......x.."))
    assert (verdict.cause, verdict.kind) == ("overload", "intermittent")


def test_explained_failure_keeps_its_kind_and_notes_the_history() -> None:
    verdict = diagnose(gateway_error(pages.nginx(502)), history=history("....x.x..."))
    assert verdict.kind == "upstream_failed"
    assert verdict.evidence[-1] == "2 of the last 10 probes failed too: intermittent"


# --------------------------------------------------------------------------- the origin settles it

ORIGIN_CASES: list[tuple[tuple[HopName, str], str, str]] = [
    (("tcp", "refused"), "upstream_refused", "origin 127.0.0.1:8081 refused the connection"),
    (("tcp", "connect_timeout"), "upstream_timeout", "did not accept the connection in time"),
    (("upstream", "upstream_closed"), "upstream_closed", "closed the connection without"),
    (("upstream", "upstream_invalid_response"), "upstream_invalid_response", "invalid response"),
    (("upstream", "upstream_timeout"), "upstream_timeout", "did not answer in time"),
    (("tls", "self_signed"), "upstream_tls", "failed TLS (self_signed)"),
    (("dns", "nxdomain"), "upstream_dns", "the name did not resolve (nxdomain)"),
]


@pytest.mark.parametrize(
    ("failure", "kind", "line"), ORIGIN_CASES, ids=[k for _, k, _ in ORIGIN_CASES]
)
def test_origin_settles_the_kind(failure: tuple[HopName, str], kind: str, line: str) -> None:
    origin = origin_failing(*failure)
    verdict = diagnose(gateway_error(pages.nginx(502)), origin=origin)
    assert (verdict.cause, verdict.kind, verdict.hop, verdict.generator) == (
        "backend", kind, "upstream", "nginx",
    )  # fmt: skip
    assert verdict.confidence == 0.95
    assert _has(verdict, line)
    assert not _steps_mention(verdict, "Configure `origin`")


def test_origin_reset_is_upstream_closed() -> None:
    origin = origin_failing("upstream", "upstream_closed", details={"upstream": {"reset": True}})
    verdict = diagnose(gateway_error(pages.haproxy(502)), origin=origin)
    assert verdict.kind == "upstream_closed"
    assert _has(verdict, "reset the connection")


def test_origin_5xx_is_app_error() -> None:
    origin = gateway_error(response(500, "Internal Server Error"), url="http://10.0.0.12:8080/")
    verdict = diagnose(gateway_error(pages.nginx(502)), origin=origin)
    assert (verdict.kind, verdict.cause) == ("app_error", "backend")


def test_origin_defaults_to_result_origin() -> None:
    probe = gateway_error(pages.nginx(502), origin=origin_failing("tcp", "refused"))
    assert diagnose(probe).kind == "upstream_refused"


def test_healthy_origin_behind_failing_gateway_is_misconfigured() -> None:
    verdict = diagnose(gateway_error(pages.nginx(502)), origin=origin_ok())
    assert (verdict.cause, verdict.kind, verdict.hop, verdict.generator) == (
        "proxy", "gateway_misconfigured", "proxy", "nginx",
    )  # fmt: skip
    assert _has(verdict, "origin 127.0.0.1:8081 answers 200 directly")
    assert _steps_mention(verdict, "review the gateway's upstream settings")
    assert _steps_mention(verdict, "connect() failed (111: Connection refused)")
    assert verdict.next_steps[-1] == SEED["proxy"]


def test_gateway_404_page_with_healthy_origin_is_misconfigured() -> None:
    verdict = diagnose(gateway_error(pages.nginx(404)), origin=origin_ok())
    assert verdict.kind == "gateway_misconfigured"


def test_no_response_through_gateway_with_healthy_origin() -> None:
    probe = result(
        fail="upstream",
        kind="upstream_timeout",
        first_byte_ms=None,
        total_ms=10_004,
        origin=origin_ok(),
    )
    verdict = diagnose(probe)
    assert (verdict.cause, verdict.kind) == ("proxy", "gateway_misconfigured")


# --------------------------------------------------------------------------- no usable response


def test_garbage_relayed_by_nginx_as_http09() -> None:
    """[lab] #4: nginx relays a non-HTTP reply as HTTP/0.9; h11 fails, no response."""
    past = [ok(pages.nginx(404)) for _ in range(3)]
    probe = result(
        fail="upstream",
        kind="upstream_invalid_response",
        error="illegal status line: bytearray(b'THIS IS NOT HTTP')",
        details={"upstream": {"raw_head": "THIS IS NOT HTTP\r\n"}},
    )
    verdict = diagnose(probe, history=past)
    assert (verdict.cause, verdict.kind, verdict.generator) == (
        "backend", "upstream_invalid_response", "app",
    )  # fmt: skip
    assert _has(verdict, 'first bytes received: "THIS IS NOT HTTP"')
    assert _has(verdict, "upstream sent no valid HTTP/1.0 header")


def test_garbage_confirmed_by_the_origin_is_the_apps() -> None:
    probe = result(
        fail="upstream",
        kind="upstream_invalid_response",
        origin=origin_failing("upstream", "upstream_invalid_response"),
    )
    verdict = diagnose(probe)
    assert (verdict.kind, verdict.generator, verdict.confidence) == (
        "upstream_invalid_response", "app", 0.95,
    )  # fmt: skip


def test_garbage_without_known_gateway() -> None:
    probe = result(fail="upstream", kind="upstream_invalid_response")
    verdict = diagnose(probe)
    assert (verdict.kind, verdict.generator, verdict.confidence) == (
        "upstream_invalid_response", None, 0.8,
    )  # fmt: skip


def test_reset_before_response_is_upstream_closed() -> None:
    probe = result(fail="upstream", kind="upstream_closed", details={"upstream": {"reset": True}})
    assert diagnose(probe).kind == "upstream_closed"


def test_probe_timeout_says_the_gateway_may_not_have_given_up() -> None:
    probe = result(fail="upstream", kind="upstream_timeout", first_byte_ms=10_000.0)
    verdict = diagnose(probe)
    assert (verdict.cause, verdict.kind) == ("backend", "upstream_timeout")
    assert _has(verdict, "raise the endpoint's timeout")


@pytest.mark.parametrize("relayed_by_nginx", [True, False])
def test_truncated_body_even_with_200(relayed_by_nginx: bool) -> None:
    """[lab] #8/#9: a 200 cut short is never a 502, still a backend failure."""
    headers = [("Content-Length", "100000"), ("Content-Type", "application/octet-stream")]
    if relayed_by_nginx:
        headers.insert(0, ("Server", "nginx/1.22.1"))
    page = response(200, "OK", headers, b"", body_size=0, complete=False)
    probe = result(
        fail="upstream",
        kind="truncated_body",
        resp=page,
        error="body cut short: got 0 of 100000 bytes",
    )
    verdict = diagnose(probe)
    assert (verdict.cause, verdict.kind, verdict.generator) == (
        "backend", "truncated_body", "app",
    )  # fmt: skip
    assert _has(verdict, "received 0 of 100000 body bytes after a 200")
    assert _has(verdict, "a reset is likely") is relayed_by_nginx
    assert _steps_mention(verdict, "readv() failed (104") is relayed_by_nginx


def test_unexpected_status_and_body_mismatch() -> None:
    page = response(404, "Not Found", [("Server", "gunicorn")], "nope")
    assert diagnose(gateway_error(page)).kind == "unexpected_status"
    assert diagnose(gateway_error(pages.nginx(404))).generator == "nginx"
    mismatch = result(
        fail="upstream",
        kind="body_mismatch",
        resp=response(200, "OK", [], "x"),
        error="body does not contain 'ok'",
    )
    verdict = diagnose(mismatch)
    assert (verdict.cause, verdict.kind) == ("backend", "body_mismatch")


@pytest.mark.parametrize(
    ("status", "kind", "confidence"),
    [(502, "upstream_failed", 0.6), (503, "upstream_failed", 0.6), (504, "upstream_timeout", 0.6),
     (500, "app_error", 0.3)],
)  # fmt: skip
def test_status_only_fallback(status: int, kind: str, confidence: float) -> None:
    page = response(status, "Error", [("Content-Type", "text/html")], "<p>error</p>")
    verdict = diagnose(gateway_error(page))
    assert (verdict.kind, verdict.generator, verdict.confidence) == (kind, None, confidence)
    assert _has(verdict, "missing: the gateway's error log")


# --------------------------------------------------------------------------- pool, warnings, health


def _address(address: str, ok_: bool, kind: str | None = None) -> AddressResult:
    hops = (Hop("tcp", "fail" if not ok_ else "ok", kind=kind),)
    return AddressResult(
        address=address,
        ok=ok_,
        status_code=200 if ok_ else None,
        total_ms=12.0,
        hops=hops,
        failed_hop=None if ok_ else "tcp",
        kind=kind,
        error=None if ok_ else "connection refused",
    )


def test_pool_member_down() -> None:
    addresses = [
        _address("10.0.0.1", True),
        _address("10.0.0.2", False, "refused"),
        _address("10.0.0.3", True),
    ]
    verdict = diagnose(ok(addresses=addresses))
    assert (verdict.cause, verdict.kind, verdict.hop) == ("backend", "pool_member_down", "tcp")
    assert "1 of 3 addresses fail: 10.0.0.2" in verdict.summary
    assert _has(verdict, "10.0.0.2: tcp refused: connection refused")
    assert _has(verdict, "10.0.0.1: answered 200")


def test_all_members_down_is_not_pool_member_down() -> None:
    addresses = [_address("10.0.0.2", False, "refused"), _address("10.0.0.3", False, "refused")]
    probe = result(fail="tcp", kind="refused", addresses=addresses)
    assert diagnose(probe).kind == "refused"


@pytest.mark.parametrize(
    ("days_left", "threshold", "kind"),
    [(5.0, 14.0, "expiring_soon"), (20.0, 14.0, None), (20.0, 30.0, "expiring_soon")],
)
def test_expiring_soon(days_left: float, threshold: float, kind: str | None) -> None:
    probe = ok(details={"tls": {"days_left": days_left}})
    verdict = diagnose(probe, expiring_days=threshold)
    assert verdict.kind == kind
    if kind:
        assert (verdict.cause, verdict.hop) == ("tls", "tls")
        assert _has(verdict, "valid until 2026-12-30T00:00:00Z")


def test_expiring_soon_from_a_warn_hop() -> None:
    probe = ok(
        status={"tls": "warn"}, kinds={"tls": "expiring_soon"}, details={"tls": {"days_left": 3.0}}
    )
    assert diagnose(probe).kind == "expiring_soon"


def test_resolver_mismatch_warning() -> None:
    resolvers = [
        {"resolver": "127.0.0.1:53", "addresses": ["10.0.0.1"], "error": None, "ms": 1.0},
        {"resolver": "1.1.1.1:53", "addresses": ["10.0.0.9"], "error": None, "ms": 8.0},
    ]
    probe = ok(
        status={"dns": "warn"},
        kinds={"dns": "resolver_mismatch"},
        details={"dns": {"resolvers": resolvers}},
    )
    verdict = diagnose(probe)
    assert (verdict.cause, verdict.kind, verdict.hop) == ("dns", "resolver_mismatch", "dns")
    assert _has(verdict, "resolver 1.1.1.1:53: 10.0.0.9")


def test_slow_dns_is_a_dns_warning_not_overload() -> None:
    probe = ok(status={"dns": "warn"}, kinds={"dns": "slow"})
    verdict = diagnose(probe)
    assert (verdict.cause, verdict.kind) == ("dns", "slow")


def test_healthy() -> None:
    verdict = diagnose(ok(response(200, "OK", [("Server", "nginx/1.22.1")], "ok")))
    assert verdict.healthy
    assert (verdict.kind, verdict.hop, verdict.generator, verdict.next_steps) == (
        None, None, None, (),
    )  # fmt: skip
    assert verdict.summary.startswith("healthy: 200")
    assert _has(verdict, "served by app through nginx")


def test_rules_are_ordered_direct_observations_first() -> None:
    names = [rule.__name__ for rule in RULES]
    assert names[:5] == [
        "pool_member_down",
        "dns_failed",
        "tcp_failed",
        "tls_failed",
        "proxy_failed",
    ]
    assert names.index("origin_settles") < names.index("gateway_page") < names.index("status_only")
    assert names[-1] == "healthy"


def test_diagnose_is_pure() -> None:
    probe: ProbeResult = gateway_error(pages.nginx(502), origin=origin_ok())
    assert diagnose(probe) == diagnose(probe)
    assert probe.verdict is None


def test_gateway_hint_contradicted_by_healthy_origin() -> None:
    """[src] Envoy says 'no healthy upstream' while the origin answers: Envoy's view is wrong."""
    page = pages.envoy(503, "no healthy upstream")
    verdict = diagnose(gateway_error(page), origin=origin_ok())
    assert (verdict.kind, verdict.generator) == ("gateway_misconfigured", "envoy")
    assert _has(verdict, "points at no_healthy_upstream, yet the origin answers")
    assert _steps_mention(verdict, "UH (no healthy host)")


@pytest.mark.parametrize(
    ("origin_status", "origin_kind"), [(404, "unexpected_status"), (200, "body_mismatch")]
)
def test_origin_that_answers_badly_still_answers(origin_status: int, origin_kind: str) -> None:
    origin = result(
        url="http://10.0.0.12:8080/health",
        fail="upstream",
        kind=origin_kind,
        resp=response(origin_status, "X", [], "x"),
    )
    verdict = diagnose(gateway_error(pages.nginx(502)), origin=origin)
    assert verdict.kind == "gateway_misconfigured"
    assert _has(verdict, "origin 10.0.0.12:8080 answers")


def test_no_response_settled_by_failing_origin() -> None:
    probe = result(
        fail="upstream",
        kind="upstream_closed",
        error="Server disconnected without sending a response.",
        origin=origin_failing("tcp", "refused"),
    )
    verdict = diagnose(probe)
    assert (verdict.cause, verdict.kind, verdict.confidence) == (
        "backend", "upstream_refused", 0.95,
    )  # fmt: skip


def test_app_error_cites_the_origin() -> None:
    origin = gateway_error(response(502, "Bad Gateway", [], "{}"), url="http://10.0.0.12:8080/")
    verdict = diagnose(gateway_error(pages.nginx_app502_json()), origin=origin)
    assert verdict.kind == "app_error"
    assert verdict.evidence[0] == "origin 10.0.0.12:8080 answers 502 itself"


def test_expired_but_unverified_certificate() -> None:
    verdict = diagnose(ok(details={"tls": {"days_left": -2.0}}))
    assert verdict.kind == "expiring_soon"
    assert "expired 2 days ago" in verdict.summary


def test_history_that_failed_throughout() -> None:
    verdict = diagnose(result(fail="tcp", kind="refused"), history=history("xxxx"))
    assert verdict.kind == "refused"
    assert verdict.evidence[-1] == "the last 4 probes failed too"


def test_intermittent_uses_past_verdicts() -> None:
    from gatewatch.diagnose import annotate

    past = [annotate(p) for p in history(".x.x")]
    verdict = diagnose(ok(), history=past)
    assert _has(verdict, "refused ×2")


def test_expiry_threshold_is_diagnose_s_to_decide() -> None:
    """The probe may warn with its own threshold; expiring_days decides the verdict."""
    probe = ok(
        status={"tls": "warn"}, kinds={"tls": "expiring_soon"}, details={"tls": {"days_left": 20.0}}
    )
    assert diagnose(probe, expiring_days=14).healthy


def test_flapping_404_keeps_its_kind() -> None:
    page = response(404, "Not Found", [("Server", "gunicorn")], "nope")
    verdict = diagnose(gateway_error(page), history=history("........."))
    assert verdict.kind == "unexpected_status"


def test_haproxy_usual_timeouts_are_named_once() -> None:
    from gatewatch.diagnose.timeouts import describe

    line = describe("haproxy", 45_000, timed_out=True)
    assert line.count("timeout server") == 1 and "timeout server (usual) 30 s or 60 s" in line


@pytest.mark.parametrize(
    ("resolver", "port"),
    [("127.0.0.1:1", "1"), ("1.1.1.1", "53"), ("[::1]:5353", "5353"), ("::1", "53"), ("", "53")],
)
def test_resolver_advice_names_the_configured_port(resolver: str, port: str) -> None:
    from datetime import UTC, datetime

    from gatewatch.diagnose import annotate
    from gatewatch.model import HOP_NAMES

    detail = {"resolver": resolver} if resolver else {}
    dns = Hop("dns", "fail", 2000.0, "no answer from the resolver in time", "timeout", detail)
    rest = tuple(Hop(n, "skip") for n in HOP_NAMES[1:])
    result = ProbeResult(
        name="shop",
        url="http://shop.example/",
        started_at=datetime(2026, 11, 24, tzinfo=UTC),
        hops=(dns, *rest),
        total_ms=2000.0,
    )
    verdict = annotate(result).verdict
    assert verdict is not None and verdict.kind == "timeout"
    step = next(s for s in verdict.next_steps if "did not answer" in s)
    assert f"reachable on port {port} " in step and (resolver or "system resolver") in step
