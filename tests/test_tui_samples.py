"""Fixed data for the TUI tests: endpoints, probe results and engine messages.

No clocks: every time is fixed, so the snapshots are the same on every machine. Holds no
tests itself; ``test_tui*.py`` import it. ``FakeEngine`` stands in for the monitor where
the wire does not matter (it records commands and answers as the monitor would).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatewatch import watchlist as wl
from gatewatch.model import Endpoint, Hop, ProbeResult, Response, Verdict
from gatewatch.monitor import (
    Ack,
    Acknowledged,
    EndpointStatus,
    History,
    LocalProblem,
    Message,
    ProbeCompleted,
    State,
    StateChanged,
    TransitionEvent,
)

NOW = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
HOSTILE = "[bold red]x[/] \x1b]0;pwned\x07"

if TYPE_CHECKING:
    from gatewatch.tui.app import GatewatchApp


def clock() -> datetime:
    return NOW


def done() -> concurrent.futures.Future[None]:
    future: concurrent.futures.Future[None] = concurrent.futures.Future()
    future.set_result(None)
    return future


@dataclass
class FakeEngine:
    """Records commands; answers pause/resume with the messages the monitor would send."""

    endpoints: list[Endpoint]
    history: History = field(default_factory=lambda: History(":memory:"))
    calls: list[tuple[str, Any]] = field(default_factory=list)
    listeners: list[Callable[[Message], None]] = field(default_factory=list)
    statuses: dict[str, EndpointStatus] = field(default_factory=dict)

    def subscribe(self, callback: Callable[[Message], None]) -> Callable[[], None]:
        self.listeners.append(callback)
        return lambda: self.listeners.remove(callback)

    def publish(self, messages: Iterable[Message]) -> None:
        for message in messages:
            for listener in list(self.listeners):
                listener(message)

    def start(self) -> None:
        self.calls.append(("start", None))

    def stop(self) -> None:
        self.calls.append(("stop", None))

    def snapshot(self) -> dict[str, EndpointStatus]:
        return dict(self.statuses)

    def _record(self, name: str, arg: Any) -> concurrent.futures.Future[None]:
        self.calls.append((name, arg))
        return done()

    def add(self, endpoint: Endpoint) -> concurrent.futures.Future[None]:
        return self._record("add", endpoint)

    def remove(self, name: str) -> concurrent.futures.Future[None]:
        return self._record("remove", name)

    def update(self, endpoint: Endpoint) -> concurrent.futures.Future[None]:
        return self._record("update", endpoint)

    def rename(self, old_name: str, endpoint: Endpoint) -> concurrent.futures.Future[None]:
        return self._record("rename", (old_name, endpoint))

    def pause(self, name: str) -> concurrent.futures.Future[None]:
        self.publish([StateChanged(event(name, State.UP, State.PAUSED, "paused by the operator"))])
        return self._record("pause", name)

    def resume(self, name: str) -> concurrent.futures.Future[None]:
        self.publish([StateChanged(event(name, State.PAUSED, State.PENDING, "resumed"))])
        return self._record("resume", name)

    def pause_all(self) -> concurrent.futures.Future[None]:
        return self._record("pause_all", None)

    def resume_all(self) -> concurrent.futures.Future[None]:
        return self._record("resume_all", None)

    def probe_now(self, name: str) -> concurrent.futures.Future[None]:
        return self._record("probe_now", name)

    def acknowledge(self, name: str, by: str, reason: str) -> concurrent.futures.Future[None]:
        self.publish([Acknowledged(Ack(endpoint=name, by=by, reason=reason, at=NOW))])
        return self._record("acknowledge", (name, by, reason))


def event(name: str, before: State, after: State, reason: str, ago: float = 0) -> TransitionEvent:
    return TransitionEvent(
        at=NOW - timedelta(seconds=ago),
        endpoint=name,
        from_state=before,
        to_state=after,
        verdict=None,
        reason=reason,
    )


# --------------------------------------------------------------------------- results


def hops(**overrides: Hop) -> tuple[Hop, ...]:
    base = {
        "dns": Hop(
            "dns",
            "ok",
            1.2,
            detail={
                "name": "shop.example",
                "source": "dns",
                "resolver": "127.0.0.1:5353",
                "addresses": ["10.0.0.12", "10.0.0.13"],
                "ttl": 300,
                "cnames": ["edge.shop.example"],
            },
        ),
        "tcp": Hop("tcp", "ok", 0.4, detail={"address": "10.0.0.12", "port": 443}),
        "tls": Hop(
            "tls",
            "ok",
            4.1,
            detail={
                "version": "TLSv1.3",
                "cipher": "TLS_AES_256_GCM_SHA384",
                "alpn": "http/1.1",
                "subject": "CN=shop.example",
                "issuer": "CN=Lab CA",
                "sans": ["shop.example", "*.shop.example"],
                "days_left": 80.5,
            },
        ),
        "proxy": Hop("proxy", "skip"),
        "upstream": Hop(
            "upstream",
            "ok",
            12.3,
            detail={
                "send_ms": 0.1,
                "first_byte_ms": 12.3,
                "transfer_ms": 0.8,
                "status_code": 200,
                "reason": "OK",
                "http_version": "HTTP/1.1",
                "body_bytes": 3,
                "server": "shop/1.0",
            },
        ),
    }
    base.update(overrides)
    return tuple(base[n] for n in ("dns", "tcp", "tls", "proxy", "upstream"))


def response(
    status: int, reason: str, headers: Iterable[tuple[str, str]] = (), body: bytes = b"ok\n"
) -> Response:
    return Response(
        http_version="HTTP/1.1",
        status_code=status,
        reason=reason,
        headers=tuple(headers),
        body=body,
        body_size=len(body),
    )


HEALTHY = Verdict("healthy", None, None, None, 0.9, "every hop passed")


def healthy(name: str, url: str, total: float = 18.0) -> ProbeResult:
    return ProbeResult(
        name=name,
        url=url,
        started_at=NOW - timedelta(seconds=5),
        hops=hops(),
        total_ms=total,
        response=response(200, "OK", [("Server", "shop/1.0"), ("Content-Type", "text/plain")]),
        address="10.0.0.12",
        verdict=HEALTHY,
    )


def gateway_502(name: str, url: str) -> ProbeResult:
    page = (
        b"<html><head><title>502 Bad Gateway</title></head>"
        b"<body><center>nginx</center></body></html>"
    )
    upstream = Hop(
        "upstream",
        "fail",
        35.1,
        error="status 502 Bad Gateway (expected 200-399)",
        kind="unexpected_status",
        detail={
            "send_ms": 0.1,
            "first_byte_ms": 35.1,
            "status_code": 502,
            "reason": "Bad Gateway",
            "body_bytes": len(page),
            "server": "nginx/1.25",
        },
    )
    proxy = Hop("proxy", "ok", None, detail={"generator": "nginx", "relayed_by": ["nginx"]})
    origin = healthy(f"{name} (origin)", "http://10.0.0.12:8080/health", 9.0)
    return ProbeResult(
        name=name,
        url=url,
        started_at=NOW - timedelta(seconds=5),
        hops=hops(proxy=proxy, upstream=upstream),
        total_ms=41.7,
        response=response(
            502, "Bad Gateway", [("Server", "nginx/1.25"), ("Content-Type", "text/html")], page
        ),
        address="10.0.0.12",
        origin=origin,
        verdict=Verdict(
            cause="proxy",
            kind="upstream_refused",
            hop="upstream",
            generator="nginx",
            confidence=0.8,
            summary=(
                "nginx answered 502: it could not reach the application, "
                "which is up when probed directly"
            ),
            evidence=(
                "the 502 page is nginx's own (title '502 Bad Gateway', body 'nginx')",
                "the origin http://10.0.0.12:8080/health answered 200 in 9.0 ms",
            ),
            next_steps=(
                "check nginx's error.log for 'connect() failed' and the upstream address it uses",
                "compare proxy_pass with the origin's address and port",
            ),
        ),
    )


def dns_failure(name: str, url: str) -> ProbeResult:
    dns = Hop(
        "dns",
        "fail",
        2.3,
        error="NXDOMAIN: api.example does not exist",
        kind="nxdomain",
        detail={"name": "api.example", "resolver": "127.0.0.1:5353", "source": "dns"},
    )
    return ProbeResult(
        name=name,
        url=url,
        started_at=NOW - timedelta(seconds=5),
        hops=(dns, *(Hop(n, "skip") for n in ("tcp", "tls", "proxy", "upstream"))),
        total_ms=2.3,
        verdict=Verdict(
            "dns",
            "nxdomain",
            "dns",
            None,
            0.95,
            "api.example does not exist (NXDOMAIN)",
            ("resolver 127.0.0.1:5353 answered NXDOMAIN",),
            ("check the record in the zone",),
        ),
    )


def cert_expiring(name: str, url: str) -> ProbeResult:
    tls = Hop(
        "tls",
        "warn",
        5.0,
        error="certificate expires in 5.0 days",
        kind="expiring_soon",
        detail={"version": "TLSv1.3", "subject": "CN=billing.example", "days_left": 5.0},
    )
    return healthy(name, url, 21.0).replace(
        hops=hops(tls=tls),
        verdict=Verdict("tls", "expiring_soon", "tls", None, 0.9, "certificate expires in 5 days"),
    )


def cert_expired(name: str, url: str) -> ProbeResult:
    tls = Hop(
        "tls",
        "fail",
        3.0,
        error="certificate expired 1.0 days ago",
        kind="expired",
        detail={"subject": "CN=legacy.example", "days_left": -1.0},
    )
    return ProbeResult(
        name=name,
        url=url,
        started_at=NOW - timedelta(seconds=5),
        hops=hops(tls=tls, proxy=Hop("proxy", "skip"), upstream=Hop("upstream", "skip")),
        total_ms=6.0,
        verdict=Verdict("tls", "expired", "tls", None, 0.95, "the certificate expired 1 day ago"),
    )


def rate_limited(name: str, url: str) -> ProbeResult:
    upstream = Hop(
        "upstream",
        "fail",
        3.0,
        error="status 429 Too Many Requests (expected 200-399)",
        kind="unexpected_status",
        detail={"status_code": 429},
    )
    return healthy(name, url, 5.0).replace(
        hops=hops(upstream=upstream),
        response=response(429, "Too Many Requests", [("Retry-After", "30")]),
        verdict=Verdict(
            "overload",
            "rate_limited",
            "upstream",
            "app",
            0.8,
            "rate limited: 429 with Retry-After 30",
        ),
    )


@dataclass(frozen=True)
class Case:
    endpoint: Endpoint
    state: State
    result: ProbeResult | None
    since_ago: float


def cases() -> list[Case]:
    def ep(name: str, url: str, *tags: str) -> Endpoint:
        return Endpoint(name=name, url=url, tags=tags)

    shop = ep("shop", "https://shop.example/health", "prod")
    checkout = ep("checkout", "https://checkout.example/health", "prod", "payments")
    api = ep("api", "http://api.example/ok", "prod")
    billing = ep("billing", "https://billing.example/ok", "payments")
    legacy = ep("legacy", "https://legacy.example/ok")
    partner = ep("partner", "https://partner.example/ok")
    search = ep("search", "https://search.example/ok")
    batch = ep("batch", "https://batch.example/ok")
    return [
        Case(shop, State.UP, healthy("shop", shop.url), 3600),
        Case(checkout, State.DOWN, gateway_502("checkout", checkout.url), 180),
        Case(api, State.DOWN, dns_failure("api", api.url), 600),
        Case(billing, State.DEGRADED, cert_expiring("billing", billing.url), 7200),
        Case(legacy, State.DOWN, cert_expired("legacy", legacy.url), 86400),
        Case(partner, State.DEGRADED, rate_limited("partner", partner.url), 45),
        Case(search, State.UP, healthy("search", search.url, 240.0), 1800),
        Case(batch, State.PAUSED, None, 900),
    ]


def watchlist_for(endpoints: Iterable[Endpoint], path: Path) -> wl.Watchlist:
    watchlist = wl.Watchlist.empty(path)
    for endpoint in endpoints:
        watchlist = watchlist.with_endpoint(endpoint)
    return wl.save(watchlist)


def quiet_app(
    watchlist: wl.Watchlist, engine: FakeEngine, tmp_path: Path, **options: Any
) -> GatewatchApp:
    """The board every TUI test builds: a FakeEngine that is not started, the fixed
    clock, its own config folder, and no hourly uptime redraw; ``options`` add or override."""
    from gatewatch.tui.app import GatewatchApp

    settings: dict[str, Any] = {
        "config_dir": tmp_path / "config",
        "clock": clock,
        "start_engine": False,
        "uptime_interval": 3600,
    }
    return GatewatchApp(watchlist, engine, **(settings | options))


def messages(items: Iterable[Case], probes: int = 12) -> list[Message]:
    """Transitions, then ``probes`` results per endpoint with varying totals (sparklines)."""
    out: list[Message] = []
    items = list(items)
    for case in items:
        out.append(
            StateChanged(
                event(case.endpoint.name, State.PENDING, case.state, "test", case.since_ago)
            )
        )
    for i in range(probes):
        for case in items:
            if case.result is None:
                continue
            wobble = 1.0 + 0.5 * ((i * 7 + len(case.endpoint.name)) % 5) / 4
            result = case.result.replace(total_ms=case.result.total_ms * wobble)
            out.append(ProbeCompleted(case.endpoint.name, result, case.state))
    return out


def local_problem() -> LocalProblem:
    return LocalProblem(
        active=True, reason="4 of 5 endpoints fail at dns/tcp; every resolver failed"
    )
