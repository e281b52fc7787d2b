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
import base64
import ipaddress
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from gatewatch import secrets
from gatewatch.model import (
    BODY_CAP,
    AddressResult,
    Endpoint,
    Hop,
    HopName,
    ProbeResult,
    Response,
)
from gatewatch.probe.dns import DnsResolver, HostsFile, Resolution
from gatewatch.probe.errors import Failure, classify
from gatewatch.probe.tls import ContextCache, fetch_unverified_leaf, session_facts
from gatewatch.probe.transport import ProbeTransport, Route, Timeline

USER_AGENT = "gatewatch/0.1 (+probe)"
#: A certificate with fewer days left than this makes the tls hop a warning.
EXPIRING_DAYS = 14.0


class ProbeSetupError(ValueError):
    """The endpoint cannot be probed as configured (bad URL, missing secret)."""


@dataclass(frozen=True)
class _Plan:
    """Everything decided before the first packet: what to dial and what to send."""

    url: httpx.URL
    host: str
    port: int
    headers: tuple[tuple[str, str], ...]
    proxy_url: str | None  # with credentials removed
    proxy_label: str | None
    proxy_headers: tuple[tuple[str, str], ...]
    dial_host: str
    dial_port: int


@dataclass
class _Attempt:
    """The outcome of one HTTP attempt against one address (mutable while it runs)."""

    address: str
    timeline: Timeline
    response: Response | None = None
    failure: Failure | None = None
    end: float | None = None
    tls_facts: dict[str, Any] | None = None


def bypasses_proxy(host: str, no_proxy: str) -> bool:
    """Whether NO_PROXY exempts ``host``: ``*``, exact names, domain suffixes, IPs, CIDRs."""
    host = host.lower().strip("[]")
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "://" in entry:
            entry = entry.split("://", 1)[1]
        if entry.startswith("[") or entry.count(":") == 1:  # strip a port
            entry = entry.rsplit(":", 1)[0] if not entry.startswith("[") else entry
        entry = entry.strip("[]")
        if "/" in entry:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        entry = entry.removeprefix("*").lstrip(".")
        if host == entry or host.endswith("." + entry):
            return True
    return False


def environment_proxy(url: httpx.URL, environ: Mapping[str, str]) -> str | None:
    """The forward proxy the environment asks for (HTTP(S)_PROXY, ALL_PROXY, NO_PROXY)."""

    def get(name: str) -> str | None:
        return environ.get(name.lower()) or environ.get(name.upper()) or None

    no_proxy = get("no_proxy")
    if no_proxy and bypasses_proxy(url.host, no_proxy):
        return None
    return get(f"{url.scheme}_proxy") or get("all_proxy")


def _split_proxy(proxy: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(url without credentials, label for humans, Proxy-Authorization header if any)."""
    parsed = httpx.URL(proxy)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ProbeSetupError(f"proxy must be an http:// or https:// URL, got {proxy!r}")
    bare = parsed.copy_with(username=None, password=None)
    headers: tuple[tuple[str, str], ...] = ()
    if parsed.username:
        token = base64.b64encode(f"{parsed.username}:{parsed.password}".encode()).decode()
        headers = (("Proxy-Authorization", f"Basic {token}"),)
    label = f"{bare.scheme}://{bare.host}:{bare.port or (443 if bare.scheme == 'https' else 80)}"
    return str(bare), label, headers


def _default_port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


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
        """Pay first-use costs (lazy imports, the default SSL context) before timing."""
        self.contexts.get()

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

    # ------------------------------------------------------------------ planning

    def plan(self, endpoint: Endpoint) -> _Plan:
        try:
            url = httpx.URL(endpoint.url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise ProbeSetupError(f"{endpoint.name}: invalid URL {endpoint.url!r}: {exc}") from exc
        if url.scheme not in ("http", "https") or not url.host:
            raise ProbeSetupError(f"{endpoint.name}: URL must be http:// or https:// with a host")
        try:
            headers = tuple(
                (name, secrets.resolve(value, self.environ)) for name, value in endpoint.headers
            )
            proxy_spec = (
                secrets.resolve(endpoint.proxy, self.environ)
                if endpoint.proxy
                else environment_proxy(url, self.environ)
            )
        except secrets.SecretError as exc:
            raise ProbeSetupError(f"{endpoint.name}: {exc}") from exc
        proxy_url = proxy_label = None
        proxy_headers: tuple[tuple[str, str], ...] = ()
        dial_host, dial_port = url.host, _default_port(url)
        if proxy_spec:
            proxy_url, proxy_label, proxy_headers = _split_proxy(proxy_spec)
            proxy = httpx.URL(proxy_url)
            dial_host, dial_port = proxy.host, _default_port(proxy)
        return _Plan(
            url=url,
            host=url.host,
            port=_default_port(url),
            headers=headers,
            proxy_url=proxy_url,
            proxy_label=proxy_label,
            proxy_headers=proxy_headers,
            dial_host=dial_host,
            dial_port=dial_port,
        )

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
        plan = self.plan(endpoint)
        started_at = datetime.now(UTC)
        start = time.perf_counter()
        loop = asyncio.get_running_loop()
        deadline_at = loop.time() + endpoint.timeout

        resolution = await self.dns.resolve(
            plan.dial_host, endpoint.resolvers, bound=max(deadline_at - loop.time(), 0.001)
        )
        dns_hop = self._dns_hop(resolution, plan)
        if resolution.status == "fail":
            total = (time.perf_counter() - start) * 1000
            hops = (
                dns_hop,
                *(Hop(name=n, status="skip") for n in ("tcp", "tls", "proxy", "upstream")),
            )
            return ProbeResult(
                name=endpoint.name,
                url=endpoint.url,
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
        hops = (dns_hop, *self._http_hops(endpoint, plan, first))
        per_address: tuple[AddressResult, ...] = ()
        if len(attempts) > 1:
            per_address = tuple(self._address_result(endpoint, plan, a) for a in attempts)
        return ProbeResult(
            name=endpoint.name,
            url=endpoint.url,
            started_at=started_at,
            hops=hops,
            total_ms=((first.end or time.perf_counter()) - start) * 1000,
            response=first.response,
            address=first.address,
            addresses=per_address,
        )

    async def _attempt(
        self, endpoint: Endpoint, plan: _Plan, address: str, deadline_at: float
    ) -> _Attempt:
        timeline = Timeline()
        timeline.phase = "tcp"
        attempt = _Attempt(address=address, timeline=timeline)
        route = Route(
            address=address,
            timeline=timeline,
            ssl_context=self.contexts.get(
                verify=not endpoint.insecure, ca_bundle=endpoint.ca_bundle
            ),
            proxy_url=plan.proxy_url,
            proxy_headers=plan.proxy_headers,
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
            target = f"{_bracket(address)}:{plan.dial_port}"
            attempt.failure = classify(
                exc,
                timeline.phase,
                target=target,
                via_proxy=plan.proxy_label,
                deadline=endpoint.timeout if isinstance(exc, TimeoutError) else None,
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
        attempt: _Attempt,
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
            timeline.body_end = timeline.arrived(time.perf_counter())
            timeline.phase = "done"
        except BaseException:
            complete = False
            raise
        finally:
            attempt.response = _response(response, bytes(body), size, complete)
            await response.aclose()

    async def _tls_facts(
        self, endpoint: Endpoint, plan: _Plan, attempt: _Attempt, deadline_at: float
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

    def _dns_hop(self, resolution: Resolution, plan: _Plan) -> Hop:
        detail = dict(resolution.detail)
        detail["name"] = resolution.name
        if plan.proxy_url:
            detail["for"] = f"forward proxy {plan.proxy_label}"
        status = resolution.status
        return Hop(
            name="dns",
            status=status,  # type: ignore[arg-type]
            ms=resolution.ms,
            error=resolution.error,
            kind=resolution.kind,
            detail=detail,
        )

    def _http_hops(self, endpoint: Endpoint, plan: _Plan, attempt: _Attempt) -> tuple[Hop, ...]:
        tl = attempt.timeline
        failure = attempt.failure
        failed_at: HopName | None = failure.hop if failure else None
        end = attempt.end or time.perf_counter()
        hops: dict[str, Hop] = {}

        # tcp
        tcp_detail = {"address": attempt.address, "port": plan.dial_port, "local": tl.local_address}
        if plan.proxy_url:
            tcp_detail["to"] = f"forward proxy {plan.proxy_label}"
        if failed_at == "tcp" and failure:
            hops["tcp"] = Hop(
                "tcp",
                "fail",
                ms=tl.ms(tl.tcp_start, end),
                error=failure.message,
                kind=failure.kind,
                detail=tcp_detail,
            )
        else:
            hops["tcp"] = Hop("tcp", "ok", ms=tl.ms(tl.tcp_start, tl.tcp_end), detail=tcp_detail)

        # proxy (a forward proxy only; a reverse proxy is recognised by diagnose)
        if not plan.proxy_url:
            hops["proxy"] = Hop("proxy", "skip")
        else:
            detail: dict[str, Any] = {
                "proxy": plan.proxy_label,
                "mode": "connect" if plan.url.scheme == "https" else "forward",
            }
            if tl.connect_status is not None:
                detail["connect_status"] = tl.connect_status
                detail["connect_reason"] = tl.connect_reason
                via = [v for k, v in tl.connect_headers if k.lower() in ("via", "proxy-agent")]
                if via:
                    detail["proxy_agent"] = via[0][:120]
            forward_407 = (
                attempt.response is not None
                and plan.url.scheme == "http"
                and attempt.response.status_code == 407
            )
            if failed_at == "proxy" and failure:
                hops["proxy"] = Hop(
                    "proxy",
                    "fail",
                    ms=tl.ms(tl.connect_start, tl.connect_end or end),
                    error=failure.message,
                    kind=failure.kind,
                    detail=detail,
                )
            elif forward_407:
                failure = Failure(
                    "proxy",
                    "proxy_auth_required",
                    f"forward proxy {plan.proxy_label} demands authentication "
                    "(407 Proxy Authentication Required)",
                )
                failed_at = "proxy"
                hops["proxy"] = Hop(
                    "proxy", "fail", error=failure.message, kind=failure.kind, detail=detail
                )
            elif failed_at == "tcp":
                hops["proxy"] = Hop("proxy", "skip", detail=detail)
            else:
                hops["proxy"] = Hop(
                    "proxy", "ok", ms=tl.ms(tl.connect_start, tl.connect_end), detail=detail
                )

        # tls
        if plan.url.scheme != "https":
            hops["tls"] = Hop("tls", "skip")
        elif failed_at == "tls" and failure:
            hops["tls"] = Hop(
                "tls",
                "fail",
                ms=tl.ms(tl.tls_start, end),
                error=failure.message,
                kind=failure.kind,
                detail=attempt.tls_facts or {},
            )
        elif tl.tls_end is not None:
            facts = attempt.tls_facts or {}
            days = facts.get("days_left")
            if isinstance(days, float | int) and days < self.expiring_days:
                hops["tls"] = Hop(
                    "tls",
                    "warn",
                    ms=tl.ms(tl.tls_start, tl.tls_end),
                    error=f"certificate expires in {days:.1f} days",
                    kind="expiring_soon",
                    detail=facts,
                )
            else:
                hops["tls"] = Hop("tls", "ok", ms=tl.ms(tl.tls_start, tl.tls_end), detail=facts)
        else:
            hops["tls"] = Hop("tls", "skip")

        hops["upstream"] = self._upstream_hop(
            endpoint,
            attempt,
            failure if failed_at == "upstream" else None,
            skip=failed_at not in (None, "upstream"),
        )

        # Hops that come after the first failure in time did not run: show them skipped.
        # Through a CONNECT tunnel the proxy hop runs before TLS, so walk in time order.
        failed = False
        for name in ("tcp", "proxy", "tls", "upstream"):
            hop = hops[name]
            if failed and hop.status != "skip":
                hops[name] = Hop(hop.name, "skip", detail=hop.detail)
            failed = failed or hop.status == "fail"
        return tuple(hops[n] for n in ("tcp", "tls", "proxy", "upstream"))

    def _upstream_hop(
        self, endpoint: Endpoint, attempt: _Attempt, failure: Failure | None, *, skip: bool
    ) -> Hop:
        tl = attempt.timeline
        if skip or tl.request_start is None:
            return Hop("upstream", "skip")
        end = attempt.end or time.perf_counter()
        response = attempt.response
        detail: dict[str, Any] = {
            "send_ms": tl.ms(tl.request_start, tl.request_sent),
            "first_byte_ms": tl.ms(tl.request_sent, tl.first_byte),
            "transfer_ms": tl.ms(tl.first_byte, tl.body_end),
        }
        if response is not None:
            detail.update(
                {
                    "status_code": response.status_code,
                    "reason": response.reason,
                    "http_version": response.http_version,
                    "body_bytes": response.body_size,
                    "content_length": response.content_length,
                    "server": response.header("server"),
                }
            )
        wait_ms = tl.ms(tl.request_sent, tl.first_byte)
        if failure is not None:
            if failure.reset:
                detail["reset"] = True
            if failure.kind == "upstream_invalid_response" and tl.first_bytes:
                detail["raw_head"] = tl.first_bytes[:200].decode("latin-1")
            if failure.kind == "truncated_body" and response is not None:
                declared = response.content_length
                got = response.body_size
                message = (
                    f"{failure.message}: got {got} of {declared} bytes"
                    if declared
                    else failure.message
                )
                return Hop(
                    "upstream", "fail", ms=wait_ms, error=message, kind=failure.kind, detail=detail
                )
            return Hop(
                "upstream",
                "fail",
                ms=wait_ms if wait_ms is not None else tl.ms(tl.request_sent, end),
                error=failure.message,
                kind=failure.kind,
                detail=detail,
            )
        assert response is not None and response.status_code is not None
        if not endpoint.accepts_status(response.status_code):
            expected = ", ".join(str(s) for s in endpoint.expect_status) or "200-399"
            return Hop(
                "upstream",
                "fail",
                ms=wait_ms,
                error=f"status {response.status_code} {response.reason}".rstrip()
                + f" (expected {expected})",
                kind="unexpected_status",
                detail=detail,
            )
        if endpoint.expect_body is not None and endpoint.expect_body not in response.text:
            return Hop(
                "upstream",
                "fail",
                ms=wait_ms,
                error=f"body does not contain {endpoint.expect_body!r}",
                kind="body_mismatch",
                detail=detail,
            )
        return Hop("upstream", "ok", ms=wait_ms, detail=detail)

    def _address_result(self, endpoint: Endpoint, plan: _Plan, attempt: _Attempt) -> AddressResult:
        hops = self._http_hops(endpoint, plan, attempt)
        bad = next((h for h in hops if h.status == "fail"), None)
        tl = attempt.timeline
        return AddressResult(
            address=attempt.address,
            ok=bad is None,
            status_code=attempt.response.status_code if attempt.response else None,
            total_ms=((attempt.end or tl.start) - tl.start) * 1000,
            hops=hops,
            failed_hop=bad.name if bad else None,
            kind=bad.kind if bad else None,
            error=bad.error if bad else None,
        )


def _bracket(address: str) -> str:
    return f"[{address}]" if ":" in address else address


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
