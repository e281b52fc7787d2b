"""Reading every source on its interval, in a thread of its own, and telling what changed.

Like the probe engine: its own asyncio loop in a daemon thread, reads that never overlap
(each source re-arms after its read finishes), immutable events out through a callback.
A source that fails yields a :class:`SourceStatus` with the problem (once, when it starts,
and once when it clears); its rows keep their last known state meanwhile rather than
turning into "vantage down" for a problem that is the source's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import httpx

from gatewatch.remote.events import RemoteEvent, RemoteRowChanged, SourceProblem, SourceStatus
from gatewatch.remote.prometheus import make_client, read_source
from gatewatch.remote.vantage import (
    DEFAULT_STALE_AFTER,
    RemoteRow,
    Snapshot,
    changes,
    rows,
)
from gatewatch.watchlist.sources import Source


class RemoteWatcher:
    """Reads ``sources`` until :meth:`stop`; ``on_event`` is called from its thread."""

    def __init__(
        self,
        sources: Sequence[Source],
        on_event: Callable[[RemoteEvent], None],
        *,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        stale_after: float = DEFAULT_STALE_AFTER,
    ) -> None:
        self.sources = tuple(sources)
        self._on_event = on_event
        self._environ = environ
        self._clock = clock
        self._stale_after = stale_after
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, str], RemoteRow] = {}
        self._problems: dict[str, SourceProblem] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name="gatewatch-sources", daemon=True)
        self._stopping: asyncio.Event | None = None

    # ------------------------------------------------------------------ any thread

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive() and self._stopping is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """Whether its thread still reads (False once :meth:`stop` returned)."""
        return self._thread.is_alive()

    def snapshot(self) -> tuple[tuple[RemoteRow, ...], Mapping[str, SourceProblem]]:
        """The latest rows and the sources' open problems."""
        with self._lock:
            return tuple(self._rows.values()), dict(self._problems)

    # ------------------------------------------------------------------ engine thread

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._run())
        finally:
            self._loop.close()

    async def _run(self) -> None:
        self._stopping = asyncio.Event()
        async with make_client() as client:
            tasks = [asyncio.create_task(self._follow(s, client)) for s in self.sources]
            await self._stopping.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _follow(self, source: Source, client: httpx.AsyncClient) -> None:
        while True:
            try:
                reading = await read_source(source, client, environ=self._environ)
                self._absorb(source, reading)
            except Exception as exc:  # a bug must show as a problem, not end the reads
                problem = SourceProblem("internal", f"reading failed: {type(exc).__name__}")
                self._absorb(source, problem)
            await asyncio.sleep(source.interval)

    def _absorb(self, source: Source, reading: Snapshot | SourceProblem) -> None:
        now = self._clock()
        events: list[RemoteEvent] = []
        with self._lock:
            if isinstance(reading, SourceProblem):
                if self._problems.get(source.name) != reading:
                    self._problems[source.name] = reading
                    events.append(SourceStatus(source.name, reading, now))
            else:
                if self._problems.pop(source.name, None) is not None:
                    events.append(SourceStatus(source.name, None, now))
                new = rows(
                    reading,
                    source=source.name,
                    vantage_label=source.vantage_label,
                    # Fresh or stale by the source's clock, which its samples carry.
                    now=reading.at if reading.at is not None else now,
                    stale_after=self._stale_after,
                )
                events += [RemoteRowChanged(c, now) for c in changes(self._rows, new)]
                for row in new:
                    self._rows[(row.source, row.endpoint)] = row
        for event in events:
            self._on_event(event)
