"""Helpers for the checklist tests: endpoints aimed at the lab, a check runner, tiny servers.

Holds no tests itself. The servers here answer what the lab cannot: a gateway's own error
page on the wire, and two pool members on the same port that run different versions.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from gatewatch.checklist import CheckContext, CheckResult, CheckSettings, Past, run_step
from gatewatch.checklist.steps import BY_ID
from gatewatch.lab import Lab
from gatewatch.model import Endpoint, ProbeResult, Response
from gatewatch.probe import Prober

FIXED = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
#: Fast and bounded: no pauses between retries, one second per DNS question or connect.
FAST = CheckSettings(retries=3, backoff=0.0, lookup_bound=1.0, system_resolver=False)


def ep(url: str, lab: Lab | None = None, **kw: Any) -> Endpoint:
    """An endpoint that resolves lab names through the lab's DNS and trusts its CA."""
    if lab is not None:
        kw.setdefault("resolvers", (f"127.0.0.1:{lab.dns_port}",))
        kw.setdefault("ca_bundle", lab.ca_bundle)
    kw.setdefault("timeout", 3.0)
    return Endpoint(name=str(kw.pop("name", "t")), url=url, **kw)


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


async def check(
    step: str,
    endpoint: Endpoint,
    prober: Prober,
    *,
    result: ProbeResult | None = None,
    past: Sequence[ProbeResult] = (),
    settings: CheckSettings = FAST,
    earlier: dict[str, CheckResult] | None = None,
    sleeps: list[float] | None = None,
) -> CheckResult:
    """Run one step's check the way the runner does, with a fixed clock and no waiting."""

    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)
        await asyncio.sleep(0)

    ctx = CheckContext(
        endpoint,
        prober=prober,
        result=result,
        past=Past.of(past),
        settings=settings,
        clock=lambda: FIXED,
        sleep=sleep,
        earlier=earlier,
    )
    return await run_step(BY_ID[step], ctx)


def raw_response(response: Response) -> bytes:
    """A Response fixture (tests/gateway_pages.py) as the bytes a server sends."""
    head = f"{response.http_version} {response.status_code} {response.reason}\r\n"
    headers = [(k, v) for k, v in response.headers if k.lower() != "connection"]
    if not any(k.lower() == "content-length" for k, _ in headers):
        headers.append(("Content-Length", str(len(response.body))))
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers)
    return (head + lines + "Connection: close\r\n\r\n").encode("latin-1") + response.body


def simple_response(
    status: int = 200, server: str | None = None, body: bytes = b"ok\n", reason: str = "OK"
) -> bytes:
    headers = f"Server: {server}\r\n" if server is not None else ""
    return (
        f"HTTP/1.1 {status} {reason}\r\n{headers}Content-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode("latin-1") + body


def _answer(raw: bytes) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(raw)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    return handle


def _free_port_on(hosts: Iterable[str]) -> int:
    """A port free on every one of ``hosts`` (so a pool can share it)."""
    for _ in range(50):
        probe = socket.socket()
        probe.bind((next(iter(hosts)), 0))
        port: int = probe.getsockname()[1]
        probe.close()
        try:
            held = []
            for host in hosts:
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((host, port))
                held.append(s)
            for s in held:
                s.close()
            return port
        except OSError:
            for s in held:
                s.close()
    raise RuntimeError("no port free on every host")


@contextlib.asynccontextmanager
async def servers(answers: dict[str, bytes]) -> AsyncIterator[int]:
    """One tiny HTTP server per address (``{"127.0.0.1": raw, "127.0.0.2": raw}``), all on
    the same port, each answering every request with its bytes; yields the port."""
    port = _free_port_on(answers)
    started = [
        await asyncio.start_server(_answer(raw), host, port, reuse_address=True)
        for host, raw in answers.items()
    ]
    try:
        yield port
    finally:
        for server in started:
            server.close()
        for server in started:
            await server.wait_closed()
