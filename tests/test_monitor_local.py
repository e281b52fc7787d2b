""" "Is it me?": the local-problem detector and the resolver check."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence

import dns.message
import dns.rcode
import pytest

from gatewatch.model import Endpoint, ProbeResult
from gatewatch.monitor import LocalProblem, Monitor
from gatewatch.monitor.local import LocalDetector, check_resolvers, is_unreachable, parse_resolver
from gatewatch.monitor.status import engine_failure
from test_monitor_support import T0, FakeProbe, fail_result, identity, ok_result, wait_for


def feed(
    detector: LocalDetector,
    results: dict[str, ProbeResult],
    now: float = 0.0,
    fresh: float = 60.0,
) -> list[LocalProblem]:
    changes = [detector.observe(name, r, now, fresh) for name, r in results.items()]
    return [c for c in changes if c is not None]


def test_most_endpoints_unreachable_is_local() -> None:
    d = LocalDetector()
    assert (
        feed(
            d,
            {
                "a": fail_result("a", hop="tcp"),
                "b": fail_result("b", hop="dns"),
                "c": ok_result("c"),
            },
        )
        == []
    )  # 2 of 3 < 80 %
    (change,) = feed(d, {"c": fail_result("c", hop="proxy")})
    assert change.active and "3 of 3" in change.reason
    assert d.active
    (cleared,) = feed(d, {"a": ok_result("a"), "b": ok_result("b")})[-1:]
    assert not cleared.active and "recovered" in cleared.reason


def test_upstream_failures_are_not_local() -> None:
    # Ten endpoints behind one broken gateway, all 502: a remote outage, it must page.
    d = LocalDetector()
    assert feed(d, {f"e{i}": fail_result(f"e{i}", hop="upstream") for i in range(10)}) == []


def test_needs_enough_endpoints() -> None:
    d = LocalDetector(min_endpoints=3)
    assert feed(d, {"a": fail_result("a", hop="tcp"), "b": fail_result("b", hop="tcp")}) == []


def test_stale_results_expire_and_removed_endpoints_are_forgotten() -> None:
    d = LocalDetector()
    feed(d, {n: fail_result(n, hop="tcp") for n in "abc"}, now=0, fresh=10)
    assert d.active
    assert d.forget("zzz", 1) is None
    change = d.expire(11)
    assert change is not None and not change.active
    feed(d, {n: fail_result(n, hop="tcp") for n in "abc"}, now=20, fresh=10)
    change = d.forget("a", 21)
    assert change is not None and not change.active  # 2 endpoints are too few to tell


def test_hysteresis_at_the_boundary() -> None:
    d = LocalDetector(ratio=0.8)
    feed(d, {f"e{i}": fail_result(f"e{i}", hop="tcp") for i in range(10)})
    assert d.active
    assert feed(d, {"e0": ok_result("e0"), "e1": ok_result("e1")}) == []  # 80 % still
    assert feed(d, {"e2": ok_result("e2")}) == []  # 70 %: within the hysteresis band
    (cleared,) = feed(d, {"e3": ok_result("e3")})
    assert not cleared.active


def test_engine_made_failures_are_not_network() -> None:
    ep = Endpoint(name="x", url="http://x/")
    assert not is_unreachable(engine_failure(ep, T0, "config_error", "bad URL"))
    assert is_unreachable(engine_failure(ep, T0, "deadline", "took too long"))
    assert is_unreachable(fail_result(hop="dns"))
    assert not is_unreachable(ok_result())


def test_resolvers_failing_is_local() -> None:
    d = LocalDetector()
    change = d.resolvers("every configured resolver failed (1.1.1.1:53: Timeout)", 0)
    assert change is not None and change.active and "DNS" in change.reason
    assert d.resolvers("every configured resolver failed (still)", 1) is None
    cleared = d.resolvers(None, 2)
    assert cleared is not None and not cleared.active


@pytest.mark.parametrize(
    "spec, parsed",
    [
        ("1.1.1.1", ("1.1.1.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("[::1]:5300", ("::1", 5300)),
        ("::1", ("::1", 53)),
        ("[::1]", ("::1", 53)),
    ],
)
def test_parse_resolver(spec: str, parsed: tuple[str, int]) -> None:
    assert parse_resolver(spec) == parsed


@pytest.fixture
def udp_resolvers() -> Iterator[tuple[str, str]]:
    """A resolver that answers NXDOMAIN to everything, and one that never answers."""
    answering = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    answering.bind(("127.0.0.1", 0))
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        answering.settimeout(0.05)
        while not stop.is_set():
            try:
                data, peer = answering.recvfrom(4096)
            except TimeoutError:
                continue
            reply = dns.message.make_response(dns.message.from_wire(data))
            reply.set_rcode(dns.rcode.NXDOMAIN)
            answering.sendto(reply.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield (f"127.0.0.1:{answering.getsockname()[1]}", f"127.0.0.1:{silent.getsockname()[1]}")
    stop.set()
    thread.join()
    answering.close()
    silent.close()


async def test_check_resolvers(udp_resolvers: tuple[str, str]) -> None:
    answering, silent = udp_resolvers
    assert await check_resolvers([answering, silent], ["shop.test"], query_timeout=0.3) is None
    failure = await check_resolvers([silent], ["shop.test"], query_timeout=0.3)
    assert failure is not None and "every configured resolver failed" in failure
    assert silent in failure
    assert await check_resolvers([], []) is None


def test_engine_reports_resolvers_down() -> None:
    asked: list[tuple[list[str], list[str]]] = []

    async def resolvers_down(resolvers: Sequence[str], names: Sequence[str]) -> str | None:
        asked.append((list(resolvers), list(names)))
        return "every configured resolver failed (10.0.0.53:53: Timeout)"

    ep = Endpoint(
        name="a", url="http://shop.test/", interval=0.05, timeout=1, resolvers=("10.0.0.53",)
    )
    monitor = Monitor(
        [ep, Endpoint(name="b", url="http://127.0.0.1/", interval=0.05)],
        probe=FakeProbe(),
        annotate=identity,
        history=":memory:",
        resolver_check=resolvers_down,
        housekeeping_interval=0.05,
    )
    inbox = monitor.events()
    with monitor:
        problem = wait_for(inbox, lambda m: isinstance(m, LocalProblem), timeout=3)
    assert isinstance(problem, LocalProblem)
    assert problem.active and "10.0.0.53" in problem.reason
    assert asked[0] == (["10.0.0.53"], ["shop.test"])
