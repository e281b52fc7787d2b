"""What every check is given (the endpoint, its latest result, its past, a prober) and returns.

Why a context object: the checks are small async functions that probe, resolve and connect;
what they share (the prober, the settings, one probe of every address that two checks use)
lives here once, and everything that touches the world or the clock is injected, so the
tests drive the checks against the lab with no waiting (``sleep``) and fixed times
(``clock``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gatewatch.checklist.past import Past
from gatewatch.checklist.redact import Redactor
from gatewatch.checklist.results import CheckResult, Outcome, ProbeRow
from gatewatch.checklist.settings import CheckSettings
from gatewatch.diagnose import annotate
from gatewatch.diagnose.text import fmt_ms
from gatewatch.diagnose.tiers import healthy_identity
from gatewatch.model import Endpoint, HttpVersion, ProbeResult, frozen_mapping
from gatewatch.monitor.followup import ask_gateway
from gatewatch.probe import Prober
from gatewatch.probe.engine import EXPIRING_DAYS
from gatewatch.probe.siblings import sibling_history


def utc_now() -> datetime:
    return datetime.now(UTC)


def ms_text(ms: float) -> str:
    """Milliseconds for evidence: hundredths below 1 ms (loopback connects), else as
    diagnose spells them, so a report reads the same throughout."""
    return f"{ms:.2f} ms" if ms < 1 else fmt_ms(ms)


@dataclass(frozen=True)
class Finding:
    """What a check returns; the runner adds the step, the time and the duration."""

    outcome: Outcome
    summary: str
    evidence: tuple[str, ...] | list[str] = ()
    facts: Mapping[str, Any] = field(default_factory=frozen_mapping)
    probes: Sequence[ProbeRow] = ()


class CheckContext:
    """One endpoint under investigation. Not shared between threads: one per run.

    ``result`` is the (annotated) probe that opened the checklist; when None, the first
    check that needs one probes. ``earlier`` holds results of steps already checked
    (Escalate summarises them).
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        prober: Prober,
        result: ProbeResult | None = None,
        past: Past | None = None,
        settings: CheckSettings | None = None,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        earlier: Mapping[str, CheckResult] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.prober = prober
        self.result = result
        self.past = past or Past()
        self.settings = settings or CheckSettings()
        self.clock = clock
        self.sleep = sleep
        self.earlier: dict[str, CheckResult] = dict(earlier or {})
        self._every_address: ProbeResult | None = None
        self._followed_up = False
        self._history: tuple[ProbeResult, ...] | None = None
        self._lock = asyncio.Lock()
        self._redactor: Redactor | None = None

    @property
    def environ(self) -> Mapping[str, str]:
        return self.prober.environ

    @property
    def expiring_days(self) -> float:
        """Days of certificate life under which TLS warns (the probe's, unless set)."""
        days = self.settings.expiring_days
        return EXPIRING_DAYS if days is None else days

    @property
    def redactor(self) -> Redactor:
        """This endpoint's secrets, to keep them out of every result a check returns."""
        if self._redactor is None:
            self._redactor = Redactor.for_endpoint(self.endpoint, self.environ)
        return self._redactor

    async def probe(self, endpoint: Endpoint | None = None) -> ProbeResult:
        """One probe of ``endpoint`` (default: ours), with a verdict read against the past."""
        result = await self.prober.probe(endpoint or self.endpoint)
        if endpoint is None:
            # A gateway with a documented debug request is asked once (issue 17 §2).
            result = await ask_gateway(
                self.prober.probe, self.endpoint, result, deadline_s=self.endpoint.timeout
            )
        history: Sequence[ProbeResult] = self.past.results if endpoint is None else ()
        if endpoint is None and healthy_identity(history) is None:
            # No healthy answer with headers in the past: ask a sibling path once (issue 17).
            history = (*history, *await sibling_history(self.prober.probe, self.endpoint, result))
        if endpoint is None:
            self._history = tuple(history)  # the follow-up's verdict reads the same past
        return annotate(result, history=history, expiring_days=self.expiring_days)

    async def current(self) -> ProbeResult:
        """The result under investigation, probing once if there is none yet."""
        async with self._lock:
            if self.result is None:
                self.result = await self.probe()
            return self.result

    async def with_other_version(self) -> ProbeResult:
        """The result under investigation, with ONE follow-up probe over the other HTTP
        version when it failed in the exchange (a 5xx, a reset, an HTTP/2 error), so the
        verdict can say "fails over HTTP/2 only". Made once per context."""
        current = await self.current()
        async with self._lock:
            if self._followed_up or self.result is None:
                return current
            self._followed_up = True
            version = follow_up_version(current, self.endpoint)
            if version is None:
                return current
            other = await self.prober.probe(
                self.endpoint.replace(http_version=version, origin=None, all_addresses=False)
            )
            history = self.past.results if self._history is None else self._history
            self.result = annotate(
                current.replace(other_version=other),
                history=history,
                expiring_days=self.expiring_days,
            )
            return self.result

    async def every_address(self) -> ProbeResult:
        """One probe of every resolved address (made once; Load and Software both read it)."""
        async with self._lock:
            if self._every_address is None:
                if self.endpoint.all_addresses and self.result is not None:
                    self._every_address = self.result
                else:
                    self._every_address = await self.probe(
                        self.endpoint.replace(all_addresses=True)
                    )
            return self._every_address


def follow_up_version(result: ProbeResult, endpoint: Endpoint) -> HttpVersion | None:
    """The HTTP version to probe once more after ``result``, or None.

    Only when the failure came in the HTTP exchange (upstream hop): a dead port or a bad
    certificate fails over every version alike. Over HTTP/1.1 the follow-up is HTTP/2,
    which exists only over TLS, and only when the server may offer it (an ``auto`` probe
    that negotiated http/1.1 already learned it does not).
    """
    if result.ok or result.other_version is not None:
        return None
    failed = result.failed_hop
    if failed is None or failed.name != "upstream" or result.http_version is None:
        return None
    if result.http_version == "2":
        return "1.1"
    if not result.url.lower().startswith("https://"):
        return None
    if endpoint.http_version == "auto" and result.hop("tls").detail.get("alpn") != "h2":
        return None
    return "2"


Check = Callable[[CheckContext], Awaitable[Finding]]


async def timed(check: Check, ctx: CheckContext, step: str) -> CheckResult:
    """Run ``check``, stamp its result and redact it at the source, so the screen, the
    progress file and the report all get a result without secrets. A crash becomes an
    inconclusive result, because a checklist that dies mid-incident helps nobody; the
    exception text says what went wrong."""
    started = time.perf_counter()
    checked_at = ctx.clock()
    try:
        found = await check(ctx)
    except Exception as exc:
        found = Finding(
            "inconclusive",
            f"the check could not run: {type(exc).__name__}: {exc}",
            (f"{type(exc).__name__}: {exc}",),
        )
    redact = ctx.redactor
    return CheckResult(
        step=step,
        outcome=found.outcome,
        summary=redact.text(found.summary),
        evidence=tuple(redact.text(line) for line in found.evidence if line),
        facts=frozen_mapping(redact.data(found.facts)),
        probes=tuple(found.probes),
        checked_at=checked_at,
        ms=(time.perf_counter() - started) * 1000,
    )
