"""Fingerprints of forward proxies: what a proxy between the prober and the site says
when it cannot reach the site. Squid, from its real pages (tests/test_real_gateways_more.py).

A forward proxy's own error differs from a reverse proxy's: the prober chose the proxy,
so the proxy hop is named, and the kind says what the proxy could not do (reach the
origin, resolve it, get an answer). Squid names it in ``X-Squid-Error`` (its ERR_*
template and the errno), which the hints below read; its CONNECT failures never get this
far (the probe's proxy hop fails, named from the reply's ``Server``).
"""

from __future__ import annotations

from collections.abc import Mapping

from gatewatch.diagnose.fingerprint import Hint, Template, rx


def _squid(code: str, kind: str, confidence: float, note: str) -> Hint:
    return Hint(kind, confidence, note, header=("x-squid-error", rx(rf"^\s*{code}\b")))


#: Squid's X-Squid-Error codes (errorpage.cc, its ERR_* templates) → kind.
_SQUID_HINTS = (
    _squid(
        r"ERR_CONNECT_FAIL 111",
        "upstream_refused",
        0.9,
        "X-Squid-Error: ERR_CONNECT_FAIL 111: the proxy could not reach the origin, which "
        "refused the connection",
    ),
    _squid(
        r"ERR_CONNECT_FAIL 110",
        "upstream_timeout",
        0.85,
        "X-Squid-Error: ERR_CONNECT_FAIL 110: the proxy's connect to the origin timed out",
    ),
    _squid(
        "ERR_CONNECT_FAIL",
        "upstream_refused",
        0.75,
        "X-Squid-Error: ERR_CONNECT_FAIL: the proxy could not connect to the origin",
    ),
    _squid("ERR_DNS_FAIL", "upstream_dns", 0.9, "the proxy could not resolve the origin's name"),
    _squid(
        "ERR_READ_TIMEOUT", "upstream_timeout", 0.9, "the origin did not answer the proxy in time"
    ),
    _squid("ERR_LIFETIME_EXP", "upstream_timeout", 0.8, "the request outlived Squid's lifetime"),
    _squid("ERR_ZERO_SIZE_OBJECT", "upstream_closed", 0.85, "the origin closed without answering"),
    _squid("ERR_READ_ERROR", "upstream_closed", 0.8, "reading from the origin failed (reset)"),
    _squid("ERR_INVALID_RESP", "upstream_invalid_response", 0.9, "the origin's reply was invalid"),
    _squid(
        "ERR_SECURE_CONNECT_FAIL", "upstream_tls", 0.85, "TLS from the proxy to the origin failed"
    ),
    _squid("ERR_ACCESS_DENIED", "gateway_error", 0.7, "Squid's http_access rules denied it"),
    Hint(
        None,
        0.5,
        "a Squid error page; X-Squid-Error names the ERR_* template",
        candidates=("upstream_refused", "upstream_closed", "upstream_timeout"),
    ),
)

PAGES: Mapping[str, Template] = {
    t.name: t
    for t in (
        Template(
            "squid-error",
            "squid",
            "Squid's {status} error page (X-Squid-Error)",
            "[lab] squid 5.7 on loopback; [src] squid errors/templates, src/errorpage.cc",
            headers=("x-squid-error",),
            hints=_SQUID_HINTS,
        ),
    )
}
