"""What the engine knows about one endpoint: the published status, and the private slot.

``EndpointStatus`` is what :meth:`Monitor.snapshot` hands to other threads (frozen).
``Slot`` is the engine thread's working record for one endpoint and never leaves it.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gatewatch.model import (
    HOP_NAMES,
    Endpoint,
    Hop,
    ProbeResult,
    Response,
    Verdict,
    frozen_mapping,
)
from gatewatch.monitor.acks import Ack
from gatewatch.monitor.settings import MonitorRules
from gatewatch.monitor.state import State, Tracker
from gatewatch.secrets import redact_url

#: Recent passing totals kept for the slow_factor baseline.
RECENT_OK = 20


@dataclass(frozen=True)
class EndpointStatus:
    """One endpoint as the board shows it."""

    endpoint: Endpoint
    state: State
    since: datetime | None = None
    last_result: ProbeResult | None = None
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    probes: int = 0
    lateness_ms: float | None = None
    #: The open maintenance window's text, if any.
    maintenance: str | None = None
    #: Who acknowledged it, when and why (alerts stop until it is UP again), if anyone.
    ack: Ack | None = None

    @property
    def name(self) -> str:
        return self.endpoint.name


@dataclass(eq=False)
class Slot:
    """The engine's mutable record of one endpoint: its state side. Engine thread only.

    The probing side (grid, runner task, diagnose's history) is a
    :class:`gatewatch.monitor.runners.Runner`, on the engine thread or in a worker
    process; the two know each other by ``key``.
    """

    endpoint: Endpoint
    rules: MonitorRules
    key: int = 0
    tracker: Tracker = field(default_factory=Tracker)
    #: Totals of recent passing probes (ms), oldest first: the baseline for slow_factor.
    recent_ok_ms: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_OK))
    #: The latest result in full, body included, for the board's detail view.
    last_result: ProbeResult | None = None
    probes: int = 0
    last_lateness_ms: float | None = None
    ack: Ack | None = None

    @property
    def name(self) -> str:
        return self.endpoint.name

    def status(self) -> EndpointStatus:
        t = self.tracker
        return EndpointStatus(
            endpoint=self.endpoint,
            state=t.shown(),
            since=t.since,
            last_result=self.last_result,
            consecutive_failures=t.failures,
            consecutive_successes=t.successes,
            probes=self.probes,
            lateness_ms=self.last_lateness_ms,
            maintenance=t.maintenance,
            ack=self.ack,
        )

    def remember(self, result: ProbeResult) -> None:
        self.last_result = result
        if result.ok:
            self.recent_ok_ms.append(result.total_ms)


def for_history(result: ProbeResult) -> ProbeResult:
    """What the engine keeps of a past result: enough for diagnose's history rules.

    Kept: ok-ness, hop statuses, kinds, errors and timings, the status code, the verdict's
    cause/kind/summary, and for a healthy answer its identity (``identity_headers``), so
    diagnose can tell a failure that another tier generated (issue 17). Dropped: bodies,
    other headers' values, hop details (certificates, DNS answers),
    evidence, the origin. A full result is ~5 KB and some 30 objects; this is ~1.2 KB and
    9, which matters at 20 results × 1,000 endpoints: memory, and the garbage collector's
    full passes, which stall the loop and show up as lateness.
    """
    response = result.response
    verdict = result.verdict
    return ProbeResult(
        name=result.name,
        url=result.url,
        started_at=result.started_at,
        hops=tuple(_slim_hop(h) for h in result.hops),
        total_ms=result.total_ms,
        response=None
        if response is None
        else Response(
            http_version=response.http_version,
            status_code=response.status_code,
            reason=response.reason,
            headers=identity_headers(response) if result.ok else (),
            body_size=response.body_size,
            content_length=response.content_length,
            complete=response.complete,
        ),
        address=result.address,
        verdict=None
        if verdict is None
        else Verdict(
            cause=verdict.cause,
            kind=verdict.kind,
            hop=verdict.hop,
            generator=verdict.generator,
            confidence=verdict.confidence,
            summary=verdict.summary,
        ),
    )


NO_DETAIL = frozen_mapping()

#: Header values a healthy answer keeps in history: who made it (the rest keep names only).
_IDENTITY_VALUES = frozenset({"server", "via"})


def identity_headers(response: Response) -> tuple[tuple[str, str], ...]:
    """A healthy answer's identity: Server and Via values, every other header by name only.

    That is what ``diagnose.tiers.identity_of`` compares a failure against; values other
    than Server/Via (cookies, tokens) are never kept, names are (``sys.intern``: 20
    results × 1,000 endpoints share one copy of each name).
    """
    return tuple(
        (sys.intern(name.lower()), value if name.lower() in _IDENTITY_VALUES else "")
        for name, value in response.headers[:64]
    )


def first_byte_detail(first_byte_ms: Any) -> Mapping[str, Any]:
    """The one detail a kept hop has: its time to the first byte."""
    return frozen_mapping({"first_byte_ms": first_byte_ms})


def _slim_hop(hop: Hop) -> Hop:
    first_byte = hop.detail.get("first_byte_ms") if hop.detail else None
    return Hop(
        name=hop.name,
        status=hop.status,
        ms=hop.ms,
        error=hop.error,
        kind=hop.kind,
        detail=NO_DETAIL if first_byte is None else first_byte_detail(first_byte),
    )


def engine_failure(endpoint: Endpoint, started_at: datetime, kind: str, error: str) -> ProbeResult:
    """A result for a probe the engine had to end itself (deadline, crash, bad setup).

    The failure sits on the first hop because nothing is known about later ones; the
    verdict is set here (``unknown``) so diagnose never mistakes it for a DNS problem.
    """
    first, *rest = HOP_NAMES
    hops = (
        Hop(name=first, status="fail", error=error, kind=kind),
        *(Hop(name=n, status="skip") for n in rest),
    )
    verdict = Verdict(
        cause="unknown",
        kind=kind,
        hop=None,
        generator=None,
        confidence=0.5,
        summary=error,
        evidence=(f"the monitor ended the probe itself: {error}",),
    )
    return ProbeResult(
        name=endpoint.name,
        url=redact_url(endpoint.url),
        started_at=started_at,
        hops=hops,
        total_ms=float("nan"),
        verdict=verdict,
    )
