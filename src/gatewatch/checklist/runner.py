"""Run the checks: one step (the screen's key), or all of them in verdict order (headless).

Why the runner owns the loop question: the checks are async and their timings are evidence,
so they must run on a loop that is not busy rendering. Headless, that is ``asyncio.run``;
on the board, :func:`run_job` runs one step on a loop of its own in a worker thread (or on
the monitor's loop when the caller hands one over), and only the frozen result crosses back.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from gatewatch.checklist.context import CheckContext, timed, utc_now
from gatewatch.checklist.past import Past
from gatewatch.checklist.results import CheckResult
from gatewatch.checklist.settings import CheckSettings
from gatewatch.checklist.steps import BY_ID, Step, order_steps
from gatewatch.model import Endpoint, ProbeResult, frozen_mapping
from gatewatch.probe import Prober

OnResult = Callable[[CheckResult], None]


async def run_step(step: Step, ctx: CheckContext) -> CheckResult:
    """Run one step's check and remember its result in ``ctx`` (Escalate reads them)."""
    result = await timed(step.check, ctx, step.id)
    ctx.earlier[step.id] = result
    return result


async def run_checks(
    ctx: CheckContext, steps: tuple[Step, ...], on_result: OnResult | None = None
) -> dict[str, CheckResult]:
    """Run ``steps`` one after the other (never together: their probes would queue behind
    each other and the timings would lie), Escalate last whatever the order."""
    ordered = [s for s in steps if s.id != "escalate"]
    ordered += [s for s in steps if s.id == "escalate"]
    out: dict[str, CheckResult] = {}
    for step in ordered:
        out[step.id] = await run_step(step, ctx)
        if on_result is not None:
            on_result(out[step.id])
    return out


@dataclass(frozen=True)
class Diagnosis:
    """Everything ``gatewatch diagnose`` found: the probe, the ordered steps, their results."""

    endpoint: Endpoint
    result: ProbeResult
    past: Past
    steps: tuple[Step, ...]
    results: Mapping[str, CheckResult]
    generated_at: datetime

    @property
    def ok(self) -> bool:
        """The endpoint is healthy (the exit status of the command)."""
        return self.result.ok


async def diagnose_endpoint(
    endpoint: Endpoint,
    *,
    prober: Prober,
    past: Past | None = None,
    result: ProbeResult | None = None,
    settings: CheckSettings | None = None,
    clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_result: OnResult | None = None,
) -> Diagnosis:
    """Probe ``endpoint`` (unless ``result`` is given), order the steps by its verdict and
    run every automated check."""
    ctx = CheckContext(
        endpoint,
        prober=prober,
        result=result,
        past=past,
        settings=settings,
        clock=clock,
        sleep=sleep,
    )
    current = await ctx.with_other_version()
    steps = order_steps(current.verdict)
    results = await run_checks(ctx, steps, on_result)
    return Diagnosis(
        endpoint=endpoint,
        result=current,
        past=ctx.past,
        steps=steps,
        results=frozen_mapping(results),
        generated_at=clock(),
    )


# --------------------------------------------------------------------------- one step, off the UI


@dataclass(frozen=True)
class StepJob:
    """Everything one step's check needs, frozen, so it can be handed to another thread."""

    step: str
    endpoint: Endpoint
    result: ProbeResult | None
    past: Past = field(default_factory=Past)
    earlier: Mapping[str, CheckResult] = field(default_factory=frozen_mapping)
    settings: CheckSettings = field(default_factory=CheckSettings)


ProberFactory = Callable[[], Prober]


def default_prober() -> Prober:
    return Prober(environ=os.environ)


async def execute(job: StepJob, prober_factory: ProberFactory = default_prober) -> CheckResult:
    """Run ``job`` with a prober of its own (built and closed here, on the running loop:
    an httpx client belongs to the loop that first used it)."""
    prober = prober_factory()
    try:
        await prober.warm_up()
        ctx = CheckContext(
            job.endpoint,
            prober=prober,
            result=job.result,
            past=job.past,
            settings=job.settings,
            earlier=job.earlier,
        )
        return await run_step(BY_ID[job.step], ctx)
    finally:
        await prober.aclose()


def run_job(
    job: StepJob,
    *,
    loop: asyncio.AbstractEventLoop | None = None,
    prober_factory: ProberFactory = default_prober,
) -> CheckResult:
    """Run ``job`` to the end, blocking this (worker) thread: on ``loop`` (a loop running in
    another thread, e.g. the monitor's) or on a new loop of its own."""
    coro = execute(job, prober_factory)
    if loop is not None and loop.is_running():
        return asyncio.run_coroutine_threadsafe(coro, loop).result()
    return asyncio.run(coro)
