"""Socket plumbing the lab needs before asyncio sees a socket.

Some faults are made of sockets in odd states — bound but not listening (refused), listening
with a full accept queue (black hole) — and every TCP service listens on 127.0.0.1 *and* ::1
on the same port, because ``app.lab.test`` has both an A and an AAAA record and a prober may
dial either. Everything here binds to loopback only.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import select
import socket
import struct

#: How many times to look for a port number that is free on both 127.0.0.1 and ::1.
_PAIR_ATTEMPTS = 32


def check_loopback(host: str) -> None:
    """Refuse to bind anywhere but loopback: the lab holds an open proxy and broken servers."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"lab host must be a loopback IP address, not {host!r}") from None
    if not address.is_loopback:
        raise ValueError(f"lab host must be a loopback address, not {host!r}")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _new_socket(host: str, kind: socket.SocketKind) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say TCP,
    # and without it Nagle holds a response behind an unACKed TLS 1.3 ticket for 40 ms.
    proto = socket.IPPROTO_TCP if kind == socket.SOCK_STREAM else 0
    sock = socket.socket(_family(host), kind, proto)
    if sock.family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    return sock


def ipv6_loopback_available() -> bool:
    """Whether ::1 can be bound here (containers without IPv6 say no)."""
    try:
        with _new_socket("::1", socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def _bind(host: str, port: int, kind: socket.SocketKind) -> socket.socket:
    sock = _new_socket(host, kind)
    try:
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def bind_pair(
    host: str, *, kind: socket.SocketKind = socket.SOCK_STREAM, with_v6: bool
) -> list[socket.socket]:
    """Bind ``host`` on a free port, plus ``::1`` on the same port when ``with_v6`` is set.

    Returns the bound (not listening) sockets, ``host`` first. If ::1 refuses the port the
    first socket got, both are dropped and another port is tried.
    """
    if not with_v6 or host == "::1":
        return [_bind(host, 0, kind)]
    for _ in range(_PAIR_ATTEMPTS):
        first = _bind(host, 0, kind)
        port = first.getsockname()[1]
        try:
            second = _bind("::1", port, kind)
        except OSError as exc:
            first.close()
            if exc.errno == errno.EADDRINUSE:
                continue
            raise
        return [first, second]
    raise OSError(errno.EADDRINUSE, "no port free on both the IPv4 and IPv6 loopback")


def bind_udp_beside(tcp_port: int, host: str) -> socket.socket | None:
    """Bind a UDP socket on ``tcp_port`` (DNS over UDP and TCP share a number), or None."""
    try:
        return _bind(host, tcp_port, socket.SOCK_DGRAM)
    except OSError:
        return None


def listen_all(socks: list[socket.socket], backlog: int = 128) -> list[socket.socket]:
    """Put bound stream sockets in listening, non-blocking mode for asyncio."""
    for sock in socks:
        sock.listen(backlog)
        sock.setblocking(False)
    return socks


def fill_backlog(
    listener: socket.socket, *, limit: int = 16, wait: float = 0.05
) -> tuple[list[socket.socket], bool]:
    """Connect to ``listener`` (which never accepts) until a connect no longer completes.

    ``listen(0)`` alone is not a black hole: Linux admits backlog+1 connections and gVisor one
    before it drops SYNs. The lab fills those slots itself, so the next client's connect
    times out. Returns the connected filler sockets (the caller keeps them open) and whether
    a last connect was seen going unanswered, i.e. whether the black hole is proven.
    """
    host, port = listener.getsockname()[:2]
    fillers: list[socket.socket] = []
    for _ in range(limit):
        client = _new_socket(host, socket.SOCK_STREAM)
        client.setblocking(False)
        client.connect_ex((host, port))
        _, writable, _ = select.select([], [client], [], wait)
        if writable and client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            fillers.append(client)
            continue
        client.close()  # this SYN was dropped: the queue is full
        return fillers, True
    return fillers, False


def arm_reset(sock: object) -> None:
    """Make the next close() send RST instead of FIN (SO_LINGER on, timeout 0)."""
    setsockopt = getattr(sock, "setsockopt", None)
    if setsockopt is not None:
        with contextlib.suppress(OSError):
            setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
