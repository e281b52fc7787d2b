"""What each verdict kind means and what to do about it, as data.

Next steps must be specific enough to act on at 3 a.m.: they name the command to run
and the log line to look for (the error-log phrases measured in gateways.md §1), and
end with the seed advice (retry, check the server, review proxy settings and
timeouts, inspect DNS, scale out or cache). Format fields: {host} {port} {address}
{url} {proxy} {status}; a missing field prints as ``?``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from gatewatch.diagnose.h2_advice import H2_HOP_SUMMARY, H2_KIND_CAUSE, H2_PHRASE, H2_STEPS
from gatewatch.model import Cause

_BACKEND = (
    "upstream_refused",
    "upstream_closed",
    "upstream_invalid_response",
    "upstream_timeout",
    "upstream_dns",
    "upstream_tls",
    "no_healthy_upstream",
    "upstream_failed",
    "app_error",
    "truncated_body",
    "unexpected_status",
    "body_mismatch",
    "pool_member_down",
)
_OVERLOAD = ("rate_limited", "unavailable", "slow", "intermittent", "gateway_overloaded")
_PROXY = (
    "gateway_misconfigured",
    "gateway_error",
    "proxy_refused",
    "proxy_auth_required",
    "proxy_tunnel_failed",
    "no_route",
)
#: Not an outage: the service works, but refuses this client (shown DEGRADED, never DOWN).
_BLOCKED = ("challenge", "waf_block")
#: Backend kinds named by platforms (Cloudflare Tunnel, Workers).
_PLATFORM_BACKEND = ("tunnel_down", "worker_error")

#: Cause of the kinds that do not come from a failing hop's own name.
KIND_CAUSE: Mapping[str, Cause] = MappingProxyType(
    {
        **dict.fromkeys(_BACKEND, "backend"),
        **dict.fromkeys(_PLATFORM_BACKEND, "backend"),
        **dict.fromkeys(_OVERLOAD, "overload"),
        **dict.fromkeys(_PROXY, "proxy"),
        **dict.fromkeys(_BLOCKED, "blocked"),
        **H2_KIND_CAUSE,
    }
)

#: What happened, for summaries: "502 from nginx: <phrase>".
PHRASE: Mapping[str, str] = MappingProxyType(
    {
        "upstream_refused": "the upstream refused the connection",
        "upstream_closed": "the upstream closed or reset the connection before answering",
        "upstream_invalid_response": "the upstream sent an invalid response",
        "upstream_timeout": "the upstream did not answer in time",
        "upstream_dns": "the upstream's name did not resolve",
        "upstream_tls": "TLS to the upstream failed",
        "no_healthy_upstream": "no healthy upstream was available",
        "upstream_failed": "the upstream failed and the page does not say how",
        "app_error": "the application returned this error itself",
        "truncated_body": "the body stopped short of its declared length",
        "unexpected_status": "the status is not what the endpoint expects",
        "body_mismatch": "the body lacks the expected text",
        "pool_member_down": "some addresses of the pool fail",
        "rate_limited": "requests are rate limited",
        "unavailable": "the service says it is unavailable for now",
        "slow": "much slower than its recent history",
        "intermittent": "failing intermittently",
        "gateway_misconfigured": "the gateway fails although the origin answers directly",
        "gateway_error": "the gateway failed on its own, not the upstream",
        "gateway_overloaded": "the gateway is at its connection or load limit",
        "no_route": "the gateway has no route for this request",
        "challenge": "the CDN answered with a bot challenge, not the page",
        "waf_block": "a web application firewall blocked the request",
        "tunnel_down": "the tunnel from the CDN to the origin is down",
        "worker_error": "the edge worker (script) failed",
        **H2_PHRASE,
    }
)

#: Summaries of hop failures, by cause then kind.
HOP_SUMMARY: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "dns": {
            "nxdomain": "{host} does not exist (NXDOMAIN)",
            "servfail": "the resolver failed to resolve {host} (SERVFAIL)",
            "no_answer": "{host} exists but has no A/AAAA record",
            "timeout": "no DNS answer for {host} in time",
            "resolver_mismatch": "resolvers disagree about {host}",
            "slow": "resolving {host} is slow",
        },
        "network": {
            "refused": "{address} refused the connection",
            "connect_timeout": "connecting to {address} timed out",
            "unreachable": "{address} is unreachable",
            "reset": "{address} reset the connection",
        },
        "tls": {
            "expired": "the certificate of {host} has expired",
            "not_yet_valid": "the certificate of {host} is not valid yet",
            "self_signed": "{host} presents a self-signed certificate",
            "unknown_ca": "{host}'s certificate is not from a trusted CA (or its chain is "
            "incomplete)",
            "hostname_mismatch": "the certificate does not cover {host}",
            "handshake_failed": "the TLS handshake with {host} failed",
            "handshake_timeout": "the TLS handshake with {host} timed out",
            "expiring_soon": "the certificate of {host} expires soon",
            **H2_HOP_SUMMARY,
            "malformed_certificate": "the certificate of {host} is malformed (stricter "
            "clients may refuse it)",
        },
        "proxy": {
            "proxy_refused": "the forward proxy {proxy} refused the connection",
            "proxy_auth_required": "the forward proxy {proxy} wants authentication (407)",
            "proxy_tunnel_failed": "the forward proxy could not open a tunnel to {host}:{port}",
        },
    }
)

_S = tuple[str, ...]

#: Steps specific to each kind, by cause then kind.
_BASE_STEPS: Mapping[str, Mapping[str, _S]] = MappingProxyType(
    {
        "dns": {
            "nxdomain": (
                "Check the name for typos and that the record exists: `dig {host} A`, `dig {host} "
                "AAAA`.",
                "If it was just created, wait out the negative-cache TTL or ask the authority: "
                "`dig +trace {host}`.",
            ),
            "servfail": (
                "The resolver failed, not the name: compare another resolver (`dig @1.1.1.1 "
                "{host}`).",
                "If `dig +cd {host}` works but `dig {host}` does not, DNSSEC signatures are "
                "broken.",
            ),
            "no_answer": (
                "The name exists without an address record: check the record type and any CNAME "
                "target.",
            ),
            "timeout": (
                "The resolver ({resolver}) did not answer: check it is reachable on port "
                "{resolver_port} (UDP and TCP) and not overloaded.",
            ),
            "resolver_mismatch": (
                "Resolvers give different answers: a change still propagating (check the TTL) or "
                "split-horizon DNS.",
                "Compare `dig @RESOLVER {host}` for each resolver and make sure clients use the "
                "one you expect.",
            ),
            "slow": (
                "Check the resolver's load and its forwarders; a cold cache or a long CNAME chain "
                "adds round trips.",
            ),
        },
        "network": {
            "refused": (
                "Nothing listens on {address}: check the service runs and is bound to that address "
                "and port (`ss -ltnp`).",
                "Check the load balancer or security group forwards this port; a restart in "
                "progress refuses briefly.",
            ),
            "connect_timeout": (
                "Packets are dropped: check firewalls, security groups and NACLs for port {port}.",
                "Check the host is up and its listen backlog is not full (`ss -ltn`, Recv-Q).",
            ),
            "unreachable": ("No route to {address}: check the address, routing tables and VPN.",),
            "reset": (
                "The server (or a middlebox) reset the connection: check for a TLS-only port, a "
                "crashing process, or an IPS.",
            ),
        },
        "tls": {
            "expired": (
                "Renew the certificate; check the renewal job (ACME, cert-manager) and its logs.",
                "Reload the server after renewing: an old certificate still loaded is common.",
            ),
            "not_yet_valid": ("Check the clocks of the server and of this prober (NTP).",),
            "self_signed": (
                "Install a certificate from a trusted CA, or set `ca_bundle` for an internal CA.",
            ),
            "unknown_ca": (
                "Serve the full chain (leaf and intermediates): `openssl s_client -connect "
                "{host}:{port} -servername {host} -showcerts`.",
                "For an internal CA, set `ca_bundle` for this endpoint.",
            ),
            "hostname_mismatch": (
                "Check the certificate's SANs cover {host}, and that SNI routing picks the right "
                "certificate.",
            ),
            "handshake_failed": (
                "Compare protocol versions and ciphers: `openssl s_client -connect {host}:{port} "
                "-servername {host}`.",
                "'wrong version number' means the port speaks plain HTTP.",
            ),
            "handshake_timeout": (
                "TCP was accepted but TLS never finished: a plain-HTTP port, an overloaded TLS "
                "terminator, or a middlebox.",
            ),
            "expiring_soon": ("Renew the certificate now and check why the renewal job has not.",),
            "malformed_certificate": (
                "Reissue the certificate with ASCII names only (IDNs as xn-- A-labels): "
                "`openssl x509 -noout -ext subjectAltName` shows what it holds.",
            ),
        },
        "proxy": {
            "proxy_refused": (
                "Check the forward proxy {proxy} is running and its address and port are right.",
            ),
            "proxy_auth_required": (
                "Give the proxy credentials in the proxy URL (an env: reference) or allow this "
                "prober on the proxy.",
            ),
            "proxy_tunnel_failed": (
                "Check the proxy's ACL allows CONNECT to {host}:{port}, and that the proxy can "
                "resolve and reach it.",
            ),
            "gateway_misconfigured": (
                "The application answers directly but not through the gateway: review the "
                "gateway's upstream settings (address, port, Host header, upstream TLS and SNI, "
                "health-check path).",
                "Check the gateway can reach the origin: firewall rules and allow-lists for the "
                "gateway's IPs, DNS at the gateway.",
            ),
            "gateway_error": (
                "The gateway or CDN failed on its own: check its status page and its own logs; the "
                "origin is not at fault.",
            ),
            "no_route": (
                "No route matched (Envoy NR): check the host and path against the gateway's "
                "route table (virtual hosts, HTTPRoute/Ingress rules).",
            ),
        },
        "backend": {
            "upstream_refused": (
                "Check the application runs and listens on the address and port the gateway "
                "targets.",
            ),
            "upstream_closed": (
                "Check the application's logs for crashes, restarts or OOM kills at this time.",
                "A keep-alive race: make the upstream's keep-alive timeout longer than the "
                "gateway's.",
            ),
            "upstream_invalid_response": (
                "Check the upstream speaks HTTP on that port (not TLS, not another protocol) and "
                "its header size.",
            ),
            "upstream_timeout": (
                "Check the application's latency and its dependencies (database, external calls) "
                "at this time.",
                "Review the gateway's timeouts against the slowest legitimate request.",
            ),
            "upstream_dns": (
                "Check the gateway's resolver (nginx `resolver`, HAProxy `resolvers`) and the "
                "upstream's record.",
            ),
            "upstream_tls": (
                "Check the upstream's certificate (expiry, chain, name) and the gateway's verify "
                "settings (nginx proxy_ssl_verify / proxy_ssl_name, HAProxy verify / verifyhost).",
            ),
            "no_healthy_upstream": (
                "Check why the pool members fail their health checks (path, expected status), and "
                "that the pool is not empty.",
            ),
            "upstream_failed": (
                "The gateway's page does not say why; its log line for this request does.",
            ),
            "app_error": (
                "The application generated this error: read its logs and traces for this request; "
                "the gateway only relayed it.",
            ),
            "truncated_body": (
                "The upstream stopped mid-body: check its logs for a crash or a closed connection "
                "at this time.",
                "Check the gateway's buffering and read timeouts (they apply between reads of the "
                "body too).",
            ),
            "unexpected_status": (
                "The endpoint answered {status}, which expect_status does not allow: check the "
                "route, auth and recent deploys.",
            ),
            "body_mismatch": (
                "The body lacks the expected text: check for a maintenance page, an error page "
                "with status 200, or changed content.",
            ),
            "pool_member_down": (
                "Fix or remove the failing addresses (DNS records, target group): every client "
                "that picks them fails.",
            ),
            "tunnel_down": (
                "The tunnel connector is down (Cloudflare 1033): check `cloudflared` runs and "
                "can reach Cloudflare; the origin itself may be fine.",
            ),
            "worker_error": (
                "The edge worker threw or hit its CPU limit (Cloudflare 1101/1102): read its "
                "logs (`wrangler tail`).",
            ),
        },
        "blocked": {
            "challenge": (
                "The CDN served a bot challenge (cf-mitigated: challenge): the site is up. Allow "
                "this prober (a WAF skip rule for its IP or user agent) or probe another path.",
            ),
            "waf_block": (
                "A WAF rule blocked this request: the site is up. Find the rule in the WAF's "
                "events (Cloudflare Security Events, AWS WAF logs) and exempt the prober.",
            ),
        },
        "overload": {
            "gateway_overloaded": (
                "The gateway hit a connection or load limit (Proxy-Status "
                "connection_limit_reached, Envoy OM/DO, Cloudflare 1200): raise the limit or "
                "shed load.",
            ),
            "rate_limited": (
                "Check the limit (nginx limit_req / limit_conn zone, API quota) and who consumes "
                "it.",
                "If this prober is what gets limited, probe less often or exempt it.",
            ),
            "unavailable": (
                "The service asks clients to come back later (Retry-After): maintenance or "
                "overload; retry after that delay.",
            ),
            "slow": (
                "Check the application's load and dependencies; compare with the time of the last "
                "deploy.",
            ),
            "intermittent": (
                "Compare failing and passing probes: one bad pool member, a keep-alive race, or "
                "resource exhaustion.",
            ),
        },
    }
)

STEPS: Mapping[str, Mapping[str, _S]] = MappingProxyType(
    {
        cause: {**_BASE_STEPS.get(cause, {}), **H2_STEPS.get(cause, {})}
        for cause in {*_BASE_STEPS, *H2_STEPS}
    }
)

#: The seed advice, last, by cause.
SEED: Mapping[str, str] = MappingProxyType(
    {
        "dns": "Inspect DNS: compare resolvers and check the record's TTL.",
        "network": "Check the server and the network path, then retry once to rule out a blip.",
        "tls": "Check the server's certificate and TLS settings, then retry.",
        "proxy": "Review the proxy settings and timeouts.",
        "backend": "Check the server behind the gateway (process, logs, resources), then retry.",
        "overload": "Scale out or cache if the load is real; retry after a pause.",
        "blocked": "Not an outage: retry from a normal client to confirm the site serves pages.",
        "unknown": "Retry, and check the server and the proxy settings.",
    }
)

#: Error-log phrases and log fields that tell a kind apart, by generator. gateways.md §1, §3.
LOGS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "nginx": {
            "upstream_refused": "“connect() failed (111: Connection refused) while connecting "
            "to upstream”",
            "upstream_closed": "“upstream prematurely closed connection while reading response "
            "header from upstream” or “recv() failed (104: Connection reset by peer)”",
            "upstream_invalid_response": "“upstream sent no valid HTTP/1.0 header”, “upstream "
            "sent invalid header” or “upstream sent too big header”",
            "upstream_timeout": "“upstream timed out (110: Connection timed out) while reading "
            "response header from upstream” (read) or “… while connecting to upstream” (connect)",
            "upstream_dns": "“could not be resolved” or “no resolver defined to resolve”",
            "upstream_tls": "“upstream SSL certificate verify error”, “upstream SSL certificate "
            "does not match” or “SSL_do_handshake() failed”",
            "no_healthy_upstream": "“no live upstreams while connecting to upstream”",
            "rate_limited": "“limiting requests, excess: … by zone” (limit_req) or “limiting "
            "connections by zone” (limit_conn)",
            "truncated_body": "“upstream prematurely closed connection while reading upstream” "
            "or “readv() failed (104: Connection reset by peer) while reading upstream”",
            "app_error": "no error-log line; the access log's $upstream_status is the "
            "application's status",
        },
        "haproxy": {
            "upstream_refused": "termination flags SC-- (refused or reset; ~1 s per retry)",
            "upstream_timeout": "termination flags sC-- (timeout connect) or sH-- (timeout server)",
            "no_healthy_upstream": 'termination flags SC-- with <NOSRV>; health checks: "Server …'
            ' is DOWN", "backend \'…\' has no server available!"',
            "upstream_closed": "termination flags SH-- (the server aborted before full headers)",
            "upstream_invalid_response": "termination flags PH-- (HAProxy blocked an invalid "
            "response)",
            "upstream_tls": "termination flags SC-- with %[ssl_bc_err_str] (e.g. certificate "
            "verify failed)",
            "upstream_dns": "<NOSRV> with the server in MAINT (resolution)",
            "rate_limited": "termination flags sQ-- (queue timeout: maxconn reached)",
            "truncated_body": "termination flags SD-- (error during data transfer)",
            "app_error": "termination flags ---- (HAProxy relayed the server's status)",
        },
        "envoy": {
            "upstream_refused": "%RESPONSE_FLAGS% UF with details delayed_connect_error:_111",
            "upstream_timeout": "%RESPONSE_FLAGS% UT (route timeout) or UF (connect timeout)",
            "no_healthy_upstream": "%RESPONSE_FLAGS% UH (no healthy host)",
            "upstream_closed": "%RESPONSE_FLAGS% UC (upstream connection termination)",
            "upstream_invalid_response": "%RESPONSE_FLAGS% UPE (upstream protocol error)",
            "upstream_tls": "%RESPONSE_CODE_DETAILS% with TLS_error",
            "rate_limited": "%RESPONSE_FLAGS% UO (overflow: circuit breaker)",
        },
        "apache": {
            "upstream_closed": "“AH01102: error reading status line from remote server”",
            "upstream_timeout": "“AH01102: error reading status line from remote server” after "
            "ProxyTimeout",
            "upstream_refused": "“AH00957: HTTP: attempt to connect to … failed” or “AH01114”",
            "no_healthy_upstream": "“AH00959: ap_proxy_connect_backend disabling worker”",
        },
        "varnish": {
            "upstream_refused": "varnishlog FetchError: backend …: fail errno 111 (Connection "
            "refused)",
            "upstream_timeout": "varnishlog FetchError: first byte timeout",
            "upstream_closed": "varnishlog FetchError: backend closed",
            "upstream_invalid_response": "varnishlog FetchError: Received junk / http format error",
            "no_healthy_upstream": "varnishlog FetchError: backend …: unhealthy",
        },
        "caddy": {
            "upstream_refused": 'Caddy error log ("logger":"http.log.error"): '
            "dial tcp …: connect: connection refused",
        },
    }
)

#: Where each generator keeps the cause, once it is known who generated the page. §3.
ASK: Mapping[str, str] = MappingProxyType(
    {
        "nginx": "Find this request in nginx's error log (and $upstream_status in the access log).",
        "openresty": "Find this request in OpenResty's (nginx's) error log.",
        "haproxy": "Find this request in HAProxy's log: termination flags, and %[bc_err_str] / "
        "%[ssl_bc_err_str].",
        "envoy": "Log %RESPONSE_FLAGS% and %RESPONSE_CODE_DETAILS% in Envoy's access log.",
        "aws-alb": "In the ALB access log compare elb_status_code with target_status_code ('-' = "
        "the ALB generated it) and read error_reason.",
        "gcp-lb": "Read statusDetails in the load balancer's request log "
        "(failed_to_connect_to_backend, failed_to_pick_backend, backend_timeout, …).",
        "heroku": "Run `heroku logs --tail` and find `at=error code=H..` (H10 crashed, H12 "
        "timeout, H13 closed, H14 no dynos, H19 connect timeout, H21 refused).",
        "cloudflare": "Quote the CF-RAY id to Cloudflare, and check the origin is reachable from "
        "Cloudflare's IPs.",
        "cloudfront": "Quote the X-Amz-Cf-Id to AWS, and check the origin's security group and "
        "certificate.",
        "akamai": "Decode the Reference # with Akamai's Error Translator.",
        "vercel": "Look up the x-vercel-id in Vercel's logs; the x-vercel-error code names the "
        "cause.",
        "azure-frontdoor": "Look up the X-Azure-Ref in Front Door's access logs.",
        "azure-appgw": "Open Application Gateway's Backend health for the reason.",
        "kong": "Check Kong's error.log and the Admin API's /upstreams/{name}/health.",
        "varnish": "Run `varnishlog -g request -q 'RespStatus >= 500'` and read the FetchError "
        "lines.",
        "fastly": "Read the 503 reason text in Fastly's real-time logs.",
        "caddy": 'Read Caddy\'s error log ("logger":"http.log.error") for this request.',
        "traefik": "Read Traefik's log at ERROR level for this router and service.",
        "apache": "Read Apache's error log for this request (AH01102, AH00957, AH01114, AH00959).",
        "iis-arr": "Read the IIS log's sc-substatus and sc-win32-status (12002 timeout, 12029 "
        "cannot connect, 12152 invalid response).",
        "aws-apigateway": "Read the API Gateway execution logs in CloudWatch (29 s limit, Lambda "
        "proxy output).",
        "netlify": "Read Netlify's function logs for this X-Nf-Request-Id.",
        "squid": "The forward proxy answered for the origin: read X-Squid-Error (ERR_* and errno) "
        "and Squid's access.log (TCP_MISS/5xx, NONE_NONE/503 for CONNECT) and cache.log.",
        "app": "Read the application's logs and traces for this request.",
    }
)

#: Step added when the page cannot tell candidates apart and no origin is configured.
CONFIGURE_ORIGIN = (
    "Configure `origin` for this endpoint (the application's own URL) so gatewatch probes it "
    "directly and tells these apart."
)

MAX_STEPS = 10


class _Fields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def next_steps(
    cause: str,
    kind: str | None,
    *,
    tiers: Sequence[str] = (),
    candidates: Sequence[str] = (),
    fields: Mapping[str, str] | None = None,
    has_origin: bool = True,
) -> tuple[str, ...]:
    """Kind steps, then how to tell candidates apart (log phrases), then the seed advice."""
    values = _Fields(fields or {})
    head = [s.format_map(values) for s in STEPS.get(cause, {}).get(kind or "", ())]
    if candidates and not has_origin:
        head.append(CONFIGURE_ORIGIN)
    # The generator's log holds the cause; when the application generated the response,
    # the log of the tier that relayed it does (nginx's $upstream_status, HAProxy's flags).
    primary = tiers[0] if tiers else None
    log_tiers = [primary] if primary not in (None, "app") else list(tiers[1:2])
    tail = [ASK[t] for t in dict.fromkeys([*tiers[:1], *log_tiers]) if t in ASK]
    tail.append(SEED.get(cause, SEED["unknown"]))
    logs = _log_steps(log_tiers, candidates or ([kind] if kind else []))
    # The log phrases are what tells candidates apart; the seed advice always closes the list.
    room = max(0, MAX_STEPS - len(head) - len(tail))
    return tuple(dict.fromkeys([*head, *logs[:room], *tail]))


def _log_steps(tiers: Iterable[str], kinds: Iterable[str]) -> list[str]:
    kinds = list(kinds)
    steps = []
    for tier in tiers:
        table = LOGS.get("nginx" if tier == "openresty" else tier, {})
        for kind in kinds:
            if kind in table:
                steps.append(f"{tier} log: {table[kind]} → {PHRASE.get(kind, kind)}")
    return steps
