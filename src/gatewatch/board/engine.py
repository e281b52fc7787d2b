"""What the board needs of the probe engine, and the mailbox its events wait in.

Why a Protocol: the monitor's API (commands in, :mod:`gatewatch.monitor.events` out) is the
seam between the engine and the board. The engine may run in this process's thread today
and in worker processes tomorrow; the board only ever calls these methods and reads these
messages, so tests drive it with a fake and the engine can move without the board noticing.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections import deque
from collections.abc import Callable
from typing import Protocol

from gatewatch.model import Endpoint
from gatewatch.monitor import EndpointStatus, History, Message
from gatewatch.remote.events import RemoteEvent

#: What waits in the inbox: the engine's messages and the remote sources' events.
News = Message | RemoteEvent


class Engine(Protocol):
    """What the board needs of the probe engine; :class:`gatewatch.monitor.Monitor` has it."""

    history: History

    def subscribe(self, callback: Callable[[Message], None]) -> Callable[[], None]: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def snapshot(self) -> dict[str, EndpointStatus]: ...
    def add(self, endpoint: Endpoint) -> concurrent.futures.Future[None]: ...
    def remove(self, name: str) -> concurrent.futures.Future[None]: ...
    def rename(self, old_name: str, endpoint: Endpoint) -> concurrent.futures.Future[None]: ...
    def update(self, endpoint: Endpoint) -> concurrent.futures.Future[None]: ...
    def pause(self, name: str) -> concurrent.futures.Future[None]: ...
    def resume(self, name: str) -> concurrent.futures.Future[None]: ...
    def pause_all(self) -> concurrent.futures.Future[None]: ...
    def resume_all(self) -> concurrent.futures.Future[None]: ...
    def probe_now(self, name: str) -> concurrent.futures.Future[None]: ...
    def acknowledge(self, name: str, by: str, reason: str) -> concurrent.futures.Future[None]: ...


class Feed(Protocol):
    """A source of news in a thread of its own (the remote sources' watcher)."""

    def start(self) -> None: ...
    def stop(self, timeout: float = ...) -> None: ...


class Inbox:
    """A thread-safe mailbox: the engine's (and sources') threads put, the UI's loop drains."""

    def __init__(self) -> None:
        self._items: deque[News] = deque()
        self._lock = threading.Lock()

    def put(self, message: News) -> bool:
        """Queue ``message``; True when the inbox was empty, so the one who drains must be
        rung. Once rung, the drain takes everything that arrives until then: at 200 results
        a second the UI's loop is woken once per drain, not once per result."""
        with self._lock:
            first = not self._items
            self._items.append(message)
        return first

    def drain(self) -> list[News]:
        with self._lock:
            items = list(self._items)
            self._items.clear()
        return items

    def __len__(self) -> int:
        return len(self._items)
