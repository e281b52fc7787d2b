"""Ask the gateway: one documented debug request after a 5xx, its answer in the evidence.

A tiny loopback server plays the vendor's edge (its real behaviour is documented, not
runnable here): it answers 503 as Azure Front Door does, and adds the debug headers only
when asked with ``X-Azure-DebugInfo: 1``; as Cloudflare, it serves ``/cdn-cgi/trace``.
It records every request, so the tests see exactly what was asked, and when not.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from diagnose_factory import response
from gatewatch.checklist.context import CheckContext
from gatewatch.checklist.past import Past
from gatewatch.checklist.redact import Redactor
from gatewatch.checklist.report import render_report
from gatewatch.diagnose import annotate
from gatewatch.diagnose.followup import DETAIL_KEY, FOLLOW_UPS, plan_followup, read_followup
from gatewatch.model import Endpoint
from gatewatch.monitor.followup import ask_gateway
from gatewatch.monitor.settings import MonitorRules
from gatewatch.probe import Prober

_AFD_PAGE = b"<html><body><h2>Our services aren't available right now</h2></body></html>"


@dataclass
class Edge:
    port: int
    requests: list[str] = field(default_factory=list)

    def url(self, path: str = "/health") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _reply(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return (head + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


async def _edge(vendor: str) -> AsyncIterator[Edge]:
    edge = Edge(0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        edge.requests.append(head)
        if vendor == "azure":
            headers = [("X-Azure-Ref", "0abc"), ("X-Cache", "CONFIG_NOCACHE")]
            if "x-azure-debuginfo: 1" in head.lower():
                headers += [("X-Azure-OriginStatusCode", "0"),
                            ("X-Azure-ExternalError", "OriginConnectionRefused")]  # fmt: skip
            writer.write(_reply(503, [*headers, ("Content-Type", "text/html")], _AFD_PAGE))
        elif head.startswith("GET /cdn-cgi/trace"):
            body = b"fl=1\nh=shop.example\nip=127.0.0.1\ncolo=AMS\nloc=NL\nhttp=http/1.1\n"
            writer.write(_reply(200, [("Server", "cloudflare")], body))
        else:
            headers = [("Server", "cloudflare"), ("CF-RAY", "8a1b-AMS")]
            writer.write(_reply(522, headers, b"<html>Connection timed out</html>"))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    edge.port = server.sockets[0].getsockname()[1]
    try:
        yield edge
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def azure() -> AsyncIterator[Edge]:
    async for edge in _edge("azure"):
        yield edge


@pytest.fixture
async def cloudflare() -> AsyncIterator[Edge]:
    async for edge in _edge("cloudflare"):
        yield edge


async def test_the_checklist_asks_front_door_once(azure: Edge, prober: Prober) -> None:
    endpoint = Endpoint("shop", azure.url(), timeout=5)
    ctx = CheckContext(endpoint, prober=prober, past=Past())
    result = await ctx.current()
    asked = [r for r in azure.requests if "x-azure-debuginfo: 1" in r.lower()]
    assert len(asked) == 1, azure.requests
    verdict = result.verdict
    assert verdict is not None and verdict.generator == "azure-frontdoor", verdict
    text = "\n".join(verdict.evidence)
    assert "asked azure-frontdoor (X-Azure-DebugInfo: 1): it answered 503" in text
    assert "x-azure-externalerror: OriginConnectionRefused" in text
    report = render_report(
        endpoint, result=result, past=ctx.past, steps=(), results={}, progress=None,
        redactor=Redactor.for_endpoint(endpoint, {}), generated_at=result.started_at,
    )  # fmt: skip
    assert "-H 'X-Azure-DebugInfo: 1'" in report  # the follow-up's own curl line


async def test_cloudflare_trace_names_the_edge(cloudflare: Edge, prober: Prober) -> None:
    endpoint = Endpoint("shop", cloudflare.url(), timeout=5)
    result = await ask_gateway(prober.probe, endpoint, await prober.probe(endpoint), deadline_s=5)
    assert any(r.startswith("GET /cdn-cgi/trace ") for r in cloudflare.requests)
    verdict = annotate(result).verdict
    assert verdict is not None and verdict.generator == "cloudflare"
    assert any("colo=AMS loc=NL" in line for line in verdict.evidence), verdict.evidence


async def test_no_followup_without_budget_or_vendor(azure: Edge, prober: Prober) -> None:
    endpoint = Endpoint("shop", azure.url(), timeout=5)
    first = await prober.probe(endpoint)
    same = await ask_gateway(prober.probe, endpoint, first, deadline_s=first.total_ms / 1000)
    assert same is first and len(azure.requests) == 1  # the deadline is spent: not asked
    assert DETAIL_KEY not in same.hop("upstream").detail
    plain = first.replace(response=None)
    assert plan_followup(plain) is None


def test_the_monitor_asks_only_when_opted_in() -> None:
    assert MonitorRules.from_extra({}).debug_requests is False
    assert MonitorRules.from_extra({"debug_requests": True}).debug_requests is True
    with pytest.raises(ValueError, match="debug_requests"):
        MonitorRules.from_extra({"debug_requests": "yes"})
    assert set(FOLLOW_UPS) == {"azure-frontdoor", "akamai", "cloudflare"}


def test_akamai_stale_copy_means_the_origin_is_unreachable() -> None:
    answer = response(503, "Service Unavailable",
                      [("X-Cache", "TCP_REFRESH_FAIL_HIT from a23-1-2-3"),
                       ("X-Akamai-Request-ID", "1a2b3c")])  # fmt: skip
    lines = read_followup(FOLLOW_UPS["akamai"], answer, None)
    assert lines[0].startswith("asked akamai (Pragma: akamai-x-cache-on")
    assert "the origin is unreachable and Akamai served a stale copy" in lines[1]
    assert any("x-akamai-request-id: 1a2b3c" in line for line in lines)
    assert read_followup(FOLLOW_UPS["akamai"], None, "timed out")[0].endswith(
        "no answer (timed out)"
    )
