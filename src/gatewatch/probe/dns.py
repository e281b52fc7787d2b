"""The dns hop: resolve a name ourselves, so DNS time never hides inside the tcp hop.

Order (probe-engine-notes §5): an IP literal needs no DNS; a name in the hosts file
resolves from it (dnspython never reads it); otherwise dnspython asks for A and AAAA
concurrently (``resolve_name`` would do them one after the other). Each resolution is
wrapped in ``asyncio.timeout`` because dnspython's lifetime overshoots by its backoff.
With several resolvers configured, all are asked at once and their answers compared.

Nothing here knows about HTTP.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

#: Resolution slower than this is a warning (``slow``): the page still loads, but late.
SLOW_DNS_MS = 500.0
#: One attempt of one query; the whole resolution is bounded by the probe's deadline.
ATTEMPT_TIMEOUT = 2.0


@dataclass(frozen=True)
class Answer:
    """What one resolver said about one name."""

    resolver: str
    addresses: tuple[str, ...] = ()
    ttl: int | None = None
    cnames: tuple[str, ...] = ()
    ms: float = 0.0
    kind: str | None = None  # nxdomain, servfail, no_answer, timeout
    error: str | None = None


@dataclass(frozen=True)
class Resolution:
    """The dns hop's outcome: the addresses to dial, and how we got them."""

    name: str
    source: str  # literal, hosts, dns, system
    addresses: tuple[str, ...]
    ms: float | None
    answers: tuple[Answer, ...] = ()
    status: str = "ok"  # ok, warn, fail, skip
    kind: str | None = None
    error: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def parse_resolver(spec: str) -> tuple[str, int]:
    """``"1.1.1.1"`` → (1.1.1.1, 53); ``"127.0.0.1:5353"``; ``"[::1]:53"``; ``"::1"``."""
    spec = spec.strip()
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else 53
    elif spec.count(":") == 1:
        host, _, port_text = spec.partition(":")
        port = int(port_text)
    else:
        host, port = spec, 53
    ipaddress.ip_address(host)  # resolvers are addresses: a name would need DNS itself
    if not 0 < port < 65536:
        raise ValueError(f"port out of range in resolver {spec!r}")
    return host, port


def hosts_path() -> Path:
    if sys.platform == "win32":  # pragma: no cover - documented platform difference
        root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        return Path(root) / "System32" / "drivers" / "etc" / "hosts"
    return Path("/etc/hosts")


class HostsFile:
    """The hosts file, re-read only when it changes (a probe loop must not reparse it)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or hosts_path()
        self._stamp: tuple[int, int] | None = None
        self._table: dict[str, tuple[str, ...]] = {}

    def lookup(self, name: str) -> tuple[str, ...]:
        try:
            st = self.path.stat()
        except OSError:
            return ()
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            self._table = self._parse(self.path.read_text(errors="replace"))
            self._stamp = stamp
        return self._table.get(name.lower().rstrip("."), ())

    @staticmethod
    def _parse(text: str) -> dict[str, tuple[str, ...]]:
        table: dict[str, list[str]] = {}
        for line in text.splitlines():
            fields = line.split("#", 1)[0].split()
            if len(fields) < 2 or not is_ip_literal(fields[0]):
                continue
            for name in fields[1:]:
                addrs = table.setdefault(name.lower(), [])
                if fields[0] not in addrs:
                    addrs.append(fields[0])
        return {name: tuple(addrs) for name, addrs in table.items()}


def _order(addresses: Sequence[str]) -> tuple[str, ...]:
    """IPv4 first, then IPv6, each in answer order: the address we dial is the first."""
    v4 = [a for a in addresses if ":" not in a]
    v6 = [a for a in addresses if ":" in a]
    return tuple(v4 + v6)


def _classify(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return "nxdomain", "the name does not exist (NXDOMAIN)"
    if isinstance(exc, TimeoutError | dns.exception.Timeout):
        return "timeout", "no answer from the resolver in time"
    if isinstance(exc, dns.resolver.NoNameservers):
        errors = exc.kwargs.get("errors") or []
        rcodes = {str(e[3]) for e in errors if len(e) > 3}
        if any("SERVFAIL" in r for r in rcodes):
            return "servfail", "the resolver answered SERVFAIL"
        if any("REFUSED" in r for r in rcodes):
            return "servfail", "the resolver refused the query (REFUSED)"
        return "servfail", "no resolver could answer"
    if isinstance(exc, dns.resolver.NoAnswer):
        return "no_answer", "the name exists but has no A or AAAA record"
    if isinstance(exc, OSError):
        return "servfail", f"cannot reach the resolver: {exc.strerror or exc}"
    return "servfail", f"{type(exc).__name__}: {exc}"


class DnsResolver:
    """Resolves names for probes; reuses one dnspython resolver per resolver set."""

    def __init__(self, hosts: HostsFile | None = None) -> None:
        self.hosts = hosts or HostsFile()
        self._resolvers: dict[tuple[str, int] | None, dns.asyncresolver.Resolver] = {}

    def _resolver_for(self, server: tuple[str, int] | None) -> dns.asyncresolver.Resolver:
        cached = self._resolvers.get(server)
        if cached is not None:
            return cached
        if server is None:
            resolver = dns.asyncresolver.Resolver()  # the system's (resolv.conf)
        else:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [dns.nameserver.Do53Nameserver(server[0], server[1])]
        resolver.cache = None  # every probe asks: a cached answer would hide a failure
        resolver.timeout = ATTEMPT_TIMEOUT
        self._resolvers[server] = resolver
        return resolver

    async def resolve(self, name: str, resolvers: Sequence[str], bound: float) -> Resolution:
        """Resolve ``name`` within ``bound`` seconds, never longer."""
        host = name.strip("[]")
        if is_ip_literal(host):
            return Resolution(
                name=host,
                source="literal",
                addresses=(host,),
                ms=None,
                status="skip",
                detail={"source": "literal", "addresses": [host]},
            )
        started = time.perf_counter()
        if not resolvers:
            from_hosts = self.hosts.lookup(host)
            if from_hosts:
                ms = (time.perf_counter() - started) * 1000
                addrs = _order(from_hosts)
                return Resolution(
                    name=host,
                    source="hosts",
                    addresses=addrs,
                    ms=ms,
                    detail={
                        "source": "hosts",
                        "file": str(self.hosts.path),
                        "addresses": list(addrs),
                    },
                )
        servers: list[tuple[str, int] | None] = (
            [parse_resolver(r) for r in resolvers] if resolvers else [None]
        )
        answers = await asyncio.gather(*(self._ask(host, server, bound) for server in servers))
        return self._combine(host, answers, time.perf_counter() - started)

    async def _ask(self, host: str, server: tuple[str, int] | None, bound: float) -> Answer:
        resolver = self._resolver_for(server)
        lifetime = max(bound, 0.001)
        label = (
            f"{server[0]}:{server[1]}"
            if server and ":" not in server[0]
            else f"[{server[0]}]:{server[1]}"
            if server
            else "system (" + ", ".join(str(n) for n in resolver.nameservers[:3]) + ")"
        )
        started = time.perf_counter()
        try:
            async with asyncio.timeout(bound):
                got = await asyncio.gather(
                    resolver.resolve(
                        host, "A", search=False, raise_on_no_answer=False, lifetime=lifetime
                    ),
                    resolver.resolve(
                        host, "AAAA", search=False, raise_on_no_answer=False, lifetime=lifetime
                    ),
                )
        except (TimeoutError, dns.exception.DNSException, OSError) as exc:
            kind, message = _classify(exc)
            return Answer(
                resolver=label, ms=(time.perf_counter() - started) * 1000, kind=kind, error=message
            )
        ms = (time.perf_counter() - started) * 1000
        addresses: list[str] = []
        ttls: list[int] = []
        cnames: list[str] = []
        for answer in got:
            if answer.rrset is not None:
                addresses.extend(rdata.to_text() for rdata in answer.rrset)
                ttls.append(answer.rrset.ttl)
            for rrset in answer.chaining_result.cnames:
                for rdata in rrset:
                    hop = f"{rrset.name.to_text(omit_final_dot=True)} → " + rdata.to_text().rstrip(
                        "."
                    )
                    if hop not in cnames:
                        cnames.append(hop)
        if not addresses:
            return Answer(
                resolver=label,
                ms=ms,
                cnames=tuple(cnames),
                kind="no_answer",
                error="the name exists but has no A or AAAA record",
            )
        return Answer(
            resolver=label, addresses=_order(addresses), ttl=min(ttls), ms=ms, cnames=tuple(cnames)
        )

    @staticmethod
    def _combine(host: str, answers: Sequence[Answer], elapsed: float) -> Resolution:
        primary = answers[0]
        good = [a for a in answers if not a.kind]
        chosen = primary if not primary.kind else (good[0] if good else primary)
        detail: dict[str, Any] = {
            "source": "dns" if not chosen.resolver.startswith("system") else "system",
            "resolver": chosen.resolver,
            "addresses": list(chosen.addresses),
            "ttl": chosen.ttl,
            "cnames": list(chosen.cnames),
        }
        if len(answers) > 1:
            detail["resolvers"] = [
                {
                    "resolver": a.resolver,
                    "addresses": list(a.addresses),
                    "ttl": a.ttl,
                    "ms": round(a.ms, 3),
                    "error": a.error,
                    "kind": a.kind,
                }
                for a in answers
            ]
        ms = primary.ms if not primary.kind or not good else chosen.ms
        if not good:
            return Resolution(
                name=host,
                source="dns",
                addresses=(),
                ms=ms,
                answers=tuple(answers),
                status="fail",
                kind=primary.kind,
                error=f"{host}: {primary.error} ({primary.resolver})",
                detail=detail,
            )
        status, kind, error = "ok", None, None
        distinct = {frozenset(a.addresses) for a in answers if not a.kind}
        failed = [a for a in answers if a.kind]
        if len(distinct) > 1 or failed:
            status, kind = "warn", "resolver_mismatch"
            if failed:
                error = "resolvers disagree: " + "; ".join(f"{a.resolver} {a.kind}" for a in failed)
            else:
                error = "resolvers disagree: " + "; ".join(
                    f"{a.resolver} → {', '.join(a.addresses)}" for a in answers
                )
        elif ms is not None and ms > SLOW_DNS_MS:
            status, kind, error = "warn", "slow", f"resolution took {ms:.0f} ms"
        return Resolution(
            name=host,
            source=detail["source"],
            addresses=chosen.addresses,
            ms=ms,
            answers=tuple(answers),
            status=status,
            kind=kind,
            error=error,
            detail=detail,
        )
