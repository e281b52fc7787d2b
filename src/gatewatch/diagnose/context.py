"""What every rule reads (one probe, its origin, its history) and how a rule builds a verdict.

Rules stay short because the facts they share are computed once here: the response's
identification, the gateway's elapsed time, the origin's own reading, and the fields
that next steps quote (host, port, address …).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gatewatch.diagnose.advice import KIND_CAUSE, next_steps
from gatewatch.diagnose.identify import Identification, cached_line, identify
from gatewatch.diagnose.text import clip, host_port, netloc
from gatewatch.diagnose.tiers import healthy_identity
from gatewatch.model import Cause, Hop, HopName, ProbeResult, Response, Verdict

#: Longest evidence line, whatever it quotes.
LINE_LIMIT = 240

#: First step for an error a cache served (Age > 0): it may be stale.
CACHED_STEP = (
    "This error came from a cache (Age > 0): retry after the cache's TTL, or ask the origin "
    "directly, to confirm it is still failing before acting on it."
)

#: The hop a kind's cause points at, when the rule does not say.
_CAUSE_HOP: Mapping[str, HopName] = {
    "backend": "upstream",
    "overload": "upstream",
    "proxy": "proxy",
    "blocked": "upstream",
}


@dataclass(frozen=True)
class Context:
    """One probe and what surrounds it. Built once per diagnosis."""

    result: ProbeResult
    origin: ProbeResult | None
    history: tuple[ProbeResult, ...]
    expiring_days: float
    #: Identification of the response, when there is one.
    ident: Identification | None
    #: Request sent → first byte: how long the gateway took to answer.
    elapsed_ms: float | None
    fields: Mapping[str, str]

    @property
    def upstream(self) -> Hop:
        return self.result.hop("upstream")

    @property
    def failed_response(self) -> Response | None:
        """The response, when the upstream hop failed with one (unexpected status, body …)."""
        if self.upstream.failed and self.result.response is not None:
            return self.result.response
        return None

    @property
    def status(self) -> int:
        response = self.result.response
        return (response.status_code or 0) if response else 0


def first_byte_ms(result: ProbeResult) -> float | None:
    """Request sent → first byte, as the probe measured it."""
    hop = result.hop("upstream")
    if hop.ms is not None:
        return hop.ms
    value = hop.detail.get("first_byte_ms")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def resolver_of(result: ProbeResult) -> tuple[str, str]:
    """The resolver the DNS hop asked, and its port, for advice that names them (a resolver
    configured as ``127.0.0.1:5353`` is not reached on port 53)."""
    label = str(result.hop("dns").detail.get("resolver") or "")
    if not label or label.startswith("system"):
        return "the system resolver", "53"
    # As the probe reads a resolver: "1.1.1.1", "127.0.0.1:5353", "[::1]:5353", "::1".
    if label.startswith("["):
        rest = label.partition("]")[2]
        port = rest[1:] if rest.startswith(":") else "53"
    elif label.count(":") == 1:
        port = label.partition(":")[2]
    else:
        port = "53"
    return label, port if port.isdigit() else "53"


def build_context(
    result: ProbeResult,
    origin: ProbeResult | None,
    history: Sequence[ProbeResult],
    expiring_days: float,
) -> Context:
    elapsed = first_byte_ms(result)
    if elapsed is None and result.response is not None:
        elapsed = result.total_ms
    proxy_detail = result.hop("proxy").detail
    ident = (
        identify(
            result.response,
            elapsed_ms=elapsed,
            healthy=healthy_identity(history),
            forward_proxy=proxy_detail.get("mode") == "forward",
        )
        if result.response
        else None
    )
    host, port = host_port(result.url)
    resolver, resolver_port = resolver_of(result)
    fields = {
        "resolver": resolver,
        "resolver_port": resolver_port,
        "host": host,
        "port": port,
        "url": result.url,
        "address": result.address or f"{host}:{port}",
        "proxy": str(proxy_detail.get("proxy") or "?"),
        "status": str(result.status_code or "?"),
    }
    return Context(result, origin, tuple(history), expiring_days, ident, elapsed, fields)


def make_verdict(
    ctx: Context,
    kind: str | None,
    *,
    confidence: float,
    summary: str,
    evidence: Iterable[str],
    cause: Cause | None = None,
    hop: HopName | None = None,
    generator: str | None = None,
    tiers: Sequence[str] = (),
    candidates: Sequence[str] = (),
) -> Verdict:
    """A verdict with the cause, hop and next steps its kind implies, evidence capped."""
    cause = cause or KIND_CAUSE.get(kind or "", "unknown")
    if hop is None:
        hop = _CAUSE_HOP.get(cause)
    steps: tuple[str, ...] = ()
    if cause != "healthy":  # a healthy verdict has no next steps
        steps = tuple(
            next_steps(
                cause,
                kind,
                tiers=tiers,
                candidates=candidates,
                fields=ctx.fields,
                has_origin=ctx.origin is not None,
            )
        )
        response = ctx.result.response
        if response is not None and cached_line(response):
            steps = (CACHED_STEP, *steps)
    lines = tuple(dict.fromkeys(clip(line, LINE_LIMIT) for line in evidence if line))
    return Verdict(
        cause=cause,
        kind=kind,
        hop=hop,
        generator=generator,
        confidence=round(max(0.0, min(1.0, confidence)), 2),
        summary=clip(summary, 200),
        evidence=lines,
        next_steps=steps,
    )


# --------------------------------------------------------------------------- the origin

#: Origin failure (hop, kind) → what it settles for the gateway's error.
_ORIGIN_KIND: Mapping[tuple[str, str], str] = {
    ("tcp", "refused"): "upstream_refused",
    ("tcp", "unreachable"): "upstream_refused",
    ("tcp", "connect_timeout"): "upstream_timeout",
    ("tcp", "reset"): "upstream_closed",
    ("upstream", "upstream_closed"): "upstream_closed",
    ("upstream", "reset"): "upstream_closed",
    ("upstream", "upstream_invalid_response"): "upstream_invalid_response",
    ("upstream", "upstream_timeout"): "upstream_timeout",
    ("upstream", "truncated_body"): "upstream_closed",
}

_ORIGIN_PHRASE: Mapping[str, str] = {
    "refused": "refused the connection",
    "unreachable": "is unreachable",
    "connect_timeout": "did not accept the connection in time",
    "reset": "reset the connection",
    "upstream_closed": "closed the connection without answering",
    "upstream_invalid_response": "sent an invalid response",
    "upstream_timeout": "did not answer in time",
    "truncated_body": "stopped in the middle of the body",
}


@dataclass(frozen=True)
class OriginReading:
    """What the origin's own probe says. ``kind`` None: the origin answers."""

    kind: str | None
    line: str


def read_origin(origin: ProbeResult) -> OriginReading:
    """Map the origin's own failure to the gateway-side kind it explains (or None: it answers)."""
    where = f"origin {netloc(origin.url)}"
    hop = next((h for h in origin.hops if h.failed), None)
    status = origin.status_code
    if hop is None:
        took = f" in {origin.total_ms:.0f} ms" if origin.total_ms else ""
        return OriginReading(None, f"{where} answers {status or '?'} directly{took}")
    kind = hop.kind or "failed"
    if hop.name == "dns":
        return OriginReading("upstream_dns", f"{where}: the name did not resolve ({kind})")
    if hop.name == "tls":
        return OriginReading("upstream_tls", f"{where} failed TLS ({kind})")
    if hop.name == "upstream" and hop.detail.get("reset"):
        kind = "reset"
    if (hop.name, kind) in _ORIGIN_KIND:
        return OriginReading(_ORIGIN_KIND[hop.name, kind], f"{where} {_ORIGIN_PHRASE[kind]}")
    if hop.name == "upstream" and status is not None:
        if status >= 500:
            return OriginReading("app_error", f"{where} answers {status} itself")
        return OriginReading(None, f"{where} answers {status} directly")
    if hop.name == "upstream" and kind == "body_mismatch":
        return OriginReading(None, f"{where} answers directly (its body check fails)")
    return OriginReading("upstream_failed", f"{where} fails at {hop.name} ({kind})")


def origin_fails(ctx: Context) -> bool:
    return ctx.origin is not None and read_origin(ctx.origin).kind is not None


# --------------------------------------------------------------------------- hop facts


def detail_lines(hop: Hop) -> list[str]:
    """Facts from a hop's detail a human can check, per hop kind."""
    detail = hop.detail
    if hop.name == "dns":
        return _dns_lines(detail)
    if hop.name == "tls":
        return _tls_lines(detail)
    if hop.name == "proxy" and detail.get("proxy"):
        status = detail.get("connect_status")
        answered = f" answered CONNECT with {status}" if status else ""
        return [f"forward proxy {clip(str(detail['proxy']), 80)}{answered}"]
    return []


def _dns_lines(detail: Mapping[str, Any]) -> list[str]:
    lines = []
    resolvers = detail.get("resolvers")
    if isinstance(resolvers, list | tuple):
        for entry in list(resolvers)[:4]:
            if not isinstance(entry, Mapping):
                continue
            got = (
                entry.get("error")
                or ", ".join(map(str, entry.get("addresses") or ()))
                or "no answer"
            )
            ms = entry.get("ms")
            took = f" ({ms:.0f} ms)" if isinstance(ms, int | float) else ""
            lines.append(f"resolver {entry.get('resolver', '?')}: {clip(str(got), 100)}{took}")
    cnames = detail.get("cnames")
    if cnames:
        lines.append("CNAME chain: " + clip(" → ".join(map(str, cnames)), 120))
    source = detail.get("source")
    if source and source != "dns":
        lines.append(f"answer from {source}")
    return lines


def _tls_lines(detail: Mapping[str, Any]) -> list[str]:
    lines = []
    if detail.get("subject") or detail.get("issuer"):
        subject = clip(str(detail.get("subject", "?")), 80)
        issuer = clip(str(detail.get("issuer", "?")), 80)
        lines.append(f"certificate subject {subject}, issuer {issuer}")
    if detail.get("sans"):
        lines.append("SANs: " + clip(", ".join(map(str, detail["sans"])), 120))
    if detail.get("not_after"):
        lines.append(f"valid until {clip(str(detail['not_after']), 40)}")
    if detail.get("version"):
        lines.append(f"{detail['version']} {detail.get('cipher') or ''}".strip())
    return lines
