"""Attach a verdict to a result, and name the reverse proxy / CDN on the proxy hop.

The probe only knows about a *forward* proxy; which reverse proxy or CDN answered is
known only after fingerprinting the response. ``annotate`` writes that back into the
proxy hop, so the board and ``probe --json`` show the intermediary hop by hop.
"""

from __future__ import annotations

from collections.abc import Sequence

from gatewatch.diagnose import consistent
from gatewatch.diagnose.context import Context, build_context
from gatewatch.diagnose.identify import Identification
from gatewatch.diagnose.rules import run_rules
from gatewatch.model import Hop, ProbeResult, frozen_mapping


def annotate(
    result: ProbeResult,
    *,
    history: Sequence[ProbeResult] = (),
    expiring_days: float = 14.0,
) -> ProbeResult:
    """``result`` with its verdict set, the recognised gateway on its proxy hop, and its
    hops settled to agree with the verdict (:func:`consistent.settle`).

    The origin's own result is annotated too (without history: it has none of its own here).
    """
    return annotate_in_context(result, history=history, expiring_days=expiring_days)[0]


def annotate_in_context(
    result: ProbeResult,
    *,
    history: Sequence[ProbeResult] = (),
    expiring_days: float = 14.0,
) -> tuple[ProbeResult, Context]:
    """:func:`annotate`, and the context it was judged in (the monitor's
    :class:`~gatewatch.diagnose.incremental.Diagnoser` keeps it for the next result)."""
    origin = result.origin
    if origin is not None:
        origin = annotate(origin, expiring_days=expiring_days)
    other = result.other_version
    if other is not None:
        other = annotate(other, expiring_days=expiring_days)
        result = result.replace(other_version=other)
    ctx = build_context(result, origin, history, expiring_days)
    verdict = run_rules(ctx)
    hops = result.hops
    if ctx.ident is not None:
        ident = ctx.ident
        hops = tuple(proxy_hop(h, result, ident) if h.name == "proxy" else h for h in hops)
    # Last: the hop strip agrees with the verdict (DESIGN.md "The verdict"). Called through
    # the module so the test suite can check every result that passes here.
    settled = consistent.settle(result.replace(hops=hops, origin=origin, verdict=verdict))
    return settled, ctx


def proxy_hop(hop: Hop, result: ProbeResult, ident: Identification) -> Hop:
    """Name the gateway on the proxy hop when one is recognised; leave the hop alone otherwise."""
    if not ident.gateway and not ident.relayed_by:
        return hop
    detail = dict(hop.detail)
    detail["generator"] = ident.generator
    detail["relayed_by"] = list(ident.relayed_by)
    if ident.template:
        detail["template"] = ident.template
    status = hop.status
    ms = hop.ms
    if status == "skip" and _connected(result):
        status, ms = "ok", None
    return Hop(
        name=hop.name,
        status=status,
        ms=ms,
        error=hop.error,
        kind=hop.kind,
        detail=frozen_mapping(detail),
    )


def _connected(result: ProbeResult) -> bool:
    """TCP passed and TLS passed (or was not used): an answer came through the path."""
    tcp, tls = result.hop("tcp"), result.hop("tls")
    return tcp.status in ("ok", "warn") and tls.status in ("ok", "warn", "skip")
