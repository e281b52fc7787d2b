"""``gatewatch exporter``: a thin HTTP server over :class:`Exporter`, plus the monitor.

Binds to loopback unless another address is asked for explicitly (``--listen
0.0.0.0:9115``): an exporter answers anyone who can reach it. Each request runs in its own
thread (``ThreadingHTTPServer``) and waits for its probe on the probe loop.
"""

from __future__ import annotations

import contextlib
import ipaddress
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, TextIO
from urllib.parse import urlsplit

from gatewatch.exporter.service import Answer, Exporter, ProbeLoop
from gatewatch.model import Endpoint

DEFAULT_LISTEN = "127.0.0.1:9115"

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


class _Server(ThreadingHTTPServer):
    """Keeps its open connections, so that stopping ends keep-alive ones too (Prometheus
    reuses its connection: an exporter that only closed its listener would go on
    answering scrapes after it was told to stop)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], exporter: Exporter) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.exporter = exporter
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Prometheus hangs up when its scrape times out; our late answer then meets a closed
        # socket. That is the scraper's choice, not our error: no traceback on stderr.
        if isinstance(sys.exception(), ConnectionError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._open_lock:
            open_now = list(self._open)
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        exporter = self.server.exporter
        if parts.path == "/probe":
            answer = exporter.probe(
                parts.query, self.headers.get("X-Prometheus-Scrape-Timeout-Seconds")
            )
        elif parts.path == "/metrics":
            answer = exporter.metrics()
        elif parts.path == "/":
            answer = Answer(200, "text/html; charset=utf-8", _INDEX)
        else:
            answer = Answer(404, "text/plain; charset=utf-8", b"not found\n")
        self._send(answer)

    def _send(self, answer: Answer) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: object) -> None:
        return  # scrapes every second would drown the terminal


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
    loop = ProbeLoop()
    monitor = None
    if watch:
        from gatewatch.monitor import Monitor

        monitor = Monitor(list(endpoints), history=history)
    exporter = Exporter(
        endpoints,
        allow_any_target=allow_any_target,
        probe=loop.probe,
        snapshot=monitor.snapshot if monitor is not None else None,
    )
    stop = stop or threading.Event()
    loop.start()
    try:
        if monitor is not None:
            monitor.start()
        server = _Server((host, port), exporter)
        bound = server.server_address
        thread = threading.Thread(target=server.serve_forever, name="gatewatch-exporter-http")
        thread.start()
        bound_host = str(bound[0])
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        out.write(
            f"gatewatch exporter listening on http://{shown}:{bound[1]}/ "
            f"({len(endpoints)} endpoints{', monitored' if watch else ''}"
            f"{'; any target allowed' if allow_any_target else ''})\n"
        )
        out.flush()
        if on_ready is not None:
            on_ready((bound_host, int(bound[1])))
        restore = _on_signals(stop)
        try:
            stop.wait()
        finally:
            restore()
            server.shutdown()
            server.server_close()
            server.close_connections()
            thread.join(5)
    finally:
        if monitor is not None:
            monitor.stop()
        loop.stop()
    return 0


def _on_signals(stop: threading.Event) -> Callable[[], None]:
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
