"""When each endpoint's next probe is due: a fixed grid, jitter around it, no drift.

Why a grid: ``next = completion + interval`` drifts by the probe's own duration every
cycle and hides engine lateness. Here slot *k* is due at ``anchor + k·interval`` plus a
jitter drawn once per slot (bounded by ``jitter·interval``), so jitter never accumulates and
the k-th probe of an endpoint is always within one jitter bound of where it belongs. The
grid of every endpoint starts at a uniformly random offset within its interval, so a
thousand endpoints loaded together do not fire together. With ``first_now`` (what the
engine uses when it starts and when an endpoint is added) the first probe is due at once —
an engineer opening the board wants every row filled as soon as the concurrency cap
allows, not within one interval — and the next one lands on the spread grid, between half
an interval and one and a half intervals later. All times are ``loop.time()`` (monotonic)
seconds.

A failure is confirmed quickly: :meth:`Schedule.insert` puts one extra probe before the
next slot (the runner asks for it a few seconds after a failure that has not yet made the
endpoint DOWN), and the grid carries on unchanged after it.

Jittered due times are put on a coarse clock (``quantum``, 20 ms in the engine): probes
due within the same 20 ms start in the same turn of the loop, and their connects and
handshakes share its wake-ups. At 1,000 endpoints every 5 s a worker then starts about
four probes per wake-up instead of one, which measured 10–15 % less CPU per probe
(1.33 → 1.20 ms, bench notes in bench/README.md §6). It moves a probe by at most half a
quantum (a whole one at the window's edges), never out of its jitter window, and only
when that window is wider than two quanta; without jitter the grid stays exact.

A probe that overruns its slot (a hanging endpoint whose timeout exceeds the interval)
makes the schedule skip the slots already past, rather than start late: an endpoint's
probes never overlap, and lateness keeps measuring the engine, not the endpoint.
"""

from __future__ import annotations

import math
import random

DEFAULT_JITTER = 0.1


class Schedule:
    """The probe grid of one endpoint. Owned by one runner task; not thread-safe."""

    def __init__(
        self,
        interval: float,
        now: float,
        *,
        jitter: float = DEFAULT_JITTER,
        rng: random.Random | None = None,
        spread: bool = True,
        first_now: bool = False,
        quantum: float = 0.0,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval!r}")
        if not 0 <= jitter < 0.5:
            raise ValueError(f"jitter must be in [0, 0.5), got {jitter!r}")
        self.jitter = jitter
        self.quantum = quantum
        self._rng = rng or random.Random()
        self.skipped = 0
        #: The grid's due time while an inserted probe comes first (see insert()).
        self._held: float | None = None
        self.reanchor(interval, now, spread=spread)
        if first_now:
            # Slot 1 at now + U(0.5, 1.5)·interval: the same uniform phase as a spread
            # anchor, never right on the heels of the first probe.
            self.anchor = now + self._rng.uniform(-0.5, 0.5) * interval
            self.due = now

    def reanchor(self, interval: float, now: float, *, spread: bool = True) -> None:
        """Start a new grid at ``now`` (spread: somewhere within the first interval)."""
        self.interval = interval
        self._held = None
        self.anchor = now + (self._rng.uniform(0, interval) if spread else 0.0)
        self.slot = 0
        self.due = self.anchor

    def base(self, slot: int) -> float:
        """Where slot ``slot`` sits on the grid, before jitter."""
        return self.anchor + slot * self.interval

    def insert(self, when: float) -> None:
        """One extra probe at ``when`` if that is before the next one; the grid stays."""
        if when < self.due:
            if self._held is None:
                self._held = self.due
            self.due = when

    def advance(self, now: float) -> float:
        """Move to the first slot after the current one whose due time is not past (or
        back to the slot an inserted probe came before)."""
        if self._held is not None:
            held, self._held = self._held, None
            if held >= now:
                self.due = held
                return held
        slot = max(self.slot + 1, math.ceil((now - self.anchor) / self.interval))
        bound = self.jitter * self.interval
        while True:
            base = self.base(slot)
            due = self._on_quantum(base + self._rng.uniform(-bound, bound), base, bound)
            if due >= now:
                break
            slot += 1
        self.skipped += slot - self.slot - 1
        self.slot, self.due = slot, due
        return due

    def _on_quantum(self, due: float, base: float, bound: float) -> float:
        """``due`` moved to the nearest multiple of the quantum inside the jitter window."""
        quantum = self.quantum
        if quantum <= 0 or bound < 2 * quantum:
            return due
        moved = round(due / quantum) * quantum
        if moved < base - bound:
            moved += quantum
        elif moved > base + bound:
            moved -= quantum
        return moved
