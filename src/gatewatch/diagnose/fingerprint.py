"""The shape of a gateway fingerprint: markers, page templates and the hints they carry.

Only types and two tiny helpers live here; the rows are in ``proxies.py`` (software a
team runs: nginx, HAProxy, Envoy …) and ``platforms.py`` (CDNs and clouds), and
``gateways.py`` puts them in matching order. Nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def rx(pattern: str) -> re.Pattern[str]:
    """Patterns are case-sensitive unless they say ``(?i)``: templates are exact text."""
    return re.compile(pattern)


@dataclass(frozen=True)
class Marker:
    """A response header showing that ``generator`` is in the path."""

    generator: str
    #: Lower-case header name.
    header: str
    #: Pattern the value must match (``re.search``); None: presence is enough.
    value: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Hint:
    """What a matched page says about the cause. The first matching row of a template wins."""

    #: Verdict kind the page names, or None when it cannot tell (see ``candidates``).
    kind: str | None
    #: The probability that the claim is right: the kind, or, with ``candidates``, "one of
    #: these" (measured on real gateways: bench/accuracy.py, bench/README.md §accuracy).
    confidence: float
    #: Evidence line explaining the reading, quoting the vendor's behaviour.
    note: str
    statuses: frozenset[int] = frozenset()
    body: re.Pattern[str] | None = None
    #: (lower-case header name, pattern the value must match).
    header: tuple[str, re.Pattern[str]] | None = None
    #: Windows of elapsed time (seconds, inclusive) the row needs; empty: any time.
    elapsed_s: tuple[tuple[float, float], ...] = ()
    #: Kinds the page cannot tell apart.
    candidates: tuple[str, ...] = ()
    #: The row needs the answer at a whole number of seconds (a configured timer fired).
    at_timer: bool = False


@dataclass(frozen=True)
class Template:
    """A page a tier generates itself."""

    name: str
    generator: str
    #: How evidence names the page; ``{status}`` is replaced.
    label: str
    source: str
    #: Patterns that must all match the body (``re.search``).
    body: tuple[re.Pattern[str], ...] = ()
    statuses: frozenset[int] = frozenset()
    #: One of these tiers must be marked in the headers.
    markers: frozenset[str] = frozenset()
    #: Headers that must be present (lower-case names).
    headers: tuple[str, ...] = ()
    #: The page is only recognised when the body is empty (Caddy, Netlify).
    empty_body: bool = False
    #: The page says the *origin* produced the error (a Cloudflare-branded 502/504).
    passthrough: bool = False
    confidence: float = 0.9
    #: Group 1 of this pattern is quoted in evidence (Apache's Reason, Envoy's reset reason …).
    excerpt: re.Pattern[str] | None = None
    hints: tuple[Hint, ...] = ()


def codes(*statuses: int) -> frozenset[int]:
    """A set of status codes, for ``Template.statuses`` and ``Hint.statuses``."""
    return frozenset(statuses)
