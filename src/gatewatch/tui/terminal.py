"""A terminal that may vanish: writes to a closed terminal are dropped, never fatal.

Why: when the terminal closes (a tmux server killed, an SSH session dropped) the board
gets SIGHUP and exits like ``q`` (:mod:`gatewatch.tui.signals`), and on the way out
Textual restores the terminal. Textual writes through one background thread with a
queue of 30 writes; a write to a closed terminal raises ``OSError`` (EIO), which ends
that thread, and the next 30 writes then block the app forever on the full queue. Seen
once in about 35 real runs (bench/bench_tmux_keys.py): the board outlived its terminal,
its engine stopped, until killed by hand.

:class:`TerminalFile` wraps the stream Textual writes to and drops what cannot be
written once the terminal is gone, so the writer thread never dies and the app always
reaches its exit (history flushed, workers stopped, temporary folders removed).
"""

from __future__ import annotations

import sys
from typing import IO, Any, cast

from textual.driver import Driver


class TerminalFile:
    """A text stream whose writes and flushes swallow OSError once (and after) one fails."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        #: Set by the first write or flush that failed: the terminal is gone.
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return self._stream.write(text)
            except OSError:  # EIO, EPIPE: the terminal closed under us
                self.gone = True
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._stream.flush()
            except OSError:
                self.gone = True

    def __getattr__(self, name: str) -> Any:  # fileno, isatty, encoding …
        return getattr(self._stream, name)


def safe_driver_class(default: type[Driver]) -> type[Driver]:
    """Textual's Linux driver writing through a :class:`TerminalFile`; other drivers
    (Windows, headless in tests) as they are."""
    from textual.drivers.linux_driver import LinuxDriver

    if default is not LinuxDriver:
        return default

    class SafeLinuxDriver(LinuxDriver):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            stream = self._file or sys.__stderr__
            assert stream is not None
            # Textual only writes, flushes and asks fileno()/isatty(): all delegated.
            self._file = cast(Any, TerminalFile(stream))

    return SafeLinuxDriver
