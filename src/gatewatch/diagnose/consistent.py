"""One result never contradicts itself: the invariants of DESIGN.md "The verdict", at one place.

Why a separate step: the rules decide *what* went wrong and where (a gateway pointed at
the wrong port is the proxy's fault even though the probe saw a 502 on the upstream hop;
a dead pool member fails clients even though the first address answered). The hops were
measured before any rule ran, so without this step the hop strip and the verdict could
point at different places. :func:`settle` makes them agree, once, for every result that
gets a verdict (``annotate`` calls it last), so probe, check, monitor and diagnose all
share it; :func:`contradictions` states the invariants as checks, for tests and for
anyone who builds results by hand.

It never invents a finding: it only moves the hop strip to where the verdict points, and
it never touches the verdict's cause.
"""

from __future__ import annotations

import dataclasses

from gatewatch.model import Hop, HopStatus, ProbeResult, Verdict

#: The kind a non-healthy verdict gets when no rule named one (every other verdict has a kind).
UNCLASSIFIED = "unclassified"


def contradictions(result: ProbeResult) -> list[str]:
    """Every way ``result`` contradicts itself (empty when it does not); its origin too.

    A result without a verdict has not been judged yet and is not checked.
    """
    problems = _own_contradictions(result)
    if result.origin is not None:
        problems += [f"origin: {p}" for p in contradictions(result.origin)]
    return problems


def _own_contradictions(result: ProbeResult) -> list[str]:
    verdict = result.verdict
    if verdict is None:
        return []
    problems: list[str] = []
    failing = _first(result.hops, "fail")
    dead_addresses = [a.address for a in result.addresses if not a.ok]
    if result.ok != (failing is None and not dead_addresses):
        problems.append(
            f"ok={result.ok} but failing hop={failing and result.hops[failing].name}, "
            f"failing addresses={dead_addresses}"
        )
    if dead_addresses and failing is None:
        problems.append(f"addresses {dead_addresses} fail but no hop fails")
    if verdict.healthy:
        if verdict.kind is not None:
            problems.append(f"healthy verdict with kind {verdict.kind!r}")
        if not result.ok:
            problems.append("healthy verdict on a result that is not ok")
        if verdict.hop is not None:
            problems.append(f"healthy verdict names hop {verdict.hop}")
    elif verdict.kind is None:
        problems.append(f"verdict {verdict.cause} without a kind")
    if verdict.hop is not None:
        status = result.hop(verdict.hop).status
        if status not in ("warn", "fail"):
            problems.append(
                f"verdict {verdict.cause}/{verdict.kind} names hop {verdict.hop}, which is {status}"
            )
        if failing is not None and result.hops[failing].name != verdict.hop:
            problems.append(
                f"verdict names hop {verdict.hop} but the first failing hop is "
                f"{result.hops[failing].name}"
            )
    if result.ok and not verdict.healthy and verdict.hop is None:
        problems.append(f"warning {verdict.cause}/{verdict.kind} names no hop")
    if failing is not None:
        after = [h.name for h in result.hops[failing + 1 :] if h.status != "skip"]
        if after:
            problems.append(f"hops {after} after the failing {result.hops[failing].name} not skip")
    return problems


def settle(result: ProbeResult) -> ProbeResult:
    """``result`` with its hop strip agreeing with its verdict (DESIGN.md "The verdict").

    - healthy has no kind and no hop; every other verdict has a kind;
    - a failing result (a hop failed, or — with ``all_addresses`` — an address failed):
      the verdict's hop fails (it takes the failure's error if it had none) and the hops
      after it are ``skip`` (their facts kept in ``detail``);
    - a warning (ok, not healthy): the verdict's hop is ``warn``.
    """
    verdict = result.verdict
    if verdict is None:
        return result
    if verdict.healthy:
        if verdict.kind is None and verdict.hop is None:
            return result
        return result.replace(verdict=dataclasses.replace(verdict, kind=None, hop=None))
    if verdict.kind is None:
        verdict = dataclasses.replace(verdict, kind=UNCLASSIFIED)
    hops = list(result.hops)
    failing = _first(hops, "fail")
    failed = failing is not None or any(not a.ok for a in result.addresses)
    names = [h.name for h in hops]
    if verdict.hop is None:
        if failed and failing is None:  # an address failed and the verdict named no hop
            verdict = dataclasses.replace(verdict, hop="upstream")
        elif failed and failing is not None:
            verdict = dataclasses.replace(verdict, hop=hops[failing].name)
    if verdict.hop is not None:
        at = names.index(verdict.hop)
        if not failed:
            hops[at] = _marked(hops[at], "warn", verdict, None)
        elif failing is None or at <= failing:
            moved = hops[failing] if failing is not None else None
            hops[at] = _marked(hops[at], "fail", verdict, moved)
            failing = at
        else:  # the verdict blames a hop after the first failure: the failure decides
            verdict = dataclasses.replace(verdict, hop=hops[failing].name)
    if failing is not None:
        hops[failing + 1 :] = [_skipped(h) for h in hops[failing + 1 :]]
    return result.replace(hops=tuple(hops), verdict=verdict)


def _first(hops: tuple[Hop, ...] | list[Hop], status: str) -> int | None:
    return next((i for i, h in enumerate(hops) if h.status == status), None)


def _marked(hop: Hop, status: HopStatus, verdict: Verdict, moved: Hop | None) -> Hop:
    """``hop`` with ``status``; a hop newly blamed takes the verdict's kind and the error
    of the failure it now stands for (or the verdict's summary)."""
    if hop.status == status:
        return hop
    if status == "warn" and hop.status == "fail":
        return hop
    error = hop.error or (moved.error if moved is not None and moved is not hop else None)
    return dataclasses.replace(
        hop, status=status, kind=verdict.kind, error=error or verdict.summary
    )


def _skipped(hop: Hop) -> Hop:
    """A hop after the failing one: ``skip``, its measured facts kept in ``detail``."""
    if hop.status == "skip":
        return hop
    return dataclasses.replace(hop, status="skip", error=None, kind=None)
