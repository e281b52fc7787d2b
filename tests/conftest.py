"""Shared fixtures: one fault lab per test session, real loopback servers only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from gatewatch.lab import Lab
from gatewatch.probe import Prober
from gatewatch.probe.tls import ContextCache

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
