"""Sockets that know when bytes *arrived*, not when a busy event loop got round to them.

With twenty probes in flight the event loop is busy, and a timestamp taken when our
coroutine resumes includes the time the wake-up waited behind other probes' callbacks:
measured here, +15 ms on a 0.1 ms loopback connect. So the probe reads its socket with
``recvmsg`` and ``SO_TIMESTAMPNS``: the kernel stamps each segment on arrival, and every
phase end is corrected by the queueing delay of the read that ended it (resume time −
kernel arrival). The connect uses the kernel's SYN/SYN-ACK round trip from ``TCP_INFO``
when the loop noticed the connection late. TLS runs over ``ssl.MemoryBIO`` on the same
socket so the handshake's reads are stamped too.

Where the platform lacks ``recvmsg``/``SO_TIMESTAMPNS`` (Windows, some sandboxes) the
stamps fall back to the resume time, which is what every userland tool reports.

This is an httpcore network stream: httpcore drives it; it never parses HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import ssl
import struct
import sys
import time
from typing import Any, Protocol

import httpcore

#: SO_TIMESTAMPNS (Linux asm-generic value; Python 3.11 does not export it).
SO_TIMESTAMPNS: int | None = (
    getattr(socket, "SO_TIMESTAMPNS", 35) if sys.platform.startswith("linux") else None
)
_ANCILLARY = socket.CMSG_SPACE(16) if hasattr(socket, "CMSG_SPACE") else 0
_TCP_INFO = getattr(socket, "TCP_INFO", None)
#: Offsets in Linux ``struct tcp_info``: tcpi_rtt (µs) and tcpi_total_retrans.
_RTT_OFFSET, _RETRANS_OFFSET = 68, 100
READ_SIZE = 65536

supported = hasattr(socket.socket, "recvmsg")


class Observer(Protocol):
    """Told of every read and write, with the kernel's arrival time when known."""

    def on_receive(self, arrival: float, resumed: float) -> None: ...

    def on_data(self, arrival: float) -> None: ...

    def on_send(self, at: float) -> None: ...


def _arrival(ancillary: list[tuple[int, int, bytes]], resumed: float) -> float:
    """perf_counter time of the kernel's arrival stamp, or ``resumed`` without one."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = struct.unpack("qq", data[:16])
            stamp_ns: int = sec * 1_000_000_000 + nsec
            behind = (time.time_ns() - stamp_ns) / 1e9
            if 0 <= behind < 60:  # a clock step would make the stamp meaningless
                return min(resumed, time.perf_counter() - behind)
    return resumed


def kernel_rtt(sock: socket.socket) -> tuple[float, int] | None:
    """(smoothed RTT in ms, total retransmissions) from TCP_INFO, if the kernel says."""
    if _TCP_INFO is None or not sys.platform.startswith("linux"):
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, 104)
    except OSError:
        return None
    if len(info) < _RETRANS_OFFSET + 4:
        return None
    (rtt_us,) = struct.unpack_from("I", info, _RTT_OFFSET)
    (retrans,) = struct.unpack_from("I", info, _RETRANS_OFFSET)
    return (rtt_us / 1000, retrans) if rtt_us else None


class _Waiter:
    """Awaits readiness of one socket on the running loop (add_reader / add_writer)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.loop = asyncio.get_running_loop()

    async def wait(self, readable: bool) -> None:
        fd = self.sock.fileno()
        future: asyncio.Future[None] = self.loop.create_future()

        def ready() -> None:
            if not future.done():
                future.set_result(None)

        add, remove = (
            (self.loop.add_reader, self.loop.remove_reader)
            if readable
            else (self.loop.add_writer, self.loop.remove_writer)
        )
        add(fd, ready)
        try:
            await future
        finally:
            remove(fd)


class SocketStream(httpcore.AsyncNetworkStream):
    """A plain TCP stream whose reads carry kernel arrival times."""

    def __init__(self, sock: socket.socket, observer: Observer) -> None:
        self.sock = sock
        self.observer = observer
        self._waiter = _Waiter(sock)
        self._peer = sock.getpeername()
        self._local = sock.getsockname()
        self.last_arrival = 0.0

    async def recv_raw(self, max_bytes: int) -> bytes:
        while True:
            try:
                data, ancillary, _flags, _addr = self.sock.recvmsg(max_bytes, _ANCILLARY)
            except (BlockingIOError, InterruptedError):
                await self._waiter.wait(readable=True)
                continue
            except OSError as exc:
                raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc
            resumed = time.perf_counter()
            if data:
                self.last_arrival = _arrival(ancillary, resumed)
                self.observer.on_receive(self.last_arrival, resumed)
            return data

    async def send_raw(self, data: bytes) -> None:
        # Stamped when the send starts, as curl's pretransfer is: on a fast loopback the
        # answer can reach the kernel before a slow send() call has even returned.
        self.observer.on_send(time.perf_counter())
        view = memoryview(data)
        while view:
            try:
                sent = self.sock.send(view)
            except (BlockingIOError, InterruptedError):
                await self._waiter.wait(readable=False)
                continue
            except OSError as exc:
                raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc
            view = view[sent:]

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self.recv_raw(max_bytes)
        if data:
            self.observer.on_data(self.last_arrival)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            await self.send_raw(buffer)

    async def aclose(self) -> None:
        self.sock.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        tls = TLSStream(self, ssl_context, server_hostname)
        try:
            await tls.handshake()
        except ssl.SSLError as exc:
            self.sock.close()
            raise httpcore.ConnectError(str(exc)) from exc
        except httpcore.ReadError as exc:
            self.sock.close()
            raise httpcore.ConnectError(str(exc)) from exc.__cause__ or exc
        except BaseException:
            self.sock.close()
            raise
        return tls

    def get_extra_info(self, info: str) -> Any:
        if info == "socket":
            return self.sock
        if info == "server_addr":
            return self._peer
        if info == "client_addr":
            return self._local
        if info == "is_readable":
            return False
        return None


class TLSStream(httpcore.AsyncNetworkStream):
    """TLS over ``ssl.MemoryBIO`` on a :class:`SocketStream`, so its reads stay stamped."""

    def __init__(self, raw: SocketStream, context: ssl.SSLContext, hostname: str | None) -> None:
        self.raw = raw
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self.ssl_object = context.wrap_bio(
            self._incoming, self._outgoing, server_side=False, server_hostname=hostname
        )

    async def _flush(self) -> None:
        pending = self._outgoing.read()
        if pending:
            await self.raw.send_raw(pending)

    async def _fill(self) -> None:
        data = await self.raw.recv_raw(READ_SIZE)
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()

    async def handshake(self) -> None:
        while True:
            try:
                self.ssl_object.do_handshake()
            except ssl.SSLWantReadError:
                await self._flush()
                await self._fill()
                continue
            await self._flush()
            return

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        while True:
            try:
                data = self.ssl_object.read(max_bytes)
            except ssl.SSLWantReadError:
                await self._flush()
                await self._fill()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""  # the peer closed; httpcore decides if that was premature
            except ssl.SSLError as exc:
                raise httpcore.ReadError(str(exc)) from exc
            else:
                # Application data, not a session ticket: its record arrived with the
                # latest raw read that completed it.
                if data:
                    self.raw.observer.on_data(self.raw.last_arrival)
                return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        try:
            self.ssl_object.write(buffer)
        except ssl.SSLError as exc:
            raise httpcore.WriteError(str(exc)) from exc
        await self._flush()

    async def aclose(self) -> None:
        self.raw.sock.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover - TLS in TLS is never probed
        raise httpcore.ConnectError("TLS inside TLS is not supported")

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self.ssl_object
        return self.raw.get_extra_info(info)


async def connect(address: str, port: int, observer: Observer) -> tuple[SocketStream, float | None]:
    """Connect to ``address:port``; the stream and the kernel's handshake RTT (ms), if known.

    The RTT is reported only when no segment was retransmitted, so a lost SYN (a 1 s or
    3 s retry) still shows in the userland time the caller measured.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if SO_TIMESTAMPNS is not None:
            with contextlib.suppress(OSError):  # no stamps: reads fall back to resume time
                sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        code = sock.connect_ex((address, port))
        if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
            raise OSError(code, errno.errorcode.get(code, "connect failed"))
        if code != 0:
            await _Waiter(sock).wait(readable=False)
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                raise OSError(code, errno.errorcode.get(code, "connect failed"))
        rtt = kernel_rtt(sock)
        return SocketStream(sock, observer), (rtt[0] if rtt and rtt[1] == 0 else None)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.ECONNREFUSED:
            exc = ConnectionRefusedError(exc.errno, "Connection refused")
        elif exc.errno == errno.ECONNRESET:
            exc = ConnectionResetError(exc.errno, "Connection reset by peer")
        raise httpcore.ConnectError(str(exc)) from exc
    except BaseException:
        sock.close()
        raise
