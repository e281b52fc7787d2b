"""Rules read from the hops themselves: failures before any HTTP, warnings, health.

A failing dns, tcp, tls or forward-proxy hop is observed directly by the probe, so
these verdicts are the most certain ones and come first; warnings (a certificate near
expiry, resolvers that disagree) come after every failure rule.
"""

from __future__ import annotations

from gatewatch.diagnose.advice import HOP_SUMMARY
from gatewatch.diagnose.context import (
    Context,
    detail_lines,
    first_byte_ms,
    make_verdict,
    read_origin,
)
from gatewatch.diagnose.text import clip, fmt_ms
from gatewatch.diagnose.tiers import product_token, via_token
from gatewatch.model import HOP_CAUSE, AddressResult, Hop, HopName, Verdict


def pool_member_down(ctx: Context) -> Verdict | None:
    """Some resolved addresses fail while others answer: one bad member of the pool."""
    addresses = ctx.result.addresses
    bad = [a for a in addresses if not a.ok]
    good = [a for a in addresses if a.ok]
    if not bad or not good:
        return None
    evidence = [f"{clip(a.address, 60)}: {_address_failure(a)}" for a in bad[:5]]
    evidence += [
        f"{clip(a.address, 60)}: answered {a.status_code} in {fmt_ms(a.total_ms)}" for a in good[:3]
    ]
    names = ", ".join(clip(a.address, 60) for a in bad[:3])
    return make_verdict(
        ctx,
        "pool_member_down",
        confidence=0.9,
        hop=bad[0].failed_hop or "upstream",
        summary=f"{len(bad)} of {len(addresses)} addresses fail: {names}",
        evidence=evidence,
    )


def _address_failure(address: AddressResult) -> str:
    if address.failed_hop is None and address.status_code is not None:
        return f"answered {address.status_code}"
    what = f"{address.failed_hop or '?'} {address.kind or 'failed'}"
    return f"{what}: {clip(address.error, 80)}" if address.error else what


def _failed(ctx: Context, name: HopName) -> Verdict | None:
    hop = ctx.result.hop(name)
    if not hop.failed:
        return None
    cause = HOP_CAUSE[name]
    kind = hop.kind or "failed"
    known = HOP_SUMMARY.get(cause, {}).get(kind)
    summary = known.format_map(ctx.fields) if known else f"{name} failed ({kind})"
    evidence = [f"{name}: {clip(hop.error)}" if hop.error else f"{name} failed: {kind}"]
    evidence += detail_lines(hop)
    if ctx.origin is not None:
        reading = read_origin(ctx.origin)
        if reading.kind is None:
            evidence.append(f"{reading.line}: only the path through the gateway is broken")
    generator = forward_proxy_name(hop) if name == "proxy" else None
    if generator:
        evidence.append(f"the forward proxy names itself {generator} in its reply")
    return make_verdict(
        ctx,
        kind,
        cause=cause,
        hop=name,
        generator=generator,
        confidence=0.95 if known else 0.6,
        summary=summary,
        evidence=evidence,
    )


def forward_proxy_name(hop: Hop) -> str | None:
    """The forward proxy's own name, from the Server or Via of its CONNECT reply."""
    detail = hop.detail
    server = detail.get("proxy_server")
    agent = detail.get("proxy_agent")
    return product_token(str(server)) if server else via_token(str(agent)) if agent else None


def dns_failed(ctx: Context) -> Verdict | None:
    return _failed(ctx, "dns")


def tcp_failed(ctx: Context) -> Verdict | None:
    return _failed(ctx, "tcp")


def tls_failed(ctx: Context) -> Verdict | None:
    return _failed(ctx, "tls")


def proxy_failed(ctx: Context) -> Verdict | None:
    return _failed(ctx, "proxy")


def any_failed(ctx: Context) -> Verdict | None:
    """Safety net: a failing hop no earlier rule knew."""
    hop = next((h for h in ctx.result.hops if h.failed), None)
    return _failed(ctx, hop.name) if hop else None


def expiring_soon(ctx: Context) -> Verdict | None:
    """The certificate verified, but expires within ``expiring_days``."""
    hop = ctx.result.hop("tls")
    days = hop.detail.get("days_left")
    if hop.status not in ("ok", "warn") or not isinstance(days, int | float):
        return None
    if isinstance(days, bool) or days >= ctx.expiring_days:
        return None
    host = ctx.fields["host"]
    if days < 0:
        summary = f"the certificate of {host} expired {-days:.0f} days ago (not verified)"
    else:
        summary = f"the certificate of {host} expires in {days:.0f} days"
    evidence = [f"{days:.1f} days left; warning under {ctx.expiring_days:g} days"]
    return make_verdict(
        ctx,
        "expiring_soon",
        cause="tls",
        hop="tls",
        confidence=0.95,
        summary=summary,
        evidence=evidence + detail_lines(hop),
    )


def hop_warning(ctx: Context) -> Verdict | None:
    """A hop that passed with a warning (resolvers disagree, slow resolution …).

    A certificate near expiry is left to ``expiring_soon``: ``expiring_days`` decides it.
    """
    hop = next(
        (h for h in ctx.result.hops if h.status == "warn" and h.kind != "expiring_soon"), None
    )
    if hop is None:
        return None
    cause = HOP_CAUSE[hop.name]
    kind = hop.kind or "warning"
    known = HOP_SUMMARY.get(cause, {}).get(kind)
    summary = known.format_map(ctx.fields) if known else f"{hop.name}: {kind}"
    evidence = [f"{hop.name}: {clip(hop.error)}"] if hop.error else []
    if hop.ms is not None:
        evidence.append(f"{hop.name} took {fmt_ms(hop.ms)}")
    return make_verdict(
        ctx,
        kind,
        cause=cause,
        hop=hop.name,
        confidence=0.8,
        summary=summary,
        evidence=evidence + detail_lines(hop),
    )


def healthy(ctx: Context) -> Verdict | None:
    """Every hop passed."""
    if not ctx.result.ok:
        return None
    timings = [f"{h.name} {fmt_ms(h.ms)}" for h in ctx.result.hops[:3] if h.ms is not None]
    first_byte = first_byte_ms(ctx.result)
    if first_byte is not None:
        timings.append(f"first byte {fmt_ms(first_byte)}")
    evidence = [", ".join(timings)] if timings else []
    ident = ctx.ident
    if ident and ident.relayed_by:
        evidence.append(f"served by {ident.generator or '?'} through {', '.join(ident.relayed_by)}")
    status = ctx.result.status_code
    return make_verdict(
        ctx,
        None,
        cause="healthy",
        confidence=0.95,
        summary=f"healthy: {status or 'ok'} in {fmt_ms(ctx.result.total_ms)}",
        evidence=evidence,
    )
