"""The live board's memory: one Row per endpoint, updated from the engine's messages.

Why a plain class fed in batches: the engine may finish hundreds of probes a second, far
more than a screen needs. Messages wait in an :class:`Inbox` (any thread may put), the app
drains it on a timer, and :meth:`LiveRows.apply` folds the whole batch in and says what
changed, so the table redraws each changed row once per tick however many results came.
Event-loop thread only (except ``Inbox.put``); no Textual here.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from gatewatch.model import Endpoint
from gatewatch.monitor import (
    AlertFailed,
    EndpointStatus,
    HistoryUnavailable,
    LocalProblem,
    Message,
    ProbeCompleted,
    StateChanged,
)
from gatewatch.tui.view import Row, from_status, with_result, with_transition


class Inbox:
    """A thread-safe mailbox: the engine thread puts, the event loop drains."""

    def __init__(self) -> None:
        self._items: deque[Message] = deque()
        self._lock = threading.Lock()

    def put(self, message: Message) -> None:
        with self._lock:
            self._items.append(message)

    def drain(self) -> list[Message]:
        with self._lock:
            items = list(self._items)
            self._items.clear()
        return items

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class Changes:
    """What one batch changed; the board redraws exactly that."""

    results: set[str] = field(default_factory=set)
    states: set[str] = field(default_factory=set)
    banners: bool = False
    alerts: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.results or self.states or self.banners or self.alerts)

    @property
    def names(self) -> set[str]:
        return self.results | self.states


class LiveRows:
    """Rows by endpoint name, plus the two board-wide conditions (local problem, history)."""

    def __init__(self, endpoints: Iterable[Endpoint] = ()) -> None:
        self.rows: dict[str, Row] = {e.name: Row(endpoint=e) for e in endpoints}
        #: The active "probably local" problem's reason, or None.
        self.local_problem: str | None = None
        #: Why the history database is not used, or None.
        self.history_failure: str | None = None

    def load(self, statuses: Mapping[str, EndpointStatus]) -> Changes:
        """Take the engine's snapshot (at start, or after a reconnect)."""
        changes = Changes()
        for name, status in statuses.items():
            if name in self.rows:
                uptime = self.rows[name].uptime
                self.rows[name] = replace(from_status(status), uptime=uptime)
                changes.states.add(name)
        return changes

    def apply(self, messages: Iterable[Message]) -> Changes:
        changes = Changes()
        for message in messages:
            if isinstance(message, ProbeCompleted):
                row = self.rows.get(message.endpoint_name)
                if row is None:
                    continue  # removed while the probe was in flight
                self.rows[row.name] = with_result(row, message.result, message.state)
                changes.results.add(row.name)
                if row.state != message.state:
                    changes.states.add(row.name)
            elif isinstance(message, StateChanged):
                event = message.event
                row = self.rows.get(event.endpoint)
                if row is None:
                    continue
                self.rows[row.name] = with_transition(row, event)
                changes.states.add(row.name)
            elif isinstance(message, LocalProblem):
                self.local_problem = message.reason if message.active else None
                changes.banners = True
            elif isinstance(message, HistoryUnavailable):
                self.history_failure = message.reason
                changes.banners = True
            elif isinstance(message, AlertFailed):
                changes.alerts.append(f"alert to {message.sink} failed: {message.reason}")
        return changes

    # ------------------------------------------------------------------ watchlist edits

    def put_endpoint(self, endpoint: Endpoint, old_name: str | None = None) -> None:
        """Add ``endpoint``, or replace ``old_name`` with it. An edit or a rename keeps the
        row's state and samples: the engine carries them over too (``Monitor.rename``)."""
        if old_name is not None and old_name in self.rows:
            old = self.rows.pop(old_name)
            self.rows[endpoint.name] = replace(old, endpoint=endpoint)
            return
        self.rows[endpoint.name] = Row(endpoint=endpoint)

    def remove(self, name: str) -> None:
        self.rows.pop(name, None)

    def set_uptimes(self, uptimes: Mapping[str, float | None]) -> set[str]:
        changed = set()
        for name, value in uptimes.items():
            row = self.rows.get(name)
            if row is not None and row.uptime != value:
                self.rows[name] = replace(row, uptime=value)
                changed.add(name)
        return changed
