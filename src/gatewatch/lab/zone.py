"""The lab's DNS data: the ``lab.test.`` zone, its misbehaving names, and runtime records.

Pure data and lookups, no sockets: the DNS server answers from it over the wire and the
forward proxy resolves through it in-process, so both always agree. Thread-safe, because
tests add records from their own thread while the lab's loop answers queries.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

ZONE = "lab.test"
IN = dns.rdataclass.IN
ROOT = dns.name.root

#: The static zone: name → rtype → (ttl, values). Runtime records (``add``) replace these.
STATIC_RECORDS: Mapping[str, Mapping[str, tuple[int, tuple[str, ...]]]] = {
    "app.lab.test": {"A": (300, ("127.0.0.1",)), "AAAA": (200, ("::1",))},
    "v4.lab.test": {"A": (300, ("127.0.0.1",))},
    "cname.lab.test": {"CNAME": (60, ("alias.lab.test.",))},
    "alias.lab.test": {"CNAME": (120, ("app.lab.test.",))},
    "pool.lab.test": {"A": (300, ("127.0.0.1", "127.0.0.2"))},
    "proxy.lab.test": {"A": (300, ("127.0.0.1",))},
    "slow.lab.test": {"A": (300, ("127.0.0.1",))},
}

# Names that misbehave instead of (or before) answering; ``add`` on the name cancels that.
_SERVFAIL, _DROP, _DELAY = "servfail", "drop", "delay"
# slow-{ms}.lab.test: A 127.0.0.1 after ms milliseconds.
_SLOW_MS = re.compile(r"^slow-(\d{1,6})\.lab\.test$")
_SOA_TEXT = "ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 60"
_MAX_CHAIN = 8

#: name → rtype → (ttl, rdatas)
Records = dict[str, dict[str, tuple[int, tuple[dns.rdata.Rdata, ...]]]]


def normalize(name: str) -> str:
    """Lower-case, no trailing dot: the key every table here uses."""
    return name.strip().rstrip(".").lower()


@dataclass(frozen=True)
class Resolution:
    """What the zone says about one question, before it becomes a DNS message."""

    rcode: dns.rcode.Rcode = dns.rcode.NOERROR
    answer: tuple[dns.rrset.RRset, ...] = ()
    #: Negative answers carry the zone's SOA, as an authoritative server's do.
    authority: tuple[dns.rrset.RRset, ...] = ()
    #: Seconds to wait before answering.
    delay: float = 0.0
    #: Never answer at all.
    drop: bool = False


def _parse(rtype: str, values: Iterable[str]) -> tuple[dns.rdata.Rdata, ...]:
    """Rdata from text; ValueError (naming the culprit) for an unknown type or a bad value."""
    texts = list(values)
    try:
        rdtype = dns.rdatatype.from_text(rtype)
        # Names in rdata ("app.lab.test") are absolute, trailing dot or not.
        return tuple(
            dns.rdata.from_text(IN, rdtype, v, origin=ROOT, relativize=False) for v in texts
        )
    except dns.exception.DNSException as exc:
        raise ValueError(f"bad {rtype} record {texts!r}: {exc}") from exc


def _rrset(owner: str, ttl: int, rdatas: Iterable[dns.rdata.Rdata]) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(dns.name.from_text(owner + "."), ttl, list(rdatas))


def compile_overrides(overrides: Mapping[str, Iterable[str]], ttl: int = 300) -> Records:
    """Name → addresses as A (IPv4) / AAAA (IPv6) records, for a server that disagrees."""
    compiled: Records = {}
    for name, values in overrides.items():
        families = {"A": [v for v in values if ":" not in v]}
        families["AAAA"] = [v for v in values if ":" in v]
        compiled[normalize(name)] = {
            rtype: (ttl, _parse(rtype, vals)) for rtype, vals in families.items() if vals
        }
    return compiled


class DnsTable:
    """The zone plus runtime records; ``add`` wins over the static table and its tricks."""

    def __init__(self, slow_delay_ms: float = 200.0) -> None:
        self._lock = threading.Lock()
        self._records: Records = {
            name: {rt: (ttl, _parse(rt, vals)) for rt, (ttl, vals) in rtypes.items()}
            for name, rtypes in STATIC_RECORDS.items()
        }
        self._tricks: dict[str, tuple[str, float]] = {
            "servfail.lab.test": (_SERVFAIL, 0.0),
            "drop.lab.test": (_DROP, 0.0),
            "slow.lab.test": (_DELAY, slow_delay_ms / 1000.0),
        }
        self._soa = dns.rrset.from_text(ZONE + ".", 60, "IN", "SOA", _SOA_TEXT)

    def add(self, name: str, rtype: str, values: Iterable[str], ttl: int = 300) -> None:
        """Set (replace) the ``rtype`` records of ``name``; from then on it answers normally.

        Values are rdata text (``"127.0.0.1"``, ``"target.lab.test."``). A bad one raises
        here, in the caller's thread, rather than later in the server.
        """
        rdatas = _parse(rtype, values)
        key = normalize(name)
        with self._lock:
            self._records.setdefault(key, {})[rtype.upper()] = (int(ttl), rdatas)
            self._tricks.pop(key, None)

    def remove(self, name: str, rtype: str | None = None) -> None:
        """Forget the records of ``name`` (every type when ``rtype`` is None)."""
        key = normalize(name)
        with self._lock:
            if rtype is None:
                self._records.pop(key, None)
                self._tricks.pop(key, None)
            else:
                self._records.get(key, {}).pop(rtype.upper(), None)

    def resolve(self, qname: str, rtype: str, overrides: Records | None = None) -> Resolution:
        """Answer ``qname``/``rtype`` as the lab's DNS server does, CNAME chain included."""
        name, rtype = normalize(qname), rtype.upper()
        with self._lock:
            trick, delay = self._tricks.get(name, ("", 0.0))
            if trick == _SERVFAIL:
                return Resolution(rcode=dns.rcode.SERVFAIL)
            if trick == _DROP:
                return Resolution(drop=True)
            known = name in self._records or (overrides is not None and name in overrides)
            if not known and (match := _SLOW_MS.match(name)):
                answer = _rrset(name, 300, _parse("A", ["127.0.0.1"])) if rtype == "A" else None
                return Resolution(
                    answer=(answer,) if answer else (),
                    authority=() if answer else (self._soa,),
                    delay=int(match[1]) / 1000.0,
                )
            return self._walk(name, rtype, overrides or {}, delay)

    def _walk(self, name: str, rtype: str, overrides: Records, delay: float) -> Resolution:
        answer: list[dns.rrset.RRset] = []
        current = name
        for _ in range(_MAX_CHAIN):
            if current not in self._records and current not in overrides:
                return Resolution(dns.rcode.NXDOMAIN, tuple(answer), self._negative(current), delay)
            records = {**self._records.get(current, {}), **overrides.get(current, {})}
            if rtype in records:
                ttl, rdatas = records[rtype]
                answer.append(_rrset(current, ttl, rdatas))
                return Resolution(answer=tuple(answer), delay=delay)
            if rtype == "CNAME" or "CNAME" not in records:
                break
            ttl, rdatas = records["CNAME"]
            answer.append(_rrset(current, ttl, rdatas[:1]))
            current = normalize(rdatas[0].to_text())
        return Resolution(answer=tuple(answer), authority=self._negative(current), delay=delay)

    def _negative(self, name: str) -> tuple[dns.rrset.RRset, ...]:
        return (self._soa,) if name == ZONE or name.endswith("." + ZONE) else ()

    def addresses(self, name: str) -> list[str]:
        """A then AAAA addresses of ``name`` (CNAMEs followed), for in-process resolution."""
        found: list[str] = []
        for rtype in ("A", "AAAA"):
            resolution = self.resolve(name, rtype)
            if resolution.drop or resolution.rcode != dns.rcode.NOERROR:
                return []
            wanted = dns.rdatatype.from_text(rtype)
            for rrset in resolution.answer:
                if rrset.rdtype == wanted:
                    found.extend(rdata.to_text() for rdata in rrset)
        return found
