"""An endpoint's recent past, as the checklist takes it: results and state changes, injected.

Why injected rather than read: the checklist must work headless (``gatewatch diagnose``, a
script, a test) where no monitor runs, and on the board, where the monitor's SQLite history
holds the past. So the checks take a :class:`Past` value, and :func:`from_history` reads one
out of :class:`gatewatch.monitor.History` for those who have it. Reading SQLite blocks, so
callers on an event loop run it in a thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gatewatch.model import ProbeResult
from gatewatch.monitor.acks import Ack
from gatewatch.monitor.history import History
from gatewatch.monitor.state import TransitionEvent

#: How many recent probes the checklist reads from the history.
RECENT = 50
#: How far back state changes are read.
EVENT_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Past:
    """Recent probes of one endpoint (oldest first), its state changes and who acknowledged
    it (oldest first)."""

    results: tuple[ProbeResult, ...] = ()
    events: tuple[TransitionEvent, ...] = ()
    acks: tuple[Ack, ...] = ()

    @classmethod
    def of(
        cls, results: Iterable[ProbeResult] = (), events: Iterable[TransitionEvent] = ()
    ) -> Past:
        ordered = sorted(results, key=lambda r: r.started_at)
        return cls(tuple(ordered), tuple(sorted(events, key=lambda e: e.at)))

    def window(self) -> tuple[datetime, datetime] | None:
        """The first and last moment this past covers, or None when it is empty."""
        moments = [r.started_at for r in self.results] + [e.at for e in self.events]
        if not moments:
            return None
        return min(moments), max(moments)


def from_history(
    history: History,
    endpoint: str,
    *,
    now: datetime,
    recent: int = RECENT,
    event_window: timedelta = EVENT_WINDOW,
) -> Past:
    """The last ``recent`` probes and the last ``event_window`` of state changes of
    ``endpoint``. Blocks on SQLite: call it from a thread, never from the UI loop."""
    records = history.last_results(endpoint, recent)
    events = history.events(now - event_window, now, endpoint=endpoint)
    acks = tuple(history.acks(endpoint, now - event_window))
    return replace(Past.of((r.to_result() for r in records), events), acks=acks)
