"""Learn an endpoint's path when there is no history: ask a healthy sibling path once.

A 5xx from a server in no table proves nothing by itself (issue 17 §0). The monitor and
the board know what the endpoint's healthy answers look like; ``gatewatch probe``,
``check`` and the checklist often do not. So, once, after a 5xx, they ask the same
origin for a sibling path (``/``, else ``/robots.txt``): a 2xx/3xx answer shows the
identity of the path when it works (Server, Via, header names), and diagnose compares
the failure with it. Skipped when an ``origin`` is configured (it
settles the question) or the answer was not a 5xx. One request, bounded by the
endpoint's own timeout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

from gatewatch.model import Endpoint, ProbeResult

#: Paths tried as the sibling, first one that is not the endpoint's own path.
SIBLING_PATHS = ("/", "/robots.txt")
#: A sibling shows the working path only when it works: a 404 for ``/`` is often the
#: gateway's own page (Apache answers ``/`` itself when only ``/app/`` is proxied), whose
#: identity would make the gateway's errors look like the application's.
HEALTHY_STATUSES = ("2xx", "3xx")
#: The sibling never waits longer than this, whatever the endpoint's timeout.
MAX_TIMEOUT = 5.0

Probe = Callable[[Endpoint], Awaitable[ProbeResult]]


def needs_sibling(result: ProbeResult) -> bool:
    """A 5xx answer with no origin probe to compare against."""
    return result.origin is None and (result.status_code or 0) >= 500


def sibling_endpoint(endpoint: Endpoint) -> Endpoint | None:
    """The same origin at a sibling path, expecting a working answer; None if none fits."""
    try:
        parts = urlsplit(endpoint.url)
    except ValueError:
        return None
    own = parts.path or "/"
    path = next((p for p in SIBLING_PATHS if p != own), None)
    if path is None or not parts.netloc:
        return None
    return endpoint.replace(
        name=f"{endpoint.name} (sibling {path})",
        url=urlunsplit((parts.scheme, parts.netloc, path, "", "")),
        method="GET",
        expect_status=HEALTHY_STATUSES,
        expect_body=None,
        origin=None,
        all_addresses=False,
        timeout=min(endpoint.timeout, MAX_TIMEOUT),
    )


async def sibling_history(
    probe: Probe, endpoint: Endpoint, result: ProbeResult
) -> tuple[ProbeResult, ...]:
    """A healthy sibling's result, as one-item history for diagnose; empty when none."""
    if not needs_sibling(result):
        return ()
    sibling = sibling_endpoint(endpoint)
    if sibling is None:
        return ()
    found = await probe(sibling)
    return (found,) if found.ok and found.response is not None else ()
