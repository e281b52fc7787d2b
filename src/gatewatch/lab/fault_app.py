"""The fault app: one HTTP/1.1 application whose paths each fail a different way.

Served identically on the plain port and every TLS port. Each route is a small coroutine
that writes exactly the bytes (or the silence, FIN or RST) a broken upstream would; the
route table at the bottom is the catalogue, and ``cli.py`` prints it for humans.
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote

from .certs import sni_of
from .gateway import edge_page, edge_page_with_status, relay
from .http_wire import BadRequest, Request, read_request, reason, response, response_head
from .sockets import arm_reset

_OK = b"ok\n"
#: Bytes /reset-mid and /truncate send of the 100000 they announce.
_PARTIAL = 1000
_ANNOUNCED = 100_000
_ENDLESS_CHUNK = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
_BIG_BLOCK = b"0123456789abcdef" * 4096


@dataclass
class Exchange:
    """One request on one connection, with the byte-level moves a route may make."""

    request: Request
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def send(self, data: bytes) -> None:
        """Queue bytes exactly as given."""
        self.writer.write(data)

    async def flush(self) -> None:
        """Wait for the socket buffer, and give other connections a turn."""
        await self.writer.drain()
        await asyncio.sleep(0)

    async def respond(
        self,
        status: int,
        body: bytes,
        headers: tuple[tuple[str, str], ...] = (),
        content_type: str = "text/plain",
    ) -> None:
        """A complete, well-formed response (headers only for HEAD)."""
        head_only = self.request.method == "HEAD"
        self.send(response(status, body, headers, content_type=content_type, head_only=head_only))
        await self.writer.drain()

    def reset(self) -> None:
        """End the connection with RST, discarding anything unsent."""
        arm_reset(self.writer.get_extra_info("socket"))
        self.writer.transport.abort()

    async def client_gone(self) -> None:
        """Return when the client closes its side (or the connection breaks)."""
        while await self.reader.read(4096):
            pass

    async def until_client_gone(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` (an endless stream, a trickle) until it ends or the client leaves."""
        job = asyncio.ensure_future(work)
        watcher = asyncio.ensure_future(self.client_gone())
        try:
            await asyncio.wait({job, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            job.cancel()
            watcher.cancel()
        if watcher.done() and not watcher.cancelled():
            watcher.exception()  # a reset while watching only means the client is gone
        if job.done() and not job.cancelled() and (exc := job.exception()) is not None:
            raise exc


class FaultApp:
    """Routes requests to fault handlers and counts hits per path (thread-safe reads)."""

    def __init__(self) -> None:
        self._hits: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._flaps = 0

    def hits(self, path_prefix: str) -> int:
        """Requests seen whose path starts with ``path_prefix``."""
        with self._lock:
            return sum(n for path, n in self._hits.items() if path.startswith(path_prefix))

    def next_flap(self) -> int:
        """0, 1, 2, … over successive /flap requests."""
        self._flaps += 1
        return self._flaps - 1

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer one request on a connection (then the caller closes it)."""
        try:
            request = await read_request(reader)
        except BadRequest as bad:
            writer.write(response(bad.status, f"{bad}\n".encode()))
            await writer.drain()
            return
        if request is None:
            return
        with self._lock:
            self._hits[request.path] += 1
        found = match_route(request.path)
        exchange = Exchange(request, reader, writer)
        if found is None:
            await exchange.respond(404, b"not found\n")
            return
        route, arg = found
        await route(exchange, arg, self)


# --------------------------------------------------------------------------- routes

Route = Callable[[Exchange, str, FaultApp], Awaitable[None]]


async def _ok(ex: Exchange, _arg: str, _app: FaultApp) -> None:
    await ex.respond(200, _OK)


async def _status(ex: Exchange, arg: str, _app: FaultApp) -> None:
    code = int(arg)
    if not 200 <= code <= 599:
        await ex.respond(400, b"status must be 200-599\n")
        return
    query = ex.request.query
    headers: tuple[tuple[str, str], ...] = ()
    if (retry_after := query.get("retry_after")) is not None and retry_after.isdigit():
        headers = (("Retry-After", retry_after),)
    if code in (204, 304):  # no body allowed, so no Content-Length either
        ex.send(response_head(code, headers))
        return
    if query.get("json") in ("1", "true"):
        body = json.dumps({"error": reason(code)}).encode()
        await ex.respond(code, body, headers, content_type="application/json")
        return
    await ex.respond(code, f"status {code}\n".encode(), headers)


async def _delay(ex: Exchange, arg: str, _app: FaultApp) -> None:
    # A loaded loop oversleeps: report the delay really applied, so benchmarks can tell
    # the server's jitter from the probe's timing error.
    started = time.perf_counter()
    await asyncio.sleep(int(arg) / 1000)
    slept = (time.perf_counter() - started) * 1000
    await ex.respond(200, _OK, (("X-Lab-Delay-Ms", f"{slept:.3f}"),))


async def _body_delay(ex: Exchange, arg: str, _app: FaultApp) -> None:
    ex.send(response_head(200, [("Content-Type", "text/plain")], content_length=len(_OK)))
    await ex.flush()
    await asyncio.sleep(int(arg) / 1000)
    ex.send(_OK)


async def _close(_ex: Exchange, _arg: str, _app: FaultApp) -> None:
    """Nothing to send: returning makes the server close with FIN."""


async def _reset(ex: Exchange, _arg: str, _app: FaultApp) -> None:
    ex.reset()


async def _garbage(ex: Exchange, _arg: str, _app: FaultApp) -> None:
    ex.send(b"THIS IS NOT HTTP\r\n\r\n")


async def _bad_status(ex: Exchange, _arg: str, _app: FaultApp) -> None:
    ex.send(b"HTTP/1.1 99x Weird\r\n\r\n")


async def _partial_body(ex: Exchange) -> None:
    head = response_head(200, [("Content-Type", "text/plain")], content_length=_ANNOUNCED)
    ex.send(head + b"x" * _PARTIAL)
    await ex.flush()


async def _reset_mid(ex: Exchange, _arg: str, _app: FaultApp) -> None:
    await _partial_body(ex)
    ex.reset()


async def _truncate(ex: Exchange, _arg: str, _app: FaultApp) -> None:
    await _partial_body(ex)  # then FIN


async def _trickle_headers(ex: Exchange, arg: str, _app: FaultApp) -> None:
    pause = int(arg) / 1000
    head = response_head(200, [("Content-Type", "text/plain")], content_length=len(_OK))

    async def drip() -> None:
        for i in range(len(head)):
            ex.send(head[i : i + 1])
            await ex.flush()
            await asyncio.sleep(pause)
        ex.send(_OK)
        await ex.flush()

    await ex.until_client_gone(drip())


async def _trickle_body(ex: Exchange, arg: str, _app: FaultApp) -> None:
    pause = int(arg) / 1000
    ex.send(response_head(200, [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")]))

    async def drip() -> None:
        while True:
            ex.send(b"1\r\nx\r\n")
            await ex.flush()
            await asyncio.sleep(pause)

    await ex.until_client_gone(drip())


async def _endless(ex: Exchange, _arg: str, _app: FaultApp) -> None:
    ex.send(response_head(200, [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")]))

    async def pour() -> None:
        while True:
            ex.send(_ENDLESS_CHUNK)
            await ex.flush()

    await ex.until_client_gone(pour())


async def _big(ex: Exchange, arg: str, _app: FaultApp) -> None:
    remaining = int(arg)
    ex.send(response_head(200, [("Content-Type", "text/plain")], content_length=remaining))
    if ex.request.method == "HEAD":
        return
    while remaining > 0:
        block = _BIG_BLOCK[:remaining]
        ex.send(block)
        remaining -= len(block)
        await ex.flush()


async def _hang(ex: Exchange, _arg: str, _app: FaultApp) -> None:
    await ex.client_gone()


async def _ratelimit(ex: Exchange, _arg: str, _app: FaultApp) -> None:
    await ex.respond(429, b"rate limited\n", (("Retry-After", "30"),))


async def _unavailable(ex: Exchange, _arg: str, _app: FaultApp) -> None:
    await ex.respond(503, b"service unavailable\n", (("Retry-After", "30"),))


async def _flap(ex: Exchange, _arg: str, app: FaultApp) -> None:
    if app.next_flap() % 2 == 0:
        await ex.respond(200, _OK)
    else:
        await ex.respond(500, b"flap: failing this time\n")


async def _echo(ex: Exchange, _arg: str, _app: FaultApp) -> None:
    request = ex.request
    ssl_object = ex.writer.get_extra_info("ssl_object")
    sockname = ex.writer.get_extra_info("sockname")
    seen = {
        "method": request.method,
        "path": request.path,
        "target": request.target,
        "http_version": request.version,
        "headers": [list(pair) for pair in request.headers],
        "tls": ssl_object is not None,
        "sni": sni_of(ssl_object),
        "local_port": sockname[1] if sockname else None,
        "body_bytes": len(request.body),
    }
    await ex.respond(200, json.dumps(seen).encode(), content_type="application/json")


async def _gateway(ex: Exchange, arg: str, _app: FaultApp) -> None:
    """A real reverse proxy to 127.0.0.1:{port} that fails with nginx's pages (gateway.py)."""
    ex.send(await relay(ex.request, arg))
    await ex.flush()


async def _edge(ex: Exchange, arg: str, _app: FaultApp) -> None:
    """The same proxy as a gateway in no table (``Server: edgeproxy/3.1``)."""
    ex.send(await relay(ex.request, arg, edge_page))
    await ex.flush()


async def _edge_ps(ex: Exchange, arg: str, _app: FaultApp) -> None:
    """edgeproxy with an RFC 9209 Proxy-Status header on its errors."""
    ex.send(await relay(ex.request, arg, edge_page_with_status))
    await ex.flush()


async def _body(ex: Exchange, arg: str, _app: FaultApp) -> None:
    text = unquote(arg, errors="replace")
    await ex.respond(200, text.encode(), content_type="text/plain; charset=utf-8")


ArgKind = Literal["none", "int", "text"]

#: First path segment → (route, what follows it): ``none`` = exact path, ``int`` =
#: ``/name/{digits}``, ``text`` = ``/name/{anything}``.
ROUTES: dict[str, tuple[Route, ArgKind]] = {
    "ok": (_ok, "none"),
    "status": (_status, "int"),
    "delay": (_delay, "int"),
    "body-delay": (_body_delay, "int"),
    "close": (_close, "none"),
    "reset": (_reset, "none"),
    "garbage": (_garbage, "none"),
    "bad-status": (_bad_status, "none"),
    "reset-mid": (_reset_mid, "none"),
    "truncate": (_truncate, "none"),
    "trickle-headers": (_trickle_headers, "int"),
    "trickle-body": (_trickle_body, "int"),
    "endless": (_endless, "none"),
    "big": (_big, "int"),
    "hang": (_hang, "none"),
    "ratelimit": (_ratelimit, "none"),
    "unavailable": (_unavailable, "none"),
    "flap": (_flap, "none"),
    "echo": (_echo, "none"),
    "body": (_body, "text"),
    "gateway": (_gateway, "text"),
    "edge": (_edge, "text"),
    "edge-ps": (_edge_ps, "text"),
}


def match_route(path: str) -> tuple[Route, str] | None:
    """The route for ``path`` and its argument, or None (a 404)."""
    name, slash, arg = path[1:].partition("/")
    found = ROUTES.get(name)
    if found is None:
        return None
    route, kind = found
    if kind == "none":
        return (route, "") if not slash else None
    if not arg:
        return None
    if kind == "int" and not (arg.isascii() and arg.isdigit() and len(arg) <= 10):
        return None
    return route, arg
