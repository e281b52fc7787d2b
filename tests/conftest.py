"""Shared fixtures: one fault lab per test session, real loopback servers only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from gatewatch.diagnose import consistent
from gatewatch.lab import Lab
from gatewatch.model import ProbeResult
from gatewatch.probe import Prober
from gatewatch.probe.tls import ContextCache
from gateways_support import PROXY_VARS, RefusedPort, reserve_refused_port

_CONTEXTS = ContextCache()  # SSL contexts cost ~25 ms each: build them once per session


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    with Lab() as running:
        yield running


@pytest.fixture
async def prober() -> AsyncIterator[Prober]:
    # An empty environment: no HTTP(S)_PROXY from the machine leaks into a test.
    p = Prober(environ={}, contexts=_CONTEXTS)
    yield p
    await p.aclose()


# ---------------------------------------------------------------- one result, no contradiction

#: Results checked by the property below, and the contradictions found, over the session.
_CONSISTENCY = {"results": 0, "contradictions": 0}


@pytest.fixture(autouse=True)
def results_never_contradict_themselves(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A property over every result the suite produces: each one that gets its verdict
    (``annotate`` → ``consistent.settle``: probe, check, watch, the board, diagnose) is
    checked against DESIGN.md "The verdict"; a contradiction fails the test that made it."""
    found: list[str] = []
    real = consistent.settle

    def checked(result: ProbeResult) -> ProbeResult:
        settled = real(result)
        problems = consistent.contradictions(settled)
        _CONSISTENCY["results"] += 1
        _CONSISTENCY["contradictions"] += bool(problems)
        found.extend(f"{settled.name} {settled.url}: {p}" for p in problems)
        return settled

    monkeypatch.setattr(consistent, "settle", checked)
    yield
    assert not found, "results contradict themselves:\n" + "\n".join(found)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    checked = _CONSISTENCY["results"]
    if checked:
        terminalreporter.write_line(
            f"verdict invariants: {checked} results checked, "
            f"{_CONSISTENCY['contradictions']} contradicted themselves"
        )


@pytest.fixture
def no_forward_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine's HTTP(S)_PROXY must not send loopback probes elsewhere (real gateways)."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture(scope="module")
def dead_port() -> Iterator[RefusedPort]:
    """A loopback port that refuses connections: the dead upstream behind a gateway."""
    reserved = reserve_refused_port()
    yield reserved
    reserved.close()
