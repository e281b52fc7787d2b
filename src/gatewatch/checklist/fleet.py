"""The checks that look across probes and addresses: Load (trend, errors, limits, the pool)
and Software (which versions answer, and whether every address runs the same one).

Why together: both read the endpoint's recent past and one probe of every resolved address
(made once and shared through the context), and both answer "is it one of them, or all?".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from statistics import median
from typing import Any

from gatewatch.checklist.context import CheckContext, Finding, ms_text
from gatewatch.checklist.results import ProbeRow, kind_of
from gatewatch.diagnose.context import first_byte_ms
from gatewatch.diagnose.text import clip
from gatewatch.model import HOP_NAMES, AddressResult, ProbeResult
from gatewatch.monitor.stats import percentile

#: Recent probes the Load step reads.
WINDOW = 30
#: A share of failures at or above this fails the step; above WARN_RATE it warns.
FAIL_RATE = 0.5
WARN_RATE = 0.1
#: At least this many probes before rates and trends mean anything.
MIN_POINTS = 5
#: "Rising": the last third's median first byte above FACTOR × the first third's and
#: above it by MARGIN_MS.
TREND_FACTOR = 1.5
TREND_MARGIN_MS = 50.0
OVERLOAD_KINDS = frozenset(
    {"rate_limited", "unavailable", "slow", "intermittent", "gateway_overloaded"}
)
#: Failures load does not cause: a refused port, a missing name, a bad certificate, a wrong
#: answer. When every failure is one of these, the Load step says so instead of blaming load.
NOT_LOAD_KINDS = frozenset(
    {
        "refused",
        "upstream_refused",
        "proxy_refused",
        "proxy_auth_required",
        "nxdomain",
        "servfail",
        "no_answer",
        "expired",
        "not_yet_valid",
        "self_signed",
        "unknown_ca",
        "hostname_mismatch",
        "handshake_failed",
        "unexpected_status",
        "body_mismatch",
        "config_error",
        "gateway_misconfigured",
        "blocked",
    }
)

_VERSION = re.compile(r"([A-Za-z][\w.+-]*)/(\d[\w.+-]*)")
#: Response headers that name software and versions.
SOFTWARE_HEADERS = ("server", "via", "x-powered-by", "x-aspnet-version", "x-generator")


def _window(ctx: CheckContext, current: ProbeResult) -> list[ProbeResult]:
    past = [r for r in ctx.past.results if r.started_at != current.started_at]
    return [*past, current][-WINDOW:]


def _trend(window: Sequence[ProbeResult]) -> tuple[float, float] | None:
    """Median first byte of the first and the last third of the passing probes."""
    series = [ms for r in window if r.ok and (ms := first_byte_ms(r)) is not None]
    if len(series) < MIN_POINTS + 1:
        return None
    third = max(2, len(series) // 3)
    return median(series[:third]), median(series[-third:])


def _hop_percentiles(window: Sequence[ProbeResult]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for name in HOP_NAMES:
        values = sorted(
            h.ms
            for r in window
            for h in r.hops
            if h.name == name and h.status in ("ok", "warn") and h.ms is not None
        )
        if values:
            out[name] = {"p50": percentile(values, 50), "p95": percentile(values, 95)}
    return out


def _pool(every: ProbeResult) -> tuple[list[AddressResult], list[AddressResult]]:
    bad = [a for a in every.addresses if not a.ok]
    good = [a for a in every.addresses if a.ok]
    return bad, good


async def check_load(ctx: CheckContext) -> Finding:
    """Error rate and latency trend from history, 429/503 with Retry-After now, and a
    failing pool member (every address probed)."""
    current = await ctx.current()
    every = await ctx.every_address()
    window = _window(ctx, current)
    failed = [r for r in window if not r.ok]
    # The Retry step's probes count too: "too few probes" right after five is a contradiction.
    retry = ctx.earlier.get("retry")
    retried = list(retry.probes) if retry is not None else []
    points = len(window) + len(retried)
    failed_kinds = [kind_of(r) for r in failed] + [p.kind for p in retried if not p.ok]
    rate = len(failed_kinds) / points
    counted = f" (with the Retry step's {len(retried)})" if retried else ""
    evidence: list[str] = [
        f"{len(failed_kinds)} of the last {points} probes failed ({rate:.0%}){counted}"
    ]
    kinds = Counter(k for k in failed_kinds if k)
    if kinds:
        evidence.append("failures: " + ", ".join(f"{k} ×{n}" for k, n in kinds.most_common(4)))
    percentiles = _hop_percentiles(window)
    for hop, values in percentiles.items():
        if hop in ("tcp", "upstream") and values["p50"] is not None:
            evidence.append(
                f"{hop} p50 {ms_text(values['p50'])}, p95 {ms_text(values['p95'] or 0.0)}"
            )
    facts: dict[str, Any] = {
        "probes": points,
        "failed": len(failed_kinds),
        "error_rate": round(rate, 3),
        "hop_percentiles": percentiles,
    }
    fail: list[str] = []
    warn: list[str] = []

    response = current.response
    if response is not None and response.status_code in (429, 503):
        retry_after = response.header("retry-after")
        said = f"{response.status_code} {clip(response.reason, 40)}".strip()
        if retry_after is not None:
            said += f" with Retry-After: {clip(retry_after, 40)}"
        evidence.append(f"now: {said}")
        facts["retry_after"] = retry_after
        # A 503 without Retry-After is as often "no healthy upstream" as overload: the
        # other steps tell; a 429, or a 503 that says when to come back, is a limit.
        if response.status_code == 429:
            fail.append(f"rate limited: {said}")
        elif retry_after is not None:
            fail.append(f"unavailable for now: {said}")

    bad, good = _pool(every)
    if every.addresses:
        for address in [*bad, *good]:
            state = "ok" if address.ok else f"{address.failed_hop} {address.kind}"
            evidence.append(f"address {address.address}: {state} ({ms_text(address.total_ms)})")
        facts["addresses"] = {a.address: a.ok for a in every.addresses}
    if bad and good:
        fail.append(
            f"{len(bad)} of {len(every.addresses)} pool members fail: "
            + ", ".join(a.address for a in bad)
        )

    trend = _trend(window)
    if trend is not None:
        early, late = trend
        facts["first_byte_trend_ms"] = [round(early, 3), round(late, 3)]
        evidence.append(f"first byte: {ms_text(early)} earlier, {ms_text(late)} lately")
        if late > TREND_FACTOR * early and late - early > TREND_MARGIN_MS:
            warn.append(f"latency rising: first byte {ms_text(early)} → {ms_text(late)}")

    verdict = current.verdict
    if verdict is not None and verdict.kind in OVERLOAD_KINDS and not fail:
        warn.append(verdict.summary)
    not_load = bool(failed_kinds) and all(k in NOT_LOAD_KINDS for k in failed_kinds)
    if not_load and not fail and not warn:
        listed = ", ".join(f"{k} ×{n}" for k, n in kinds.most_common(3))
        return Finding(
            "not_applicable",
            f"not a load problem: the failures ({listed}) are not what load causes",
            evidence,
            facts,
            [],
        )
    if points >= MIN_POINTS:
        if rate >= FAIL_RATE:
            fail.append(f"{rate:.0%} of recent probes fail")
        elif rate >= WARN_RATE:
            warn.append(f"{rate:.0%} of recent probes fail")

    probes = [ProbeRow.of(every, "every address")] if every is not current else []
    if fail:
        return Finding("fail", "; ".join(fail), evidence, facts, probes)
    if warn:
        return Finding("warn", "; ".join(warn), evidence, facts, probes)
    if points < MIN_POINTS:
        return Finding(
            "inconclusive",
            f"no sign of overload now, but {points} probe(s) are too few for a trend",
            evidence,
            facts,
            probes,
        )
    return Finding("pass", f"no sign of overload over {points} probes", evidence, facts, probes)


# --------------------------------------------------------------------------- software


def versions(text: str) -> list[str]:
    """``product/version`` tokens in a header value (``nginx/1.25.3``, ``PHP/8.2.1``)."""
    return [f"{m[1]}/{m[2]}" for m in _VERSION.finditer(text)]


def _software(result: ProbeResult) -> dict[str, str]:
    response = result.response
    if response is None:
        return {}
    found = {}
    for name in SOFTWARE_HEADERS:
        values = response.header_all(name)
        if values:
            found[name] = clip(", ".join(values), 120)
    return found


def _address_servers(every: ProbeResult) -> dict[str, str | None]:
    servers: dict[str, str | None] = {}
    for address in every.addresses:
        upstream = next((h for h in address.hops if h.name == "upstream"), None)
        server = upstream.detail.get("server") if upstream is not None else None
        if address.status_code is not None:
            servers[address.address] = str(server) if server else None
    return servers


async def check_software(ctx: CheckContext) -> Finding:
    """Server/Via versions seen, and whether the addresses behind the name differ."""
    current = await ctx.current()
    every = await ctx.every_address()
    seen = _software(current)
    evidence = [f"{name}: {value}" for name, value in seen.items()]
    if current.origin is not None:
        for name, value in _software(current.origin).items():
            evidence.append(f"origin {name}: {value}")
    servers = _address_servers(every)
    for address, server in servers.items():
        evidence.append(f"address {address}: Server {server or '(none)'}")
    named = {a: s for a, s in servers.items() if s}
    facts: dict[str, Any] = {"headers": seen, "by_address": servers}
    probes = [ProbeRow.of(every, "every address")] if every is not current else []
    distinct = sorted(set(named.values()))
    if len(distinct) > 1:
        listed = "; ".join(f"{a} {s}" for a, s in named.items())
        return Finding(
            "fail",
            f"addresses run different software: {clip(listed, 160)}",
            [*evidence, "a half-finished rollout or a stray host: compare the deploys"],
            facts,
            probes,
        )
    tokens = sorted({v for value in [*seen.values(), *named.values()] for v in versions(value)})
    facts["versions"] = tokens
    if not seen and not named:
        return Finding(
            "inconclusive",
            "no Server or Via header: the versions are not visible",
            evidence,
            facts,
            probes,
        )
    shown = ", ".join(tokens) or ", ".join(dict.fromkeys([*seen.values(), *named.values()]))
    where = f"all {len(named)} addresses" if len(named) > 1 else "the endpoint"
    return Finding("pass", f"{where}: {clip(shown, 120)}", evidence, facts, probes)
