"""An httpx transport that dials the address the dns hop chose and times every phase.

httpcore passes the URL's host both to ``connect_tcp`` and to ``start_tls``, and httpx
builds ``Host`` from the URL, so rewriting only the address inside our own network
backend keeps SNI, certificate checks and Host right (probe-engine-notes §2, option A:
public API only). The backend and the stream wrapper stamp ``perf_counter`` at the
moments httpcore's trace cannot see: the TCP connect itself, the TLS handshake, and the
first byte of the response.

One pool per probe and no keep-alive: every probe pays a fresh connection and handshake,
as a user's first visit does.

HTTP/2 runs through httpcore's own ``AsyncHTTP2Connection`` over the same kernel-stamped
stream, so the hop boundaries stay where they are for HTTP/1.1: tls ends when the
handshake (ALPN included) ends; upstream runs from the write of the request's HEADERS
frame to the kernel arrival of the segment that completed the response's HEADERS frame
(the first read after the request is often the server's SETTINGS, so "first byte" would
lie over h2), then the transfer. The ALPN offer is ours, not httpcore's: ``auto`` offers
h2 first as browsers do, ``2`` offers only h2 (tls.FixedAlpnContext) and the stream
refuses a handshake that did not choose it (:class:`H2NotNegotiated`), so a forced
version never falls back silently.
"""

from __future__ import annotations

import ssl
import time
import typing
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from gatewatch.probe import netstream
from gatewatch.probe.h2frames import GoawayHold
from gatewatch.probe.timeline import PHASES, Timeline
from gatewatch.probe.tls import ALPN

__all__ = ["PHASES", "H2NotNegotiated", "PinnedBackend", "ProbeTransport", "Route", "Timeline"]


class H2NotNegotiated(httpcore.ConnectError):
    """``http_version = "2"``, and the TLS handshake did not choose h2 in ALPN."""

    def __init__(self, selected: str | None) -> None:
        self.selected = selected
        chose = f"chose {selected!r}" if selected else "chose no protocol"
        super().__init__(f"HTTP/2 required, but the server does not offer h2 in ALPN ({chose})")


class TimedStream(httpcore.AsyncNetworkStream):
    """Delegates to the real stream; stamps the first read after the request was sent."""

    def __init__(
        self,
        inner: httpcore.AsyncNetworkStream,
        timeline: Timeline,
        alpn: tuple[str, ...] = ("http/1.1",),
        hold: GoawayHold | None = None,
    ) -> None:
        self._inner = inner
        self._timeline = timeline
        self._alpn = alpn
        self._hold = hold
        if hold is not None:
            timeline.goaway_hold = hold
        # netstream's streams report arrivals to the timeline themselves (on_receive).
        self._stamped = isinstance(inner, netstream.SocketStream | netstream.TLSStream)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self._inner.read(max_bytes, timeout)
        hold = self._hold
        while hold is not None:  # HTTP/2: a graceful GOAWAY waits (probe/h2frames.py)
            if not data:
                data = hold.end()
                break
            data = hold.feed(data)
            if data:
                break
            data = await self._inner.read(max_bytes, timeout)
        tl = self._timeline
        if not self._stamped and tl.request_sent is not None and tl.first_byte is None and data:
            tl.first_byte = time.perf_counter()  # anyio fallback: the resume time
        if tl.request_sent is not None and len(tl.first_bytes) < 512:
            tl.first_bytes += data[: 512 - len(tl.first_bytes)]
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        tl = self._timeline
        tl.tls_start, tl.phase = time.perf_counter(), "tls"
        # The context's ALPN offer is fixed when made (tls.FixedAlpnContext): httpcore's
        # own write just before this call (http/1.1 first) did not change it.
        inner = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        tl.tls_end = tl.arrived(time.perf_counter())
        tl.ssl_object = inner.get_extra_info("ssl_object")
        selected = tl.ssl_object.selected_alpn_protocol() if tl.ssl_object else None
        if self._alpn == ("h2",) and selected != "h2":
            await inner.aclose()
            raise H2NotNegotiated(selected)
        return TimedStream(inner, tl, self._alpn, GoawayHold() if selected == "h2" else None)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Dials ``address`` whatever host httpcore asks for, and times the connect."""

    def __init__(
        self,
        address: str,
        timeline: Timeline,
        alpn: tuple[str, ...] = ("http/1.1",),
        *,
        h2c: bool = False,
    ) -> None:
        self.address = address
        self.timeline = timeline
        self.alpn = alpn
        self.h2c = h2c  # HTTP/2 with prior knowledge over cleartext: frames from byte 0
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        tl = self.timeline
        tl.tcp_start, tl.phase = time.perf_counter(), "tcp"
        tl.peer_address, tl.peer_port = self.address, port
        stream: httpcore.AsyncNetworkStream
        if netstream.supported:
            stream, rtt_ms = await netstream.connect(self.address, port, tl)
            tl.tcp_end = time.perf_counter()
            if rtt_ms is not None:  # the loop may have noticed the connection late
                tl.tcp_end = min(tl.tcp_end, tl.tcp_start + rtt_ms / 1000)
        else:
            stream = await self._inner.connect_tcp(
                self.address,
                port,
                timeout=timeout,
                local_address=local_address,
                socket_options=socket_options,
            )
            tl.tcp_end = time.perf_counter()
        # Socket addresses are readable only while the socket is open: take them now.
        client = stream.get_extra_info("client_addr")
        if client:
            tl.local_address = f"{client[0]}:{client[1]}"
        return TimedStream(stream, tl, self.alpn, GoawayHold() if self.h2c else None)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover - probes never use sockets files
        raise httpcore.ConnectError("unix sockets are not probed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


# httpx keeps its httpcore → httpx exception map private, so we keep our own (14 lines).
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


def _mapped(exc: Exception) -> Exception:
    for source, target in _EXCEPTIONS:
        if isinstance(exc, source):
            mapped = target(str(exc))
            mapped.__cause__ = exc
            return mapped
    return exc


class _Body(httpx.AsyncByteStream):
    def __init__(self, stream: typing.AsyncIterable[bytes], pool: Any) -> None:
        self._stream = stream
        self._pool = pool

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self._stream:
                yield part
        except Exception as exc:
            raise _mapped(exc) from exc

    async def aclose(self) -> None:
        aclose = getattr(self._stream, "aclose", None)
        try:
            if aclose is not None:
                await aclose()
        finally:
            await self._pool.aclose()


@dataclass(frozen=True)
class Route:
    """How one request travels: the pinned address, TLS context, optional forward proxy."""

    address: str
    timeline: Timeline
    ssl_context: ssl.SSLContext
    proxy_url: str | None = None
    proxy_headers: tuple[tuple[str, str], ...] = ()
    #: ``"auto"``, ``"1.1"`` or ``"2"`` (Endpoint.http_version).
    http_version: str = "auto"

    @property
    def alpn(self) -> tuple[str, ...]:
        return ALPN[self.http_version]


class ProbeTransport(httpx.AsyncBaseTransport):
    """Routes each request by the :class:`Route` in its ``gatewatch.route`` extension."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        route: Route = request.extensions["gatewatch.route"]
        h2c = request.url.scheme == "http" and route.http_version == "2" and not route.proxy_url
        backend = PinnedBackend(route.address, route.timeline, route.alpn, h2c=h2c)
        # http1=False with http2=True is prior knowledge: over TLS our stream has already
        # refused a handshake without h2; over cleartext it is h2c (curl's
        # --http2-prior-knowledge).
        http1, http2 = route.http_version != "2", route.http_version != "1.1"
        pool: httpcore.AsyncConnectionPool
        if route.proxy_url:
            pool = httpcore.AsyncHTTPProxy(
                proxy_url=route.proxy_url,
                proxy_headers=list(route.proxy_headers),
                ssl_context=route.ssl_context,
                max_keepalive_connections=0,
                network_backend=backend,
                http1=http1,
                http2=http2,
            )
        else:
            pool = httpcore.AsyncConnectionPool(
                ssl_context=route.ssl_context,
                max_keepalive_connections=0,
                network_backend=backend,
                http1=http1,
                http2=http2,
            )
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions={k: v for k, v in request.extensions.items() if k != "gatewatch.route"},
        )
        try:
            response = await pool.handle_async_request(core_request)
        except BaseException as exc:
            await pool.aclose()
            if isinstance(exc, Exception):
                raise _mapped(exc) from exc
            raise
        assert isinstance(response.stream, typing.AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream, pool),
            extensions=response.extensions,
        )
