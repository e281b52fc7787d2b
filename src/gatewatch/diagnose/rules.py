"""Ordered rules: one probe (with its origin and history) → one Verdict. First match wins.

The order is the diagnosis (see ``RULES``): what the probe observed directly beats
what a page claims; the origin's own probe beats the gateway's page; a page that
names its cause beats the status code alone. Every rule is a pure function of a
``Context`` and returns None when it does not apply. No I/O, no clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from gatewatch.diagnose.advice import KIND_CAUSE, PHRASE
from gatewatch.diagnose.context import (
    LINE_LIMIT,
    Context,
    build_context,
    make_verdict,
    origin_fails,
    read_origin,
)
from gatewatch.diagnose.followup import DETAIL_KEY
from gatewatch.diagnose.history import (
    history_line,
    intermittent,
    intermittent_failure,
    slow,
)
from gatewatch.diagnose.hops import (
    any_failed,
    dns_failed,
    expiring_soon,
    healthy,
    hop_warning,
    pool_member_down,
    proxy_failed,
    tcp_failed,
    tls_failed,
)
from gatewatch.diagnose.identify import Identification, marked_tiers
from gatewatch.diagnose.text import clip, fmt_ms
from gatewatch.diagnose.timeouts import describe, matching
from gatewatch.diagnose.versions import h2_failed, one_version_only, with_other_version
from gatewatch.model import ProbeResult, Verdict

Rule = Callable[[Context], Verdict | None]


def _from(ident: Identification | None) -> str:
    return ident.generator if ident and ident.generator else "the server"


def _tiers(ident: Identification | None) -> tuple[str, ...]:
    return ident.tiers if ident else ()


# --------------------------------------------------------------------------- no usable HTTP


def truncated_body(ctx: Context) -> Verdict | None:
    """The status arrived but the body stopped short (R1): never a 502, still a failure."""
    response = ctx.result.response
    hop = ctx.upstream
    if hop.kind != "truncated_body" and not (response is not None and not response.complete):
        return None
    got = hop.detail.get("body_bytes", response.body_size if response else None)
    expected = hop.detail.get("content_length", response.content_length if response else None)
    status = ctx.status or "?"
    evidence = [f"received {got} of {expected} body bytes after a {status}"]
    if hop.error:
        evidence.append(f"upstream: {clip(hop.error)}")
    relayed = ctx.ident.relayed_by if ctx.ident else ()
    if "nginx" in relayed and got == 0:
        evidence.append(
            "nginx forwards nothing when its upstream resets mid-body (it forwards what it "
            "had on a clean close): a reset is likely"
        )
    return make_verdict(
        ctx,
        "truncated_body",
        confidence=0.9,
        generator="app",
        summary=f"{status} but {PHRASE['truncated_body']} ({got} of {expected} bytes)",
        evidence=evidence,
        tiers=("app", *relayed),
    )


def no_response(ctx: Context) -> Verdict | None:
    """The upstream hop failed before any response headers (closed, garbage, timeout)."""
    hop = ctx.upstream
    if not hop.failed or ctx.result.response is not None:
        return None
    kind = hop.kind or "upstream_failed"
    if kind == "reset" or hop.detail.get("reset"):
        kind = "upstream_closed"
    evidence = [f"upstream: {clip(hop.error)}" if hop.error else f"no response: {kind}"]
    raw = hop.detail.get("raw_head")
    if raw:
        head = str(raw)
        # "HTTP/1.1 99x Weird" is a status line, just not a valid one; "THIS IS NOT HTTP"
        # is not one at all. Say which, so nobody hunts for a missing line that is there.
        what = (
            "an HTTP status line that does not parse"
            if head.startswith("HTTP/")
            else "no HTTP status line"
        )
        evidence.append(f'first bytes received: "{clip(head)}" ({what})')
    tiers: tuple[str, ...] = ()
    generator = None
    if kind == "upstream_invalid_response" and _nginx_in_front(ctx.history):
        generator, tiers = "app", ("app", "nginx")
        evidence.append(
            "earlier probes came through nginx, which relays an upstream's non-HTTP reply as "
            "HTTP/0.9 (error log: upstream sent no valid HTTP/1.0 header)"
        )
    if kind == "upstream_timeout":
        waited = hop.ms if hop.ms is not None else ctx.result.total_ms
        evidence.append(
            f"no response headers after {fmt_ms(waited)}: this probe's timeout fired before "
            "any gateway gave up (raise the endpoint's timeout to see the gateway's answer)"
        )
    if ctx.origin is not None:
        reading = read_origin(ctx.origin)
        evidence.insert(0, reading.line)
        if reading.kind is None:
            return make_verdict(
                ctx,
                "gateway_misconfigured",
                confidence=0.8,
                summary=f"no response through the gateway, but {reading.line}",
                evidence=evidence,
            )
        kind = reading.kind
        if kind == "upstream_invalid_response":
            generator = "app"  # the origin sends the same bytes directly: they are the app's
    cause = KIND_CAUSE.get(kind, "backend")
    return make_verdict(
        ctx,
        kind,
        cause=cause,
        hop="upstream",
        generator=generator,
        confidence=0.95 if ctx.origin is not None else 0.8,
        summary=f"no HTTP response: {PHRASE.get(kind, kind)}",
        evidence=evidence,
        tiers=tiers,
    )


def _nginx_in_front(history: Sequence[ProbeResult]) -> bool:
    for past in reversed(history[-10:]):
        if past.response is not None:
            return "nginx" in marked_tiers(past.response)
    return False


# --------------------------------------------------------------------------- responses


def rate_limited(ctx: Context) -> Verdict | None:
    """429, or a gateway's rate-limit page (nginx limit_req 503, Envoy overflow)."""
    response, ident = ctx.failed_response, ctx.ident
    if response is None or ident is None:
        return None
    by_status = response.status_code == 429
    if not by_status and not (ident.hint == "rate_limited" and not origin_fails(ctx)):
        return None
    evidence = list(ident.evidence)
    if retry_after := response.header("retry-after"):
        evidence.append(f"Retry-After: {clip(retry_after, 40)}")
    return make_verdict(
        ctx,
        "rate_limited",
        confidence=0.9 if by_status else ident.hint_confidence,
        hop="proxy" if ident.gateway else "upstream",
        generator=ident.generator,
        summary=f"{ctx.status} from {_from(ident)}: {PHRASE['rate_limited']}",
        evidence=evidence,
        tiers=ident.tiers,
        candidates=ident.candidates,
    )


def origin_settles(ctx: Context) -> Verdict | None:
    """The gateway's error, read against the origin probed directly: the origin decides."""
    response, ident, origin = ctx.failed_response, ctx.ident, ctx.origin
    if response is None or ident is None or origin is None:
        return None
    if ident.generator == "app" or (ident.generator is None and ctx.status < 500):
        return None
    reading = read_origin(origin)
    evidence = [reading.line, *ident.evidence, _timing(ctx, reading.kind)]
    if reading.kind is None:
        if ident.hint:
            evidence.append(f"the gateway's page points at {ident.hint}, yet the origin answers")
        # What the gateway's log says about the upstream shows what it is misconfigured for.
        seen = ident.candidates or ((ident.hint,) if ident.hint else ())
        return make_verdict(
            ctx,
            "gateway_misconfigured",
            confidence=0.85,
            generator=ident.generator,
            summary=f"{ctx.status} from {_from(ident)}, but {reading.line}",
            evidence=evidence,
            tiers=ident.tiers,
            candidates=seen,
        )
    return make_verdict(
        ctx,
        reading.kind,
        confidence=0.95,
        generator=ident.generator,
        summary=f"{ctx.status} from {_from(ident)}: {PHRASE.get(reading.kind, reading.kind)}"
        " (the origin's own probe shows it)",
        evidence=evidence,
        tiers=ident.tiers,
    )


def unavailable(ctx: Context) -> Verdict | None:
    """503 with Retry-After from the application: unavailable for now, come back later."""
    response, ident = ctx.failed_response, ctx.ident
    # Only the application's own 503 (positive evidence): Varnish's builtin page sends
    # Retry-After too, and an unknown tier's 503 is not known to be the app's.
    if response is None or ident is None or ident.generator != "app":
        return None
    if response.status_code != 503:
        return None
    retry_after = response.header("retry-after")
    if retry_after is None:
        return None
    return make_verdict(
        ctx,
        "unavailable",
        confidence=0.8,
        generator=ident.generator,
        summary=f"503 from {_from(ident)}: {PHRASE['unavailable']} (Retry-After: "
        f"{clip(retry_after, 40)})",
        evidence=[f"503 with Retry-After: {clip(retry_after, 40)}", *ident.evidence],
        tiers=ident.tiers,
    )


def app_error(ctx: Context) -> Verdict | None:
    """The application's own 5xx, relayed by the gateway (R5)."""
    response, ident = ctx.failed_response, ctx.ident
    if response is None or ident is None or ident.generator != "app" or ctx.status < 500:
        return None
    evidence = list(ident.evidence)
    if ctx.origin is not None:
        evidence.insert(0, read_origin(ctx.origin).line)
    reason = f" {clip(response.reason, 60)}" if response.reason else ""
    return make_verdict(
        ctx,
        "app_error",
        confidence=max(ident.confidence, 0.5),
        generator="app",
        summary=f"{ctx.status}{reason} from the application: {PHRASE['app_error']}",
        evidence=evidence,
        tiers=ident.tiers,
    )


def gateway_page(ctx: Context) -> Verdict | None:
    """A gateway's own error page: its hint names the cause, or lists candidates (R2–R4).

    Also a gateway inferred from its page, timing or changed identity (``unknown.py``),
    named from its own Server/Via token or, when it names itself nowhere, unnamed.
    """
    response, ident = ctx.failed_response, ctx.ident
    if response is None or ident is None or not (ident.gateway or ident.inferred):
        return None
    if ctx.status < 500 and not ident.hint:
        return None
    kind = ident.hint or "upstream_failed"
    confidence = ident.hint_confidence or 0.5
    evidence = list(ident.evidence)
    # A hint may name the likeliest kind while the page cannot rule the others out:
    # say so, so the engineer knows what the log must settle.
    if ident.candidates and (kind == "upstream_failed" or len(ident.candidates) > 1):
        evidence.append("from this response alone it could be: " + ", ".join(ident.candidates))
    evidence.append(_timing(ctx, kind))
    if kind == "upstream_timeout" and ctx.elapsed_ms and matching(ident.generator, ctx.elapsed_ms):
        confidence += 0.05
    return make_verdict(
        ctx,
        kind,
        confidence=confidence,
        generator=ident.generator,
        summary=f"{ctx.status} from {_from(ident)}: {PHRASE.get(kind, kind)}",
        evidence=evidence,
        tiers=ident.tiers,
        candidates=ident.candidates,
    )


#: Status-only fallback (R6): what each status usually means. The claim is "one of these"
#: and it is wide, so its confidence is moderate (measured: bench/accuracy.py --blind).
_STATUS_ONLY: dict[int, tuple[str, tuple[str, ...], float]] = {
    502: (
        "upstream_failed",
        ("upstream_refused", "upstream_closed", "upstream_invalid_response", "upstream_timeout"),
        0.6,
    ),
    503: (
        "upstream_failed",
        # Varnish, HAProxy, Apache and Squid answer 503 for every connect-phase failure,
        # Varnish for closed and invalid answers too.
        (
            "upstream_refused",
            "no_healthy_upstream",
            "upstream_timeout",
            "upstream_closed",
            "upstream_invalid_response",
            "rate_limited",
            "unavailable",
        ),
        0.6,
    ),
    504: ("upstream_timeout", (), 0.6),
}


def status_only(ctx: Context) -> Verdict | None:
    """A 5xx whose generator is unknown: the status code is all there is (R6)."""
    response, ident = ctx.failed_response, ctx.ident
    if response is None or ctx.status < 500:
        return None
    kind, candidates, confidence = _STATUS_ONLY.get(ctx.status, ("app_error", (), 0.3))
    evidence = list(ident.evidence) if ident else []
    if candidates:
        evidence.append("from the status alone it could be: " + ", ".join(candidates))
    evidence.append(_timing(ctx, kind))
    evidence.append("missing: the gateway's error log or load balancer log for this request")
    return make_verdict(
        ctx,
        kind,
        confidence=confidence,
        summary=f"{ctx.status} from an unrecognised server: {PHRASE.get(kind, kind)}",
        evidence=evidence,
        tiers=_tiers(ident),
        candidates=candidates,
    )


def expectation_failed(ctx: Context) -> Verdict | None:
    """The endpoint answered, but not what it should: status or body expectation."""
    hop, response = ctx.upstream, ctx.failed_response
    if response is None:
        return None
    kind = "body_mismatch" if hop.kind == "body_mismatch" else "unexpected_status"
    reason = f" {clip(response.reason, 60)}" if response.reason else ""
    evidence = [f"upstream: {clip(hop.error)}"] if hop.error else []
    if ctx.ident:
        evidence += ctx.ident.evidence
    return make_verdict(
        ctx,
        kind,
        confidence=0.8,
        generator=ctx.ident.generator if ctx.ident else None,
        summary=f"answered {ctx.status}{reason}: {PHRASE[kind]}",
        evidence=evidence,
        tiers=_tiers(ctx.ident),
    )


def _timing(ctx: Context, kind: str | None) -> str:
    if ctx.elapsed_ms is None:
        return ""
    generator = ctx.ident.generator if ctx.ident and ctx.ident.gateway else None
    return describe(generator, ctx.elapsed_ms, timed_out=kind == "upstream_timeout")


# --------------------------------------------------------------------------- the order

#: First match wins. Direct observations first, then the origin, then pages, then history.
RULES: tuple[Rule, ...] = (
    pool_member_down,  # some addresses fail, others answer
    dns_failed,
    tcp_failed,
    tls_failed,
    proxy_failed,  # the forward proxy
    one_version_only,  # fails over HTTP/2 only (or HTTP/1.1 only): the follow-up passed
    h2_failed,  # RST_STREAM, GOAWAY, broken preface, HTTP/2 protocol error
    truncated_body,  # status arrived, body did not (R1)
    no_response,  # no response headers: closed, garbage (R0), timeout
    rate_limited,  # 429 or a gateway's rate-limit page
    origin_settles,  # gateway error + origin probed directly
    unavailable,  # 503 + Retry-After from the application
    app_error,  # the application's own 5xx, relayed (R5)
    gateway_page,  # a gateway's own page (R2–R4)
    intermittent_failure,  # unexplained 5xx while most recent probes pass
    status_only,  # unrecognised 5xx (R6)
    expectation_failed,  # unexpected status, body mismatch
    any_failed,  # a failing hop nothing above knew
    intermittent,  # this probe passed, recent ones failed
    slow,  # first byte far above the endpoint's own median
    expiring_soon,  # certificate expires within expiring_days
    hop_warning,  # resolvers disagree, slow DNS, …
    healthy,
)


def diagnose(
    result: ProbeResult,
    *,
    origin: ProbeResult | None = None,
    history: Sequence[ProbeResult] = (),
    expiring_days: float = 14.0,
) -> Verdict:
    """Which hop broke and why. ``history``: earlier results of this endpoint, oldest first."""
    return run_rules(build_context(result, origin or result.origin, history, expiring_days))


def run_rules(ctx: Context) -> Verdict:
    """The verdict of the first rule that applies to ``ctx``."""
    for rule in RULES:
        verdict = rule(ctx)
        if verdict is not None:
            return with_other_version(ctx, _with_followup(ctx, _with_history(ctx, verdict)))
    return make_verdict(
        ctx, None, cause="unknown", confidence=0.1, summary="no rule applies", evidence=()
    )


def _with_followup(ctx: Context, verdict: Verdict) -> Verdict:
    """What the gateway said when asked (``diagnose/followup.py``), as evidence."""
    finding = ctx.upstream.detail.get(DETAIL_KEY)
    lines = finding.get("lines") if isinstance(finding, Mapping) else None
    if verdict.healthy or not isinstance(lines, list | tuple) or not lines:
        return verdict
    extra = tuple(clip(str(line), LINE_LIMIT) for line in lines[:8])
    return dataclasses.replace(verdict, evidence=(*verdict.evidence, *extra))


def _with_history(ctx: Context, verdict: Verdict) -> Verdict:
    if ctx.result.ok or verdict.kind == "intermittent" or not (line := history_line(ctx)):
        return verdict
    return dataclasses.replace(verdict, evidence=(*verdict.evidence, line))
