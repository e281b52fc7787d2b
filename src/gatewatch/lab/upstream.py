"""Connection handlers that put the fault app on a port: plain, TLS, slow TLS, stalled TLS.

TLS is not done by ``start_server(ssl=...)`` but by upgrading each accepted connection in
its own tracked handler (``StreamWriter.start_tls``). That gives one code path for the
normal and the delayed handshake, and lets ``Lab.stop()`` cancel a handshake in progress,
which asyncio's built-in TLS server would keep alive until its own timeout.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import cast

from .fault_app import FaultApp
from .tracking import ClientCallback

#: A client that starts a handshake and never finishes it is dropped after this long.
HANDSHAKE_TIMEOUT = 10.0


def plain_handler(app: FaultApp) -> ClientCallback:
    """Serve the fault app over plain TCP."""
    return app.serve


def tls_handler(app: FaultApp, context: ssl.SSLContext, delay: float = 0.0) -> ClientCallback:
    """Serve the fault app over TLS, starting the handshake ``delay`` seconds after accept."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The ClientHello must stay in the socket, not in the StreamReader's buffer, or the
        # TLS layer would never see it. This runs before the first read can happen.
        cast(asyncio.Transport, writer.transport).pause_reading()
        if delay > 0:
            await asyncio.sleep(delay)
        await writer.start_tls(context, ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
        await app.serve(reader, writer)

    return handle


async def stall_handler(reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
    """Accept TCP and never answer the ClientHello: a handshake that never ends."""
    while await reader.read(4096):
        pass
