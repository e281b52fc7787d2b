"""A probe's timeline and failure turned into the five hops of DESIGN.md.

Pure: no I/O. The engine hands over what one attempt saw (its Timeline, the response,
the classified Failure) and gets back frozen Hops; a failure on one hop makes every hop
that came after it *in time* a skip (through a CONNECT tunnel the proxy hop runs before
TLS, so time order is not display order).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from gatewatch.model import AddressResult, Endpoint, Hop, HopName, Response
from gatewatch.probe.dns import Resolution
from gatewatch.probe.errors import Failure
from gatewatch.probe.plan import Plan
from gatewatch.probe.timeline import Timeline


@dataclass
class Attempt:
    """The outcome of one HTTP attempt against one address (mutable while it runs)."""

    address: str
    timeline: Timeline
    response: Response | None = None
    failure: Failure | None = None
    end: float | None = None
    tls_facts: dict[str, Any] | None = None


def dns_hop(resolution: Resolution, plan: Plan) -> Hop:
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


def http_hops(
    endpoint: Endpoint, plan: Plan, attempt: Attempt, expiring_days: float
) -> tuple[Hop, ...]:
    """tcp, tls, proxy and upstream of one attempt; hops after a failure in time are skipped."""
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
            server = [v for k, v in tl.connect_headers if k.lower() == "server"]
            if server:  # a forward proxy's CONNECT reply names it (issue 17: name the proxy)
                detail["proxy_server"] = server[0][:120]
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
        malformed = facts.get("malformed")
        if malformed:
            # The handshake verified (OpenSSL is lenient) but the certificate breaks
            # RFC 5280: stricter clients (Go, cryptography, browsers) may refuse it.
            hops["tls"] = Hop(
                "tls",
                "warn",
                ms=tl.ms(tl.tls_start, tl.tls_end),
                error=f"malformed certificate: {'; '.join(malformed)}",
                kind="malformed_certificate",
                detail=facts,
            )
        elif isinstance(days, float | int) and days < expiring_days:
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

    hops["upstream"] = upstream_hop(
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


def upstream_hop(
    endpoint: Endpoint, attempt: Attempt, failure: Failure | None, *, skip: bool
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
    held = tl.goaway_hold.held_goaway if tl.goaway_hold is not None else None
    if held is not None and failure is None:
        # A graceful GOAWAY came ahead of the response, which still arrived (h2frames).
        detail["h2_goaway_before_response"] = f"NO_ERROR, last stream {held[0]}"
    if failure is not None:
        if failure.reset:
            detail["reset"] = True
        detail.update(failure.facts)
        if wait_ms is None and "h2_frame" in detail and tl.last_arrival is not None:
            # RST_STREAM / GOAWAY: the answer is that frame, stamped by the kernel on arrival.
            wait_ms = tl.ms(tl.request_sent, max(tl.last_arrival, tl.request_sent or 0.0))
        if failure.kind == "upstream_invalid_response" and tl.first_bytes:
            detail["raw_head"] = tl.first_bytes[:200].decode("latin-1")
        if failure.kind == "truncated_body" and response is not None:
            declared = response.content_length
            got = response.body_size
            message = (
                f"{failure.message}: got {got} of {declared} bytes" if declared else failure.message
            )
            return Hop(
                "upstream", "fail", ms=wait_ms, error=message, kind=failure.kind, detail=detail
            )
        waited = tl.ms(tl.request_sent, end)
        # Timed out before the headers were complete: the hop lasted as long as we waited,
        # not until a first byte that trickled in early (0.7 ms for a 2 s wait reads wrong).
        headerless_timeout = failure.kind == "upstream_timeout" and response is None
        return Hop(
            "upstream",
            "fail",
            ms=waited if headerless_timeout or wait_ms is None else wait_ms,
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


def address_result(
    endpoint: Endpoint, plan: Plan, attempt: Attempt, expiring_days: float
) -> AddressResult:
    hops = http_hops(endpoint, plan, attempt, expiring_days)
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


def bracket(address: str) -> str:
    return f"[{address}]" if ":" in address else address
