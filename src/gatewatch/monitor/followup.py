"""Make the one debug follow-up a gateway documents, and attach what it said to the result.

What to ask and how to read the answer are data in ``diagnose/followup.py``; this is the
I/O: one more probe of the same origin (the vendor's header added, or its debug path),
bounded by what is left of the probe's deadline, its findings put on the upstream hop
(``detail["gateway_debug"]``) where diagnose turns them into evidence. The checklist and
``gatewatch diagnose`` always ask; the monitor only for endpoints with
``debug_requests = true``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

from gatewatch.diagnose.followup import DETAIL_KEY, FollowUp, plan_followup, read_followup
from gatewatch.model import Endpoint, Hop, ProbeResult, frozen_mapping

Probe = Callable[[Endpoint], Awaitable[ProbeResult]]

#: Below this many seconds left of the deadline, the follow-up is not made.
MIN_BUDGET_S = 0.2


def followup_endpoint(endpoint: Endpoint, plan: FollowUp, timeout: float) -> Endpoint:
    """``endpoint`` as the follow-up asks it: the vendor's header, or its debug path."""
    url = endpoint.url
    if plan.path:
        parts = urlsplit(endpoint.url)
        url = urlunsplit((parts.scheme, parts.netloc, plan.path, "", ""))
    return endpoint.replace(
        name=f"{endpoint.name} (asking {plan.generator})",
        url=url,
        method="GET",
        headers=(*endpoint.headers, *plan.headers),
        expect_status=(),
        expect_body=None,
        origin=None,
        all_addresses=False,
        timeout=timeout,
    )


def planned(result: ProbeResult) -> FollowUp | None:
    """The follow-up this result calls for (None: none)."""
    return plan_followup(result)


async def ask_gateway(
    probe: Probe, endpoint: Endpoint, result: ProbeResult, *, deadline_s: float
) -> ProbeResult:
    """``result`` with the gateway's debug answer on its upstream hop, when one applies.

    ``deadline_s``: the probe's whole deadline; the follow-up gets what the first probe
    left of it, and is skipped when that is under ``MIN_BUDGET_S``.
    """
    plan = plan_followup(result)
    if plan is None:
        return result
    budget = deadline_s - result.total_ms / 1000
    if budget < MIN_BUDGET_S:
        return result
    asked = followup_endpoint(endpoint, plan, budget)
    error = None
    try:
        answer = await probe(asked)
    except Exception as exc:  # a follow-up never breaks the probe it follows
        answer, error = None, f"{type(exc).__name__}: {exc}"
    response = answer.response if answer is not None else None
    if answer is not None and response is None:
        hop = answer.failed_hop
        error = (hop.error if hop else None) or "no response"
    lines = read_followup(plan, response, error)
    # No URL here: it may carry secrets; the report rebuilds the request, redacted.
    finding: dict[str, object] = {"request": plan.describe(), "lines": lines}
    return result.replace(hops=tuple(_with(h, finding) for h in result.hops))


def _with(hop: Hop, finding: dict[str, object]) -> Hop:
    if hop.name != "upstream":
        return hop
    detail = dict(hop.detail)
    detail[DETAIL_KEY] = finding
    return Hop(hop.name, hop.status, hop.ms, hop.error, hop.kind, frozen_mapping(detail))
