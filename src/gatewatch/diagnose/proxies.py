"""Fingerprints of proxy software a team runs itself: nginx, HAProxy, Envoy, Kong,
Apache, Varnish/Fastly, Traefik, Caddy (gateways.md §1 lab captures, §2–§3 sources).

Each template's hints are ordered: the first row whose status, body, header and
elapsed-time conditions hold names the cause (or the candidates it cannot tell apart).
"""

from __future__ import annotations

from collections.abc import Mapping

from gatewatch.diagnose.fingerprint import Hint, Template, codes, rx

#: Every cause nginx folds into one 502 page. gateways.md §0.5, §1 rows 1–7, 12–21.
NGINX_502 = (
    "upstream_refused",
    "upstream_closed",
    "upstream_invalid_response",
    "upstream_tls",
    "upstream_dns",
    "no_healthy_upstream",
)

#: nginx's error-page heading; its layout is shared by Cloudflare, the ALB and AppGW.
NGINX_H1 = rx(r"<center><h1>\d{3}[^<]*</h1></center>")

#: nginx's layout with no footer at all (the ALB's, or a patched nginx).
NGINX_NO_FOOTER = rx(
    r"^\s*<html>\s*<head><title>\d{3}[^<]*</title></head>\s*<body>\s*"
    r"<center><h1>\d{3}[^<]*</h1></center>\s*</body>\s*</html>\s*$"
)

NGINX_HINTS = (
    Hint(
        "upstream_timeout",
        0.9,
        "nginx answers 504 only when a timeout fired: connecting, reading the response "
        "header, or the upstream TLS handshake",
        statuses=codes(504),
    ),
    Hint(
        "upstream_dns",
        0.5,
        "a 502 after ~30 s matches nginx's resolver_timeout default: the upstream name "
        "may not resolve",
        statuses=codes(502),
        elapsed_s=((28.5, 35.0),),
    ),
    Hint(
        None,
        0.85,
        "nginx sends this same 502 page when the upstream refused, reset or closed the "
        "connection, sent an invalid header, failed TLS, could not be resolved or had no "
        "live server",
        statuses=codes(502),
        candidates=NGINX_502,
    ),
    Hint(
        "rate_limited",
        0.8,
        "nginx's own 503 comes from limit_req / limit_conn, or from ingress-nginx when a "
        "Service has no endpoints",
        statuses=codes(503),
        candidates=("rate_limited", "no_healthy_upstream"),
    ),
    Hint(
        "gateway_error",
        0.5,
        "nginx's own 500 page: an error inside nginx (configuration, Lua, rewrite loop), "
        "not the upstream's",
        statuses=codes(500),
    ),
)

_NGINX_SOURCE = "[lab] gateways.md §1; [src] nginx src/http/ngx_http_special_response.c"

_HAPROXY_SOURCE = "[lab] gateways.md §1; [src] haproxy src/http.c http_err_msgs[]"

#: Connect-phase failures behind HAProxy's single 503 page. gateways.md §0.4.
HAPROXY_503 = (
    "no_healthy_upstream",
    "upstream_refused",
    "upstream_timeout",
    "upstream_tls",
    "upstream_dns",
    "rate_limited",
)

_HAPROXY_HINTS = (
    Hint(
        "upstream_timeout",
        0.9,
        "HAProxy answers 504 only when `timeout server` fired before the response headers "
        "(termination flags sH--)",
        statuses=codes(504),
    ),
    Hint(
        None,
        0.9,
        "HAProxy's 502: the server's response was invalid (PH--) or it closed/reset the "
        "connection before the full headers (SH--)",
        statuses=codes(502),
        candidates=("upstream_invalid_response", "upstream_closed"),
    ),
    Hint(
        "no_healthy_upstream",
        0.85,
        "an immediate HAProxy 503: no server was available (all down, empty or unmatched "
        "backend, unresolved name, TLS name check; SC-- with <NOSRV>), or a refused server "
        "that was not retried (retries 0, or a short `timeout connect`: HAProxy waits "
        "min(timeout connect, 1 s) between retries; SC-- naming the server)",
        statuses=codes(503),
        elapsed_s=((0.0, 0.5),),
        candidates=("no_healthy_upstream", "upstream_refused", "upstream_dns", "upstream_tls"),
    ),
    Hint(
        "upstream_refused",
        0.8,
        "HAProxy waits min(timeout connect, 1 s) between connection retries: a 503 after "
        "~1–3 s suggests refused connections, retried (SC--)",
        statuses=codes(503),
        elapsed_s=((0.8, 1.35), (1.8, 2.4), (2.8, 3.5)),
        candidates=("upstream_refused", "upstream_timeout"),
    ),
    Hint(
        None,
        0.75,
        "HAProxy uses this one 503 page for every connect-phase failure: refused, connect "
        "timeout, TLS failure, unresolved name, all servers down, queue timeout",
        statuses=codes(503),
        candidates=HAPROXY_503,
    ),
    Hint(
        "gateway_error",
        0.5,
        "HAProxy's own 500 page: an internal error in HAProxy, not the server's",
        statuses=codes(500),
    ),
)

_ENVOY_HINTS = (
    Hint(
        "rate_limited",
        0.85,
        "x-envoy-overloaded: a circuit breaker or the overload manager dropped the request (UO)",
        header=("x-envoy-overloaded", rx(r"(?i)true")),
    ),
    Hint(
        "no_healthy_upstream",
        0.9,
        "Envoy found no healthy host in the cluster (UH)",
        body=rx(r"^no healthy upstream"),
    ),
    Hint(
        "upstream_timeout",
        0.9,
        "the route timeout fired before the response (UT)",
        body=rx(r"^upstream request timeout"),
    ),
    Hint(
        "upstream_tls",
        0.85,
        "the transport failure is a TLS error to the upstream",
        body=rx(r"(?i)transport failure reason: TLS"),
    ),
    Hint(
        "upstream_refused",
        0.9,
        "delayed connect error 111: the upstream refused (UF)",
        body=rx(r"delayed[ _]connect[ _]error:?[ _]111|Connection refused"),
    ),
    Hint(
        "rate_limited",
        0.8,
        "reset reason overflow: a circuit breaker tripped (UO)",
        body=rx(r"reset reason: (overflow|overload manager reset)"),
    ),
    Hint(
        "upstream_timeout",
        0.85,
        "reset reason: connection timeout while connecting",
        body=rx(r"reset reason: connection timeout"),
    ),
    Hint(
        "upstream_closed",
        0.8,
        "the upstream closed the connection (UC; often a keep-alive race)",
        body=rx(r"reset reason: (connection termination|remote reset)"),
    ),
    Hint(
        "upstream_invalid_response",
        0.85,
        "protocol error: the upstream's response was invalid (UPE)",
        body=rx(r"reset reason: protocol error"),
    ),
    Hint(
        "upstream_timeout",
        0.6,
        "connection failure without an errno: most often a connect timeout (UF)",
        body=rx(r"reset reason: (local |remote )?connection failure"),
        candidates=("upstream_timeout", "upstream_refused"),
    ),
    Hint(
        None,
        0.5,
        "Envoy could not get a response from the upstream",
        candidates=("upstream_refused", "upstream_closed", "upstream_timeout"),
    ),
)

_VARNISH_HINTS = (
    Hint(
        "upstream_timeout",
        0.8,
        "the origin did not send its first byte in time",
        body=rx(r"(?i)first byte timeout|backend read error"),
    ),
    Hint(
        "upstream_timeout",
        0.8,
        "connecting to the origin timed out",
        body=rx(r"(?i)connection timed out"),
    ),
    Hint(
        "no_healthy_upstream",
        0.85,
        "the backend is marked unhealthy by its probe",
        body=rx(r"(?i)backend is unhealthy|all backends failed or unhealthy"),
    ),
    Hint(
        "upstream_tls",
        0.75,
        "a TLS failure to the origin",
        body=rx(r"(?i)<h1>Error \d{3} [^<]*(ssl|tls|certificate|handshake)"),
    ),
    Hint(
        "upstream_timeout",
        0.85,
        "'Backend fetch failed' at a whole number of seconds: first_byte_timeout (or "
        "connect_timeout) fired (varnishlog: FetchError first byte timeout)",
        body=rx(r"Backend fetch failed"),
        at_timer=True,
    ),
    Hint(
        None,
        0.85,
        "an immediate 'Backend fetch failed': the backend refused, closed, answered garbage "
        "or is marked sick (varnishlog FetchError says which)",
        body=rx(r"Backend fetch failed"),
        elapsed_s=((0.0, 0.5),),
        candidates=(
            "upstream_refused",
            "upstream_closed",
            "upstream_invalid_response",
            "no_healthy_upstream",
        ),
    ),
    Hint(
        None,
        0.5,
        "Varnish sends 503 'Backend fetch failed' for every backend failure",
        candidates=(
            "upstream_refused",
            "upstream_closed",
            "upstream_invalid_response",
            "upstream_timeout",
            "no_healthy_upstream",
        ),
    ),
)


PAGES: Mapping[str, Template] = {
    t.name: t
    for t in (
        Template(
            "envoy-local-reply",
            "envoy",
            "an Envoy local reply",
            "[src] envoy source/common/router/router.cc; [doc] envoyproxy.io %RESPONSE_FLAGS%",
            body=(
                rx(
                    r"^(no healthy upstream|upstream request timeout|upstream connect error or "
                    r"disconnect/reset before headers)"
                ),
            ),
            excerpt=rx(r"((?:retried and the latest )?reset reason: [^\n]*)"),
            hints=_ENVOY_HINTS,
        ),
        Template(
            "envoy-overloaded",
            "envoy",
            "an Envoy overload reply",
            "[doc] envoyproxy.io x-envoy-overloaded",
            headers=("x-envoy-overloaded",),
            hints=_ENVOY_HINTS[:1],
        ),
        Template(
            "kong-json",
            "kong",
            "Kong's own JSON error",
            "[doc] Kong docs (default s502/s503/s504 messages); [src] Kong balancer",
            body=(
                rx(
                    r'"message"\s*:\s*"(An invalid response was received from the upstream '
                    r"server|The upstream server is (currently unavailable|timing out)"
                    r"|failure to get a peer|name resolution failed)"
                ),
            ),
            markers=frozenset({"kong"}),
            excerpt=rx(r'"message"\s*:\s*"([^"]*)"'),
            hints=(
                Hint(
                    "no_healthy_upstream",
                    0.9,
                    "no healthy target in the ring-balancer",
                    body=rx(r"failure to get a peer"),
                ),
                Hint(
                    "upstream_dns",
                    0.9,
                    "Kong could not resolve the upstream host",
                    body=rx(r"name resolution failed"),
                ),
                Hint(
                    "upstream_timeout",
                    0.85,
                    "Kong's read timeout to the upstream fired",
                    body=rx(r"timing out"),
                ),
                Hint(
                    None,
                    0.6,
                    "Kong sends this 502 for invalid responses and refused connections",
                    body=rx(r"invalid response"),
                    candidates=("upstream_invalid_response", "upstream_refused"),
                ),
                Hint(
                    None,
                    0.5,
                    "Kong says the upstream is unavailable",
                    candidates=("no_healthy_upstream", "upstream_refused"),
                ),
            ),
        ),
        Template(
            "apache-proxy-error",
            "apache",
            "Apache mod_proxy's {status} Proxy Error page",
            "[src] apache/httpd modules/proxy/proxy_util.c, mod_proxy_http.c",
            body=(rx(r"<h1>Proxy Error</h1>"),),
            excerpt=rx(r"Reason: <strong>([^<]*)</strong>"),
            hints=(
                Hint(
                    "upstream_dns",
                    0.9,
                    "mod_proxy could not resolve the backend",
                    body=rx(r"DNS lookup failure"),
                ),
                Hint(
                    "upstream_tls",
                    0.9,
                    "the TLS handshake with the backend failed",
                    body=rx(r"Error during SSL Handshake"),
                ),
                Hint(
                    "upstream_invalid_response",
                    0.9,
                    "the backend's status line was corrupt",
                    body=rx(r"Corrupt status line"),
                ),
                Hint(
                    "upstream_timeout",
                    0.85,
                    "'Error reading from remote server' at a whole number of seconds: "
                    "ProxyTimeout fired while waiting for the status line (AH01102 (70007))",
                    body=rx(r"Error reading from remote server"),
                    at_timer=True,
                ),
                Hint(
                    "upstream_closed",
                    0.8,
                    "'Error reading from remote server' at once: the backend closed or reset "
                    "the connection before its status line (AH01102)",
                    body=rx(r"Error reading from remote server"),
                    elapsed_s=((0.0, 0.5),),
                ),
                Hint(
                    None,
                    0.6,
                    "'Error reading from remote server' covers a closed/reset connection and a "
                    "ProxyTimeout alike (AH01102); elapsed time tells them apart",
                    body=rx(r"Error reading from remote server"),
                    candidates=("upstream_closed", "upstream_timeout"),
                ),
                Hint(
                    None,
                    0.5,
                    "mod_proxy could not get a response from the backend",
                    candidates=("upstream_closed", "upstream_invalid_response"),
                ),
            ),
        ),
        Template(
            "apache-503",
            "apache",
            "Apache's canned 503 page",
            "[src] apache/httpd modules/http/http_protocol.c; mod_proxy connect failures",
            # Debian ships ServerSignature Off: no <address>Apache footer. The canned
            # sentence is Apache's own (http_protocol.c), so it is enough.
            body=(rx(r"due to maintenance downtime or capacity\s+problems"),),
            statuses=codes(503),
            confidence=0.8,
            hints=(
                Hint(
                    None,
                    0.85,
                    "an immediate mod_proxy 503: it could not connect (AH00957 / AH01114) or "
                    "the worker is in error state after a failed connect (AH00959 / AH00940)",
                    elapsed_s=((0.0, 0.5),),
                    candidates=("upstream_refused", "no_healthy_upstream"),
                ),
                Hint(
                    None,
                    0.5,
                    "mod_proxy answers 503 when it cannot connect (AH00957 / AH01114) or the "
                    "worker is in error state (AH00959)",
                    candidates=("upstream_refused", "no_healthy_upstream", "upstream_timeout"),
                ),
            ),
        ),
        Template(
            "fastly-synthetic",
            "fastly",
            "Fastly's synthetic {status} page",
            "[doc] docs.fastly.com/en/guides/common-503-errors",
            body=(rx(r"Guru Medit?ation"),),
            markers=frozenset({"fastly"}),
            excerpt=rx(r"<h1>Error \d{3} ([^<]*)</h1>"),
            hints=_VARNISH_HINTS,
        ),
        Template(
            "fastly-synthetic-typo",
            "fastly",
            "Fastly's synthetic {status} page ('Guru Mediation')",
            "[doc] fastly.com/documentation/guides/vcl/errors/",
            body=(rx(r"Guru Mediation"),),
            excerpt=rx(r"<h1>Error \d{3} ([^<]*)</h1>"),
            hints=_VARNISH_HINTS,
        ),
        Template(
            "varnish-synthetic",
            "varnish",
            "Varnish's builtin {status} page (Guru Meditation)",
            "[src] varnish-cache bin/varnishd/builtin.vcl",
            body=(rx(r"Guru Meditation"),),
            excerpt=rx(r"<h1>Error \d{3} ([^<]*)</h1>"),
            hints=_VARNISH_HINTS,
        ),
        Template(
            "openresty",
            "openresty",
            "OpenResty's stock {status} page",
            _NGINX_SOURCE,
            body=(NGINX_H1, rx(r"<hr><center>openresty[^<]*</center>")),
            excerpt=rx(r"<hr><center>([^<]*)</center>"),
            hints=NGINX_HINTS,
        ),
        Template(
            "nginx",
            "nginx",
            "nginx's stock {status} page",
            _NGINX_SOURCE,
            body=(NGINX_H1, rx(r"<hr><center>(?:nginx|Tengine)(?:/[\w.\-]+)?</center>")),
            hints=NGINX_HINTS,
        ),
        Template(
            "nginx-no-footer",
            "nginx",
            "an nginx-style {status} page without a footer (nginx with its footer removed, or an "
            "AWS ALB behind another tier)",
            _NGINX_SOURCE,
            body=(NGINX_NO_FOOTER,),
            confidence=0.5,
            hints=NGINX_HINTS,
        ),
        Template(
            "haproxy",
            "haproxy",
            "HAProxy's stock {status} page",
            _HAPROXY_SOURCE,
            body=(rx(r"^<html><body><h1>\d{3} [^<]*</h1>\n"),),
            excerpt=rx(r"</h1>\n([^<\n]*)"),
            hints=_HAPROXY_HINTS,
        ),
        Template(
            "traefik",
            "traefik",
            "Traefik's plain-text {status} reply",
            "[src] traefik pkg/proxy/httputil/proxy.go; pkg/server/service/loadbalancer",
            body=(
                rx(r"^(Bad Gateway|Gateway Timeout|no available server|Service Unavailable)\s*$"),
            ),
            statuses=codes(502, 503, 504),
            confidence=0.7,
            hints=(
                Hint(
                    "no_healthy_upstream",
                    0.8,
                    "Traefik's load balancer had no available server",
                    body=rx(r"^no available server"),
                ),
                Hint(
                    "upstream_timeout",
                    0.75,
                    "Traefik's 504 comes from a network timeout",
                    statuses=codes(504),
                ),
                Hint(
                    None,
                    0.55,
                    "Traefik's 502: a dial error, EOF or other non-timeout failure",
                    statuses=codes(502),
                    candidates=("upstream_refused", "upstream_closed"),
                ),
                Hint(None, 0.4, "Traefik's 503", candidates=("no_healthy_upstream",)),
            ),
        ),
        Template(
            "caddy-empty",
            "caddy",
            "Caddy's empty {status} reply",
            "[src] caddy modules/caddyhttp/reverseproxy/reverseproxy.go",
            statuses=codes(502, 503, 504),
            markers=frozenset({"caddy"}),
            empty_body=True,
            hints=(
                Hint(
                    "upstream_timeout",
                    0.9,
                    "Caddy answers 504 when the proxy error is a timeout, here at a whole "
                    "number of seconds (response_header_timeout / dial_timeout)",
                    statuses=codes(504),
                    at_timer=True,
                ),
                Hint(
                    "upstream_timeout",
                    0.75,
                    "Caddy answers 504 when the proxy error is a timeout",
                    statuses=codes(504),
                ),
                Hint(
                    "no_healthy_upstream",
                    0.75,
                    "Caddy's 503: no upstreams available",
                    statuses=codes(503),
                ),
                Hint(
                    None,
                    0.85,
                    "an immediate empty Caddy 502: a dial error (refused), EOF (closed) or a "
                    "malformed response; its error log (http.log.error) says which",
                    statuses=codes(502),
                    elapsed_s=((0.0, 0.5),),
                    candidates=("upstream_refused", "upstream_closed", "upstream_invalid_response"),
                ),
                Hint(
                    None,
                    0.55,
                    "Caddy answers 502 for any other proxy error",
                    candidates=("upstream_refused", "upstream_closed", "upstream_invalid_response"),
                ),
            ),
        ),
    )
}
