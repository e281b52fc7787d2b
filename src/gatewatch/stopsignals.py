"""SIGINT and SIGTERM as a request to stop, for the headless long-running commands.

Why one place: ``watch`` and ``exporter`` both run until told to stop, and both must end
cleanly (workers stopped, history flushed, exit 0) on Ctrl-C or a service manager's TERM.
Only the main thread may install handlers; elsewhere (tests that run a command in a
thread) this does nothing and the caller stops by other means.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType


def stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGINT/SIGTERM set ``stop``; returns a function that restores the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
