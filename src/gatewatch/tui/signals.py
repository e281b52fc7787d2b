"""SIGTERM and SIGHUP end the board like ``q``.

Why: Python's default for SIGTERM and SIGHUP is to die on the spot, which leaves the
terminal in the alternate screen with mouse tracking on and the cursor hidden, and leaves
``gatewatch demo``'s temporary folders (TLS private keys among them) behind. Handled on the
app's own loop, the signal becomes an ordinary exit: Textual restores the terminal, and
the ``with`` blocks around the app (the lab, the temporary folder) clean up.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

#: The signals that end the app: a polite kill, and a closed terminal.
EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def exit_on_signals(exit_app: Callable[[], object]) -> Callable[[], None]:
    """Call ``exit_app`` on the running loop when an exit signal arrives; returns a
    function that puts the previous handling back. Call from the loop's own thread."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in EXIT_SIGNALS:
        try:
            loop.add_signal_handler(sig, exit_app)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            continue
        installed.append(sig)

    def restore() -> None:
        for sig in installed:
            with contextlib.suppress(RuntimeError, ValueError):
                loop.remove_signal_handler(sig)

    return restore
