"""Name a tier that is in no table, and tell whether the application generated an answer.

The fingerprint tables will never list every gateway, so an unrecognised ``Server`` is
evidence of nothing (issue 17 §0: a closed-world "unknown Server = the app" rule was
wrong on 13 of 14 answers from real proxies). Saying "the application generated this
5xx" needs positive evidence; saying "a gateway did" needs some too. This module holds
both kinds of evidence as data and small pure functions:

- ``product_token``: a tier's own name from its ``Server`` / ``Via`` value
  (``edgeproxy/3.1`` → ``edgeproxy``), so an unknown tier is still named;
- ``PathIdentity``: what the endpoint's healthy answers look like (Server token, header
  names, Via); a failure with another identity came from another tier;
- ``generic_gateway_page``: the short page (or empty body) gateways send, which
  applications rarely do for 502/504;
- ``round_seconds``: an answer at a whole number of seconds is a timeout firing.

No I/O, no clock: the history it compares against is handed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gatewatch.model import ProbeResult, Response

#: Server tokens of application servers: an answer carrying one was made by the app.
APP_SERVERS = frozenset(
    {
        "gunicorn",
        "uvicorn",
        "hypercorn",
        "daphne",
        "werkzeug",
        "waitress",
        "tornadoserver",
        "cherrypy",
        "puma",
        "unicorn",
        "thin",
        "webrick",
        "kestrel",
        "jetty",
        "apache-coyote",
        "undertow",
        "wildfly",
        "glassfish",
        "payara",
        "express",
        "php",
        "deno",
    }
)

#: Headers only an application (or its framework) sets: positive evidence it answered.
APP_HEADERS = ("x-powered-by", "x-aspnet-version", "x-request-id-app", "x-runtime")

#: Statuses applications rarely emit themselves: a generic page with one is a gateway's.
GATEWAY_STATUSES = frozenset({502, 504})

#: A gateway's own page is small; an application's error page is usually not.
GENERIC_PAGE_LIMIT = 1024

#: Header names every HTTP/1.1 answer may carry whichever tier made it: not identity.
_COMMON_NAMES = frozenset(
    {"date", "content-length", "content-type", "connection", "keep-alive", "transfer-encoding"}
)

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_VIA_COMMENT = re.compile(r"\(([^)]*)\)")
_TITLE = re.compile(r"(?is)<title>\s*([^<]{0,200}?)\s*</title>")
_TAGS = re.compile(r"(?s)<[^>]*>")


def product_token(value: str | None) -> str | None:
    """The product name in a ``Server`` value, lower-case, version dropped.

    ``edgeproxy/3.1`` → ``edgeproxy``; ``Apache/2.4.71 (Debian)`` → ``apache``;
    ``Microsoft-IIS/10.0`` → ``microsoft-iis``. None when there is no token.
    """
    if not value:
        return None
    found = _TOKEN.search(value.split("/", 1)[0])
    return found.group(0).lower() if found else None


def via_token(value: str | None) -> str | None:
    """The tier named by the first (innermost) entry of a ``Via`` value.

    ``1.1 vm (squid/5.7)`` → ``squid`` (the product in the comment beats the host
    pseudonym); ``1.1 varnish (Varnish/7.1)`` → ``varnish``; ``1.1 edge-7`` → ``edge-7``.
    """
    if not value:
        return None
    first = value.split(",", 1)[0].strip()
    comment = _VIA_COMMENT.search(first)
    if comment and (token := product_token(comment.group(1))):
        return token
    parts = _VAR_SPLIT.split(_VIA_COMMENT.sub("", first).strip())
    received_by = parts[1] if len(parts) > 1 else parts[0]
    return product_token(received_by)


_VAR_SPLIT = re.compile(r"\s+")


def tier_token(response: Response) -> str | None:
    """The name an unrecognised tier gives itself: its Server token, else its Via token."""
    return product_token(response.header("server")) or via_token(response.header("via"))


@dataclass(frozen=True)
class PathIdentity:
    """What the endpoint's answers look like: the tiers in front and the app behind."""

    #: Every Server token, in order (Caddy sends its own and relays the app's).
    servers: tuple[str, ...]
    vias: tuple[str, ...]
    #: Lower-case header names, common framing headers left out.
    names: frozenset[str]

    @property
    def distinctive(self) -> bool:
        """Whether it says anything: a Server or Via token, or a few headers of its own."""
        return bool(self.servers or self.vias or len(self.names) >= 2)

    def line(self) -> str:
        parts = []
        if self.servers:
            parts.append("Server " + " + ".join(self.servers))
        if self.vias:
            parts.append("Via " + ", ".join(self.vias))
        return "; ".join(parts) or f"{len(self.names)} header names, no Server or Via"


def identity_of(response: Response) -> PathIdentity:
    """The identity of one answer."""
    servers = tuple(t for v in response.header_all("server") if (t := product_token(v)))
    vias = tuple(t for v in response.header_all("via") if (t := via_token(v)))
    names = frozenset(name.lower() for name, _ in response.headers) - _COMMON_NAMES
    return PathIdentity(servers, vias, names)


def healthy_identity(history: Sequence[ProbeResult]) -> PathIdentity | None:
    """The identity of the most recent healthy answer that kept its headers, if any."""
    for past in reversed(history):
        response = past.response
        if past.ok and response is not None and response.headers:
            return identity_of(response)
    return None


def same_path(failure: PathIdentity, healthy: PathIdentity) -> bool:
    """Whether a failure looks like the healthy answers: same Server tokens and names.

    The header names must overlap mostly (Jaccard ≥ 0.5) as well as the Server tokens:
    a gateway that rewrites Server on everything it relays still adds its own headers
    and drops the app's on the pages it makes.
    """
    if not healthy.distinctive:
        return False
    if failure.servers != healthy.servers or failure.vias != healthy.vias:
        return False
    union = failure.names | healthy.names
    if not union:
        return True
    return len(failure.names & healthy.names) / len(union) >= 0.5


def new_tiers(failure: PathIdentity, healthy: PathIdentity) -> tuple[str, ...]:
    """Tokens on the failure that the healthy answers do not carry."""
    seen = set(healthy.servers) | set(healthy.vias)
    fresh = [t for t in (*failure.servers, *failure.vias) if t not in seen]
    return tuple(dict.fromkeys(fresh))


def generic_gateway_page(response: Response) -> str | None:
    """Why the answer looks like a gateway's own page, or None.

    An empty body, a short HTML page whose title is the status text, or a short plain
    text that is the status text: no JSON, no application markup.
    """
    status = response.status_code or 0
    if not response.body and not response.body_size:
        return f"an empty-body {status}"
    if response.body_size > GENERIC_PAGE_LIMIT:
        return None
    text = response.text
    content_type = (response.header("content-type") or "").lower()
    if "json" in content_type or "<script" in text.lower():
        return None
    words = _status_words(status)
    title = _TITLE.search(text)
    if title and _names_status(title.group(1), words):
        return f'a short generic HTML page titled "{title.group(1)[:60]}"'
    plain = _TAGS.sub(" ", text).strip()
    if plain and len(plain) <= 120 and _names_status(plain.split("\n", 1)[0], words):
        return f'a short plain "{plain.splitlines()[0][:60]}"'
    return None


#: The status texts gateways put in their pages (a server's own reason phrase may be
#: anything, so it is not trusted to say the page is generic).
_STATUS_TEXT: dict[int, tuple[str, ...]] = {
    500: ("internal server error",),
    502: ("bad gateway", "proxy error"),
    503: ("service unavailable", "service temporarily unavailable"),
    504: ("gateway time", "gateway timeout"),
}


def short_text(response: Response) -> bool:
    """A short body that is not JSON and runs no script: what proxies write on errors."""
    content_type = (response.header("content-type") or "").lower()
    if response.body_size > GENERIC_PAGE_LIMIT or "json" in content_type:
        return False
    return "<script" not in response.text.lower()


def _status_words(status: int) -> tuple[str, ...]:
    return (str(status), *_STATUS_TEXT.get(status, ()))


def _names_status(text: str, words: Iterable[str]) -> bool:
    lowered = text.lower()
    return any(word and word in lowered for word in words)


def round_seconds(elapsed_ms: float | None) -> int | None:
    """The whole number of seconds ``elapsed_ms`` sits at, if it does.

    A timer fires at its configured value plus a little scheduling: 1 002 ms, 5 004 ms.
    Tolerance: 150 ms + 2 % after the second (a loaded machine answers late), and 10 ms
    before it: the gateway starts its timer a little after our request left, but timers
    on millisecond clocks fire early by a fraction (Varnish's first_byte_timeout = 1 s
    was seen here at 999.95 ms).
    """
    if elapsed_ms is None or elapsed_ms < 900:
        return None
    seconds = round(elapsed_ms / 1000)
    if seconds >= 1 and -EARLY_MS <= elapsed_ms - seconds * 1000 <= 150 + 20 * seconds:
        return seconds
    return None


#: How early a gateway's timer may fire, as we measure it (see :func:`round_seconds`).
EARLY_MS = 10.0
