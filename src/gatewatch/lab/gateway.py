"""A reverse proxy for the lab that fails the way nginx does.

``/gateway/{port}/{path}`` forwards the request to ``127.0.0.1:{port}/{path}`` for real
(it connects, sends, reads) and, when the upstream fails, answers with nginx's stock
error pages, byte for byte as ``ngx_http_special_response.c`` builds them with
``server_tokens off``: 502 when the connection is refused, reset or closed, 504 when the
upstream is slower than the read timeout. So ``gatewatch demo`` can show, on a machine
without nginx, what an engineer sees behind one: the tests prove the same verdicts
against the real nginx binary (tests/test_real_gateways.py).
"""

from __future__ import annotations

import asyncio
import contextlib

from .http_wire import Request

#: nginx's default proxy_read_timeout is 60 s; the lab answers faster so the demo moves.
READ_TIMEOUT = 2.0
CONNECT_TIMEOUT = 2.0
MAX_RESPONSE = 1 << 20

_REASONS = {502: "Bad Gateway", 504: "Gateway Time-out"}


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


def _upstream_request(request: Request, path: str, port: int) -> bytes:
    lines = [f"{request.method} /{path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    for name, value in request.headers:
        if name.lower() not in ("host", "connection", "keep-alive", "content-length"):
            lines.append(f"{name}: {value}")
    lines += [f"Content-Length: {len(request.body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + request.body


async def relay(request: Request, arg: str) -> bytes:
    """What the gateway answers for ``/gateway/{arg}``: the upstream's bytes or nginx's page."""
    port_text, _, path = arg.partition("/")
    port = int(port_text) if port_text.isdigit() else 0
    if not 0 < port < 65536:
        return nginx_error_page(502)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except TimeoutError:
        return nginx_error_page(504)
    except OSError:  # refused, unreachable: "connect() failed (111: Connection refused)"
        return nginx_error_page(502)
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
        return nginx_error_page(504)
    except OSError:  # "recv() failed (104: Connection reset by peer)"
        return nginx_error_page(502)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    if not answer:  # "upstream prematurely closed connection"
        return nginx_error_page(502)
    return answer
