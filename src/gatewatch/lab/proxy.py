"""A forward proxy in four temperaments: open, auth (407), fail (502) and slow.

CONNECT opens a tunnel and relays bytes both ways; an absolute-form request
(``GET http://host:port/path``) is forwarded with ``Connection: close`` and its response
relayed as is, so upstream faults (RST, truncation, garbage) reach the client unchanged.
Names resolve in-process through the lab's DNS table, and only loopback targets are
reached: the lab must never become a way off the machine.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from .http_wire import BadRequest, Request, read_request, response
from .sockets import arm_reset
from .tracking import CLIENT_ERRORS, ConnectionTracker
from .zone import DnsTable

ProxyMode = Literal["open", "auth", "fail", "slow"]
PROXY_MODES: tuple[ProxyMode, ...] = ("open", "auth", "fail", "slow")

VIA = "1.1 gatewatch-lab-proxy"
#: The Server token on the proxy's own answers (CONNECT replies, error pages): in no table.
SERVER = "fwdproxy/2.4"
CONNECT_TIMEOUT = 5.0
#: Headers that describe one hop and are not forwarded (RFC 9110 §7.6.1, plus the body framing
#: the proxy redoes itself).
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "proxy-connection",
        "keep-alive",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)


class _Refusal(Exception):
    """The proxy answers with this status instead of reaching the target."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ProxyConfig:
    """How one proxy port behaves."""

    mode: ProxyMode
    credentials: tuple[str, str] = ("user", "pass")
    #: Seconds the slow proxy waits before answering.
    delay: float = 0.0

    @property
    def expected_authorization(self) -> str:
        """The Proxy-Authorization value the auth proxy accepts."""
        token = base64.b64encode(":".join(self.credentials).encode()).decode()
        return f"Basic {token}"


def generated(status: int, message: str, extra: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A response the proxy makes itself, marked with Via."""
    return response(status, f"{message}\n".encode(), (("Via", VIA), *extra), server=SERVER)


class ForwardProxy:
    """The stream handler for one proxy port."""

    def __init__(self, config: ProxyConfig, table: DnsTable, tracker: ConnectionTracker) -> None:
        self._config = config
        self._table = table
        self._tracker = tracker

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await read_request(reader)
        except BadRequest as bad:
            writer.write(generated(bad.status, str(bad)))
            return
        if request is None:
            return
        try:
            await self._admit(request)
            if request.method == "CONNECT":
                await self._tunnel(request, reader, writer)
            else:
                await self._forward(request, reader, writer)
        except _Refusal as refusal:
            extra = (("Proxy-Authenticate", 'Basic realm="lab"'),) if refusal.status == 407 else ()
            writer.write(generated(refusal.status, str(refusal), extra))

    async def _admit(self, request: Request) -> None:
        config = self._config
        if config.mode == "fail":
            raise _Refusal(502, "lab proxy: upstream unavailable (fail mode)")
        authorization = request.header("proxy-authorization")
        if config.mode == "auth" and authorization != config.expected_authorization:
            raise _Refusal(407, "lab proxy: authentication required")
        if config.delay > 0:
            await asyncio.sleep(config.delay)

    async def _tunnel(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        host, port = _split_authority(request.target)
        up_reader, up_writer = await self._connect(host, port)
        try:
            head = f"HTTP/1.1 200 Connection established\r\nServer: {SERVER}\r\nVia: {VIA}\r\n\r\n"
            writer.write(head.encode())
            await writer.drain()
            await _relay(reader, writer, up_reader, up_writer)
        finally:
            up_writer.transport.abort()

    async def _forward(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        url = urlsplit(request.target)
        if url.scheme != "http" or not url.hostname:
            raise _Refusal(400, "lab proxy: expected an absolute http:// URL")
        up_reader, up_writer = await self._connect(url.hostname, url.port or 80)
        try:
            up_writer.write(_rewrite(request, url.netloc))
            await up_writer.drain()
            await _relay(reader, writer, up_reader, up_writer)
        finally:
            up_writer.transport.abort()

    async def _connect(
        self, host: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        addresses = self._resolve(host)
        if not addresses:
            raise _Refusal(502, f"lab proxy: cannot resolve {host}")
        if not all(ipaddress.ip_address(a).is_loopback for a in addresses):
            raise _Refusal(403, "lab proxy: only loopback targets are reachable")
        for address in addresses:
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    up_reader, up_writer = await asyncio.open_connection(address, port)
            except (OSError, TimeoutError):
                continue
            self._tracker.adopt(up_writer)
            return up_reader, up_writer
        raise _Refusal(502, f"lab proxy: cannot connect to {host}:{port}")

    def _resolve(self, host: str) -> list[str]:
        host = host.strip("[]")
        with contextlib.suppress(ValueError):
            return [str(ipaddress.ip_address(host))]
        if host.lower() == "localhost":
            return ["127.0.0.1"]
        return self._table.addresses(host)


def _split_authority(target: str) -> tuple[str, int]:
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise _Refusal(400, "lab proxy: CONNECT needs host:port")
    return host, int(port)


def _rewrite(request: Request, netloc: str) -> bytes:
    """The request as the origin should get it: origin-form, one hop, Connection: close."""
    url = urlsplit(request.target)
    target = (url.path or "/") + (f"?{url.query}" if url.query else "")
    headers = [(k, v) for k, v in request.headers if k.lower() not in _HOP_BY_HOP]
    if not any(k.lower() == "host" for k, _ in headers):
        headers.insert(0, ("Host", netloc))
    headers.append(("Via", VIA))
    headers.append(("Connection", "close"))
    if request.body:
        headers.append(("Content-Length", str(len(request.body))))
    lines = [f"{request.method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body


async def _relay(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    """Copy both ways until both sides are done; a reset on one side resets the other."""

    def reset_both() -> None:
        for w in (client_writer, up_writer):
            arm_reset(w.get_extra_info("socket"))
            w.transport.abort()

    async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            if dst.can_write_eof() and not dst.transport.is_closing():
                dst.write_eof()
        except CLIENT_ERRORS:
            reset_both()

    await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))
