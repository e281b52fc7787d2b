"""One probe of one endpoint → a ProbeResult with the five hops, exactly timed.

The probe resolves the name itself (dns hop), dials that address through our pinned
transport (tcp, tls and a forward proxy's CONNECT), sends the request and stamps the
first byte (upstream), then reads the body up to BODY_CAP. One deadline bounds all of
it: httpx's timeouts are per read and a server dripping a byte at a time never trips
them, so the whole attempt runs under ``asyncio.timeout_at`` and the phase that was
open when it fired names the hop that failed. A probe never raises for a network
failure; only a setup problem (a bad URL, a missing ``env:`` secret) raises.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from gatewatch.model import BODY_CAP, AddressResult, Endpoint, Hop, ProbeResult, Response
from gatewatch.probe.dns import DnsResolver, HostsFile
from gatewatch.probe.errors import classify
from gatewatch.probe.hops import (
    Attempt,
    address_result,
    bracket,
    dns_hop,
    http_hops,
)
from gatewatch.probe.plan import Plan, ProbeSetupError, environment_proxy, make_plan
from gatewatch.probe.timeline import Timeline
from gatewatch.probe.tls import ALPN, ContextCache, fetch_unverified_leaf, session_facts
from gatewatch.probe.transport import ProbeTransport, Route
from gatewatch.secrets import redact_url

__all__ = ["EXPIRING_DAYS", "ProbeSetupError", "Prober", "environment_proxy", "probe"]

USER_AGENT = "gatewatch/0.1 (+probe)"
#: A certificate with fewer days left than this makes the tls hop a warning.
EXPIRING_DAYS = 14.0


class Prober:
    """Probes endpoints. Holds what is costly to build: SSL contexts and resolvers.

    One Prober serves many concurrent probes on one event loop. ``environ`` feeds
    ``env:`` secrets and HTTP(S)_PROXY/NO_PROXY; tests pass their own.
    """

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        hosts: HostsFile | None = None,
        expiring_days: float = EXPIRING_DAYS,
        contexts: ContextCache | None = None,
    ) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.contexts = contexts or ContextCache()
        self.dns = DnsResolver(hosts)
        self.expiring_days = expiring_days
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        # trust_env=False: env proxies would make httpx mount its own transports and
        # bypass ours; we apply HTTP(S)_PROXY ourselves in plan().
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=ProbeTransport(),
                trust_env=False,
                timeout=None,
                follow_redirects=False,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def warm_up(self) -> None:
        """Pay first-use costs (lazy imports, the default SSL context) before timing.

        httpcore imports its HTTP/2 connection (and h2 its state machine) on first use:
        about 16 ms inside the first h2 probe's wait (probe-engine-notes §1), so import
        them now.
        """
        self.contexts.get(alpn=ALPN["auto"])
        import h2.connection  # noqa: F401
        import httpcore._async.http2  # noqa: F401

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            await self.probe(Endpoint(name="warm-up", url=f"http://127.0.0.1:{port}/", timeout=2))
        finally:
            server.close()

    # ------------------------------------------------------------------ probing

    async def probe(self, endpoint: Endpoint) -> ProbeResult:
        """Probe ``endpoint`` (and its origin, concurrently) within ``endpoint.timeout``."""
        if endpoint.origin:
            origin_endpoint = endpoint.replace(
                name=f"{endpoint.name} (origin)",
                url=endpoint.origin,
                origin=None,
                proxy=None,
                all_addresses=False,
            )
            main, origin = await asyncio.gather(
                self._probe_one(endpoint), self._probe_one(origin_endpoint)
            )
            return main.replace(origin=origin)
        return await self._probe_one(endpoint)

    async def _probe_one(self, endpoint: Endpoint) -> ProbeResult:
        plan = make_plan(endpoint, self.environ)
        started_at = datetime.now(UTC)
        start = time.perf_counter()
        loop = asyncio.get_running_loop()
        deadline_at = loop.time() + endpoint.timeout

        resolution = await self.dns.resolve(
            plan.dial_host, endpoint.resolvers, bound=max(deadline_at - loop.time(), 0.001)
        )
        first_hop = dns_hop(resolution, plan)
        if resolution.status == "fail":
            total = (time.perf_counter() - start) * 1000
            hops = (
                first_hop,
                *(Hop(name=n, status="skip") for n in ("tcp", "tls", "proxy", "upstream")),
            )
            return ProbeResult(
                name=endpoint.name,
                url=redact_url(endpoint.url),
                started_at=started_at,
                hops=hops,
                total_ms=total,
            )

        addresses = resolution.addresses
        if endpoint.all_addresses and len(addresses) > 1:
            attempts = await asyncio.gather(
                *(self._attempt(endpoint, plan, a, deadline_at) for a in addresses)
            )
        else:
            attempts = [await self._attempt(endpoint, plan, addresses[0], deadline_at)]
        first = attempts[0]
        hops = (first_hop, *http_hops(endpoint, plan, first, self.expiring_days))
        per_address: tuple[AddressResult, ...] = ()
        if len(attempts) > 1:
            per_address = tuple(
                address_result(endpoint, plan, a, self.expiring_days) for a in attempts
            )
        return ProbeResult(
            name=endpoint.name,
            url=redact_url(endpoint.url),  # the real URL goes on the wire only
            started_at=started_at,
            hops=hops,
            total_ms=((first.end or time.perf_counter()) - start) * 1000,
            response=first.response,
            address=first.address,
            addresses=per_address,
            http_version=spoken_version(first),
        )

    async def _attempt(
        self, endpoint: Endpoint, plan: Plan, address: str, deadline_at: float
    ) -> Attempt:
        timeline = Timeline()
        timeline.phase = "tcp"
        attempt = Attempt(address=address, timeline=timeline)
        route = Route(
            address=address,
            timeline=timeline,
            ssl_context=self.contexts.get(
                verify=not endpoint.insecure,
                ca_bundle=endpoint.ca_bundle,
                alpn=ALPN[endpoint.http_version],
            ),
            proxy_url=plan.proxy_url,
            proxy_headers=plan.proxy_headers,
            http_version=endpoint.http_version,
        )
        headers = [
            ("User-Agent", USER_AGENT),
            ("Accept", "*/*"),
            ("Accept-Encoding", "identity"),
            *plan.headers,
        ]
        try:
            async with asyncio.timeout_at(deadline_at):
                await self._exchange(endpoint, plan.url, headers, route, attempt)
        except Exception as exc:  # every network failure becomes a Failure, never a crash
            target = f"{bracket(address)}:{plan.dial_port}"
            attempt.failure = classify(
                exc,
                timeline.phase,
                target=target,
                via_proxy=plan.proxy_label,
                deadline=endpoint.timeout if isinstance(exc, TimeoutError) else None,
                h2=timeline.h2,
                h2_settings=timeline.h2_settings,
                require_h2=endpoint.http_version == "2",
            )
        attempt.end = time.perf_counter()
        if plan.url.scheme == "https":
            attempt.tls_facts = await self._tls_facts(endpoint, plan, attempt, deadline_at)
        return attempt

    async def _exchange(
        self,
        endpoint: Endpoint,
        url: httpx.URL,
        headers: list[tuple[str, str]],
        route: Route,
        attempt: Attempt,
    ) -> None:
        timeline = route.timeline
        request = self.client.build_request(
            endpoint.method,
            url,
            headers=headers,
            extensions={"trace": timeline.trace, "gatewatch.route": route},
        )
        response = await self.client.send(request, stream=True)
        body = bytearray()
        size = 0
        complete = True
        try:
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if len(body) < BODY_CAP:
                    body += chunk[: BODY_CAP - len(body)]
                if size >= BODY_CAP:
                    break  # enough for fingerprints; an endless body must not hold us
            timeline.body_done(time.perf_counter())
            timeline.phase = "done"
        except BaseException:
            complete = False
            raise
        finally:
            attempt.response = _response(response, bytes(body), size, complete)
            await response.aclose()

    async def _tls_facts(
        self, endpoint: Endpoint, plan: Plan, attempt: Attempt, deadline_at: float
    ) -> dict[str, Any] | None:
        tl = attempt.timeline
        if tl.ssl_object is not None and tl.tls_end is not None:
            return session_facts(tl.ssl_object)
        failure = attempt.failure
        if (
            failure
            and failure.hop == "tls"
            and failure.kind not in ("handshake_timeout",)
            and not plan.proxy_url
        ):
            remaining = deadline_at - asyncio.get_running_loop().time()
            if remaining > 0.05:
                return await fetch_unverified_leaf(attempt.address, plan.port, plan.host, remaining)
        return None

    # ------------------------------------------------------------------ hops


def spoken_version(attempt: Attempt) -> str | None:
    """The HTTP version the exchange used: "2", "1.1" (or "1.0" as answered), or None."""
    tl = attempt.timeline
    if tl.h2:
        return "2"
    if attempt.response is not None:
        return attempt.response.http_version.upper().removeprefix("HTTP/") or "1.1"
    return "1.1" if tl.h1 else None


def _response(response: httpx.Response, body: bytes, size: int, complete: bool) -> Response:
    raw_length = response.headers.get("content-length")
    try:
        content_length = int(raw_length) if raw_length is not None else None
    except ValueError:
        content_length = None
    reason = response.extensions.get("reason_phrase", b"")
    http_version = response.extensions.get("http_version", b"HTTP/1.1")
    return Response(
        http_version=http_version.decode("ascii", errors="replace"),
        status_code=response.status_code,
        reason=reason.decode("latin-1", errors="replace"),
        headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw),
        body=body,
        body_size=size,
        content_length=content_length,
        complete=complete,
    )


_DEFAULT: Prober | None = None


async def probe(endpoint: Endpoint) -> ProbeResult:
    """Probe with a process-wide Prober (contexts and resolvers shared)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Prober()
    return await _DEFAULT.probe(endpoint)
