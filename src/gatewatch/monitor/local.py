""" "Is it me?": tell a local outage (our network, our resolvers) from many remote ones.

When the laptop loses Wi-Fi, every endpoint fails at once. Paging for each of them buries
the one useful fact: the problem is here. Two signals, either is enough:

1. most endpoints (``ratio`` of at least ``min_endpoints`` with a fresh result) fail at a
   hop that needs only *our* side to work: ``dns``, ``tcp`` or ``proxy``. Failures at
   ``upstream`` do not count: ten endpoints behind one broken gateway all answering 502 are
   a remote outage, and must page;
2. every resolver configured in the watchlist fails to answer a direct query.

A result is fresh for twice its endpoint's interval plus its timeout, so a slow endpoint
still counts and a removed or paused one stops counting. The detector is pure bookkeeping
(the engine feeds it); :func:`check_resolvers` is the one piece that does I/O.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gatewatch.model import ProbeResult
from gatewatch.monitor.events import LocalProblem

#: Failing at these hops means we could not even reach the endpoint.
LOCAL_HOPS = frozenset({"dns", "tcp", "proxy"})
#: Failures the engine made up for broken configuration or a crashed probe: not the network.
NOT_NETWORK_KINDS = frozenset({"config_error", "probe_error"})
DEFAULT_RATIO = 0.8
DEFAULT_MIN_ENDPOINTS = 3
HYSTERESIS = 0.1


@dataclass(frozen=True)
class _Seen:
    expires: float
    unreachable: bool


def is_unreachable(result: ProbeResult) -> bool:
    """Whether ``result`` failed on our side of the wire (dns, tcp or proxy hop)."""
    hop = result.failed_hop
    if result.verdict is not None and result.verdict.kind in NOT_NETWORK_KINDS:
        return False
    return not result.ok and hop is not None and hop.failed and hop.name in LOCAL_HOPS


class LocalDetector:
    """Bookkeeping of recent results; reports only changes of its verdict. Engine thread only.

    Counts are kept incrementally, so a result costs O(1) however many endpoints there are;
    stale results are dropped by :meth:`expire` (the engine calls it once a second).
    """

    def __init__(
        self, *, ratio: float = DEFAULT_RATIO, min_endpoints: int = DEFAULT_MIN_ENDPOINTS
    ) -> None:
        self.ratio = ratio
        self.min_endpoints = min_endpoints
        self._seen: dict[str, _Seen] = {}
        self._failing = 0
        self._resolvers_failing: str | None = None
        self.active = False
        self.reason = ""

    def observe(
        self, name: str, result: ProbeResult, now: float, fresh_for: float
    ) -> LocalProblem | None:
        self._drop(name)
        seen = _Seen(now + fresh_for, is_unreachable(result))
        self._seen[name] = seen
        self._failing += seen.unreachable
        return self._evaluate()

    def forget(self, name: str, now: float) -> LocalProblem | None:
        self._drop(name)
        return self._evaluate()

    def expire(self, now: float) -> LocalProblem | None:
        for name in [k for k, v in self._seen.items() if v.expires <= now]:
            self._drop(name)
        return self._evaluate()

    def resolvers(self, failure: str | None, now: float) -> LocalProblem | None:
        """Record the last resolver check: None when at least one resolver answered."""
        self._resolvers_failing = failure
        return self._evaluate()

    def _drop(self, name: str) -> None:
        old = self._seen.pop(name, None)
        if old is not None:
            self._failing -= old.unreachable

    def _evaluate(self) -> LocalProblem | None:
        total, failing = len(self._seen), self._failing
        reason = ""
        # Hysteresis: once active, it takes a clear drop (not one endpoint's probe landing
        # on the boundary) to call the network healthy again.
        threshold = self.ratio - (HYSTERESIS if self.active else 0.0)
        if total >= self.min_endpoints and failing >= threshold * total - 1e-9:
            reason = (
                f"{failing} of {total} endpoints cannot be reached at once (dns/tcp/proxy): "
                "probably this machine's network, not the endpoints"
            )
        elif self._resolvers_failing:
            reason = f"{self._resolvers_failing}: probably this machine's DNS, not the endpoints"
        if bool(reason) == self.active:
            if reason:
                self.reason = reason
            return None
        self.active = bool(reason)
        if self.active:
            self.reason = reason
            return LocalProblem(active=True, reason=reason)
        self.reason = ""
        return LocalProblem(
            active=False,
            reason=f"local checks recovered ({failing} of {total} endpoints unreachable)",
        )


def parse_resolver(spec: str) -> tuple[str, int]:
    """``"1.1.1.1"``, ``"127.0.0.1:5353"``, ``"[::1]:53"``, ``"::1"`` → (address, port)."""
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else 53
    if spec.count(":") == 1:
        host, port = spec.split(":")
        return host, int(port)
    return spec, 53


async def check_resolvers(
    resolvers: Iterable[str], names: Sequence[str], *, query_timeout: float = 2.0
) -> str | None:
    """Ask each resolver directly; a failure text when none answers usefully, else None.

    Any answer, NXDOMAIN included, proves the resolver works; a timeout, SERVFAIL or
    REFUSED does not. ``names`` are hostnames to ask about (the watchlist's own, so a lab
    or split-horizon resolver knows them); the root zone when there are none.
    """
    import dns.asyncquery
    import dns.exception
    import dns.message
    import dns.rcode

    specs = sorted(set(resolvers))
    if not specs:
        return None
    qname = names[0] if names else "."

    async def ask(spec: str) -> str | None:
        try:
            host, port = parse_resolver(spec)
            query = dns.message.make_query(qname, "A")
            async with asyncio.timeout(query_timeout):
                answer = await dns.asyncquery.udp(query, host, port=port, timeout=query_timeout)
        except (TimeoutError, OSError, ValueError, dns.exception.DNSException) as exc:
            return f"{spec}: {type(exc).__name__}"
        rcode = answer.rcode()
        if rcode in (dns.rcode.SERVFAIL, dns.rcode.REFUSED):
            return f"{spec}: {dns.rcode.to_text(rcode)}"
        return None

    failures = await asyncio.gather(*(ask(s) for s in specs))
    if any(f is None for f in failures):
        return None
    return f"every configured resolver failed ({'; '.join(f for f in failures if f)})"
