"""A ProbeResult as blackbox_exporter's ``http`` prober would report it: same names, types, help.

Why: every team that runs blackbox_exporter has dashboards and alerts over ``probe_*``.
Speaking exactly that vocabulary lets them point an existing scrape config at
``gatewatch exporter`` and keep everything they have. The reference is blackbox_exporter
0.23.0 (Debian's), ``prober/http.go``, ``prober/utils.go``, ``prober/tls.go`` and
``prober/handler.go``; each metric below says how it maps and where we differ on purpose:

- ``probe_http_duration_seconds{phase}``: all five phases, always (blackbox drops four of
  them when DNS fails; dashboards that sum phases then lose the series). ``resolve`` is the
  dns hop, ``connect`` the tcp hop, ``tls`` the handshake, ``processing`` from the start of
  the request to the first response byte (blackbox: ``gotConn`` → first byte), ``transfer``
  first byte → end of body. 0 for a phase that did not run, as in blackbox.
- TLS metrics appear only when the response came over TLS (blackbox: ``resp.TLS != nil``).
- No redirects are followed (gatewatch judges the URL it was given), so
  ``probe_http_redirects`` is 0.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from email.utils import parsedate_to_datetime

from gatewatch.exporter.families import FamilySet
from gatewatch.model import Endpoint, ProbeResult

PHASES: tuple[str, ...] = ("resolve", "connect", "tls", "processing", "transfer")

#: Go's zero ``time.Time`` in unix seconds: what blackbox reports as the last chain's expiry
#: when no chain was verified (``insecure_skip_verify``).
GO_ZERO_TIME = -62135596800.0

_TLS_VERSIONS = {
    "TLSv1": "TLS 1.0",
    "TLSv1.1": "TLS 1.1",
    "TLSv1.2": "TLS 1.2",
    "TLSv1.3": "TLS 1.3",
}


def _seconds(ms: float | None) -> float:
    return 0.0 if ms is None else ms / 1000.0


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def phase_seconds(result: ProbeResult) -> dict[str, float]:
    """The five blackbox phases of ``result``, in seconds (0 where a phase did not run)."""
    upstream = result.hop("upstream")
    detail = upstream.detail
    send = _number(detail.get("send_ms"))
    first_byte = _number(detail.get("first_byte_ms"))
    processing = None if first_byte is None else (send or 0.0) + first_byte
    return {
        "resolve": _seconds(result.hop("dns").ms),
        "connect": _seconds(result.hop("tcp").ms),
        "tls": _seconds(result.hop("tls").ms),
        "processing": _seconds(processing),
        "transfer": _seconds(_number(detail.get("transfer_ms"))),
    }


def http_version_number(text: str) -> float:
    """``HTTP/1.1`` → 1.1, ``HTTP/2`` → 2 (blackbox parses ``resp.Proto`` the same way)."""
    try:
        return float(text.removeprefix("HTTP/"))
    except ValueError:
        return 0.0


def fnv32a(data: bytes) -> int:
    """FNV-1a, 32 bits: blackbox's ``probe_ip_addr_hash``."""
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def ip_facts(address: str | None) -> tuple[float, float]:
    """(``probe_ip_protocol``, ``probe_ip_addr_hash``): (0, 0) when nothing was dialled."""
    if not address:
        return 0.0, 0.0
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%")[0])
    except ValueError:
        return 0.0, 0.0
    return float(ip.version), float(fnv32a(ip.packed))


def add_blackbox(
    families: FamilySet, result: ProbeResult, endpoint: Endpoint, duration_seconds: float
) -> None:
    """Add blackbox_exporter's http-prober metrics for ``result`` to ``families``."""
    g = families.gauge
    g("probe_success", "Displays whether or not the probe was a success", float(result.ok))
    g(
        "probe_duration_seconds",
        "Returns how long the probe took to complete in seconds",
        duration_seconds,
    )
    phases = phase_seconds(result)
    g(
        "probe_dns_lookup_time_seconds",
        "Returns the time taken for probe dns lookup in seconds",
        phases["resolve"],
    )
    protocol, addr_hash = ip_facts(result.address)
    g("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6", protocol)
    g(
        "probe_ip_addr_hash",
        "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
        addr_hash,
    )
    for phase in PHASES:
        g(
            "probe_http_duration_seconds",
            "Duration of http request by phase, summed over all redirects",
            phases[phase],
            {"phase": phase},
        )
    response = result.response if result.status_code is not None else None
    has_response = response is not None
    content_length = 0.0
    if response is not None:
        # Go's resp.ContentLength: -1 when the length is not declared.
        declared = response.content_length
        content_length = float(declared) if declared is not None else -1.0
    g("probe_http_content_length", "Length of http content response", content_length)
    g(
        "probe_http_uncompressed_body_length",
        "Length of uncompressed response body",
        float(response.body_size) if response is not None else 0.0,
    )
    g("probe_http_redirects", "The number of redirects", 0.0)
    over_tls = has_response and result.url.lower().startswith("https:")
    g("probe_http_ssl", "Indicates if SSL was used for the final redirect", float(over_tls))
    g(
        "probe_http_status_code",
        "Response HTTP status code",
        float(result.status_code or 0),
    )
    g(
        "probe_http_version",
        "Returns the version of HTTP of the probe response",
        http_version_number(response.http_version) if response is not None else 0.0,
    )
    g(
        "probe_failed_due_to_regex",
        "Indicates if probe failed due to regex",
        float(result.hop("upstream").kind == "body_mismatch"),
    )
    if response is not None:
        modified = _last_modified(response.header("last-modified"))
        if modified is not None:
            g(
                "probe_http_last_modified_timestamp_seconds",
                "Returns the Last-Modified HTTP response header in unixtime",
                modified,
            )
    if over_tls:
        _add_tls(families, result, endpoint)


def _add_tls(families: FamilySet, result: ProbeResult, endpoint: Endpoint) -> None:
    facts = result.hop("tls").detail
    not_after = facts.get("not_after")
    expiry = float(int(not_after.timestamp())) if isinstance(not_after, datetime) else GO_ZERO_TIME
    # We see the leaf only (Python 3.11's ssl has no chain API): earliest over the chain and
    # the verified chain's expiry are both the leaf's. Unverified: Go's zero time, as blackbox.
    families.gauge(
        "probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime", expiry
    )
    families.gauge(
        "probe_ssl_last_chain_expiry_timestamp_seconds",
        "Returns last SSL chain expiry in timestamp",
        GO_ZERO_TIME if endpoint.insecure else expiry,
    )
    version = facts.get("version")
    families.gauge(
        "probe_tls_version_info",
        "Returns the TLS version used or NaN when unknown",
        1.0,
        {"version": _TLS_VERSIONS.get(str(version), "unknown")},
    )


def _last_modified(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(int(parsedate_to_datetime(value).timestamp()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
