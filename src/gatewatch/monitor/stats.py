"""Percentiles and the engine's running timing statistics.

Why: lateness (actual start − scheduled start) is the engine's own health figure; the board
and the benchmark read it as p50/p95/p99 over a bounded recent sample, never an unbounded
list (an engine runs for weeks).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile (0–100) by linear interpolation; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def percentiles(values: Iterable[float], ps: Sequence[float]) -> dict[float, float | None]:
    ordered = sorted(values)
    return {p: percentile(ordered, p) for p in ps}


@dataclass(frozen=True)
class EngineStats:
    """A snapshot of the engine's numbers (all lateness figures in ms)."""

    probes: int
    in_flight: int
    skipped_slots: int
    lateness_p50_ms: float | None
    lateness_p95_ms: float | None
    lateness_p99_ms: float | None
    lateness_max_ms: float | None


class LatenessRecorder:
    """The most recent ``size`` lateness samples. Engine thread only."""

    def __init__(self, size: int = 10_000) -> None:
        self._samples: deque[float] = deque(maxlen=size)
        self.count = 0

    def add(self, lateness_ms: float) -> None:
        self._samples.append(lateness_ms)
        self.count += 1

    def summary(self) -> tuple[float | None, float | None, float | None, float | None]:
        ordered = sorted(self._samples)
        if not ordered:
            return None, None, None, None
        return (
            percentile(ordered, 50),
            percentile(ordered, 95),
            percentile(ordered, 99),
            ordered[-1],
        )
