"""One bounded queue per alert sink: a sink that falls behind gets a digest, not a backlog.

Why: a webhook that never answers used to collect one task per alert, so delivery fell
further behind every minute, and at exit most alerts were dropped without a word. Now each
sink has at most one send in flight. Alerts that arrive meanwhile wait in a bounded queue
and go out together in the next send, as one digest ("12 endpoints changed state: …"):
the delay never grows past one send, whatever the rate. Every alert is accounted for in a
:class:`Tally` (delivered alone, in a digest, failed, dropped), and every one that does not
reach the sink is reported with its count: a failed send, a full queue, or gatewatch
stopping while the sink was still busy.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gatewatch.monitor.alerts import Alert, digest_alert

log = logging.getLogger(__name__)

#: Alerts one sink may have waiting; past this, the oldest are dropped (and reported).
DEFAULT_MAX_PENDING = 500

#: ``(sink name, reason, how many alerts)``: told for every alert that did not get through.
Reporter = Callable[[str, str, int], None]


class SinkLike(Protocol):
    name: str

    async def send(self, alert: Alert) -> None: ...


@dataclass
class Tally:
    """What became of the alerts handed to one sink."""

    delivered: int = 0  # sent alone, and the sink took it
    digested: int = 0  # sent inside a digest the sink took
    failed: int = 0  # in a send the sink refused or never answered (reported)
    dropped: int = 0  # never sent: the queue was full, or gatewatch stopped (reported)

    @property
    def undelivered(self) -> int:
        return self.failed + self.dropped


class SinkQueue:
    """The queue and the single sender of one sink. Engine loop only."""

    def __init__(
        self,
        sink: SinkLike,
        report: Reporter,
        *,
        slots: Callable[[], asyncio.Semaphore],
        error_types: tuple[type[BaseException], ...],
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        self.sink = sink
        self.report = report
        self.slots = slots
        self.error_types = error_types
        self.max_pending = max_pending
        self.tally = Tally()
        self._pending: deque[Alert] = deque()
        self._in_flight: list[Alert] = []
        self._task: asyncio.Task[None] | None = None
        self._overflow = 0

    def put(self, alert: Alert) -> None:
        if len(self._pending) >= self.max_pending:
            self._pending.popleft()
            self._overflow += 1
            self.tally.dropped += 1
        self._pending.append(alert)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self._pending:
            self._report_overflow()
            batch = list(self._pending)
            self._pending.clear()
            self._in_flight = batch
            alert = batch[0] if len(batch) == 1 else digest_alert(batch, batch[-1].at)
            try:
                async with self.slots():
                    await self.sink.send(alert)
            except self.error_types as exc:
                self.tally.failed += len(batch)
                self.report(self.sink.name, _with_count(str(exc), len(batch)), len(batch))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in a sink must not take the engine down
                log.exception("alert sink %s crashed", self.sink.name)
                self.tally.failed += len(batch)
                reason = _with_count(f"internal error ({type(exc).__name__})", len(batch))
                self.report(self.sink.name, reason, len(batch))
            else:
                if len(batch) == 1:
                    self.tally.delivered += 1
                else:
                    self.tally.digested += len(batch)
            # Not in a `finally`: a cancelled send leaves its batch for close() to count.
            self._in_flight = []

    def _report_overflow(self) -> None:
        if self._overflow:
            count, self._overflow = self._overflow, 0
            self.report(
                self.sink.name,
                f"{count} alert(s) dropped: the sink fell more than "
                f"{self.max_pending} alerts behind",
                count,
            )

    async def close(self, grace: float) -> None:
        """Let the sender finish for up to ``grace`` s; what it could not send is counted
        as dropped and reported, in one line."""
        task = self._task
        if task is not None and not task.done():
            done, _ = await asyncio.wait({task}, timeout=grace)
            if not done:
                task.cancel()
                await asyncio.wait({task}, timeout=2.0)
        self._report_overflow()
        left = len(self._in_flight) + len(self._pending)
        self._in_flight, self._pending = [], deque()
        if left:
            self.tally.dropped += left
            self.report(
                self.sink.name,
                f"{left} alert(s) not delivered: gatewatch stopped while the sink was still busy",
                left,
            )


def _with_count(reason: str, count: int) -> str:
    return reason if count == 1 else f"{reason} ({count} alerts in one digest)"
