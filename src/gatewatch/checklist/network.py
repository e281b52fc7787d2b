"""The checks that look below HTTP: DNS (every resolver, side by side), TLS, a plain connect.

Why separate from the probe: a probe asks one question the way a client would; these steps
ask the questions an engineer asks next. DNS asks each configured resolver *and* the
system's on its own, so a disagreement (a change still propagating, split horizon) shows as
two answers, not one warning. TLS reads the certificate facts the probe collected, and the
chain where Python can show it (3.13+).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import ssl
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gatewatch.checklist.context import CheckContext, Finding, ms_text
from gatewatch.diagnose.advice import HOP_SUMMARY
from gatewatch.diagnose.text import clip, host_port
from gatewatch.probe.dns import SLOW_DNS_MS, Resolution, is_ip_literal
from gatewatch.probe.tls import cert_facts, make_context

# --------------------------------------------------------------------------- plain connect


@dataclass(frozen=True)
class Connect:
    """One plain TCP connect: where, how long, and what went wrong (None: it connected)."""

    target: str
    ms: float | None
    kind: str | None = None
    error: str | None = None

    @property
    def line(self) -> str:
        if self.kind is None:
            return f"TCP connect to {self.target}: accepted in {ms_text(self.ms or 0.0)}"
        return f"TCP connect to {self.target}: {self.error or self.kind}"


def _bracket(address: str) -> str:
    return f"[{address}]" if ":" in address else address


async def connect(ctx: CheckContext, host: str, port: int) -> Connect:
    """Resolve ``host`` as the endpoint would and open (then close) a TCP connection."""
    bound = ctx.settings.lookup_bound
    if is_ip_literal(host):
        address = host.strip("[]")
    else:
        resolution = await ctx.prober.dns.resolve(host, ctx.endpoint.resolvers, bound=bound)
        if not resolution.addresses:
            return Connect(f"{host}:{port}", None, "dns", f"{host} does not resolve")
        address = resolution.addresses[0]
    target = f"{_bracket(address)}:{port}"
    started = time.perf_counter()
    try:
        async with asyncio.timeout(bound):
            _reader, writer = await asyncio.open_connection(address, port)
    except TimeoutError:
        return Connect(target, None, "connect_timeout", f"no answer within {bound:g} s")
    except ConnectionRefusedError:
        return Connect(target, None, "refused", "refused (nothing listens there)")
    except OSError as exc:
        kind = "unreachable" if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH) else "error"
        return Connect(target, None, kind, exc.strerror or str(exc))
    ms = (time.perf_counter() - started) * 1000
    writer.transport.abort()
    return Connect(target, ms)


# --------------------------------------------------------------------------- DNS


def _answer_line(label: str, resolution: Resolution) -> str:
    detail = resolution.detail
    if resolution.status == "fail":
        answer = resolution.answers[0] if resolution.answers else None
        why = answer.error if answer and answer.error else resolution.error or ""
        return f"{label}: {str(resolution.kind).upper()} ({clip(why, 100)})"
    parts = [", ".join(resolution.addresses)]
    ttl = detail.get("ttl")
    if ttl is not None:
        parts.append(f"TTL {ttl} s")
    if resolution.ms is not None:
        parts.append(ms_text(resolution.ms))
    if detail.get("source") == "hosts":
        parts.append(f"from {detail.get('file', 'the hosts file')}")
    return f"{label}: " + "; ".join(parts)


def cname_chain(links: list[str]) -> str:
    """``["a → b", "b → c"]`` (the probe's CNAME links) as one chain: ``a → b → c``."""
    names: list[str] = []
    for link in links:
        for name in str(link).split(" → "):
            if not names or names[-1] != name:
                names.append(name)
    return " → ".join(names)


def _label(spec: str | None, resolution: Resolution) -> str:
    if spec is not None:
        return f"resolver {spec}"
    if resolution.answers:
        return resolution.answers[0].resolver
    return "system"


async def check_dns(ctx: CheckContext) -> Finding:
    """Each configured resolver and the system's, answers and TTLs side by side."""
    host, _port = host_port(ctx.endpoint.url)
    if is_ip_literal(host):
        return Finding("not_applicable", f"the URL names an address ({host}): no DNS")
    bound = ctx.settings.lookup_bound
    specs: list[str | None] = list(ctx.endpoint.resolvers)
    if not specs or ctx.settings.system_resolver:
        specs.append(None)
    found = await asyncio.gather(
        *(ctx.prober.dns.resolve(host, [s] if s else [], bound=bound) for s in specs)
    )
    labelled = [(_label(s, r), s, r) for s, r in zip(specs, found, strict=True)]
    # The resolvers the probes use decide; the system's (when others are set) is a comparison.
    primary = [
        (label, r) for label, s, r in labelled if s is not None or not ctx.endpoint.resolvers
    ]
    extra = [(label, r) for label, s, r in labelled if s is None and ctx.endpoint.resolvers]
    evidence = [_answer_line(label, r) for label, _s, r in labelled]
    cnames = next(
        (r.detail.get("cnames") for _l, _s, r in labelled if r.detail.get("cnames")), None
    )
    if cnames:
        evidence.append("CNAME chain: " + clip(cname_chain(cnames), 200))
    if ctx.endpoint.proxy:
        evidence.append("a forward proxy is set: it resolves the name itself, these are ours")
    facts: dict[str, Any] = {
        "name": host,
        "answers": [
            {
                "resolver": label,
                "status": r.status,
                "kind": r.kind,
                "addresses": list(r.addresses),
                "ttl": r.detail.get("ttl"),
                "cnames": list(r.detail.get("cnames") or ()),
                "ms": None if r.ms is None else round(r.ms, 3),
            }
            for label, _s, r in labelled
        ],
    }
    return _dns_finding(host, primary, extra, evidence, facts)


def _dns_finding(
    host: str,
    primary: list[tuple[str, Resolution]],
    extra: list[tuple[str, Resolution]],
    evidence: list[str],
    facts: dict[str, Any],
) -> Finding:
    failed = [(label, r) for label, r in primary if r.status == "fail"]
    answered = [(label, r) for label, r in primary if r.status != "fail"]
    if not answered:
        label, first = failed[0]
        kind = first.kind or "failed"
        known = HOP_SUMMARY["dns"].get(kind, "{host}: " + kind)
        return Finding("fail", f"{known.format(host=host)} ({label})", evidence, facts)
    sets = {frozenset(r.addresses) for _l, r in answered}
    if failed or len(sets) > 1:
        what = "; ".join(f"{label}: {r.kind}" for label, r in failed) or "different addresses"
        evidence.append(
            "resolvers disagree: a change still propagating (wait out the TTL) or split-horizon "
            "DNS; check which resolver clients use"
        )
        return Finding("warn", f"resolvers disagree about {host} ({what})", evidence, facts)
    addresses = next(iter(sets))
    for label, r in extra:
        if r.status == "fail":
            evidence.append(
                f"{label} cannot resolve {host} ({r.kind}): clients using it fail (split horizon?)"
            )
        elif frozenset(r.addresses) != addresses:
            return Finding(
                "warn",
                f"{label} answers {', '.join(r.addresses)} for {host}, the endpoint's resolvers "
                f"{', '.join(sorted(addresses))}",
                evidence,
                facts,
            )
    slow = [label for label, r in answered if r.ms is not None and r.ms > SLOW_DNS_MS]
    if slow:
        return Finding("warn", f"{host} resolves, slowly ({', '.join(slow)})", evidence, facts)
    count = len(answered)
    agree = f"{count} resolvers agree" if count > 1 else answered[0][0]
    return Finding("pass", f"{host} → {', '.join(sorted(addresses))} ({agree})", evidence, facts)


# --------------------------------------------------------------------------- TLS


def covers(host: str, names: list[str]) -> bool:
    """Whether a certificate's SANs cover ``host`` (one wildcard label, as browsers do)."""
    host = host.lower().rstrip(".")
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
        return any(n == str(ip) for n in names)
    except ValueError:
        pass
    for name in (n.lower().rstrip(".") for n in names):
        if name == host:
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False


def _cert_lines(detail: Mapping[str, Any]) -> list[str]:
    lines = []
    if detail.get("subject"):
        lines.append(f"leaf: {clip(str(detail['subject']), 100)}")
    if detail.get("issuer"):
        lines.append(f"issuer: {clip(str(detail['issuer']), 100)}")
    if detail.get("sans"):
        lines.append("names (SAN): " + clip(", ".join(map(str, detail["sans"])), 160))
    if detail.get("not_before") or detail.get("not_after"):
        lines.append(
            f"valid from {clip(str(detail.get('not_before', '?')), 40)} "
            f"until {clip(str(detail.get('not_after', '?')), 40)}"
        )
    if detail.get("version"):
        lines.append(f"{detail['version']} {detail.get('cipher') or ''}".strip())
    return lines


async def check_tls(ctx: CheckContext) -> Finding:
    """Validity, hostname and days left of the certificate; the chain on Python 3.13+."""
    if not ctx.endpoint.url.lower().startswith("https:"):
        return Finding("not_applicable", "http:// — no TLS on this endpoint")
    result = await ctx.current()
    hop = result.hop("tls")
    host, port = host_port(ctx.endpoint.url)
    detail = dict(hop.detail)
    facts = {k: detail.get(k) for k in ("subject", "issuer", "sans", "days_left", "not_after")}
    facts["status"], facts["kind"] = hop.status, hop.kind
    if hop.status == "skip":
        failed = result.failed_hop
        where = f"the {failed.name} hop failed first" if failed else "no handshake happened"
        return Finding("inconclusive", f"TLS did not run: {where}", [], facts)
    evidence = _cert_lines(detail)
    sans = [str(s) for s in detail.get("sans") or ()]
    if sans:
        word = "covers" if covers(host, sans) else "does NOT cover"
        evidence.append(f"the certificate {word} {host}")
    evidence.append(await _chain_line(ctx, result.address, host, int(port)))
    days = detail.get("days_left")
    if hop.status == "fail":
        kind = hop.kind or "handshake_failed"
        summary = HOP_SUMMARY["tls"].get(kind, "TLS failed ({kind})").format(host=host, kind=kind)
        return Finding(
            "fail", summary, [f"tls: {hop.error}" if hop.error else "", *evidence], facts
        )
    if isinstance(days, int | float) and days < ctx.expiring_days:
        return Finding(
            "warn",
            f"the certificate of {host} expires in {days:.1f} days",
            [*evidence, f"warning under {ctx.expiring_days:g} days"],
            facts,
        )
    left = f", {days:.0f} days left" if isinstance(days, int | float) else ""
    return Finding("pass", f"the certificate of {host} is valid{left}", evidence, facts)


async def _chain_line(ctx: CheckContext, address: str | None, host: str, port: int) -> str:
    if sys.version_info < (3, 13):
        return "chain: Python 3.13 or newer shows it (this is " + sys.version.split()[0] + ")"
    if ctx.endpoint.proxy or not address:
        return "chain: not fetched (the connection goes through a forward proxy)"
    chain = await fetch_chain(address, port, host, ctx.settings.lookup_bound)
    if not chain:
        return "chain: could not be read"
    return "chain: " + " ← ".join(f"{clip(str(c.get('subject', '?')), 60)}" for c in chain)


async def fetch_chain(
    address: str, port: int, host: str, bound: float
) -> list[dict[str, Any]] | None:  # pragma: no cover - needs Python 3.13
    """The chain the server sends (leaf first), from an unverified handshake."""
    context = make_context(verify=False)
    try:
        async with asyncio.timeout(bound):
            _reader, writer = await asyncio.open_connection(
                address, port, ssl=context, server_hostname=host
            )
    except (OSError, TimeoutError, ssl.SSLError):
        return None
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        getter = getattr(ssl_object, "get_unverified_chain", None)
        if getter is None:
            return None
        # 3.13: a list of DER-encoded certificates, leaf first.
        return [cert_facts(bytes(der)) for der in getter() if isinstance(der, bytes | bytearray)]
    except (ValueError, ssl.SSLError):
        return None
    finally:
        writer.transport.abort()
