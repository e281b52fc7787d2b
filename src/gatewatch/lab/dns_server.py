"""A small authoritative DNS server for ``lab.test.``, over UDP and TCP.

It turns :class:`~gatewatch.lab.zone.DnsTable` answers into wire messages with dnspython,
and performs the table's misbehaviour (delay, drop, SERVFAIL) for real, so resolvers see
the same timeouts and rcodes they would in production. TCP is served too, because a
resolver retries truncated UDP answers over TCP.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from .tracking import ClientCallback
from .zone import DnsTable, Records

#: Largest UDP answer sent to a client without EDNS (RFC 1035).
_CLASSIC_UDP_SIZE = 512


def build_reply(
    table: DnsTable, overrides: Records | None, wire: bytes, *, udp: bool
) -> tuple[float, bytes] | None:
    """(delay in seconds, reply) for one query, or None when it must go unanswered.

    Over UDP a reply is capped at the client's EDNS payload size (512 without EDNS); one
    that does not fit is sent empty with TC set, so the client retries over TCP.
    """
    try:
        query = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        return _formerr(wire)
    reply = dns.message.make_response(query)
    reply.flags |= dns.flags.AA
    delay = 0.0
    if query.opcode() != dns.opcode.QUERY:
        reply.set_rcode(dns.rcode.NOTIMP)
    elif len(query.question) != 1 or query.question[0].rdclass != dns.rdataclass.IN:
        reply.set_rcode(dns.rcode.FORMERR if len(query.question) != 1 else dns.rcode.REFUSED)
    else:
        question = query.question[0]
        rtype = dns.rdatatype.to_text(question.rdtype)
        resolution = table.resolve(question.name.to_text(), rtype, overrides)
        if resolution.drop:
            return None
        delay = resolution.delay
        reply.set_rcode(resolution.rcode)
        reply.answer.extend(resolution.answer)
        reply.authority.extend(resolution.authority)
    limit = 65535
    if udp:
        limit = max(_CLASSIC_UDP_SIZE, query.payload) if query.edns >= 0 else _CLASSIC_UDP_SIZE
    try:
        return delay, reply.to_wire(max_size=limit)
    except dns.exception.TooBig:
        truncated = dns.message.make_response(query)
        truncated.flags |= dns.flags.AA | dns.flags.TC
        return delay, truncated.to_wire()


def _formerr(wire: bytes) -> tuple[float, bytes] | None:
    """A bare FORMERR header echoing the query id, when there is at least a header."""
    if len(wire) < 12:
        return None
    (query_id,) = struct.unpack("!H", wire[:2])
    flags = dns.flags.QR | dns.rcode.FORMERR
    return 0.0, struct.pack("!HHHHHH", query_id, flags, 0, 0, 0, 0)


class DnsUdpProtocol(asyncio.DatagramProtocol):
    """Answers each datagram from the table; delayed answers are timers cancelled on close."""

    def __init__(self, table: DnsTable, overrides: Records | None = None) -> None:
        self._table = table
        self._overrides = overrides
        self._transport: asyncio.DatagramTransport | None = None
        self._pending: set[asyncio.TimerHandle] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        built = build_reply(self._table, self._overrides, data, udp=True)
        if built is None or self._transport is None:
            return
        delay, reply = built
        if delay <= 0:
            self._transport.sendto(reply, addr)
            return
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def send() -> None:
            if handle is not None:
                self._pending.discard(handle)
            if self._transport is not None and not self._transport.is_closing():
                self._transport.sendto(reply, addr)

        handle = loop.call_later(delay, send)
        self._pending.add(handle)

    def error_received(self, exc: Exception) -> None:
        """ICMP port-unreachable from a client that left: nothing to do."""

    def close(self) -> None:
        """Drop delayed answers and the socket."""
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()
        if self._transport is not None:
            self._transport.close()
            self._transport = None


def dns_tcp_handler(table: DnsTable, overrides: Records | None = None) -> ClientCallback:
    """A stream handler answering length-prefixed queries until the client closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                wire = await reader.readexactly(length)
            except asyncio.IncompleteReadError:
                return
            built = build_reply(table, overrides, wire, udp=False)
            if built is None:
                continue  # a dropped name: leave the client waiting, keep reading
            delay, reply = built
            if delay > 0:
                await asyncio.sleep(delay)
            writer.write(struct.pack("!H", len(reply)) + reply)
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    return handle
