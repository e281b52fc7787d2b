"""A reverse proxy for the lab that fails the way nginx does, or as a gateway in no table.

``/gateway/{port}/{path}`` forwards the request to ``127.0.0.1:{port}/{path}`` for real
(it connects, sends, reads) and, when the upstream fails, answers with nginx's stock
error pages, byte for byte as ``ngx_http_special_response.c`` builds them with
``server_tokens off``: 502 when the connection is refused, reset or closed, 504 when the
upstream is slower than the read timeout. So ``gatewatch demo`` can show, on a machine
without nginx, what an engineer sees behind one: the tests prove the same verdicts
against the real nginx binary (tests/test_real_gateways.py).

``/edge/{port}/{path}`` is the same proxy signing its errors as ``edgeproxy/3.1``, a
product in no fingerprint table, with a short generic page: the diagnosis must still
name it and read the kind from the status and timing. ``/edge-ps/{port}/{path}`` adds an
RFC 9209 ``Proxy-Status`` header naming the error type, as Envoy does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from urllib.parse import urlsplit

from .http_wire import Request

#: nginx's default proxy_read_timeout is 60 s; the lab answers faster so the demo moves.
READ_TIMEOUT = 2.0
CONNECT_TIMEOUT = 2.0
MAX_RESPONSE = 1 << 20

_REASONS = {502: "Bad Gateway", 504: "Gateway Time-out"}

#: The Server token the edge flavour signs its errors with: in no table on purpose.
EDGE_SERVER = "edgeproxy/3.1"

#: (status, Proxy-Status error type, details) the relay fails with; a page maker renders it.
PageMaker = Callable[[int, str, str], bytes]


def nginx_error_page(status: int) -> bytes:
    """The full response nginx sends for its own ``status`` page (server_tokens off)."""
    title = f"{status} {_REASONS[status]}"
    body = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()
    head = (
        f"HTTP/1.1 {title}\r\nServer: nginx\r\nContent-Type: text/html\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    return head + body


def nginx_page(status: int, _error: str, _details: str) -> bytes:
    return nginx_error_page(status)


def edge_page(status: int, _error: str, _details: str) -> bytes:
    """edgeproxy's own error: a short generic page, its own Server, nothing else."""
    return _edge(status, ())


def edge_page_with_status(status: int, error: str, details: str) -> bytes:
    """The same, with ``Proxy-Status: edgeproxy; error=…; details="…"`` (RFC 9209)."""
    value = f'edgeproxy; error={error}; details="{details}"'
    return _edge(status, (("Proxy-Status", value),))


def _edge(status: int, extra: tuple[tuple[str, str], ...]) -> bytes:
    text = {502: "Bad Gateway", 504: "Gateway Timeout"}[status]
    body = f"<html><head><title>{status} {text}</title></head><body>{text}</body></html>\n"
    head = [f"HTTP/1.1 {status} {text}", f"Server: {EDGE_SERVER}", "Content-Type: text/html"]
    head += [f"{k}: {v}" for k, v in extra]
    head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(head).encode() + body.encode()


def _upstream_request(request: Request, path: str, port: int) -> bytes:
    query = urlsplit(request.target).query  # kept, as a reverse proxy does (?json=1)
    target = f"/{path}" + (f"?{query}" if query else "")
    lines = [f"{request.method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    for name, value in request.headers:
        if name.lower() not in ("host", "connection", "keep-alive", "content-length"):
            lines.append(f"{name}: {value}")
    lines += [f"Content-Length: {len(request.body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + request.body


async def relay(request: Request, arg: str, page: PageMaker = nginx_page) -> bytes:
    """What the gateway answers for ``/gateway/{arg}``: the upstream's bytes or its page."""
    port_text, _, path = arg.partition("/")
    port = int(port_text) if port_text.isdigit() else 0
    if not 0 < port < 65536:
        return page(502, "destination_not_found", "no such upstream port")
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except TimeoutError:
        return page(504, "connection_timeout", f"connect to 127.0.0.1:{port} timed out")
    except OSError:  # refused, unreachable: "connect() failed (111: Connection refused)"
        return page(502, "connection_refused", f"connect() to 127.0.0.1:{port} failed (111)")
    try:
        writer.write(_upstream_request(request, path, port))
        await writer.drain()
        async with asyncio.timeout(READ_TIMEOUT):
            answer = await reader.read(MAX_RESPONSE)
            while answer and len(answer) < MAX_RESPONSE:
                more = await reader.read(MAX_RESPONSE - len(answer))
                if not more:
                    break
                answer += more
    except TimeoutError:  # "upstream timed out (110) while reading response header"
        return page(504, "http_response_timeout", f"no response in {READ_TIMEOUT:g} s")
    except OSError:  # "recv() failed (104: Connection reset by peer)"
        return page(502, "connection_terminated", "recv() failed (104: reset by peer)")
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    if not answer:  # "upstream prematurely closed connection"
        return page(502, "connection_terminated", "upstream closed before answering")
    return answer
