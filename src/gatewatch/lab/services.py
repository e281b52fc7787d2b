"""Every lab server, started and stopped together on the lab's own event loop.

This is the async half of the lab; :mod:`gatewatch.lab.lab` runs it in a background thread.
It binds every port (127.0.0.1, plus ::1 on the same number for the TCP services, since
``app.lab.test`` has an AAAA record), starts each server, and on ``stop`` closes listeners,
cancels every connection and releases every socket, including the odd ones (bound but not
listening, listening but never accepting).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .certs import CERT_VARIANTS, LabCertificates
from .dns_server import DnsUdpProtocol, dns_tcp_handler
from .fault_app import FaultApp
from .http_wire import MAX_HEAD
from .proxy import PROXY_MODES, ForwardProxy, ProxyConfig
from .sockets import bind_pair, bind_udp_beside, fill_backlog, ipv6_loopback_available, listen_all
from .tracking import ClientCallback, ConnectionTracker
from .upstream import plain_handler, stall_handler, tls_handler
from .zone import DnsTable, Records, compile_overrides

_UDP_PAIR_ATTEMPTS = 32

#: Loop iterations from accept() to a running handler task (asyncio takes 3 or 4).
_ACCEPT_ITERATIONS = 8


@dataclass(frozen=True)
class LabSettings:
    """What a Lab was asked for."""

    host: str = "127.0.0.1"
    tls_delay_ms: float = 50.0
    dns_delay_ms: float = 200.0
    proxy_delay_ms: float = 50.0
    proxy_credentials: tuple[str, str] = ("user", "pass")


@dataclass(frozen=True)
class LabPorts:
    """Where everything listens once started."""

    http: int
    https: Mapping[str, int]
    tls_stall: int
    tls_slow: int
    refused: int
    blackhole: int
    #: Whether, at start, a connect to the black hole was seen going unanswered.
    blackhole_proven: bool
    dns: int
    proxies: Mapping[str, int]
    #: Whether the TCP services also listen on ::1 (same port numbers).
    ipv6: bool
    certs: LabCertificates = field(repr=False)


class LabServices:
    """Owns every server, socket and task of one running lab (loop thread only)."""

    def __init__(
        self, settings: LabSettings, table: DnsTable, app: FaultApp, directory: Path
    ) -> None:
        self._settings = settings
        self._table = table
        self._app = app
        self._directory = directory
        self.tracker = ConnectionTracker()
        self._servers: list[asyncio.Server] = []
        self._udp: list[DnsUdpProtocol] = []
        self._raw: list[socket.socket] = []  # refused, black hole and its fillers
        self.extra_dns_ports: list[int] = []

    async def start(self) -> LabPorts:
        """Bind and start everything; on failure the caller runs ``stop``."""
        settings = self._settings
        certs = LabCertificates.create(self._directory)
        ipv6 = settings.host == "127.0.0.1" and ipv6_loopback_available()
        app = self._app
        https = {
            name: await self._serve(tls_handler(app, certs.contexts[name]), ipv6)
            for name in CERT_VARIANTS
        }
        proxies: dict[str, int] = {
            mode: await self._serve(
                ForwardProxy(
                    ProxyConfig(
                        mode,
                        settings.proxy_credentials,
                        settings.proxy_delay_ms / 1000 if mode == "slow" else 0.0,
                    ),
                    self._table,
                    self.tracker,
                ),
                ipv6,
            )
            for mode in PROXY_MODES
        }
        blackhole, blackhole_proven = self._blackhole(ipv6)
        return LabPorts(
            http=await self._serve(plain_handler(app), ipv6),
            https=https,
            tls_stall=await self._serve(stall_handler, ipv6),
            tls_slow=await self._serve(
                tls_handler(app, certs.contexts["valid"], settings.tls_delay_ms / 1000), ipv6
            ),
            refused=self._refused(ipv6),
            blackhole=blackhole,
            blackhole_proven=blackhole_proven,
            dns=await self._dns(None),
            proxies=proxies,
            ipv6=ipv6,
            certs=certs,
        )

    async def add_dns_server(self, overrides: Mapping[str, Iterable[str]]) -> int:
        """Another DNS server on the same table, but answering ``overrides`` differently."""
        port = await self._dns(compile_overrides(overrides))
        self.extra_dns_ports.append(port)
        return port

    async def stop(self) -> None:
        """Close listeners, end every connection, release every socket."""
        for server in self._servers:
            server.close()
        # A connection accepted just now is still on its way to a handler: asyncio makes its
        # transport, then the handler's task, a few loop iterations apart, and a task that
        # never starts never closes its socket. Let those iterations run so the tracker
        # sees (and ends) every accepted connection; no new one can arrive now.
        for _ in range(_ACCEPT_ITERATIONS):
            await asyncio.sleep(0)
        await self.tracker.close()
        # The lab's loop is its own: whatever task is left (a connection still on its way to
        # a handler, a relay) is ours to end before the loop stops, or its socket stays open.
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        if others:
            await asyncio.wait(others, timeout=1.0)
        for protocol in self._udp:
            protocol.close()
        for sock in self._raw:
            sock.close()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        self._servers.clear()
        self._udp.clear()
        self._raw.clear()
        await asyncio.sleep(0)  # let aborted transports run their connection_lost

    async def _serve(self, handler: ClientCallback, ipv6: bool) -> int:
        """A TCP server for ``handler`` on a fresh port (and ::1 on the same number)."""
        socks = listen_all(bind_pair(self._settings.host, with_v6=ipv6))
        wrapped = self.tracker.wrap(handler)
        for sock in socks:
            self._servers.append(await asyncio.start_server(wrapped, sock=sock, limit=MAX_HEAD))
        port: int = socks[0].getsockname()[1]
        return port

    def _refused(self, ipv6: bool) -> int:
        """A port held by a socket that is bound but never listens: connect() is refused."""
        socks = bind_pair(self._settings.host, with_v6=ipv6)
        self._raw.extend(socks)
        port: int = socks[0].getsockname()[1]
        return port

    def _blackhole(self, ipv6: bool) -> tuple[int, bool]:
        """A listener that never accepts, its queue filled by the lab: SYNs go unanswered."""
        socks = bind_pair(self._settings.host, with_v6=ipv6)
        self._raw.extend(socks)
        proven = True
        for sock in socks:
            sock.listen(0)
            fillers, full = fill_backlog(sock)
            self._raw.extend(fillers)
            proven = proven and full
        port: int = socks[0].getsockname()[1]
        return port, proven

    async def _dns(self, overrides: Records | None) -> int:
        """DNS over UDP and TCP on one port number."""
        loop = asyncio.get_running_loop()
        for _ in range(_UDP_PAIR_ATTEMPTS):
            tcp = bind_pair(self._settings.host, with_v6=False)[0]
            port: int = tcp.getsockname()[1]
            udp = bind_udp_beside(port, self._settings.host)
            if udp is None:
                tcp.close()
                continue
            _, protocol = await loop.create_datagram_endpoint(
                lambda: DnsUdpProtocol(self._table, overrides), sock=udp
            )
            self._udp.append(protocol)
            handler = self.tracker.wrap(dns_tcp_handler(self._table, overrides))
            listen_all([tcp])
            self._servers.append(await asyncio.start_server(handler, sock=tcp))
            return port
        raise OSError("no port free for DNS over both UDP and TCP")
