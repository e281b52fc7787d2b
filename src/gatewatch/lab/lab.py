"""``Lab``: the whole fault lab behind one object, running in one background thread.

Tests, ``gatewatch demo`` and the benchmarks start a Lab and point the product at its
ports. The servers run on their own asyncio loop in a daemon thread so that a synchronous
test, a Textual app or another event loop can use them alike, and so the lab's own work
never sits on the prober's loop (the timings are the product).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from .certs import CERT_VARIANTS
from .fault_app import FaultApp
from .services import LabPorts, LabServices, LabSettings
from .sockets import check_loopback
from .zone import ZONE, DnsTable

_T = TypeVar("_T")

#: Seconds start()/stop()/add_dns_server() wait for the lab's thread before giving up.
_THREAD_TIMEOUT = 30.0
_STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class _Running:
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    services: LabServices
    ports: LabPorts
    #: Removes the directory of PEMs (once; also at interpreter exit).
    cleanup: Callable[[], object]


class Lab:
    """The loopback fault lab. ``Lab().start()`` or ``with Lab() as lab:``.

    Nothing listens until :meth:`start`; port attributes raise ``RuntimeError`` before.
    ``dns`` (the record table) works at any time and survives restarts.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        tls_delay_ms: float = 50.0,
        dns_delay_ms: float = 200.0,
        proxy_delay_ms: float = 50.0,
    ) -> None:
        check_loopback(host)
        self._settings = LabSettings(host, tls_delay_ms, dns_delay_ms, proxy_delay_ms)
        #: The DNS zone; ``lab.dns.add(name, rtype, values, ttl=300)`` from any thread.
        self.dns = DnsTable(dns_delay_ms)
        self._app = FaultApp()
        self._lock = threading.Lock()
        self._running: _Running | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Lab:
        """Start every server in one daemon thread; returns once all ports listen. Idempotent."""
        with self._lock:
            if self._running is not None:
                return self
            directory = Path(tempfile.mkdtemp(prefix="gatewatch-lab-"))
            loop = asyncio.new_event_loop()
            services = LabServices(self._settings, self.dns, self._app, directory)
            ready: concurrent.futures.Future[LabPorts] = concurrent.futures.Future()
            thread = threading.Thread(
                target=_run_loop, args=(loop, services, ready), name="gatewatch-lab", daemon=True
            )
            thread.start()
            try:
                ports = ready.result(timeout=_THREAD_TIMEOUT)
            except BaseException:
                thread.join(_STOP_TIMEOUT)
                shutil.rmtree(directory, ignore_errors=True)
                raise
            # Even a lab never stopped leaves no key material behind at interpreter exit.
            cleanup = weakref.finalize(self, shutil.rmtree, str(directory), True)
            self._running = _Running(loop, thread, services, ports, cleanup)
        return self

    def stop(self) -> None:
        """Stop every server, end every connection, close every socket, delete the PEMs."""
        with self._lock:
            running, self._running = self._running, None
        if running is None:
            return
        if not running.thread.is_alive():  # the loop already ended (it cannot be reached)
            running.cleanup()
            return
        try:
            future = asyncio.run_coroutine_threadsafe(running.services.stop(), running.loop)
            future.result(timeout=_STOP_TIMEOUT)
        finally:
            running.loop.call_soon_threadsafe(running.loop.stop)
            running.thread.join(_STOP_TIMEOUT)
            running.cleanup()

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the servers are up."""
        return self._running is not None

    def _state(self) -> _Running:
        running = self._running
        if running is None:
            raise RuntimeError("the lab is not running: call Lab.start() first")
        return running

    def _call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        running = self._state()
        return asyncio.run_coroutine_threadsafe(coro, running.loop).result(_THREAD_TIMEOUT)

    # ------------------------------------------------------------------ where things are

    @property
    def host(self) -> str:
        """The address every server listens on ("127.0.0.1")."""
        return self._settings.host

    @property
    def http_port(self) -> int:
        """Plain HTTP/1.1 fault app (also on ::1, same port, when ``ipv6``)."""
        return self._state().ports.http

    @property
    def https_ports(self) -> dict[str, int]:
        """Certificate variant → TLS port serving the fault app (see ``CERT_VARIANTS``)."""
        return dict(self._state().ports.https)

    @property
    def tls_stall_port(self) -> int:
        """Accepts TCP, never answers the ClientHello."""
        return self._state().ports.tls_stall

    @property
    def tls_slow_port(self) -> int:
        """Valid certificate, handshake started ``tls_delay_ms`` after accept."""
        return self._state().ports.tls_slow

    @property
    def refused_port(self) -> int:
        """Reserved by a bound, non-listening socket: connect() is refused."""
        return self._state().ports.refused

    @property
    def blackhole_port(self) -> int:
        """Listening, never accepting, queue full: connect() times out."""
        return self._state().ports.blackhole

    @property
    def dns_port(self) -> int:
        """The DNS server (UDP and TCP) on ``host``."""
        return self._state().ports.dns

    @property
    def proxy_ports(self) -> dict[str, int]:
        """Forward proxies: "open", "auth", "fail", "slow" → port."""
        return dict(self._state().ports.proxies)

    @property
    def proxy_credentials(self) -> tuple[str, str]:
        """The user and password the "auth" proxy accepts."""
        return self._settings.proxy_credentials

    @property
    def ca_bundle(self) -> str:
        """PEM of the lab CA (trusts every variant except self_signed and unknown_ca)."""
        return str(self._state().ports.certs.ca_bundle)

    @property
    def ipv6(self) -> bool:
        """Whether the TCP services also listen on ::1."""
        return self._state().ports.ipv6

    @property
    def handler_errors(self) -> list[str]:
        """Tracebacks of lab handlers that crashed (a lab bug; tests expect none)."""
        return list(self._state().services.tracker.errors)

    def url(
        self,
        path: str = "/ok",
        *,
        scheme: str = "http",
        cert: str = "valid",
        host: str | None = None,
    ) -> str:
        """A URL of the fault app, e.g. ``lab.url("/ok", scheme="https", host="app.lab.test")``.

        ``cert`` picks the TLS port: a variant of ``https_ports``, or "slow" / "stall".
        """
        if scheme == "http":
            port = self.http_port
        elif scheme == "https":
            special = {"slow": self.tls_slow_port, "stall": self.tls_stall_port}
            ports = {**self.https_ports, **special}
            if cert not in ports:
                raise ValueError(f"unknown cert {cert!r}; one of {', '.join(ports)}")
            port = ports[cert]
        else:
            raise ValueError(f"scheme must be http or https, not {scheme!r}")
        host = host or self.host
        netloc = f"[{host}]" if ":" in host else host
        return f"{scheme}://{netloc}:{port}{path if path.startswith('/') else '/' + path}"

    # ------------------------------------------------------------------ runtime controls

    def add_dns_server(self, overrides: Mapping[str, Iterable[str]]) -> int:
        """Start another DNS server whose answers for ``overrides`` names differ; its port."""
        frozen = {name: list(values) for name, values in overrides.items()}
        return self._call(self._state().services.add_dns_server(frozen))

    def hits(self, path_prefix: str) -> int:
        """How many requests the fault app has seen whose path starts with ``path_prefix``."""
        return self._app.hits(path_prefix)

    def ports_json(self) -> dict[str, Any]:
        """Every port and path, JSON-ready (``python -m gatewatch.lab --json`` prints it)."""
        running = self._state()
        ports, certs = running.ports, running.ports.certs
        return {
            "pid": os.getpid(),
            "host": self.host,
            "zone": ZONE,
            "ipv6": ports.ipv6,
            "http_port": ports.http,
            "https_ports": dict(ports.https),
            "tls_stall_port": ports.tls_stall,
            "tls_slow_port": ports.tls_slow,
            "refused_port": ports.refused,
            "blackhole_port": ports.blackhole,
            "blackhole_proven": ports.blackhole_proven,
            "dns_port": ports.dns,
            "extra_dns_ports": list(running.services.extra_dns_ports),
            "proxy_ports": dict(ports.proxies),
            "proxy_credentials": list(self.proxy_credentials),
            "ca_bundle": str(certs.ca_bundle),
            "unknown_ca_bundle": str(certs.unknown_ca_bundle),
            "certs": {name: str(files.cert) for name, files in certs.leaves.items()},
            "cert_variants": dict(CERT_VARIANTS),
            "tls_delay_ms": self._settings.tls_delay_ms,
            "dns_delay_ms": self._settings.dns_delay_ms,
            "proxy_delay_ms": self._settings.proxy_delay_ms,
        }


def _run_loop(
    loop: asyncio.AbstractEventLoop,
    services: LabServices,
    ready: concurrent.futures.Future[LabPorts],
) -> None:
    """The lab thread: start the services, report the ports, serve until stopped."""
    asyncio.set_event_loop(loop)
    try:
        try:
            ports = loop.run_until_complete(services.start())
        except BaseException as exc:
            loop.run_until_complete(services.stop())
            ready.set_exception(exc)
            return
        ready.set_result(ports)
        loop.run_forever()
    finally:
        _cancel_leftovers(loop)
        loop.close()


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel tasks that outlived stop() (e.g. a connection accepted during it)."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.wait(tasks, timeout=1.0))
    loop.run_until_complete(loop.shutdown_asyncgens())
