"""The engine with the real Prober and diagnose against the loopback lab: wire timings."""

from __future__ import annotations

import time

from gatewatch.lab import Lab
from gatewatch.model import Endpoint
from gatewatch.monitor import Monitor, ProbeCompleted, State
from gatewatch.probe import Prober
from test_monitor_support import drain


def run(endpoints: list[Endpoint], seconds: float, **kw) -> tuple[Monitor, list]:
    monitor = Monitor(
        endpoints, prober=Prober(environ={}), history=":memory:", resolver_check=None, **kw
    )
    inbox = monitor.events()
    with monitor:
        time.sleep(seconds)
        snapshot = monitor.snapshot()
    return monitor, [snapshot, *drain(inbox)]


def completed(messages: list, name: str) -> list[ProbeCompleted]:
    return [m for m in messages if isinstance(m, ProbeCompleted) and m.endpoint_name == name]


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
    monitor, (snapshot, *messages) = run(endpoints, 1.6)
    states = {name: status.state for name, status in snapshot.items()}
    assert states == {
        "ok": State.UP,
        "500": State.DOWN,
        "refused": State.DOWN,
        "hang": State.DOWN,
        "tls": State.UP,
    }
    refused = completed(messages, "refused")[-1].result
    assert refused.failed_hop.name == "tcp" and refused.verdict.cause == "network"
    assert completed(messages, "500")[-1].result.verdict.cause == "backend"
    hang = completed(messages, "hang")
    assert hang and hang[-1].result.verdict is not None
    assert all(m.result.total_ms < 1000 for m in hang)  # the probe's own deadline held
    # The hanging endpoint never delayed the others: /ok kept its 200 ms cadence.
    ok = completed(messages, "ok")
    assert len(ok) >= 6 and lab.hits("/ok") - hits_before >= 6
    assert max(m.lateness_ms for m in ok) < 50
    assert monitor.stats().lateness_p95_ms < 50
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
    _, (_, *messages) = run(endpoints, 1.6)
    delays = [m.result.hop("upstream").ms for m in completed(messages, "delay")]
    assert len(delays) >= 4
    errors = sorted(ms - 100 for ms in delays)
    assert 0 <= errors[len(errors) // 2] < 10, errors  # median error, loopback noise allowed


def test_flapping_endpoint(lab: Lab) -> None:
    ep = Endpoint(
        name="flap",
        url=lab.url("/flap"),
        interval=0.1,
        timeout=2,
        extra={"down_after": 1, "flap_threshold": 3, "flap_window": "1m"},
    )
    _, (snapshot, *_messages) = run([ep], 1.0)
    assert snapshot["flap"].state == State.FLAPPING
