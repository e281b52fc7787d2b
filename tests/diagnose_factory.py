"""Build ProbeResult fixtures for the diagnose tests: five hops, a response, an origin.

Only data: the diagnose package is pure, so its tests need no server. The shapes follow
what gatewatch.probe emits (hop order, kinds, detail keys).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gatewatch.model import (
    HOP_NAMES,
    AddressResult,
    Hop,
    HopName,
    HopStatus,
    ProbeResult,
    Response,
    frozen_mapping,
)

STARTED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

TLS_FACTS: Mapping[str, Any] = {
    "version": "TLSv1.3",
    "cipher": "TLS_AES_256_GCM_SHA384",
    "alpn": "http/1.1",
    "subject": "CN=shop.example",
    "issuer": "CN=R11,O=Let's Encrypt,C=US",
    "sans": ["shop.example", "www.shop.example"],
    "not_before": "2026-10-01T00:00:00Z",
    "not_after": "2026-12-30T00:00:00Z",
    "days_left": 35.6,
}


def response(
    status: int,
    reason: str,
    headers: Sequence[tuple[str, str]] = (),
    body: str | bytes = b"",
    *,
    http_version: str = "HTTP/1.1",
    body_size: int | None = None,
    complete: bool = True,
) -> Response:
    """A Response as the probe builds it: headers as sent, body capped, sizes counted."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    declared = next((v for k, v in headers if k.lower() == "content-length"), None)
    return Response(
        http_version=http_version,
        status_code=status,
        reason=reason,
        headers=tuple(headers),
        body=raw,
        body_size=len(raw) if body_size is None else body_size,
        content_length=int(declared) if declared and declared.isdigit() else None,
        complete=complete,
    )


def result(
    *,
    url: str = "https://shop.example/health",
    fail: HopName | None = None,
    kind: str | None = None,
    error: str | None = None,
    resp: Response | None = None,
    first_byte_ms: float | None = 35.0,
    total_ms: float | None = None,
    status: Mapping[str, HopStatus] | None = None,
    kinds: Mapping[str, str] | None = None,
    details: Mapping[str, Mapping[str, Any]] | None = None,
    proxy: str | None = None,
    origin: ProbeResult | None = None,
    addresses: Sequence[AddressResult] = (),
    address: str | None = "203.0.113.10:443",
    started_at: datetime = STARTED,
) -> ProbeResult:
    """One probe. ``fail`` names the failing hop (later hops skip); ``status`` overrides."""
    https = url.startswith("https:")
    details = dict(details or {})
    status = dict(status or {})
    kinds = dict(kinds or {})
    default_ms = {"dns": 1.2, "tcp": 0.4, "tls": 3.9 if https else None, "proxy": None}
    hops: list[Hop] = []
    failed = False
    for name in HOP_NAMES:
        detail: dict[str, Any] = {}
        if name == "tls" and https:
            detail.update(TLS_FACTS)
        if name == "proxy" and proxy:
            detail["proxy"] = proxy
        if name == "upstream" and resp is not None:
            detail.update(
                status_code=resp.status_code,
                first_byte_ms=first_byte_ms,
                body_bytes=resp.body_size,
                content_length=resp.content_length,
            )
        detail.update(details.get(name, {}))
        if failed:
            hops.append(Hop(name, "skip", detail=frozen_mapping(detail)))
            continue
        if name == fail:
            ms = first_byte_ms if name == "upstream" else default_ms.get(name)
            hops.append(
                Hop(name, "fail", ms=ms, error=error, kind=kind, detail=frozen_mapping(detail))
            )
            failed = True
            continue
        if name == "upstream":
            hop_status: HopStatus = "ok" if resp is not None else "skip"
            ms = first_byte_ms
        elif name == "proxy":
            hop_status, ms = ("ok", 2.0) if proxy else ("skip", None)
        elif name == "tls" and not https:
            hop_status, ms = "skip", None
        else:
            hop_status, ms = "ok", default_ms[name]
        hop_status = status.get(name, hop_status)
        hops.append(
            Hop(name, hop_status, ms=ms, kind=kinds.get(name), detail=frozen_mapping(detail))
        )
    if total_ms is None:
        total_ms = sum(h.ms for h in hops if h.ms is not None) + 1.0
    return ProbeResult(
        name="shop",
        url=url,
        started_at=started_at,
        hops=tuple(hops),
        total_ms=total_ms,
        response=resp,
        address=address,
        addresses=tuple(addresses),
        origin=origin,
    )


def ok(resp: Response | None = None, **kw: Any) -> ProbeResult:
    """A passing probe (a plain 200 unless ``resp`` says otherwise)."""
    return result(resp=resp or response(200, "OK", [("Content-Type", "text/plain")], "ok"), **kw)


def gateway_error(resp: Response, elapsed_ms: float = 3.0, **kw: Any) -> ProbeResult:
    """A probe whose response failed the status expectation (a 502 page, say)."""
    return result(
        fail="upstream",
        kind="unexpected_status",
        error=f"status {resp.status_code} {resp.reason} (expected 200-399)",
        resp=resp,
        first_byte_ms=elapsed_ms,
        total_ms=elapsed_ms + 6.0,
        **kw,
    )


def origin_ok(url: str = "http://127.0.0.1:8081/health") -> ProbeResult:
    return ok(url=url, address="127.0.0.1:8081", first_byte_ms=4.0)


def origin_failing(
    hop: HopName, kind: str, url: str = "http://127.0.0.1:8081/health", **kw: Any
) -> ProbeResult:
    return result(
        url=url, fail=hop, kind=kind, error=f"{hop}: {kind}", address="127.0.0.1:8081", **kw
    )


def history(pattern: str, *, first_byte_ms: float = 80.0) -> list[ProbeResult]:
    """Past probes, oldest first: ``"..x.x"`` is ok, ok, fail, ok, fail."""
    past = []
    for i, mark in enumerate(pattern):
        when = STARTED - timedelta(seconds=30 * (len(pattern) - i))
        if mark == "x":
            past.append(result(fail="tcp", kind="refused", error="refused", started_at=when))
        else:
            past.append(ok(first_byte_ms=first_byte_ms, started_at=when))
    return past
