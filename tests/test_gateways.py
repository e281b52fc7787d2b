"""Every fingerprint in gatewatch.diagnose.gateways, over a realistic page.

nginx and HAProxy pages are the lab captures of gateways.md §1; every other page is
written from the vendor source named in its fixture's docstring (tests/gateway_pages.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import gateway_pages as pages
from diagnose_factory import response
from gatewatch.diagnose import forward, identify, platforms, proxies
from gatewatch.diagnose.advice import KIND_CAUSE
from gatewatch.diagnose.gateways import MARKERS, ORDER, TEMPLATES
from gatewatch.model import Response

GENERATORS = {
    "nginx", "openresty", "haproxy", "apache", "envoy", "traefik", "caddy", "varnish",
    "fastly", "cloudflare", "aws-alb", "cloudfront", "aws-apigateway", "gcp-lb",
    "azure-appgw", "azure-frontdoor", "akamai", "vercel", "netlify", "heroku", "kong",
    "iis-arr", "squid", "app",
}  # fmt: skip


@dataclass(frozen=True)
class Case:
    response: Response
    generator: str | None
    hint: str | None
    template: str | None = None
    relayed_by: tuple[str, ...] = ()
    elapsed_ms: float | None = 3.0
    candidates: tuple[str, ...] = ()


CASES = {
    # ---- [lab] nginx 1.22.1 and HAProxy 2.6.12, gateways.md §1
    "lab-nginx-502": Case(pages.nginx(502), "nginx", None, "nginx",
                          candidates=("upstream_refused", "upstream_closed")),
    "lab-nginx-504": Case(pages.nginx(504), "nginx", "upstream_timeout", "nginx",
                          elapsed_ms=2003.0),
    "lab-nginx-503-limit_req": Case(pages.nginx(503), "nginx", "rate_limited", "nginx"),
    "lab-nginx-server_tokens-off": Case(pages.nginx(502, server="nginx"), "nginx", None, "nginx"),
    "lab-haproxy-502": Case(pages.haproxy(502), "haproxy", None, "haproxy",
                            candidates=("upstream_invalid_response", "upstream_closed")),
    "lab-haproxy-503-alldown-instant": Case(pages.haproxy(503), "haproxy", "no_healthy_upstream",
                                            "haproxy", elapsed_ms=2.0),
    "lab-haproxy-503-refused-1s-retry": Case(pages.haproxy(503), "haproxy", "upstream_refused",
                                             "haproxy", elapsed_ms=1004.0),
    "lab-haproxy-503-conntimeout-4s": Case(pages.haproxy(503), "haproxy", None, "haproxy",
                                           elapsed_ms=4003.0,
                                           candidates=("upstream_timeout",)),
    "lab-haproxy-504": Case(pages.haproxy(504), "haproxy", "upstream_timeout", "haproxy",
                            elapsed_ms=2001.0),
    "lab-27-nginx-chain-haproxy-alldown": Case(pages.nginx_chain_haproxy_alldown(), "haproxy",
                                               "no_healthy_upstream", "haproxy",
                                               relayed_by=("nginx",)),
    "lab-28-haproxy-chain-nginx-refused": Case(pages.haproxy_chain_nginx_refused(), "nginx", None,
                                               "nginx", relayed_by=("haproxy",)),
    "lab-25-nginx-app502-json": Case(pages.nginx_app502_json(), "app", None,
                                     relayed_by=("nginx",)),
    "lab-26-nginx-app503-retry-after": Case(pages.nginx_app503_retry_after(), "app", None,
                                            relayed_by=("nginx",)),
    "lab-25-haproxy-app502": Case(pages.haproxy_app502(), "app", None, relayed_by=("haproxy",)),
    # ---- [src] envoy router.cc / [doc] envoy access-log flags
    "src-envoy-no-healthy-upstream": Case(pages.envoy(503, "no healthy upstream"), "envoy",
                                          "no_healthy_upstream", "envoy-local-reply"),
    "src-envoy-timeout": Case(pages.envoy(504, "upstream request timeout"), "envoy",
                              "upstream_timeout", "envoy-local-reply"),
    "src-envoy-refused-111": Case(pages.envoy(503, pages.ENVOY_REFUSED), "envoy",
                                  "upstream_refused", "envoy-local-reply"),
    "src-envoy-tls": Case(pages.envoy(503, pages.ENVOY_TLS), "envoy", "upstream_tls",
                          "envoy-local-reply"),
    "src-envoy-termination": Case(pages.envoy(503, pages.ENVOY_TERMINATION), "envoy",
                                  "upstream_closed", "envoy-local-reply"),
    "src-envoy-overflow-header": Case(
        pages.envoy(503, pages.ENVOY_OVERFLOW, ("x-envoy-overloaded", "true")),
        "envoy", "rate_limited", "envoy-local-reply"),
    "src-envoy-protocol-error": Case(
        pages.envoy(502, "upstream connect error or disconnect/reset before headers. reset "
                         "reason: protocol error"),
        "envoy", "upstream_invalid_response", "envoy-local-reply"),
    # ---- [doc] Kong default messages
    "doc-kong-no-peer": Case(pages.kong(503, "failure to get a peer from the ring-balancer"),
                             "kong", "no_healthy_upstream", "kong-json"),
    "doc-kong-dns": Case(pages.kong(503, "name resolution failed"), "kong", "upstream_dns",
                         "kong-json"),
    "doc-kong-timeout": Case(pages.kong(504, "The upstream server is timing out"), "kong",
                             "upstream_timeout", "kong-json"),
    "doc-kong-invalid": Case(pages.kong(502, "An invalid response was received from the "
                                             "upstream server"),
                             "kong", None, "kong-json", candidates=("upstream_refused",)),
    # ---- [src] apache httpd mod_proxy
    "src-apache-502-read-error": Case(pages.apache_proxy_error(502, "Error reading from remote "
                                                                    "server"),
                                      "apache", None, "apache-proxy-error", elapsed_ms=2400.0,
                                      candidates=("upstream_closed", "upstream_timeout")),
    "lab-apache-502-read-error-instant": Case(
        pages.apache_proxy_error(502, "Error reading from remote server"), "apache",
        "upstream_closed", "apache-proxy-error", elapsed_ms=2.0),
    "lab-apache-502-read-error-proxytimeout": Case(
        pages.apache_proxy_error(502, "Error reading from remote server"), "apache",
        "upstream_timeout", "apache-proxy-error", elapsed_ms=1003.0),
    "src-apache-500-dns": Case(pages.apache_proxy_error(500, "DNS lookup failure for: "
                                                             "api.internal"),
                               "apache", "upstream_dns", "apache-proxy-error"),
    "src-apache-500-ssl": Case(pages.apache_proxy_error(500, "Error during SSL Handshake with "
                                                             "remote server"),
                               "apache", "upstream_tls", "apache-proxy-error"),
    "src-apache-503-connect": Case(pages.apache(503, "Service Unavailable", "Service "
                                                "Unavailable", pages.APACHE_503_TEXT),
                                   "apache", None, "apache-503",
                                   candidates=("upstream_refused", "no_healthy_upstream")),
    # ---- [src] varnish builtin.vcl / [doc] Fastly common 503s
    "src-varnish-backend-fetch-failed": Case(pages.varnish_503(), "varnish", None,
                                             "varnish-synthetic"),
    "doc-fastly-first-byte-timeout": Case(pages.fastly_503("first byte timeout"), "fastly",
                                          "upstream_timeout", "fastly-synthetic"),
    "doc-fastly-unhealthy": Case(pages.fastly_503("Backend is unhealthy"), "fastly",
                                 "no_healthy_upstream", "fastly-synthetic"),
    # ---- [doc] Cloudflare 5xx
    "doc-cloudflare-521": Case(pages.cloudflare_52x(521, "Web server is down"), "cloudflare",
                               "upstream_refused", "cloudflare-5xx"),
    "doc-cloudflare-522": Case(pages.cloudflare_52x(522, "Connection timed out"), "cloudflare",
                               "upstream_timeout", "cloudflare-5xx"),
    "doc-cloudflare-524": Case(pages.cloudflare_52x(524, "A timeout occurred"), "cloudflare",
                               "upstream_timeout", "cloudflare-5xx", elapsed_ms=100_050.0),
    "doc-cloudflare-525": Case(pages.cloudflare_52x(525, "SSL handshake failed"), "cloudflare",
                               "upstream_tls", "cloudflare-5xx"),
    "doc-cloudflare-526": Case(pages.cloudflare_52x(526, "Invalid SSL certificate"),
                               "cloudflare", "upstream_tls", "cloudflare-5xx"),
    "doc-cloudflare-530-1016": Case(pages.cloudflare_52x(530, "Origin DNS error 1016"),
                                    "cloudflare", "upstream_dns", "cloudflare"),  # 1016 read first
    "doc-cloudflare-520": Case(pages.cloudflare_52x(520, "Web server is returning an unknown "
                                                          "error"),
                               "cloudflare", None, "cloudflare-5xx",
                               candidates=("upstream_invalid_response", "upstream_closed")),
    "doc-cloudflare-rfc9457-ssl": Case(pages.cloudflare_json(520, "ssl"), "cloudflare",
                                       "upstream_tls", "cloudflare-5xx"),
    "doc-cloudflare-branded-502-is-origin": Case(pages.cloudflare_52x(502, "Bad gateway"), "app",
                                                 "app_error", "cloudflare-branded-origin-error",
                                                 relayed_by=("cloudflare",)),
    "doc-cloudflare-plain-502": Case(pages.nginx(502, server="cloudflare", footer="cloudflare"),
                                     "cloudflare", "gateway_error", "cloudflare-plain"),
    # ---- [doc] AWS
    "doc-alb-502": Case(pages.alb(502, "Bad Gateway"), "aws-alb", None, "aws-alb",
                        candidates=("upstream_refused", "upstream_tls")),
    "doc-alb-503": Case(pages.alb(503, "Service Temporarily Unavailable"), "aws-alb",
                        "no_healthy_upstream", "aws-alb"),
    "doc-alb-504": Case(pages.alb(504, "Gateway Time-out"), "aws-alb", "upstream_timeout",
                        "aws-alb"),
    "doc-cloudfront-502-dns": Case(pages.cloudfront(502, "CloudFront wasn't able to resolve the "
                                                         "origin domain name."),
                                   "cloudfront", "upstream_dns", "cloudfront-error"),
    "doc-cloudfront-504": Case(pages.cloudfront(504, "We can't connect to the server for this "
                                                     "app or website at this time."),
                               "cloudfront", "upstream_timeout", "cloudfront-error"),
    "doc-apigateway-504": Case(pages.apigateway_504(), "aws-apigateway", "upstream_timeout",
                               "aws-apigateway-json"),
    # ---- [doc] Google, Azure, Akamai
    "doc-gcp-gfe-502": Case(pages.gcp_502(), "gcp-lb", None, "gcp-gfe",
                            candidates=("no_healthy_upstream",)),
    "doc-azure-appgw-502": Case(pages.azure_appgw_502(), "azure-appgw", None, "azure-appgw",
                                candidates=("no_healthy_upstream",)),
    "doc-azure-frontdoor-503-at-30s": Case(pages.azure_frontdoor_503(), "azure-frontdoor",
                                           "upstream_timeout", "azure-frontdoor",
                                           elapsed_ms=30_020.0),
    "obs-akamai-504": Case(pages.akamai_504(), "akamai", "upstream_timeout", "akamai-reference"),
    # ---- [doc] platforms
    "doc-vercel-timeout": Case(pages.vercel(504, "FUNCTION_INVOCATION_TIMEOUT"), "vercel",
                               "upstream_timeout", "vercel-error"),
    "doc-vercel-connection": Case(pages.vercel(502, "ROUTER_EXTERNAL_TARGET_CONNECTION_ERROR"),
                                  "vercel", "upstream_refused", "vercel-error"),
    "doc-vercel-dns": Case(pages.vercel(502, "DNS_HOSTNAME_NOT_FOUND"), "vercel", "upstream_dns",
                           "vercel-error"),
    "doc-vercel-app-error": Case(pages.vercel(500, "FUNCTION_INVOCATION_FAILED"), "vercel",
                                 "app_error", "vercel-error"),
    "doc-vercel-platform-error": Case(pages.vercel(504, "INTERNAL_FUNCTION_INVOCATION_TIMEOUT"),
                                      "vercel", "gateway_error", "vercel-error"),
    "obs-netlify-502-empty": Case(pages.netlify_502(), "netlify", None, "netlify-empty"),
    "doc-heroku-503": Case(pages.heroku_503(), "heroku", None, "heroku-application-error",
                           candidates=("no_healthy_upstream", "upstream_timeout")),
    "doc-iis-502.3-timeout": Case(pages.iis_502_3("0x80072ee2"), "iis-arr", "upstream_timeout",
                                  "iis-arr-502.3"),
    "doc-iis-502.3-connect": Case(pages.iis_502_3("0x80072efd"), "iis-arr", "upstream_refused",
                                  "iis-arr-502.3"),
    "doc-iis-502.3-invalid": Case(pages.iis_502_3("0x80072f78"), "iis-arr",
                                  "upstream_invalid_response", "iis-arr-502.3"),
    # ---- [src] Traefik, Caddy, OpenResty
    "src-traefik-502": Case(pages.traefik(502, "Bad Gateway"), "traefik", None, "traefik",
                            candidates=("upstream_refused",)),
    "src-traefik-no-server": Case(pages.traefik(503, "no available server"), "traefik",
                                  "no_healthy_upstream", "traefik"),
    "src-caddy-502-empty": Case(pages.caddy_502(), "caddy", None, "caddy-empty",
                                candidates=("upstream_refused",)),
    "src-envoy-overloaded-empty": Case(pages.envoy(503, "", ("x-envoy-overloaded", "true")),
                                       "envoy", "rate_limited", "envoy-overloaded"),
    "doc-fastly-mediation-without-headers": Case(
        response(503, "Backend is unhealthy", [],
                 pages.varnish_body(503, "Backend is unhealthy", "Mediation")),
        "fastly", "no_healthy_upstream", "fastly-synthetic-typo"),
    "doc-iis-generic-502": Case(
        response(502, "Bad Gateway", [("Server", "Microsoft-IIS/10.0")],
                 "<h2>502 - Web server received an invalid response while acting as a gateway "
                 "or proxy server.</h2>"),
        "iis-arr", None, "iis-arr-502", candidates=("upstream_refused",)),
    "doc-iis-ancm-502.5": Case(
        response(502, "Bad Gateway", [("Server", "Microsoft-IIS/10.0")],
                 "<h1>HTTP Error 502.5 - Process Failure</h1>"),
        "iis-arr", "no_healthy_upstream", "iis-ancm-502.5"),
    "src-nginx-footer-stripped": Case(
        response(502, "Bad Gateway", [("Content-Type", "text/html")],
                 pages.alb(502, "Bad Gateway").body),
        "nginx", None, "nginx-no-footer", candidates=("upstream_refused",)),
    "src-openresty-504": Case(pages.nginx(504, server="openresty/1.25.3.1"), "openresty",
                              "upstream_timeout", "openresty"),
    # ---- [lab] squid 5.7 forward proxy (tests/test_real_gateways_more.py)
    "lab-squid-connect-fail": Case(pages.squid_503(), "squid", "upstream_refused", "squid-error"),
    "lab-squid-dns": Case(pages.squid_503("ERR_DNS_FAIL 0"), "squid", "upstream_dns",
                          "squid-error"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_fingerprint(case: Case) -> None:
    found = identify(case.response, elapsed_ms=case.elapsed_ms)
    assert found.generator == case.generator
    assert found.hint == case.hint
    assert found.template == case.template
    assert found.relayed_by == case.relayed_by
    assert set(case.candidates) <= set(found.candidates)
    assert found.evidence, "an identification always says why"


def test_nginx_fixture_is_the_captured_size() -> None:
    """gateways.md §1: nginx's 502 is 157 bytes, the ALB's 122, HAProxy's 107."""
    assert len(pages.nginx_body(502)) == 157
    assert pages.alb(502, "Bad Gateway").body_size == 122
    assert len(pages.haproxy_body(502)) == 107
    assert len(pages.haproxy_body(503)) == 107


def test_nginx_evidence_quotes_server_and_template() -> None:
    found = identify(pages.nginx(502))
    assert found.evidence[0] == "Server: nginx/1.22.1; body is nginx's stock 502 page"


def test_layered_tiers_say_who_generated_and_who_relayed() -> None:
    """[lab] #27: the body template wins over the Server header."""
    found = identify(pages.nginx_chain_haproxy_alldown(), elapsed_ms=2.0)
    assert "HAProxy" in found.evidence[0] or "haproxy generated it" in found.evidence[0]
    assert "nginx relayed it" in found.evidence[0]


def test_haproxy_own_page_headers_are_evidence() -> None:
    found = identify(pages.haproxy(503), elapsed_ms=2.0)
    assert "HAProxy's own-page headers: no Server, no Date, cache-control: no-cache" in (
        found.evidence
    )


def test_app_json_behind_nginx_names_the_hidden_server() -> None:
    found = identify(pages.nginx_app502_json())
    assert any("application/json" in line for line in found.evidence)
    assert any("replaces the upstream's Server header" in line for line in found.evidence)


def test_reason_phrase_betrays_a_relayed_503() -> None:
    """[lab] #26: nginx's own 503 says 'Service Temporarily Unavailable'."""
    found = identify(pages.nginx_app503_retry_after())
    assert any("is not nginx's own" in line for line in found.evidence)


def test_lowercase_names_on_http2_do_not_suggest_haproxy() -> None:
    found = identify(pages.envoy(503, "no healthy upstream"))
    assert "haproxy" not in found.relayed_by


def test_unknown_page_is_not_guessed() -> None:
    page = response(502, "Bad Gateway", [("Content-Type", "text/html")], "<p>oops</p>")
    found = identify(page)
    assert found.generator is None
    assert found.template is None


def test_healthy_response_behind_cdn_is_the_app_relayed() -> None:
    page = response(200, "OK", [("Server", "cloudflare"), ("CF-RAY", "8a1b-AMS")], "ok")
    found = identify(page)
    assert (found.generator, found.relayed_by) == ("app", ("cloudflare",))
    assert any(line.startswith("CF-RAY: 8a1b-AMS") for line in found.evidence)


def test_fastly_supersedes_varnish_marker() -> None:
    found = identify(response(200, "OK", [("Via", "1.1 varnish"), ("X-Served-By", "cache-ams")]))
    assert found.relayed_by == ("fastly",)


# --------------------------------------------------------------------------- the table itself


def test_every_generator_and_kind_in_the_tables_is_in_the_vocabulary() -> None:
    for marker in MARKERS:
        assert marker.generator in GENERATORS
    for template in TEMPLATES:
        assert template.generator in GENERATORS, template.name
        assert template.source, template.name
        for hint in template.hints:
            assert hint.kind is None or hint.kind in KIND_CAUSE, (template.name, hint.kind)
            assert all(c in KIND_CAUSE for c in hint.candidates), template.name
            assert 0 < hint.confidence <= 1
            assert hint.kind is not None or hint.candidates, (template.name, hint.note)


def test_template_names_are_unique() -> None:
    names = [t.name for t in TEMPLATES]
    assert len(names) == len(set(names))


def test_every_template_has_a_fixture() -> None:
    covered = {case.template for case in CASES.values()}
    assert not {t.name for t in TEMPLATES} - covered


def test_order_names_every_page_once() -> None:
    assert not set(platforms.PAGES) & set(proxies.PAGES)
    assert sorted(ORDER) == sorted({**platforms.PAGES, **proxies.PAGES, **forward.PAGES})


def test_envoy_relaying_the_apps_answer() -> None:
    """[doc] x-envoy-upstream-service-time: only present when the upstream answered."""
    page = response(
        503,
        "Service Unavailable",
        [
            ("server", "envoy"),
            ("x-envoy-upstream-service-time", "12"),
            ("content-type", "text/html"),
        ],
        "<p>maintenance</p>",
        http_version="HTTP/2",
    )
    found = identify(page)
    assert (found.generator, found.relayed_by) == ("app", ("envoy",))
