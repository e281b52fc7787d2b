"""Virtual time for the monitor's engine loop: scheduling tests that a busy machine cannot break.

The engine runs its own asyncio loop in its own thread. Tests that slept for a second and
then counted probes (with tolerances of tens of ms) failed when both cores were busy. Here
the loop's clock is virtual: timers fire in order and at once, but never past a *horizon*
the test sets. ``clock.advance(1.0)`` moves the horizon and returns when the loop has done
everything due up to it and sits idle; then the test counts, exactly.

How: the loop's ``time()`` reads the virtual clock, and its selector, when asked to wait
``t`` seconds for I/O, polls without waiting and jumps the clock by ``t`` instead (the loop
computed ``t`` as the delay to its next timer). Past the horizon it really blocks, so that
commands from the test thread (``call_soon_threadsafe`` writes to the loop's self-pipe)
still wake it. Only for engines whose probes are fakes that sleep: real sockets and
threads keep real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import selectors
import threading


class VirtualClock:
    """The time of one engine loop, advanced by the test."""

    def __init__(self) -> None:
        self.now = 0.0
        self.horizon = 0.0
        self._changed = threading.Condition()
        self._idle_at: float | None = None
        self._asked = 0  # settle() requests posted to the loop
        self._marked = 0  # requests the loop has seen
        self._idle_mark = 0  # requests seen before the loop last went idle
        self._loop: asyncio.AbstractEventLoop | None = None

    def loop_factory(self) -> asyncio.AbstractEventLoop:
        """Pass as ``Monitor(loop_factory=clock.loop_factory)``."""
        loop = _VirtualLoop(self)
        self._loop = loop
        return loop

    def advance(self, seconds: float, *, timeout: float = 30.0) -> None:
        """Let ``seconds`` of virtual time pass; return once the loop idles at the horizon.

        ``timeout`` is real time and only bounds a broken engine; on a healthy one this
        returns as soon as the loop has caught up, however busy the machine is.
        """
        with self._changed:
            self.horizon += seconds
        self.settle(timeout=timeout)

    def settle(self, *, timeout: float = 30.0) -> None:
        """Wait until the loop has run everything due up to the horizon (after a command).

        A request posted to the loop marks the moment: only an idle report made after the
        loop ran it counts, never a stale one from before.
        """
        loop = self._loop
        assert loop is not None, "start the monitor first"
        with self._changed:
            self._asked += 1
            want = self._asked
        loop.call_soon_threadsafe(self._mark, want)
        with self._changed:
            ok = self._changed.wait_for(
                lambda: self._idle_mark >= want and self._idle_at == self.horizon,
                timeout=timeout,
            )
        if not ok:
            raise AssertionError(f"the engine loop did not reach t={self.horizon} in {timeout}s")

    def release(self) -> None:
        """No horizon any more: virtual time runs freely (so that stop's timeouts can fire)."""
        with self._changed:
            self.horizon = math.inf
        self._wake()

    def _wake(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                loop.call_soon_threadsafe(lambda: None)

    # The loop's side -------------------------------------------------------------

    def _mark(self, want: int) -> None:
        with self._changed:
            self._marked = max(self._marked, want)

    def _waiting(self, until: float) -> bool:
        """Called by the selector before it would wait until ``until``: jump there and
        return False if within the horizon; else stand at the horizon, report idle and
        return True (the selector then blocks until woken)."""
        with self._changed:
            if until <= self.horizon:
                self.now = max(self.now, until)
                return False
            self.now = max(self.now, self.horizon)
            self._idle_at = self.horizon
            self._idle_mark = self._marked
            self._changed.notify_all()
            return True

    def _busy(self) -> None:
        with self._changed:
            self._idle_at = None


class _VirtualSelector(selectors.DefaultSelector):
    def __init__(self, clock: VirtualClock) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        if events or timeout == 0:
            if events:
                self._clock._busy()
            return events
        until = math.inf if timeout is None else self._clock.now + timeout
        if not self._clock._waiting(until):
            return []
        events = super().select(None)  # idle at the horizon: only I/O or a wake-up
        self._clock._busy()
        return events


class _VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(_VirtualSelector(clock))
        self._virtual = clock

    def time(self) -> float:
        return self._virtual.now
