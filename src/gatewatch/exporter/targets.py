"""What a ``/probe?target=…&module=…`` request may probe, and within which deadline.

Why this is its own module: an exporter that fetches any URL it is asked for is an SSRF
hole (anyone who can reach it can make it call internal services, with its network
position). So ``target`` names a watchlist endpoint, or is a URL that matches one
endpoint's URL; only ``--allow-any-target`` lifts that. The decision is pure and tested on
its own; the HTTP server only turns a :class:`Refusal` into a status code.

Modules: ``http_2xx`` (blackbox_exporter's default name, so existing scrape configs work):
an endpoint's own ``expect_status``, else 2xx as blackbox expects; ``gatewatch``: the
endpoint exactly as the watchlist judges it (default 200–399).

Deadline: the scrape's ``X-Prometheus-Scrape-Timeout-Seconds`` less an offset (0.5 s, as
blackbox's ``--timeout-offset``) so the answer arrives before Prometheus gives up, and never
more than the endpoint's own timeout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from gatewatch.model import DEFAULT_TIMEOUT, Endpoint

DEFAULT_MODULE = "http_2xx"
MODULES: tuple[str, ...] = ("http_2xx", "gatewatch")
TIMEOUT_OFFSET = 0.5
#: A deadline is never shorter than this, however short the scrape timeout.
MIN_TIMEOUT = 0.1

#: Why a request was refused, as a closed label value for the error counter.
RefusalReason = str
REFUSAL_REASONS: tuple[str, ...] = (
    "missing_target",
    "unknown_module",
    "unknown_target",
    "bad_timeout",
)


@dataclass(frozen=True)
class ProbeRequest:
    """A probe to run: the endpoint (deadline applied) and the module's name."""

    endpoint: Endpoint
    module: str
    #: The target came from the watchlist (False: an arbitrary URL, --allow-any-target).
    known: bool


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: RefusalReason
    message: str


def normalise_url(url: str) -> str | None:
    """A URL in a comparable form (scheme and host lower case, default port and userinfo
    dropped, empty path as ``/``), or None if it is no http(s) URL. ``host:port`` without a
    scheme means http, as in blackbox_exporter."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return None
    default = 443 if scheme == "https" else 80
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != default:
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def find_endpoint(target: str, endpoints: Sequence[Endpoint]) -> Endpoint | None:
    """The endpoint named ``target``, else the one whose URL matches ``target``."""
    for endpoint in endpoints:
        if endpoint.name == target:
            return endpoint
    wanted = normalise_url(target)
    if wanted is None:
        return None
    for endpoint in endpoints:
        if normalise_url(endpoint.url) == wanted:
            return endpoint
    return None


def deadline(scrape_timeout: str | None, bound: float) -> float | Refusal:
    """Seconds the probe may take: the scrape's timeout less the offset, at most ``bound``."""
    if scrape_timeout is None or not scrape_timeout.strip():
        return bound
    try:
        seconds = float(scrape_timeout)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        return Refusal(
            400,
            "bad_timeout",
            f"Failed to parse timeout from Prometheus header: {scrape_timeout[:40]!r}",
        )
    return max(MIN_TIMEOUT, min(bound, seconds - TIMEOUT_OFFSET))


def resolve_probe(
    target: str | None,
    module: str | None,
    scrape_timeout: str | None,
    endpoints: Sequence[Endpoint],
    *,
    allow_any_target: bool,
) -> ProbeRequest | Refusal:
    """Decide what ``/probe`` runs for these query parameters and header."""
    module = module or DEFAULT_MODULE
    if module not in MODULES:
        return Refusal(400, "unknown_module", f"Unknown module {module[:80]!r}")
    if not target:
        return Refusal(400, "missing_target", "Target parameter is missing")
    endpoint = find_endpoint(target, endpoints)
    known = endpoint is not None
    if endpoint is None:
        url = normalise_url(target)
        if not allow_any_target or url is None:
            return Refusal(
                403,
                "unknown_target",
                "target is neither an endpoint's name nor an endpoint's URL in the watchlist; "
                "start the exporter with --allow-any-target to probe any URL (an SSRF risk)",
            )
        endpoint = Endpoint(name=target, url=url, timeout=DEFAULT_TIMEOUT)
    bounded = deadline(scrape_timeout, endpoint.timeout)
    if isinstance(bounded, Refusal):
        return bounded
    if module == "http_2xx" and not endpoint.expect_status:
        endpoint = endpoint.replace(expect_status=("2xx",))
    return ProbeRequest(endpoint=endpoint.replace(timeout=bounded), module=module, known=known)
