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
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from gatewatch.probe import netstream
from gatewatch.probe.h2frames import GoawayHold
from gatewatch.probe.tls import ALPN

#: The phase a probe is in; on failure or deadline it names the hop to blame.
PHASES = ("dns", "tcp", "proxy", "tls", "send", "wait", "body", "done")


@dataclass
class Timeline:
    """Monotonic stamps of one probe's phases. Written by one task, read after it ends."""

    start: float = field(default_factory=time.perf_counter)
    phase: str = "dns"
    dns: tuple[float, float] | None = None
    tcp_start: float | None = None
    tcp_end: float | None = None
    connect_start: float | None = None  # CONNECT request to a forward proxy
    connect_end: float | None = None
    connect_status: int | None = None
    connect_reason: str | None = None
    connect_headers: list[tuple[str, str]] = field(default_factory=list)
    tls_start: float | None = None
    tls_end: float | None = None
    request_start: float | None = None
    request_sent: float | None = None
    first_byte: float | None = None
    headers_end: float | None = None
    body_end: float | None = None
    local_address: str | None = None
    peer_address: str | None = None
    peer_port: int | None = None
    ssl_object: Any = None
    first_bytes: bytes = b""  # the start of what the server sent, for garbage diagnosis
    in_connect: bool = False  # inside the CONNECT exchange with a forward proxy
    #: How long the latest read waited in the event loop after the kernel had its bytes.
    last_delay: float = 0.0
    #: Kernel arrival of the latest raw read (perf_counter time), when stamped.
    last_arrival: float | None = None
    last_send: float | None = None
    #: The HTTP exchange runs over HTTP/2 (httpcore's ``http2.*`` trace steps).
    h2: bool = False
    #: The server's SETTINGS frame arrived: the HTTP/2 preface exchange completed.
    h2_settings: bool = False
    #: The HTTP/1.1 exchange began (``http11.*`` steps outside a CONNECT).
    h1: bool = False
    #: The HTTP/2 connection's GOAWAY filter (h2frames), when the connection is HTTP/2.
    goaway_hold: GoawayHold | None = None

    def on_receive(self, arrival: float, resumed: float) -> None:
        """A raw read returned bytes that reached the kernel at ``arrival`` (netstream)."""
        self.last_delay = resumed - arrival
        self.last_arrival = arrival

    def on_data(self, arrival: float) -> None:
        """Response bytes (decrypted, for TLS) whose segment arrived at ``arrival``."""
        sent = self.request_sent
        if sent is not None and self.first_byte is None and not self.in_connect and not self.h2:
            self.first_byte = max(arrival, sent)

    def on_send(self, at: float) -> None:
        self.last_send = at

    def body_done(self, now: float) -> None:
        """The body ended (or hit the cap) at ``now``: stamp ``body_end``.

        Over HTTP/2 the end is the kernel arrival of the segment that carried END_STREAM
        (the latest read): httpcore's h2 path passes through several loop checkpoints
        (its read and write locks) after that segment, and on a busy loop each one would
        be charged to the server's transfer.
        """
        end = self.arrived(now)
        if self.h2 and self.last_arrival is not None:
            end = min(end, self.last_arrival)
        if self.first_byte is not None:
            end = max(end, self.first_byte)
        self.body_end = end

    def arrived(self, now: float) -> float:
        """``now`` less the loop's queueing delay of the read that ended a phase."""
        return now - self.last_delay

    def ms(self, a: float | None, b: float | None) -> float | None:
        if a is None or b is None:
            return None
        return (b - a) * 1000

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace callback (must be async with AsyncClient). Never awaits.

        Only ``.started`` events carry the request, so whether a step belongs to the
        CONNECT exchange with a forward proxy is remembered from the step's start.
        """
        now = time.perf_counter()
        name, _, state = event.rpartition(".")
        step = name.rpartition(".")[2]
        if name.startswith("http2."):
            self.h2 = True
            if step == "send_connection_init" and state == "started":
                # The preface belongs to the exchange: a failure here is upstream's.
                self.request_start, self.phase = now, "send"
            elif step == "receive_remote_settings" and state == "complete":
                self.h2_settings = True
            elif step == "receive_response_headers" and state == "complete":
                # The read that completed the HEADERS frame is the latest one.
                arrival = self.last_arrival if self.last_arrival is not None else now
                sent = self.request_sent if self.request_sent is not None else arrival
                self.first_byte = max(min(arrival, now), sent)
        if state == "started" and step == "send_request_headers":
            request = info.get("request")
            self.in_connect = getattr(request, "method", b"") == b"CONNECT"
        if self.in_connect:
            if step == "send_request_headers" and state == "started":
                self.connect_start, self.phase = now, "proxy"
            elif step == "receive_response_headers" and state == "complete":
                self.connect_end = self.arrived(now)
                self.in_connect = False
                _version, status, reason, headers = info["return_value"]
                self.connect_status = status
                self.connect_reason = reason.decode("latin-1", errors="replace")
                self.connect_headers = [
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in headers
                ]
            return
        if name.startswith("http11."):
            self.h1 = True
        if step == "send_request_headers" and state == "started":
            self.request_start, self.phase = now, "send"
        elif step == "send_request_body" and state == "complete":
            # The request left when its last write returned, not when the trace ran.
            sent = self.last_send if self.last_send and self.last_send <= now else now
            self.request_sent, self.phase = sent, "wait"
        elif step == "receive_response_headers" and state == "complete":
            self.headers_end, self.phase = self.arrived(now), "body"


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
