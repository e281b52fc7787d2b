"""HTTP/1.1 on the wire, by hand: request parsing and response bytes for the lab's servers.

The fault app must misbehave at the byte level (half a status line, a reset mid-body), so
it cannot sit behind a framework. This module keeps the parsing robust instead: a bounded
header block, a bounded body read by Content-Length or chunked, and a ``BadRequest`` for
anything malformed, which the servers answer with a 4xx rather than crash.
"""

from __future__ import annotations

import asyncio
import http
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

#: Largest request head (request line + headers) read; the StreamReader limit must allow it.
MAX_HEAD = 16 * 1024
#: Largest request body read.
MAX_BODY = 1024 * 1024

SERVER_NAME = "gatewatch-lab"


class BadRequest(Exception):
    """The client sent something that is not an acceptable HTTP/1.1 request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Request:
    """One parsed request. Header names keep the client's spelling; lookups ignore case."""

    method: str
    target: str
    version: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def path(self) -> str:
        """The path, without query, also for absolute-form targets."""
        return urlsplit(self.target).path or "/"

    @property
    def query(self) -> dict[str, str]:
        """First value of each query parameter."""
        return {k: v[0] for k, v in parse_qs(urlsplit(self.target).query).items()}

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lower = name.lower()
        return next((v for k, v in self.headers if k.lower() == lower), None)


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Read one request; None when the client closed before sending a byte."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise BadRequest(400, "connection closed inside the request head") from None
    except asyncio.LimitOverrunError:
        raise BadRequest(431, "request head too large") from None
    lines = head.decode("latin-1").lstrip("\r\n").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[0].isalpha():
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(400, "malformed header line")
        headers.append((name, value.strip()))
    request = Request(method, target, version, tuple(headers), b"")
    body = await _read_body(reader, request)
    return Request(method, target, version, tuple(headers), body)


async def _read_body(reader: asyncio.StreamReader, request: Request) -> bytes:
    if (request.header("transfer-encoding") or "").lower().endswith("chunked"):
        return await _read_chunked(reader)
    length_text = request.header("content-length")
    if length_text is None:
        return b""
    if not length_text.isdigit():
        raise BadRequest(400, "bad Content-Length")
    length = int(length_text)
    if length > MAX_BODY:
        raise BadRequest(413, "request body too large")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise BadRequest(400, "connection closed inside the request body") from None


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    try:
        while True:
            size_line = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
            size = int(size_line, 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY:
                raise BadRequest(413, "request body too large")
            body += await reader.readexactly(size)
            if await reader.readexactly(2) != b"\r\n":
                raise BadRequest(400, "bad chunk framing")
    except (ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        raise BadRequest(400, "bad chunked body") from None


def reason(status: int) -> str:
    """The standard reason phrase, or "Unknown" for a code with none."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def response_head(
    status: int,
    headers: Iterable[tuple[str, str]] = (),
    *,
    content_length: int | None = None,
    server: str | None = SERVER_NAME,
) -> bytes:
    """Status line and headers, ending with the blank line; Connection: close always."""
    lines = [f"HTTP/1.1 {status} {reason(status)}"]
    if server:
        lines.append(f"Server: {server}")
    lines.extend(f"{name}: {value}" for name, value in headers)
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def response(
    status: int,
    body: bytes,
    headers: Iterable[tuple[str, str]] = (),
    *,
    content_type: str = "text/plain",
    server: str | None = SERVER_NAME,
    head_only: bool = False,
) -> bytes:
    """A complete response with a Content-Length body (headers only for HEAD)."""
    all_headers = [("Content-Type", content_type), *headers]
    head = response_head(status, all_headers, content_length=len(body), server=server)
    return head if head_only else head + body
