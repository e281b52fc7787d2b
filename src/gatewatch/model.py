"""Frozen data shared by every layer: what to probe, what a probe saw, what it means.

These objects cross threads (probe engine → board) and process boundaries (JSON), so
they are immutable and hold only plain data. Nothing here does I/O or imports Textual.
The JSON shape produced by :func:`result_to_json` is the contract of the headless
commands (DESIGN.md); change it only by adding keys.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal

from gatewatch.secrets import redact_url

HopName = Literal["dns", "tcp", "tls", "proxy", "upstream"]
HopStatus = Literal["ok", "warn", "fail", "skip"]
HttpVersion = Literal["auto", "1.1", "2"]
HTTP_VERSIONS: tuple[HttpVersion, ...] = ("auto", "1.1", "2")
Cause = Literal[
    "healthy", "dns", "network", "tls", "proxy", "backend", "overload", "blocked", "unknown"
]

HOP_NAMES: tuple[HopName, ...] = ("dns", "tcp", "tls", "proxy", "upstream")

#: Which verdict cause a failure on each hop points to, before any diagnosis.
HOP_CAUSE: Mapping[str, Cause] = MappingProxyType(
    {"dns": "dns", "tcp": "network", "tls": "tls", "proxy": "proxy", "upstream": "backend"}
)

#: The body is read up to this many bytes: enough for fingerprints and expectations.
BODY_CAP = 64 * 1024

DEFAULT_TIMEOUT = 10.0
DEFAULT_INTERVAL = 30.0


def frozen_mapping(data: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only view of a copy of ``data``, so a frozen dataclass stays frozen."""
    return MappingProxyType(dict(data or {}))


# --------------------------------------------------------------------------- what to probe


@dataclass(frozen=True)
class Endpoint:
    """One monitored URL and how to judge it. Secrets stay as ``env:VAR`` references here."""

    name: str
    url: str
    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    #: Accepted statuses: ints and class strings like ``"2xx"``. Empty means 200–399.
    expect_status: tuple[int | str, ...] = ()
    expect_body: str | None = None
    origin: str | None = None
    proxy: str | None = None
    #: ``"1.1.1.1"``, ``"127.0.0.1:5353"``, ``"[::1]:53"``; empty means the system's.
    resolvers: tuple[str, ...] = ()
    #: Header name → value; a value may be ``"env:VAR"``, resolved only at probe time.
    headers: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    method: str = "GET"
    all_addresses: bool = False
    insecure: bool = False
    ca_bundle: str | None = None
    #: HTTP versions to offer: ``"auto"`` (h2 and http/1.1 in ALPN, as a browser does),
    #: ``"1.1"`` only, or ``"2"`` only (a server without h2 is then a tls-hop failure).
    http_version: HttpVersion = "auto"
    #: Settings other layers own (monitor thresholds, maintenance windows …), as parsed.
    extra: Mapping[str, Any] = field(default_factory=frozen_mapping, compare=False, hash=False)

    def accepts_status(self, code: int) -> bool:
        """Whether ``code`` meets ``expect_status`` (default: 200–399)."""
        if not self.expect_status:
            return 200 <= code < 400
        for spec in self.expect_status:
            if isinstance(spec, int) and spec == code:
                return True
            if (
                isinstance(spec, str)
                and len(spec) == 3
                and spec[1:].lower() == "xx"
                and spec[0].isdigit()
                and code // 100 == int(spec[0])
            ):
                return True
        return False

    def replace(self, **changes: Any) -> Endpoint:
        return dataclasses.replace(self, **changes)


# --------------------------------------------------------------------------- what a probe saw


@dataclass(frozen=True)
class Hop:
    """One hop of one probe. ``kind`` names the failure (or warning) in the taxonomy."""

    name: HopName
    status: HopStatus
    ms: float | None = None
    error: str | None = None
    kind: str | None = None
    detail: Mapping[str, Any] = field(default_factory=frozen_mapping, hash=False)

    @property
    def failed(self) -> bool:
        return self.status == "fail"


@dataclass(frozen=True)
class Response:
    """What came back over HTTP, as far as it came. Everything here is untrusted text."""

    http_version: str
    status_code: int | None
    reason: str
    headers: tuple[tuple[str, str], ...]
    #: At most BODY_CAP bytes of the body.
    body: bytes = b""
    #: Bytes of body received in total (may exceed len(body)).
    body_size: int = 0
    #: Declared Content-Length, if any.
    content_length: int | None = None
    #: True when the body ended where its framing said it would (or we stopped at the cap).
    complete: bool = True

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [value for key, value in self.headers if key.lower() == lname]

    @property
    def text(self) -> str:
        """The captured body decoded leniently, for fingerprints and expectations."""
        return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Verdict:
    """Which hop broke and why, with the facts behind it and what to do next."""

    cause: Cause
    kind: str | None
    hop: HopName | None
    generator: str | None
    confidence: float
    summary: str
    evidence: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        return self.cause == "healthy"


@dataclass(frozen=True)
class AddressResult:
    """One resolved address probed on its own (``all_addresses = true``)."""

    address: str
    ok: bool
    status_code: int | None
    total_ms: float
    hops: tuple[Hop, ...]
    failed_hop: HopName | None = None
    kind: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ProbeResult:
    """One probe of one endpoint, hop by hop. The five hops are always present, in order."""

    name: str
    url: str
    started_at: datetime
    hops: tuple[Hop, ...]
    total_ms: float
    response: Response | None = None
    #: The address the tcp hop dialled (the forward proxy's, when one is used).
    address: str | None = None
    addresses: tuple[AddressResult, ...] = ()
    origin: ProbeResult | None = None
    verdict: Verdict | None = None
    #: The HTTP version spoken: ``"2"``, ``"1.1"`` (``"1.0"`` if the server answered so),
    #: or None when no HTTP exchange began.
    http_version: str | None = None
    #: One follow-up probe over the other HTTP version (made by the checklist and
    #: ``diagnose`` when this one failed), so a failure over one version only shows.
    other_version: ProbeResult | None = None

    @property
    def ok(self) -> bool:
        """No hop failed and — with ``all_addresses`` — no address failed (warnings are
        still ok): a dead pool member fails real clients."""
        return not any(h.failed for h in self.hops) and all(a.ok for a in self.addresses)

    @property
    def status_code(self) -> int | None:
        return self.response.status_code if self.response else None

    def hop(self, name: str) -> Hop:
        for h in self.hops:
            if h.name == name:
                return h
        raise KeyError(name)

    @property
    def failed_hop(self) -> Hop | None:
        """The first failing hop, else the first warning hop, else None."""
        for wanted in ("fail", "warn"):
            for h in self.hops:
                if h.status == wanted:
                    return h
        return None

    def with_verdict(self, verdict: Verdict) -> ProbeResult:
        return dataclasses.replace(self, verdict=verdict)

    def replace(self, **changes: Any) -> ProbeResult:
        return dataclasses.replace(self, **changes)


def skipped_hops(names: Iterable[HopName]) -> tuple[Hop, ...]:
    return tuple(Hop(name=n, status="skip") for n in names)


# --------------------------------------------------------------------------- JSON contract


def _round_ms(ms: float | None) -> float | None:
    if ms is None or math.isnan(ms):
        return None
    return round(ms, 3)


def _jsonable(value: Any) -> Any:
    """Detail values as JSON: mappings and sequences recursively, bytes as text, rest str."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, datetime):
        return format_time(value)
    return str(value)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, milliseconds kept: ``2026-11-24T10:00:00.123Z``."""
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond // 1000:03d}"
    return text + "Z"


def hop_to_json(hop: Hop) -> dict[str, Any]:
    return {
        "name": hop.name,
        "status": hop.status,
        "ms": _round_ms(hop.ms),
        "error": hop.error,
        "kind": hop.kind,
        "detail": _jsonable(hop.detail),
    }


def verdict_to_json(verdict: Verdict | None) -> dict[str, Any] | None:
    if verdict is None:
        return None
    return {
        "cause": verdict.cause,
        "kind": verdict.kind,
        "hop": verdict.hop,
        "generator": verdict.generator,
        "confidence": round(verdict.confidence, 2),
        "summary": verdict.summary,
        "evidence": list(verdict.evidence),
        "next_steps": list(verdict.next_steps),
    }


def result_to_json(result: ProbeResult) -> dict[str, Any]:
    """The object ``gatewatch probe --json`` prints (DESIGN.md, "The contract")."""
    out: dict[str, Any] = {
        "name": result.name,
        "url": redact_url(result.url),
        "started_at": format_time(result.started_at),
        "ok": result.ok,
        "status_code": result.status_code,
        "total_ms": _round_ms(result.total_ms),
        "address": result.address,
        "hops": [hop_to_json(h) for h in result.hops],
        "origin": result_to_json(result.origin) if result.origin else None,
        "verdict": verdict_to_json(result.verdict),
        "http_version": result.http_version,
    }
    if result.other_version is not None:
        out["other_version"] = result_to_json(result.other_version)
    if result.addresses:
        out["addresses"] = [
            {
                "address": a.address,
                "ok": a.ok,
                "status_code": a.status_code,
                "total_ms": _round_ms(a.total_ms),
                "failed_hop": a.failed_hop,
                "kind": a.kind,
                "error": a.error,
                "hops": [hop_to_json(h) for h in a.hops],
            }
            for a in result.addresses
        ]
    return out
