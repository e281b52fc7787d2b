"""Every connection the lab holds, so ``Lab.stop()`` can end them all at once.

Lab servers hang, trickle and stream forever on purpose, so they cannot wait for clients to
leave: each handler runs in a tracked task and each socket is remembered until it closes.
Stopping cancels the tasks and aborts the sockets. The wrapper also keeps one broken
handler from taking a server down: client-caused errors end the connection quietly, any
other exception is recorded (``errors``) for the tests to assert on.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import traceback
import weakref
from collections.abc import Awaitable, Callable

ClientCallback = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

#: What a client that misbehaves or leaves early makes a handler raise.
#: OSError covers ConnectionResetError, BrokenPipeError, TimeoutError and ssl.SSLError;
#: EOFError covers asyncio.IncompleteReadError.
CLIENT_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, asyncio.LimitOverrunError)


class ConnectionTracker:
    """Registry of live handler tasks and transports; ``close()`` ends them all."""

    def __init__(self, max_errors: int = 50) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._transports: weakref.WeakSet[asyncio.WriteTransport] = weakref.WeakSet()
        self._closing = False
        #: Unexpected handler exceptions, newest last (a bug in the lab, not a fault it plays).
        self.errors: collections.deque[str] = collections.deque(maxlen=max_errors)

    def adopt(self, writer: asyncio.StreamWriter) -> None:
        """Track an outgoing connection a handler opened (the proxy's upstream side)."""
        self._transports.add(writer.transport)

    def wrap(self, handler: ClientCallback) -> ClientCallback:
        """A client_connected_cb that runs ``handler`` tracked and never lets it escape."""

        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            raw = writer.transport
            task = asyncio.current_task()
            if self._closing or task is None:
                raw.abort()
                return
            self._transports.add(raw)
            self._tasks.add(task)
            clean = False
            try:
                await handler(reader, writer)
                clean = True
            except CLIENT_ERRORS:
                pass
            except asyncio.CancelledError:
                # Cancelled by close(): end quietly. Python 3.11's streams callback calls
                # task.exception() on a cancelled task and prints a traceback otherwise.
                if not self._closing:
                    raise
            except Exception:
                self.errors.append(traceback.format_exc(limit=8))
            finally:
                self._tasks.discard(task)
                if clean and not self._closing:
                    writer.close()  # FIN after a complete answer
                else:
                    writer.transport.abort()
                    raw.abort()

        return tracked

    async def close(self, grace: float = 1.0) -> None:
        """Cancel every handler, then abort whatever socket is still open."""
        self._closing = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        for transport in list(self._transports):
            with contextlib.suppress(Exception):
                transport.abort()
