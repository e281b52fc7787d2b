"""Small text helpers for evidence lines: cap untrusted excerpts, format durations.

Evidence quotes what a server sent, so it is untrusted text. It is kept verbatim
(control characters included: making them visible is the renderer's job), but it is
folded onto one line and capped, so a hostile body cannot grow a verdict without bound.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

#: Longest excerpt of a header value or body quoted in an evidence line.
EXCERPT_LIMIT = 120

_LINE_BREAKS = re.compile(r"[ \t\r\n]+")


def clip(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """``text`` on one line, at most ``limit`` characters (an ellipsis marks the cut)."""
    text = _LINE_BREAKS.sub(" ", text).strip()
    if len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def fmt_ms(ms: float) -> str:
    """Milliseconds below 10 s (what engineers compare), seconds above; tenths below 10 ms."""
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 10_000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"


def host_port(url: str) -> tuple[str, str]:
    """Host and port of ``url`` for next steps (``dig HOST``, ``openssl s_client``)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url, "443"
    host = parts.hostname or url
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    return host, str(port)


def netloc(url: str) -> str:
    """``host:port`` of ``url`` as written, for short evidence lines."""
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return clip(url, 60)
