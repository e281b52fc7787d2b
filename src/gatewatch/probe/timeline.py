"""One probe's timeline: monotonic stamps of its phases, and where each phase ends.

Why apart from the transport: the stamps are the product. The network stream reports
kernel arrival times (netstream), httpcore's trace callback reports the steps of the
exchange, and this class turns both into phase boundaries: over HTTP/1.1 the first byte
is the first response bytes after the request; over HTTP/2 it is the arrival of the
segment that completed the response's HEADERS frame (the server's SETTINGS usually comes
first), and the body ends at the arrival of the segment that carried END_STREAM. Written
by one task, read after it ends. No I/O.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from gatewatch.probe.h2frames import GoawayHold

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
