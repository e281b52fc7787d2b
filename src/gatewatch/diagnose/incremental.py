"""``annotate`` for a stream of results of one endpoint: re-describe, don't re-diagnose.

Why: a monitor probes the same endpoint every few seconds and nearly every answer is the
same healthy one. Running every rule on it (fingerprinting the response against every
gateway template is most of the cost) is most of the monitor's own CPU per probe. A
:class:`Diagnoser` remembers the last full diagnosis of one endpoint; when the next result
has the same *shape* and nothing time- or history-dependent could change the verdict, it
keeps the identification and builds the healthy verdict afresh from the new timings —
the same words :func:`gatewatch.diagnose.hops.healthy` would write.

What counts as the same shape: the hops' statuses and kinds, the status code, the
response headers (minus ones that change on every answer, such as ``Date``), the body,
the URL, dialled address and HTTP version. The fast path is refused (and the full rules
run) when: the last verdict was not healthy; the result carries an origin, a follow-up
over the other HTTP version or per-address results;
the first byte took more than ``SLOW_MARGIN_MS`` (the ``slow`` rule could fire: below
it, no median makes it slow); the certificate is within ``expiring_days`` of expiry; or
``full_every`` results have passed since the last full run. The ``intermittent`` rule
cannot fire either: a healthy verdict last time means fewer than two failures in its
window, and adding a passing result never adds one.

Pure bookkeeping over data, like the rest of this package: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gatewatch.diagnose import consistent
from gatewatch.diagnose.annotate import annotate_in_context, proxy_hop
from gatewatch.diagnose.context import Context, first_byte_ms
from gatewatch.diagnose.history import SLOW_MARGIN_MS
from gatewatch.diagnose.hops import healthy
from gatewatch.diagnose.identify import Identification
from gatewatch.model import ProbeResult

#: Response headers whose value changes on every answer; their names still count.
VOLATILE_HEADERS = frozenset(
    {"date", "age", "expires", "last-modified", "etag", "set-cookie", "x-request-id"}
)
DEFAULT_FULL_EVERY = 30


def _shape(result: ProbeResult) -> tuple[Any, ...] | None:
    """What the verdict of a passing result depends on, or None if the fast path is off."""
    if result.origin is not None or result.other_version is not None:
        return None
    if result.addresses or not result.ok:
        return None
    response = result.response
    if response is None:
        return None
    headers = tuple(
        (name.lower(), None if name.lower() in VOLATILE_HEADERS else value)
        for name, value in response.headers
    )
    return (
        result.url,
        result.address,
        result.http_version,
        tuple((h.name, h.status, h.kind, h.ms is None) for h in result.hops),
        response.status_code,
        response.reason,
        headers,
        response.body,
        response.complete,
    )


class Diagnoser:
    """Annotates the results of one endpoint, in order. Not thread-safe; one per endpoint."""

    def __init__(
        self, *, expiring_days: float = 14.0, full_every: int = DEFAULT_FULL_EVERY
    ) -> None:
        self.expiring_days = expiring_days
        self.full_every = full_every
        self._shape: tuple[Any, ...] | None = None
        self._ident: Identification | None = None
        #: The fields next steps quote (host, port …): functions of the shape, kept.
        self._fields: Mapping[str, str] | None = None
        self._since_full = 0
        #: How many results took the fast path (for tests and the benchmark).
        self.reused = 0

    def annotate(self, result: ProbeResult, history: Sequence[ProbeResult] = ()) -> ProbeResult:
        """``result`` annotated exactly as :func:`gatewatch.diagnose.annotate` would."""
        shape = _shape(result)
        if shape is not None and shape == self._shape and self._fast_path_holds(result):
            self._since_full += 1
            self.reused += 1
            return self._redescribe(result)
        annotated, context = annotate_in_context(
            result, history=history, expiring_days=self.expiring_days
        )
        self._remember(annotated, context, shape)
        return annotated

    def _fast_path_holds(self, result: ProbeResult) -> bool:
        if self._since_full >= self.full_every:
            return False
        first_byte = first_byte_ms(result)
        if first_byte is not None and first_byte > SLOW_MARGIN_MS:
            return False
        days = result.hop("tls").detail.get("days_left")
        return not (isinstance(days, int | float) and days < self.expiring_days)

    def _remember(
        self, annotated: ProbeResult, context: Context, shape: tuple[Any, ...] | None
    ) -> None:
        verdict = annotated.verdict
        self._since_full = 0
        if shape is None or verdict is None or verdict.cause != "healthy":
            self._shape = self._fields = self._ident = None
            return
        # From the full run, only what is a function of the shape: the identification and
        # the fields (not the result or its history, which each reuse replaces).
        self._shape, self._fields, self._ident = shape, context.fields, context.ident

    def _redescribe(self, result: ProbeResult) -> ProbeResult:
        assert self._fields is not None
        elapsed = first_byte_ms(result)
        if elapsed is None and result.response is not None:
            elapsed = result.total_ms
        ctx = Context(result, None, (), self.expiring_days, self._ident, elapsed, self._fields)
        verdict = healthy(ctx)
        hops = result.hops
        if self._ident is not None:
            ident = self._ident
            hops = tuple(proxy_hop(h, result, ident) if h.name == "proxy" else h for h in hops)
        return consistent.settle(result.replace(hops=hops, verdict=verdict))


__all__ = ["VOLATILE_HEADERS", "Diagnoser"]
