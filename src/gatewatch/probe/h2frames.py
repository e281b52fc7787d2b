"""Hold back a graceful GOAWAY that arrives ahead of our stream's response.

Why: a server may send ``GOAWAY(NO_ERROR, last_stream_id=1)`` and *then* the response
on stream 1 — nginx does when a connection reaches ``keepalive_requests`` (with
``keepalive_requests 1``, on the very first request), and Go servers do on graceful
shutdown. RFC 9113 §6.8 says streams up to last_stream_id still complete, and curl
reads the response. The ``h2`` state machine closes the connection on GOAWAY instead
and rejects the HEADERS that follow ("Invalid input RECV_HEADERS in state CLOSED",
encode/httpcore#46), so a healthy server would be reported as an HTTP/2 protocol error.

So the probe's stream hands httpcore the server's bytes frame by frame and keeps a
NO_ERROR GOAWAY that still covers our stream until the connection ends (end of file):
if the response came, nobody needed it; if it did not, httpcore sees the GOAWAY just
before the end and names it. A GOAWAY with an error code, or one that excludes our
stream, passes at once. Bytes that are not HTTP/2 frames (a server that answers the
preface with ``HTTP/1.1 400``) pass through untouched, so h2 still names the broken
preface. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: HTTP/2 frame types (RFC 9113 §6).
SETTINGS, GOAWAY = 0x4, 0x7
#: The largest frame a peer may send before we raise SETTINGS_MAX_FRAME_SIZE (we never do).
MAX_FRAME = 16384
HEADER = 9
NO_ERROR = 0


@dataclass
class GoawayHold:
    """Feeds the server's HTTP/2 bytes through, holding a graceful GOAWAY for our stream."""

    #: The highest stream id this client opens (a probe opens stream 1 only).
    our_stream: int = 1
    #: Set when a GOAWAY was held: (last_stream_id, error code).
    held_goaway: tuple[int, int] | None = None
    _pending: bytearray = field(default_factory=bytearray)
    _held: bytearray = field(default_factory=bytearray)
    _frames_seen: int = 0
    _passthrough: bool = False

    def feed(self, data: bytes) -> bytes:
        """The bytes to give httpcore now (possibly fewer than ``data``)."""
        if self._passthrough:
            return data
        self._pending += data
        out = bytearray()
        while len(self._pending) >= HEADER:
            length = int.from_bytes(self._pending[0:3], "big")
            kind = self._pending[3]
            first = self._frames_seen == 0
            if length > MAX_FRAME or (first and kind != SETTINGS):
                # Not an HTTP/2 server (or a broken one): let h2 judge every byte.
                self._passthrough = True
                out += self._pending
                self._pending.clear()
                return bytes(out)
            total = HEADER + length
            if len(self._pending) < total:
                break
            frame = bytes(self._pending[:total])
            del self._pending[:total]
            self._frames_seen += 1
            if kind == GOAWAY and length >= 8 and not self._held:
                last = int.from_bytes(frame[9:13], "big") & 0x7FFFFFFF
                code = int.from_bytes(frame[13:17], "big")
                if code == NO_ERROR and last >= self.our_stream:
                    self._held += frame
                    self.held_goaway = (last, code)
                    continue
            out += frame
        return bytes(out)

    def end(self) -> bytes:
        """At end of file: whatever is held or unparsed, so httpcore sees it before EOF."""
        out = bytes(self._held + self._pending)
        self._held.clear()
        self._pending.clear()
        self._passthrough = True
        return out
