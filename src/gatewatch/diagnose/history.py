"""Rules that need the endpoint's own recent past: slow against itself, intermittent failures.

A single probe cannot say "slow" or "flapping"; the endpoint's history can. The
thresholds are data at the top of the module so the monitor and the docs can quote them.
"""

from __future__ import annotations

from collections import Counter
from statistics import median

from gatewatch.diagnose.context import Context, first_byte_ms, make_verdict
from gatewatch.diagnose.text import fmt_ms
from gatewatch.model import HopName, ProbeResult, Verdict

#: Recent probes that count for "intermittent".
WINDOW = 10
#: Failures in the window (current probe ok) that make it intermittent.
MIN_FAILURES = 2
#: Share of passing probes in the history that makes a weakly explained failure intermittent.
MIN_OK_SHARE = 0.3
#: "slow": first byte above FACTOR × median and above median + MARGIN_MS, over ≥ MIN_POINTS.
SLOW_FACTOR = 3.0
SLOW_MARGIN_MS = 200.0
SLOW_MIN_POINTS = 5
SLOW_LOOKBACK = 50


def kind_of(result: ProbeResult) -> str:
    """The kind a past probe failed with: its verdict's, else its failing hop's."""
    if result.verdict and result.verdict.kind:
        return result.verdict.kind
    hop = result.failed_hop
    return (hop.kind or hop.name) if hop else "failed"


def _window(ctx: Context) -> tuple[ProbeResult, ...]:
    return ctx.history[-WINDOW:]


def intermittent(ctx: Context) -> Verdict | None:
    """This probe passed, but several of the last ones failed."""
    window = _window(ctx)
    failed = [r for r in window if not r.ok]
    if not ctx.result.ok or len(failed) < MIN_FAILURES:
        return None
    return _intermittent(ctx, failed, len(window), "this one passed")


def intermittent_failure(ctx: Context) -> Verdict | None:
    """This probe failed without a clear reason, while much of the history passed.

    Placed after every rule that explains a failure: only an unrecognised 5xx gets here.
    """
    if ctx.failed_response is None or ctx.status < 500 or len(ctx.history) < 3:
        return None
    window = _window(ctx)
    passed = sum(r.ok for r in window)
    if passed / len(window) < MIN_OK_SHARE:
        return None
    failed = [r for r in window if not r.ok] + [ctx.result]
    return _intermittent(ctx, failed, len(window) + 1, "including this one")


def _intermittent(ctx: Context, failed: list[ProbeResult], total: int, note: str) -> Verdict:
    kinds = Counter(kind_of(r) for r in failed)
    hops = Counter[HopName](h.name for r in failed if (h := r.failed_hop) is not None)
    listed = ", ".join(f"{kind} ×{n}" for kind, n in kinds.most_common(4))
    return make_verdict(
        ctx,
        "intermittent",
        hop=hops.most_common(1)[0][0] if hops else "upstream",
        confidence=0.6,
        summary=f"failing intermittently: {len(failed)} of the last {total} probes failed",
        evidence=[
            f"{len(failed)} of the last {total} probes failed ({note})",
            f"failures: {listed}",
        ],
    )


def slow(ctx: Context) -> Verdict | None:
    """First byte far above this endpoint's own recent median."""
    current = first_byte_ms(ctx.result)
    if current is None or not ctx.result.ok:
        return None
    past = [
        ms for r in ctx.history[-SLOW_LOOKBACK:] if r.ok and (ms := first_byte_ms(r)) is not None
    ]
    if len(past) < SLOW_MIN_POINTS:
        return None
    typical = median(past)
    if current <= SLOW_FACTOR * typical or current <= typical + SLOW_MARGIN_MS:
        return None
    ratio = current / typical if typical > 0 else float("inf")
    return make_verdict(
        ctx,
        "slow",
        confidence=0.7,
        summary=f"slow: first byte after {fmt_ms(current)}, usually {fmt_ms(typical)}",
        evidence=[
            f"first byte after {fmt_ms(current)}; the median of the last {len(past)} passing "
            f"probes is {fmt_ms(typical)} ({ratio:.0f}× slower)",
        ],
    )


def history_line(ctx: Context) -> str | None:
    """For a failure verdict: how the recent past looks, as one evidence line."""
    window = _window(ctx)
    if not window:
        return None
    failed = sum(not r.ok for r in window)
    if failed == len(window):
        return f"the last {len(window)} probes failed too"
    if failed == 0:
        return f"the last {len(window)} probes passed: this failure is new"
    return f"{failed} of the last {len(window)} probes failed too: intermittent"
