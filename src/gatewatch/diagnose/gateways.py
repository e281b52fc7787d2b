"""Who generated an error page: the fingerprint table, as data, in matching order.

The ``Server`` header does not tell who generated an error (nginx overwrites it on
responses it only relays; CDNs stamp every response). The body template decides and
the headers support it (gateways.md §0). So the table has two parts:

- ``MARKERS``: headers that show a tier is *in the path* (it may only have relayed);
- ``TEMPLATES``: pages a tier *generates itself*, each with ordered ``Hint`` rows
  saying what the page tells about the cause (gateways.md §3, R2–R4). The rows live in
  ``proxies.py`` and ``platforms.py``; ``ORDER`` below decides which is tried first.

Order matters in both: markers are listed outermost tier first (CDN, then load
balancer, then proxy), so ``relayed_by`` reads from the client inwards; templates go
from the most explicit (a platform's error code) to the most generic (a bare status
text), and the first match wins. The code that walks the table is ``identify.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gatewatch.diagnose import forward, platforms, proxies
from gatewatch.diagnose.fingerprint import Marker, Template, rx

# --------------------------------------------------------------------------- markers

#: Outermost tier first. gateways.md §2 "reliable recognition".
MARKERS: tuple[Marker, ...] = (
    Marker("cloudflare", "server", rx(r"(?i)^cloudflare")),
    Marker("cloudflare", "cf-ray"),
    Marker("fastly", "x-served-by", rx(r"(?i)\bcache-")),
    Marker("akamai", "server", rx(r"(?i)^akamaighost")),
    Marker("cloudfront", "server", rx(r"(?i)^cloudfront")),
    Marker("cloudfront", "x-amz-cf-id"),
    Marker("cloudfront", "via", rx(r"(?i)cloudfront")),
    Marker("azure-frontdoor", "x-azure-ref"),
    Marker("vercel", "server", rx(r"(?i)^vercel")),
    Marker("vercel", "x-vercel-id"),
    Marker("netlify", "server", rx(r"(?i)^netlify")),
    Marker("netlify", "x-nf-request-id"),
    Marker("heroku", "via", rx(r"(?i)vegur|heroku-router")),
    Marker("heroku", "server", rx(r"(?i)^heroku")),
    Marker("aws-apigateway", "x-amz-apigw-id"),
    Marker("aws-apigateway", "x-amzn-errortype"),
    Marker("aws-alb", "server", rx(r"(?i)^awselb")),
    Marker("gcp-lb", "via", rx(r"(?i)\bgoogle\b")),
    Marker("gcp-lb", "server", rx(r"(?i)^google frontend")),
    Marker("azure-appgw", "server", rx(r"(?i)^microsoft-azure-application-gateway")),
    Marker("varnish", "x-varnish"),
    Marker("varnish", "via", rx(r"(?i)varnish")),
    Marker("kong", "server", rx(r"(?i)^kong\b")),
    Marker("kong", "via", rx(r"(?i)\bkong/")),
    Marker("kong", "x-kong-response-latency"),
    Marker("kong", "x-kong-proxy-latency"),
    Marker("envoy", "server", rx(r"(?i)^(istio-)?envoy\b")),
    Marker("iis-arr", "x-powered-by", rx(r"(?i)\barr/")),
    Marker("apache", "server", rx(r"(?i)^apache(/|\s|$)")),
    Marker("squid", "server", rx(r"(?i)^squid\b")),
    Marker("squid", "via", rx(r"(?i)\(squid/")),
    Marker("squid", "x-squid-error"),
    Marker("haproxy", "server", rx(r"(?i)^haproxy")),
    Marker("traefik", "server", rx(r"(?i)^traefik")),
    Marker("caddy", "server", rx(r"(?i)^caddy")),
    Marker("openresty", "server", rx(r"(?i)^openresty")),
    Marker("nginx", "server", rx(r"(?i)^(nginx|tengine)\b")),
)

#: A tier that is a flavour of another: when both are marked, keep the first only.
SUPERSEDES: Mapping[str, str] = MappingProxyType({"fastly": "varnish"})

#: Headers whose presence shows the upstream answered (the tier only relayed). §3 R5.
PASSTHROUGH_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "x-envoy-upstream-service-time": "envoy",
        "x-kong-upstream-latency": "kong",
    }
)

#: A tier's own reason phrases: another phrase under its Server header was relayed. §0.7.
OWN_REASONS: Mapping[str, Mapping[int, str]] = MappingProxyType(
    {
        "nginx": {
            502: "Bad Gateway",
            503: "Service Temporarily Unavailable",
            504: "Gateway Time-out",
        },
        "openresty": {
            502: "Bad Gateway",
            503: "Service Temporarily Unavailable",
            504: "Gateway Time-out",
        },
        "haproxy": {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"},
        "aws-alb": {503: "Service Temporarily Unavailable"},
    }
)

#: Tiers that may add Retry-After themselves (Varnish's builtin synth; Cloudflare's JSON errors).
EMITS_RETRY_AFTER = frozenset({"varnish", "fastly", "cloudflare"})

#: Request-id headers to quote, so the engineer can hand them to the vendor. §3 last table.
ID_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "cloudflare": "CF-RAY",
        "cloudfront": "X-Amz-Cf-Id",
        "vercel": "x-vercel-id",
        "azure-frontdoor": "X-Azure-Ref",
        "netlify": "X-Nf-Request-Id",
        "aws-apigateway": "x-amzn-RequestId",
    }
)

# --------------------------------------------------------------------------- templates

#: Template names, first tried first. Explicit codes, then named causes, then generic pages.
ORDER: tuple[str, ...] = (
    "vercel-error",
    "cloudflare-5xx",
    "cloudflare-branded-origin-error",
    "heroku-application-error",
    "iis-arr-502.3",
    "iis-ancm-502.5",
    "iis-arr-502",
    "envoy-local-reply",
    "envoy-overloaded",
    "kong-json",
    "squid-error",
    "apache-proxy-error",
    "apache-503",
    "fastly-synthetic",
    "fastly-synthetic-typo",
    "varnish-synthetic",
    "cloudfront-error",
    "aws-apigateway-json",
    "gcp-gfe",
    "akamai-reference",
    "azure-frontdoor",
    "cloudflare-plain",
    "azure-appgw",
    "openresty",
    "nginx",
    "aws-alb",
    "nginx-no-footer",
    "haproxy",
    "traefik",
    "caddy-empty",
    "netlify-empty",
)

_ALL: Mapping[str, Template] = {**platforms.PAGES, **proxies.PAGES, **forward.PAGES}

TEMPLATES: tuple[Template, ...] = tuple(_ALL[name] for name in ORDER)
