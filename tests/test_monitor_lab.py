"""The engine with the real Prober and diagnose against the loopback lab: wire timings."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

from gatewatch.lab import Lab
from gatewatch.model import Endpoint
from gatewatch.monitor import Monitor, ProbeCompleted, State
from gatewatch.monitor.events import Message
from gatewatch.monitor.status import EndpointStatus
from gatewatch.probe import Prober
from test_monitor_support import drain


def run(
    endpoints: list[Endpoint],
    done: Callable[[dict[str, EndpointStatus], list[Message]], bool],
    *,
    within: float = 30.0,
    **kw: Any,
) -> tuple[Monitor, dict[str, EndpointStatus], list[Message]]:
    """Run the engine until ``done(snapshot, messages so far)`` holds; returns the engine,
    that snapshot and every message it sent.

    ``within`` only bounds a broken engine: a loaded machine merely takes longer, and the
    test then judges what it saw, not how much of it fitted into a fixed sleep.
    """
    monitor = Monitor(
        endpoints, prober=Prober(environ={}), history=":memory:", resolver_check=None, **kw
    )
    inbox = monitor.events()
    messages: list[Message] = []
    with monitor:
        deadline = time.monotonic() + within
        while True:
            try:
                messages.append(inbox.get(timeout=0.05))
                continue  # take everything queued before judging
            except queue.Empty:
                pass
            snapshot = monitor.snapshot()
            if done(snapshot, messages):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"not done within {within}s: {snapshot!r}"[:2000])
    return monitor, snapshot, [*messages, *drain(inbox)]


def completed(messages: list[Message], name: str) -> list[ProbeCompleted]:
    return [m for m in messages if isinstance(m, ProbeCompleted) and m.endpoint_name == name]


def total_ms(message: ProbeCompleted) -> float:
    assert message.result.total_ms is not None, message.result
    return message.result.total_ms


def test_states_and_verdicts_from_real_probes(lab: Lab) -> None:
    hits_before = lab.hits("/ok")
    endpoints = [
        Endpoint(name="ok", url=lab.url("/ok"), interval=0.2, timeout=2),
        Endpoint(name="500", url=lab.url("/status/500"), interval=0.2, timeout=2),
        Endpoint(
            name="refused", url=f"http://127.0.0.1:{lab.refused_port}/", interval=0.2, timeout=2
        ),
        Endpoint(name="hang", url=lab.url("/hang"), interval=0.2, timeout=0.5),
        Endpoint(
            name="tls",
            url=lab.url("/ok", scheme="https", host="localhost"),
            interval=0.2,
            timeout=2,
            ca_bundle=lab.ca_bundle,
        ),
    ]
    wanted = {
        "ok": State.UP,
        "500": State.DOWN,
        "refused": State.DOWN,
        "hang": State.DOWN,
        "tls": State.UP,
    }

    def done(snapshot: dict[str, EndpointStatus], messages: list[Message]) -> bool:
        states = {name: status.state for name, status in snapshot.items()}
        return states == wanted and len(completed(messages, "ok")) >= 6

    monitor, snapshot, messages = run(endpoints, done)
    assert {name: status.state for name, status in snapshot.items()} == wanted
    refused = completed(messages, "refused")[-1].result
    assert refused.failed_hop is not None and refused.verdict is not None
    assert refused.failed_hop.name == "tcp" and refused.verdict.cause == "network"
    verdict_500 = completed(messages, "500")[-1].result.verdict
    assert verdict_500 is not None and verdict_500.cause == "backend"
    hang = completed(messages, "hang")
    assert hang and hang[-1].result.verdict is not None
    assert all(total_ms(m) < 1000 for m in hang)  # the probe's own deadline held
    # The hanging endpoint never delayed the others: /ok kept its 200 ms cadence.
    ok = completed(messages, "ok")
    assert len(ok) >= 6 and lab.hits("/ok") - hits_before >= 6
    # A hanging probe holding the others up would make them late by its whole 500 ms
    # deadline; scheduling noise on a loaded machine stays well under this bound (the
    # engine's real lateness is measured by bench/bench_monitor.py, not here).
    assert max(m.lateness_ms for m in ok) < 250
    p95 = monitor.stats().lateness_p95_ms
    assert p95 is not None and p95 < 250
    assert not lab.handler_errors


def test_timings_survive_the_engine(lab: Lab) -> None:
    # A 100 ms server delay must read as ~100 ms on the upstream hop, whatever else runs.
    endpoints = [
        Endpoint(name="delay", url=lab.url("/delay/100"), interval=0.25, timeout=2),
        *(
            Endpoint(name=f"busy{i}", url=lab.url("/ok"), interval=0.1, timeout=2)
            for i in range(10)
        ),
        Endpoint(name="hang", url=lab.url("/hang"), interval=0.2, timeout=0.4),
    ]
    _, _, messages = run(endpoints, lambda _s, m: len(completed(m, "delay")) >= 4)
    errors = []
    for message in completed(messages, "delay"):
        result = message.result
        upstream = result.hop("upstream").ms
        applied = result.response.header("x-lab-delay-ms") if result.response else None
        assert upstream is not None and applied is not None, result
        # Against the delay the lab really applied (its own loop oversleeps on a loaded
        # machine): what is left is the probe's error, which kernel timestamps keep small.
        errors.append(upstream - float(applied))
    errors.sort()
    assert len(errors) >= 4
    assert -1 <= errors[len(errors) // 2] < 10, errors  # median error, loopback noise allowed


def test_flapping_endpoint(lab: Lab) -> None:
    ep = Endpoint(
        name="flap",
        url=lab.url("/flap"),
        interval=0.1,
        timeout=2,
        extra={"down_after": 1, "flap_threshold": 3, "flap_window": "1m"},
    )
    _, snapshot, _messages = run([ep], lambda s, _m: s["flap"].state == State.FLAPPING)
    assert snapshot["flap"].state == State.FLAPPING
