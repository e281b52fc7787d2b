"""``gatewatch exporter``: a thin HTTP/1.1 server (asyncio + h11) over :class:`Exporter`.

Binds to loopback unless another address is asked for explicitly (``--listen
0.0.0.0:9115``): an exporter answers anyone who can reach it. One event loop serves the
scrapes and runs their probes, so no scrape waits for a thread hand-off (about a third
less CPU per ``/probe`` than the threaded ``http.server`` it replaced; bench/README.md).
Stopping closes keep-alive connections too: Prometheus reuses its connection, and an
exporter that only closed its listener would go on answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

import h11

from gatewatch.exporter.service import Answer, Exporter, Probing
from gatewatch.model import Endpoint
from gatewatch.monitor.status import EndpointStatus
from gatewatch.stopsignals import stop_on_signals

DEFAULT_LISTEN = "127.0.0.1:9115"
#: A request head larger than this is refused (a scrape's is a few hundred bytes).
MAX_HEAD = 16 * 1024

_INDEX = b"""<html><head><title>gatewatch exporter</title></head><body>
<h1>gatewatch exporter</h1>
<p><a href="/probe?target=NAME-OR-URL&amp;module=http_2xx">/probe?target=&amp;module=</a>
(blackbox_exporter's multi-target pattern)</p>
<p><a href="/metrics">/metrics</a></p>
</body></html>
"""


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9115`` for IPv6) → (host, port); ValueError if malformed."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"--listen wants HOST:PORT (e.g. {DEFAULT_LISTEN}), not {text!r}")
    host = host.strip("[]")
    try:
        port = int(port_text)
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"--listen wants an IP address and a port, not {text!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"--listen port out of range: {port}")
    return host, port


async def _answer(exporter: Exporter, request: h11.Request) -> Answer:
    if request.method not in (b"GET", b"HEAD"):
        return Answer(405, "text/plain; charset=utf-8", b"only GET\n")
    parts = urlsplit(request.target.decode("latin-1"))
    if parts.path == "/probe":
        timeout = next(
            (
                value.decode("latin-1")
                for name, value in request.headers
                if name == b"x-prometheus-scrape-timeout-seconds"
            ),
            None,
        )
        return await exporter.probe(parts.query, timeout)
    if parts.path == "/metrics":
        return exporter.metrics()
    if parts.path == "/":
        return Answer(200, "text/html; charset=utf-8", _INDEX)
    return Answer(404, "text/plain; charset=utf-8", b"not found\n")


def _send(conn: h11.Connection, answer: Answer, head_only: bool = False) -> bytes:
    reason = HTTPStatus(answer.status).phrase.encode()
    headers = [
        ("Content-Type", answer.content_type),
        ("Content-Length", str(len(answer.body))),
    ]
    data = conn.send(h11.Response(status_code=answer.status, headers=headers, reason=reason))
    if not head_only:
        data = (data or b"") + (conn.send(h11.Data(data=answer.body)) or b"")
    return (data or b"") + (conn.send(h11.EndOfMessage()) or b"")


async def _next(conn: h11.Connection, reader: asyncio.StreamReader) -> object:
    """The next h11 event, reading from the socket as needed."""
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        conn.receive_data(await reader.read(65536))


async def _connection(
    exporter: Exporter, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Serve requests on one connection until either side closes it."""
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
    while True:
        try:
            event = await _next(conn, reader)
            if not isinstance(event, h11.Request):
                return  # ConnectionClosed, or the peer stopped mid-request
            done = (h11.EndOfMessage, h11.ConnectionClosed)
            while not isinstance(await _next(conn, reader), done):
                pass  # a GET has no body worth reading
            answer = await _answer(exporter, event)
            writer.write(_send(conn, answer, head_only=event.method == b"HEAD"))
            await writer.drain()
        except h11.RemoteProtocolError:
            with contextlib.suppress(h11.LocalProtocolError):
                writer.write(_send(conn, Answer(400, "text/plain", b"bad request\n")))
                await writer.drain()
            return
        if conn.our_state is h11.MUST_CLOSE or conn.their_state is not h11.DONE:
            return
        conn.start_next_cycle()


async def _serve(
    endpoints: Sequence[Endpoint],
    host: str,
    port: int,
    *,
    allow_any_target: bool,
    snapshot: Callable[[], Mapping[str, EndpointStatus]] | None,
    out: TextIO,
    stop: threading.Event,
    on_ready: Callable[[tuple[str, int]], None] | None,
    watched: bool,
) -> None:
    probing = Probing()
    await probing.start()
    exporter = Exporter(
        endpoints,
        allow_any_target=allow_any_target,
        probe=probing.probe,
        snapshot=snapshot,
    )
    open_writers: set[asyncio.StreamWriter] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        open_writers.add(writer)
        try:
            await _connection(exporter, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the scraper hung up (its scrape timed out): its choice, not our error
        finally:
            open_writers.discard(writer)
            writer.close()

    server = await asyncio.start_server(handle, host, port)
    try:
        bound = server.sockets[0].getsockname()
        bound_host, bound_port = str(bound[0]), int(bound[1])
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        out.write(
            f"gatewatch exporter listening on http://{shown}:{bound_port}/ "
            f"({len(endpoints)} endpoints{', monitored' if watched else ''}"
            f"{'; any target allowed' if allow_any_target else ''})\n"
        )
        out.flush()
        if on_ready is not None:
            on_ready((bound_host, bound_port))
        await asyncio.to_thread(stop.wait)
    finally:
        server.close()
        for writer in list(open_writers):
            writer.transport.abort()
        await probing.aclose()


def serve(
    endpoints: Sequence[Endpoint],
    *,
    listen: str = DEFAULT_LISTEN,
    allow_any_target: bool = False,
    watch: bool = False,
    history: str | Path | None = None,
    out: TextIO,
    stop: threading.Event | None = None,
    on_ready: Callable[[tuple[str, int]], None] | None = None,
) -> int:
    """Serve until SIGINT/SIGTERM (or ``stop``). With ``watch``, run the monitor too."""
    host, port = parse_listen(listen)
    stop = stop or threading.Event()
    monitor = None
    if watch:
        from gatewatch.monitor import Monitor

        monitor = Monitor(list(endpoints), history=history)
        monitor.start()
    restore = stop_on_signals(stop)
    try:
        asyncio.run(
            _serve(
                endpoints,
                host,
                port,
                allow_any_target=allow_any_target,
                snapshot=monitor.snapshot if monitor is not None else None,
                out=out,
                stop=stop,
                on_ready=on_ready,
                watched=monitor is not None,
            )
        )
    finally:
        stop.set()  # also when serving failed: nothing waits on it then
        restore()
        if monitor is not None:
            monitor.stop()
    return 0
