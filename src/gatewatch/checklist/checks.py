"""Each step's automated check: an async function of a CheckContext that returns a Finding.

Why every check returns pass / warn / fail / inconclusive with evidence: an engineer must be
able to check the check. "Persistent: 5 of 5 failed" with five timed lines is something to
act on; a bare red light is not. A check that cannot tell says inconclusive and why, and
the step's manual instruction (steps.py) takes over.

Retry, Server status, Proxy settings and Escalate live here; DNS and TLS in ``network``,
Load and Software in ``fleet``. None of them imports Textual.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from statistics import median
from typing import Any

from gatewatch.checklist.context import Check, CheckContext, Finding, ms_text
from gatewatch.checklist.fleet import check_load, check_software
from gatewatch.checklist.network import check_dns, check_tls, connect
from gatewatch.checklist.redact import Redactor, secret_header
from gatewatch.checklist.results import ALARMING, ProbeRow, kind_of
from gatewatch.diagnose import identify
from gatewatch.diagnose.advice import ASK, CONFIGURE_ORIGIN, LOGS, PHRASE
from gatewatch.diagnose.context import first_byte_ms, read_origin
from gatewatch.diagnose.text import clip, host_port
from gatewatch.diagnose.timeouts import TIMEOUTS, describe
from gatewatch.diagnose.versions import outcome_line, version_name
from gatewatch.model import Endpoint, ProbeResult, format_time
from gatewatch.probe import environment_proxy

__all__ = [
    "Check",
    "check_dns",
    "check_escalate",
    "check_load",
    "check_proxy",
    "check_retry",
    "check_server",
    "check_software",
    "check_tls",
]

# --------------------------------------------------------------------------- retry


def _attempt_line(index: int, total: int, result: ProbeResult) -> str:
    status = result.status_code if result.status_code is not None else "no response"
    what = "ok" if result.ok else kind_of(result) or "failed"
    return f"#{index}/{total} {format_time(result.started_at)}: {status}, {what}, " + ms_text(
        result.total_ms
    )


async def check_retry(ctx: CheckContext) -> Finding:
    """Re-probe N times with backoff: is the failure transient or persistent?"""
    settings = ctx.settings
    total = max(1, settings.retries)
    pauses = settings.pauses()
    results: list[ProbeResult] = []
    for index in range(total):
        if index:
            await ctx.sleep(pauses[index - 1])
        results.append(await ctx.probe())
    failed = [r for r in results if not r.ok]
    kinds = Counter(kind_of(r) or "failed" for r in failed)
    totals = [r.total_ms for r in results if r.total_ms == r.total_ms]
    evidence = [_attempt_line(i, total, r) for i, r in enumerate(results, 1)]
    if totals:
        evidence.append(
            f"total time: median {ms_text(median(totals))}, fastest {ms_text(min(totals))}, "
            f"slowest {ms_text(max(totals))}"
        )
    if pauses:
        evidence.append("pauses between probes: " + ", ".join(f"{p:g} s" for p in pauses))
    facts: dict[str, Any] = {
        "attempts": total,
        "failed": len(failed),
        "kinds": dict(kinds),
        "median_ms": round(median(totals), 3) if totals else None,
    }
    probes = [ProbeRow.of(r, f"retry {i}/{total}") for i, r in enumerate(results, 1)]
    # One probe over the other HTTP version (made once; `diagnose` made it already).
    other = (await ctx.with_other_version()).other_version
    one_version = ""
    if other is not None:
        evidence.append(outcome_line(other))
        verdict = ctx.result.verdict if ctx.result is not None else None
        if verdict is not None and verdict.kind in ("h2_only", "h1_only"):
            evidence.append(verdict.summary)
            one_version = f"; {verdict.summary.split(':', 1)[0]}"
        facts["other_version"] = {
            "http_version": other.http_version,
            "ok": other.ok,
            "status_code": other.status_code,
        }
        probes.append(ProbeRow.of(other, f"over {version_name(other.http_version)}"))
    listed = ", ".join(f"{k} ×{n}" for k, n in kinds.most_common(3))
    if not failed:
        facts["pattern"] = "none"
        opened = ctx.result is not None and not ctx.result.ok
        tail = ": the failure that opened this checklist was transient" if opened else ""
        return Finding("pass", f"0 of {total} probes failed{tail}", evidence, facts, probes)
    if len(failed) == total:
        facts["pattern"] = "persistent"
        return Finding(
            "fail",
            f"persistent: {total} of {total} probes failed ({listed}){one_version}",
            evidence,
            facts,
            probes,
        )
    facts["pattern"] = "transient"
    return Finding(
        "warn",
        f"transient: {len(failed)} of {total} probes failed ({listed}){one_version}",
        evidence,
        facts,
        probes,
    )


# --------------------------------------------------------------------------- server status


def origin_endpoint(endpoint: Endpoint) -> Endpoint:
    """The endpoint's origin as an endpoint of its own, as the probe engine builds it."""
    assert endpoint.origin is not None
    return endpoint.replace(
        name=f"{endpoint.name} (origin)",
        url=endpoint.origin,
        origin=None,
        proxy=None,
        all_addresses=False,
    )


async def check_server(ctx: CheckContext) -> Finding:
    """Probe the origin directly (when configured) and connect to its TCP port."""
    endpoint = ctx.endpoint
    if endpoint.origin:
        host, port = host_port(endpoint.origin)
        origin, tcp = await asyncio.gather(
            ctx.probe(origin_endpoint(endpoint)), connect(ctx, host, int(port))
        )
        reading = read_origin(origin)
        evidence = [reading.line, tcp.line]
        failed = origin.failed_hop if not origin.ok else None
        if failed is not None and failed.error:
            evidence.append(f"origin {failed.name}: {clip(failed.error, 160)}")
        probes = [ProbeRow.of(origin, "origin")]
        facts = {"origin_ok": origin.ok, "origin_status": origin.status_code, "tcp": tcp.kind}
        # An answer that misses the endpoint's expectations still shows the application is up.
        if reading.kind is None and tcp.kind is None:
            evidence.append("the application is up: a gateway error is the gateway's to explain")
            return Finding(
                "pass", f"the application answers directly: {reading.line}", evidence, facts, probes
            )
        summary = reading.line if reading.kind is not None else tcp.line
        return Finding(
            "fail", f"the application is not healthy: {summary}", evidence, facts, probes
        )

    result = await ctx.current()
    host, port = host_port(endpoint.url)
    tcp = await connect(ctx, host, int(port))
    evidence = [
        tcp.line,
        "no origin configured: the application behind the gateway is not probed directly",
    ]
    facts = {"tcp": tcp.kind}
    verdict = result.verdict
    if tcp.kind is not None and not endpoint.proxy:
        return Finding(
            "fail", f"the endpoint's port does not accept connections: {tcp.line}", evidence, facts
        )
    if result.ok:
        return Finding("pass", "the application answers through the gateway", evidence, facts)
    if verdict is not None and verdict.generator == "app" and (result.status_code or 0) >= 500:
        return Finding(
            "fail",
            f"the application itself answers {result.status_code}",
            [verdict.summary, *evidence],
            facts,
        )
    return Finding(
        "inconclusive",
        "can't see behind the gateway without an origin",
        [*evidence, CONFIGURE_ORIGIN],
        facts,
    )


# --------------------------------------------------------------------------- proxy settings


def _forward_proxy(ctx: CheckContext, redactor: Redactor) -> tuple[bool, str]:
    """Whether a forward proxy carries the probe, and the line that says which."""
    endpoint = ctx.endpoint
    if endpoint.proxy:
        return True, f"forward proxy (watchlist): {redactor.url(endpoint.proxy)}"
    import httpx

    try:
        from_env = environment_proxy(httpx.URL(endpoint.url), ctx.environ)
    except (httpx.InvalidURL, TypeError):
        from_env = None
    if from_env:
        return True, f"forward proxy (environment): {redactor.url(from_env)}"
    return False, "no forward proxy: direct connection"


def _page_lines(result: ProbeResult) -> list[str]:
    response = result.response
    if response is None:
        return []
    lines = [f"{response.http_version} {response.status_code} {clip(response.reason, 60)}"]
    for name, value in response.headers[:16]:
        shown = "[REDACTED]" if secret_header(name) else clip(value, 100)
        lines.append(f"  {clip(name, 40)}: {shown}")
    if not result.ok and response.body:
        excerpt = [line.strip() for line in response.text.splitlines() if line.strip()][:4]
        lines += [f"  | {clip(line, 120)}" for line in excerpt]
    return lines


def _timing_lines(result: ProbeResult, generator: str | None) -> list[str]:
    elapsed = first_byte_ms(result)
    if elapsed is None:
        return []
    verdict = result.verdict
    if result.ok or verdict is None:
        lines = [f"first byte after {ms_text(elapsed)}"]
    else:
        timed_out = verdict.kind == "upstream_timeout"
        lines = [f"error timing: {describe(generator, elapsed, timed_out=timed_out)}"]
    if result.origin is not None:
        origin_ms = first_byte_ms(result.origin)
        total = result.origin.total_ms
        took = ms_text(origin_ms) if origin_ms is not None else "no answer"
        lines.append(f"origin direct: first byte {took}, total {ms_text(total)}")
    defaults = TIMEOUTS.get(generator or "", ())
    if defaults:
        listed = ", ".join(f"{t.setting} {t.seconds:g} s" for t in defaults)
        lines.append(f"{generator}'s usual timeouts: {listed}")
    return lines


def _log_lines(
    result: ProbeResult, tiers: tuple[str, ...], candidates: tuple[str, ...]
) -> list[str]:
    verdict = result.verdict
    if verdict is None or result.ok:
        return []
    kinds = list(dict.fromkeys([*((verdict.kind,) if verdict.kind else ()), *candidates]))
    lines = []
    for tier in tiers:
        table = LOGS.get("nginx" if tier == "openresty" else tier, {})
        for kind in kinds:
            if kind in table:
                lines.append(f"{tier} log: {table[kind]} → {PHRASE.get(kind, kind)}")
        if tier in ASK:
            lines.append(ASK[tier])
    return lines


async def check_proxy(ctx: CheckContext) -> Finding:
    """Who the gateway is, its page and headers, the forward proxy, timing against its
    usual timeouts, and the log lines that tell the candidates apart."""
    result = await ctx.current()
    redactor = ctx.redactor
    response = result.response
    ident = identify(response, elapsed_ms=first_byte_ms(result)) if response else None
    generator = ident.generator if ident else None
    evidence: list[str] = []
    if ident is not None:
        who = generator or "unknown"
        relayed = f", relayed by {', '.join(ident.relayed_by)}" if ident.relayed_by else ""
        evidence.append(f"generated by {who}{relayed}")
        evidence += list(ident.evidence)
    forward, forward_line = _forward_proxy(ctx, redactor)
    evidence.append(forward_line)
    proxy_hop = result.hop("proxy")
    if proxy_hop.detail.get("connect_status") is not None:
        evidence.append(f"CONNECT answered {proxy_hop.detail['connect_status']}")
    evidence += _page_lines(result)
    gateway = bool(ident and ident.gateway)
    evidence += _timing_lines(result, generator if gateway else None)
    tiers = ident.tiers if ident else ()
    evidence += _log_lines(result, tiers, ident.candidates if ident else ())
    facts = {
        "generator": generator,
        "relayed_by": list(ident.relayed_by) if ident else [],
        "template": ident.template if ident else None,
        "forward_proxy": forward,
    }
    verdict = result.verdict
    status = result.status_code or 0
    # The proxy hop also fails when the verdict blames the reverse proxy (a gateway
    # pointed at the wrong port): only with a forward proxy is it the forward proxy's.
    if proxy_hop.failed and forward:
        return Finding(
            "fail", f"the forward proxy fails: {clip(proxy_hop.error or '', 160)}", evidence, facts
        )
    if verdict is not None and verdict.cause == "proxy":
        return Finding("fail", verdict.summary, evidence, facts)
    if response is None:
        return Finding(
            "inconclusive", "no HTTP response: nothing tells who the gateway is", evidence, facts
        )
    if gateway and status >= 500:
        page = f"{generator} generated this {status}"
        if result.origin is not None and not result.origin.ok:
            return Finding(
                "pass",
                f"{page}, and the origin fails too: the gateway reports its upstream's failure",
                evidence,
                facts,
            )
        return Finding("warn", f"{page}: its log says why", evidence, facts)
    passed_by = ident.relayed_by if ident else ()
    if passed_by:
        summary = (
            f"answered {status} through {', '.join(passed_by)}: passed on as the upstream sent it"
        )
    else:
        summary = f"answered {status} with no gateway recognised in the path"
    return Finding("pass", summary, evidence, facts)


# --------------------------------------------------------------------------- escalate

#: Whom a cause points at, for the escalation line.
OWNERS: dict[str, str] = {
    "backend": "the application's owners (it fails behind the gateway)",
    "proxy": "the gateway / platform team (the application answers directly)",
    "dns": "whoever runs the DNS zone and the resolvers",
    "tls": "the certificate's owners (renewal job, cert-manager)",
    "network": "the network / hosting team (the host does not accept connections)",
    "overload": "the service's owners, for capacity (limits, scaling)",
    "blocked": "whoever owns the CDN / WAF rules (this client is challenged or blocked)",
}


async def check_escalate(ctx: CheckContext) -> Finding:
    """Sum up the other steps: what fails, whom it points at, what to quote to them."""
    from gatewatch.checklist.steps import BY_ID  # the table imports this module

    done = {k: r for k, r in ctx.earlier.items() if k != "escalate"}
    alarming = [(k, r) for k, r in done.items() if r.outcome in ALARMING]
    evidence = [
        f"{BY_ID[k].title if k in BY_ID else k}: {r.outcome.upper()} — {r.summary}"
        for k, r in alarming
    ]
    verdict = ctx.result.verdict if ctx.result is not None else None
    owner = OWNERS.get(verdict.cause if verdict else "", "the service's owners")
    if verdict is not None and not verdict.healthy:
        evidence.insert(0, f"verdict: {verdict.cause} / {verdict.kind}: {verdict.summary}")
        if verdict.generator and verdict.generator in ASK:
            evidence.append(ASK[verdict.generator])
    facts = {"owner": owner, "alarming": [k for k, _ in alarming], "checked": sorted(done)}
    if not done:
        return Finding("inconclusive", "no check has run yet", evidence, facts)
    fails = [k for k, r in alarming if r.outcome == "fail"]
    names = ", ".join(BY_ID[k].title if k in BY_ID else k for k, _ in alarming)
    if fails:
        return Finding("fail", f"escalate to {owner}: {names}", evidence, facts)
    if alarming:
        return Finding(
            "warn", f"watch: {names}; escalate to {owner} if it persists", evidence, facts
        )
    return Finding("pass", f"all {len(done)} checks pass: nothing to escalate", evidence, facts)
