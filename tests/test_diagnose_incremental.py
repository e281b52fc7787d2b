"""The Diagnoser's fast path gives exactly what the full rules give, and knows when to stop.

Each test feeds a stream of results of one endpoint and compares every output with
``annotate(result, history=...)`` run from scratch: a reused verdict that differed in one
word (a stale timing, a missed "slow") would fail here.
"""

from __future__ import annotations

from datetime import timedelta

from diagnose_factory import STARTED, TLS_FACTS, gateway_error, ok, response, result
from gatewatch.diagnose import annotate
from gatewatch.diagnose.incremental import Diagnoser
from gatewatch.model import ProbeResult


def healthy(i: int, first_byte_ms: float = 2.0, **kw: object) -> ProbeResult:
    """The same nginx 200 every time, with a new Date header and new timings."""
    headers = [("Server", "nginx/1.22.1"), ("Date", f"Sun, 06 Dec 2026 20:00:{i % 60:02d} GMT")]
    return ok(
        response(200, "OK", headers, "ok\n"),
        first_byte_ms=first_byte_ms + i / 100,
        started_at=STARTED + timedelta(seconds=5 * i),
        **kw,
    )


def run_stream(stream: list[ProbeResult], diagnoser: Diagnoser) -> list[ProbeResult]:
    """Annotate the stream both ways; assert equality at every step; the fast outputs."""
    past: list[ProbeResult] = []
    outputs = []
    for raw in stream:
        fast = diagnoser.annotate(raw, past[-20:])
        full = annotate(raw, history=past[-20:])
        assert fast == full, (raw, fast.verdict, full.verdict)
        outputs.append(fast)
        past.append(full)
    return outputs


def test_a_steady_healthy_endpoint_is_redescribed_not_rediagnosed() -> None:
    diagnoser = Diagnoser()
    outputs = run_stream([healthy(i) for i in range(40)], diagnoser)
    assert diagnoser.reused >= 35  # one full run, then a full run every 30
    # The words follow the new timings, not the first result's.
    assert outputs[0].verdict is not None and outputs[-1].verdict is not None
    assert outputs[0].verdict.summary != outputs[-1].verdict.summary


def test_a_change_of_answer_runs_the_rules_again() -> None:
    diagnoser = Diagnoser()
    bad = response(502, "Bad Gateway", [("Server", "nginx/1.22.1")], "<center>nginx</center>")
    stream = [healthy(i) for i in range(5)] + [gateway_error(bad)] * 2 + [healthy(9)]
    outputs = run_stream(stream, diagnoser)
    assert outputs[5].verdict is not None and outputs[5].verdict.cause != "healthy"
    # After the failures the next healthy result was diagnosed in full (no fast path):
    # 4 reuses came before the 502s, none after.
    assert diagnoser.reused == 4


def test_slow_first_byte_and_expiring_certificate_take_the_full_rules() -> None:
    diagnoser = Diagnoser()
    stream = [healthy(i, first_byte_ms=20.0) for i in range(8)]
    stream.append(healthy(8, first_byte_ms=900.0))  # "slow" against the median of ~20 ms
    outputs = run_stream(stream, diagnoser)
    assert outputs[-1].verdict is not None and outputs[-1].verdict.kind == "slow"

    expiring = Diagnoser()
    soon = {"tls": {**TLS_FACTS, "days_left": 3.0}}
    stream = [healthy(i) for i in range(3)] + [healthy(3, details=soon)]
    outputs = run_stream(stream, expiring)
    assert outputs[-1].verdict is not None and outputs[-1].verdict.kind == "expiring_soon"


def test_results_with_an_origin_or_a_new_header_value_are_not_reused() -> None:
    diagnoser = Diagnoser()
    stream = [healthy(0), healthy(1, origin=ok(url="http://127.0.0.1:8081/"))]
    run_stream(stream, diagnoser)
    assert diagnoser.reused == 0
    other = Diagnoser()
    via = [
        ok(response(200, "OK", [("Via", f"1.1 proxy-{i}")], "ok\n")) for i in range(3)
    ]  # a header that names who relayed it must be looked at every time
    run_stream(via, other)
    assert other.reused == 0
    failed = Diagnoser()
    run_stream([result(fail="tcp", kind="refused", error="refused")] * 3, failed)
    assert failed.reused == 0
