"""What the HTTP/2 kinds mean and what to do about them, as data (merged into ``advice``).

Why a table of its own: HTTP/2 failures have culprits HTTP/1.1 ones do not: the edge's
h2 implementation and its limits (header field and list sizes, concurrent streams,
requests per connection), and the edge's translation of h2 to the HTTP/1.1 its upstream
speaks. The next steps name those, with the directives that set them in the gateways
people run. Pure data: no imports from the rest of ``diagnose``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Literal

_Cause = Literal["tls", "proxy", "overload"]

#: Kind → cause. Reset, GOAWAY and protocol errors come from the h2 endpoint in front
#: (the edge that terminates TLS), so they point at the proxy; a refused stream is a
#: stream limit, so overload; a server without h2 is the TLS terminator's ALPN setting.
H2_KIND_CAUSE: MappingProxyType[str, _Cause] = MappingProxyType(
    {
        "h2_not_offered": "tls",
        "h2_refused_stream": "overload",
        "h2_stream_reset": "proxy",
        "h2_goaway": "proxy",
        "h2_preface_failed": "proxy",
        "h2_protocol_error": "proxy",
        "h2_only": "proxy",
        "h1_only": "proxy",
    }
)

H2_PHRASE: MappingProxyType[str, str] = MappingProxyType(
    {
        "h2_refused_stream": "the server refused the HTTP/2 stream (REFUSED_STREAM)",
        "h2_stream_reset": "the server reset the HTTP/2 stream",
        "h2_goaway": "the server closed the HTTP/2 connection (GOAWAY)",
        "h2_preface_failed": "the server accepted h2 but never completed the HTTP/2 preface",
        "h2_protocol_error": "the HTTP/2 connection broke on a protocol error",
        "h2_only": "it fails over HTTP/2 only",
        "h1_only": "it fails over HTTP/1.1 only",
    }
)

H2_HOP_SUMMARY: MappingProxyType[str, str] = MappingProxyType(
    {"h2_not_offered": "{host} does not offer HTTP/2 (h2) in ALPN, and this endpoint requires it"}
)

_HEADERS = (
    "Header size limits are the usual culprit: compare the request's headers (cookies, "
    "tokens) with nginx `large_client_header_buffers` (which also bounds each HTTP/2 "
    "field), HAProxy `tune.bufsize` / `tune.http.maxhdr`, Envoy `max_request_headers_kb`."
)
_TRANSLATION = (
    "The edge translates HTTP/2 to HTTP/1.1 for its upstream: check the route HTTP/2 "
    "requests take (nginx `map $server_protocol`, a separate h2 server block or "
    "backend) and headers HTTP/2 forbids (Connection, Transfer-Encoding, Upgrade)."
)
_STREAMS = (
    "Stream limits: nginx `http2_max_concurrent_streams` and `keepalive_requests`, "
    "HAProxy `tune.h2.max-concurrent-streams`, Envoy `max_concurrent_streams`; a value of "
    "0, or far below the clients' concurrency, refuses streams."
)
_LOG = (
    "The edge's log says why it ended the stream: nginx error log at `info` level "
    "(“client sent too large header field”, “concurrent streams exceeded”), HAProxy's "
    "termination flags (PR--, CR--)."
)
_COMPARE = "Compare both versions by hand: `curl --http2 -v URL` and `curl --http1.1 -v URL`."

#: Steps by cause then kind, merged into ``advice.STEPS``.
H2_STEPS: MappingProxyType[str, dict[str, tuple[str, ...]]] = MappingProxyType(
    {
        "tls": {
            "h2_not_offered": (
                "Enable HTTP/2 on the TLS listener (nginx `listen 443 ssl http2;` or "
                "`http2 on;`, HAProxy `bind … alpn h2,http/1.1`), or set this endpoint's "
                '`http_version = "auto"` (or "1.1") if HTTP/1.1 is intended.',
                "Check what the server offers: `openssl s_client -connect {host}:{port} "
                "-servername {host} -alpn h2,http/1.1` (the ALPN protocol line).",
            ),
        },
        "overload": {
            "h2_refused_stream": (
                "REFUSED_STREAM means the request was not processed: it is safe to retry, "
                "and clients do, so users see slowness before errors.",
                _STREAMS,
                _LOG,
            ),
        },
        "proxy": {
            "h2_stream_reset": (
                "The RST_STREAM error code names the reason: PROTOCOL_ERROR (a request the "
                "edge rejects: bad or forbidden header), ENHANCE_YOUR_CALM (a limit or abuse "
                "protection), INTERNAL_ERROR (the edge failed, often its upstream mid-response), "
                "REFUSED_STREAM (a stream limit).",
                _HEADERS,
                _TRANSLATION,
                _LOG,
                _COMPARE,
            ),
            "h2_goaway": (
                "GOAWAY's error code and debug data say why: NO_ERROR is a graceful "
                "shutdown or a request-per-connection limit (nginx `keepalive_requests`); "
                "ENHANCE_YOUR_CALM and COMPRESSION_ERROR are usually a header size limit; "
                "PROTOCOL_ERROR a request the edge rejects.",
                _HEADERS,
                _STREAMS,
                _LOG,
                _COMPARE,
            ),
            "h2_preface_failed": (
                "The TLS terminator offered h2 in ALPN but what answers behind it does not "
                "speak HTTP/2: a TCP/TLS pass-through to an HTTP/1.1 server, or ALPN "
                "configured on a listener whose backend is not h2.",
                "Offer only http/1.1 in ALPN on that listener, or terminate HTTP/2 there.",
                _COMPARE,
            ),
            "h2_protocol_error": (
                "The HTTP/2 connection broke on a protocol error: check the edge's version "
                "and known HTTP/2 bugs, and any middlebox that inspects TLS traffic.",
                _TRANSLATION,
                _COMPARE,
            ),
            "h2_only": (
                "Only HTTP/2 fails, so the application is up: the incident is in the h2 "
                "path of the edge, not in the backend.",
                _TRANSLATION,
                _HEADERS,
                _STREAMS,
                _COMPARE,
            ),
            "h1_only": (
                "Only HTTP/1.1 fails, so the application is up for HTTP/2 clients: the "
                "incident is in the HTTP/1.1 path of the edge (older clients, scripts, "
                "health checks use it).",
                "Header size limits differ between versions: HTTP/1.1 counts the raw header "
                "line (nginx `large_client_header_buffers`), HTTP/2 the HPACK-decoded field.",
                _TRANSLATION,
                _COMPARE,
            ),
        },
    }
)
