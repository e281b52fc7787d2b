"""What gateways say about their errors in plain headers, read before any page template.

A page template is a guess from the layout; these are the gateway's own words:

- RFC 9209 ``Proxy-Status`` (``proxy_status.py``);
- Envoy: ``x-envoy-ratelimited``, and its response flags (``ENVOY_FLAGS``) where they are
  visible: in ``x-envoy-response-flags`` (``%RESPONSE_FLAGS%`` added as a response
  header, a common setup) or in the ``details`` of Envoy's Proxy-Status;
- Cloudflare: ``cf-mitigated: challenge``, ``cf-error-type`` / ``cf-error-origin`` (sent
  only on errors Cloudflare generated itself) and the 1xxx codes of its pages
  (``CLOUDFLARE_CODES``).

The tables are data; ``read_signal`` walks them in that order and returns the first
``Signal`` (or None, and the templates decide). No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gatewatch.diagnose.proxy_status import CONFIDENCE, read_proxy_status
from gatewatch.diagnose.text import clip
from gatewatch.model import Response


@dataclass(frozen=True)
class Signal:
    """A gateway's own statement about an error: who, which kind, how sure."""

    generator: str
    kind: str | None
    confidence: float
    evidence: tuple[str, ...]
    candidates: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Reading:
    kind: str | None
    confidence: float
    note: str
    candidates: tuple[str, ...] = ()


#: Envoy %RESPONSE_FLAGS% → kind. [doc] envoyproxy.io access log "response flags".
ENVOY_FLAGS: Mapping[str, Reading] = MappingProxyType(
    {
        "NR": Reading("no_route", 0.9, "NR: no route matched the request"),
        "UH": Reading("no_healthy_upstream", 0.9, "UH: no healthy upstream host"),
        "UF": Reading(
            None,
            0.8,
            "UF: upstream connection failure (refused, or the connect timed out)",
            ("upstream_refused", "upstream_timeout"),
        ),
        "URX": Reading(
            None,
            0.75,
            "URX: the retry limit (or max connect attempts) was exceeded",
            ("upstream_refused", "upstream_timeout", "upstream_closed"),
        ),
        "UT": Reading("upstream_timeout", 0.9, "UT: the upstream request timeout fired"),
        "UC": Reading("upstream_closed", 0.85, "UC: the upstream terminated the connection"),
        "UR": Reading("upstream_closed", 0.8, "UR: the upstream reset the connection"),
        "DF": Reading("upstream_dns", 0.9, "DF: DNS resolution of the upstream failed"),
        "OM": Reading("gateway_overloaded", 0.9, "OM: Envoy's overload manager answered"),
        "DO": Reading("gateway_overloaded", 0.85, "DO: dropped by overload (drop_overload)"),
        "UO": Reading("rate_limited", 0.85, "UO: upstream overflow (a circuit breaker)"),
        "RL": Reading("rate_limited", 0.95, "RL: rate limited by Envoy's rate limit filter"),
        "UPE": Reading("upstream_invalid_response", 0.85, "UPE: upstream protocol error"),
    }
)

#: Cloudflare 1xxx error codes → kind. [doc] developers.cloudflare.com/support/troubleshooting/
#: http-status-codes/cloudflare-1xxx-errors/.
CLOUDFLARE_CODES: Mapping[str, Reading] = MappingProxyType(
    {
        "1033": Reading("tunnel_down", 0.9, "Cloudflare 1033: the Argo/cloudflared tunnel is down"),
        "1101": Reading("worker_error", 0.9, "Cloudflare 1101: the Worker threw an exception"),
        "1102": Reading("worker_error", 0.9, "Cloudflare 1102: the Worker exceeded its CPU limit"),
        "1015": Reading("rate_limited", 0.95, "Cloudflare 1015: rate limited by a zone rule"),
        "1020": Reading("waf_block", 0.95, "Cloudflare 1020: access denied by a firewall rule"),
        "1200": Reading(
            "gateway_overloaded", 0.85, "Cloudflare 1200: cache connection limit, origin queueing"
        ),
        "1000": Reading("upstream_dns", 0.85, "Cloudflare 1000: DNS points to a prohibited IP"),
        "1001": Reading("upstream_dns", 0.85, "Cloudflare 1001: DNS resolution error"),
        "1014": Reading("upstream_dns", 0.8, "Cloudflare 1014: CNAME cross-user banned"),
        "1016": Reading("upstream_dns", 0.9, "Cloudflare 1016: origin DNS error"),
        "1018": Reading("upstream_dns", 0.85, "Cloudflare 1018: could not find host"),
        "1023": Reading("upstream_dns", 0.85, "Cloudflare 1023: could not find host"),
    }
)

_FLAG = re.compile(r"\b([A-Z]{2,4})\b")
_CF_CODE = re.compile(r"(?i)\berror(?:\s+code)?\s*:?\s*(1\d{3})\b")
_ENVOY_NAMES = ("envoy", "istio-envoy")


def read_signal(response: Response, tiers: tuple[str, ...]) -> Signal | None:
    """The first statement the gateway makes about its error, or None."""
    return _proxy_status(response) or _envoy(response, tiers) or _cloudflare(response, tiers)


def _proxy_status(response: Response) -> Signal | None:
    status = read_proxy_status(response)
    if status is None or status.kind is None:
        return None
    evidence = list(status.evidence)
    kind, confidence = status.kind, CONFIDENCE
    candidates: tuple[str, ...] = ()
    flags = _flags(status.details or "") if status.generator in _ENVOY_NAMES else ()
    if flags:
        reading = ENVOY_FLAGS[flags[0]]
        evidence.append(f"Envoy response flags in the details: {reading.note}")
        if reading.kind is not None:
            kind = reading.kind
        candidates = reading.candidates
    evidence.append("a parsed Proxy-Status outranks the page's template")
    return Signal(status.generator, kind, confidence, tuple(evidence), candidates, "proxy-status")


def _envoy(response: Response, tiers: tuple[str, ...]) -> Signal | None:
    if response.status_code == 429 and response.header("x-envoy-ratelimited") is not None:
        return Signal(
            "envoy",
            "rate_limited",
            0.95,
            ("x-envoy-ratelimited on a 429: Envoy's rate limit service said over limit",),
            source="envoy",
        )
    value = response.header("x-envoy-response-flags")
    flags = _flags(value or "")
    if not flags:
        return None
    reading = ENVOY_FLAGS[flags[0]]
    evidence = (f"x-envoy-response-flags: {clip(value or '', 40)}; {reading.note}",)
    return Signal("envoy", reading.kind, reading.confidence, evidence, reading.candidates, "envoy")


def _flags(text: str) -> tuple[str, ...]:
    return tuple(f for f in _FLAG.findall(text) if f in ENVOY_FLAGS)


def _cloudflare(response: Response, tiers: tuple[str, ...]) -> Signal | None:
    if "cloudflare" not in tiers:
        return None
    evidence: list[str] = []
    mitigated = response.header("cf-mitigated")
    if mitigated is not None and mitigated.strip().lower() == "challenge":
        return Signal(
            "cloudflare",
            "challenge",
            0.95,
            ("cf-mitigated: challenge: Cloudflare served a bot challenge, not the page",),
            source="cloudflare",
        )
    error_type = response.header("cf-error-type")
    origin = response.header("cf-error-origin")
    if error_type is not None:
        evidence.append(
            f"cf-error-type: {clip(error_type, 40)}: Cloudflare generated this error itself"
        )
    if origin is not None:
        evidence.append(f"cf-error-origin: {clip(origin, 40)}")
    code = _CF_CODE.search(response.text) if (response.status_code or 0) >= 400 else None
    if code is None or code.group(1) not in CLOUDFLARE_CODES:
        return None
    reading = CLOUDFLARE_CODES[code.group(1)]
    evidence.append(reading.note)
    return Signal(
        "cloudflare", reading.kind, reading.confidence, tuple(evidence), reading.candidates,
        "cloudflare",
    )  # fmt: skip
