"""Ask the gateway: the one documented debug request a vendor answers, as data.

Some gateways say more when asked: Azure Front Door returns the origin's status and its
own error codes for ``X-Azure-DebugInfo: 1``, Akamai its cache status for a ``Pragma``,
Cloudflare its edge location at ``/cdn-cgi/trace``. After a 5xx from one of them the
checklist (and ``gatewatch diagnose``) makes that one request; the monitor only when an
endpoint opts in (``debug_requests = true``). The request itself is made elsewhere
(``monitor/followup.py``: diagnose does no I/O); here are what to ask (``FOLLOW_UPS``),
when (``plan_followup``), and how to read the answer (``read_followup``) into evidence.

Fastly over HTTP/2 drops the reason phrase, which names its 503 cause; the documented
fix is to ask again over HTTP/1.1. The probe speaks HTTP/1.1 only today, so the phrase
is always there and no follow-up is needed (revisit when HTTP/2 probing lands).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gatewatch.diagnose.identify import identify
from gatewatch.diagnose.text import clip
from gatewatch.model import ProbeResult, Response

#: Where a probe result carries the follow-up's findings (upstream hop detail key).
DETAIL_KEY = "gateway_debug"


@dataclass(frozen=True)
class FollowUp:
    """One documented debug request of one vendor."""

    generator: str
    #: Extra request headers.
    headers: tuple[tuple[str, str], ...] = ()
    #: Another path on the same origin (Cloudflare's trace), or None for the same URL.
    path: str | None = None
    #: Response headers to quote, with what each means.
    reads: tuple[tuple[str, str], ...] = ()
    #: Body ``key=value`` lines to quote (Cloudflare's trace).
    body_keys: tuple[str, ...] = ()
    source: str = ""

    def describe(self) -> str:
        """The request in a few words, for evidence."""
        asked = [f"{name}: {value}" for name, value in self.headers]
        if self.path:
            asked.append(f"GET {self.path}")
        return ", ".join(asked)


FOLLOW_UPS: Mapping[str, FollowUp] = MappingProxyType(
    {
        "azure-frontdoor": FollowUp(
            "azure-frontdoor",
            headers=(("X-Azure-DebugInfo", "1"),),
            reads=(
                ("x-azure-originstatuscode", "the status Front Door got from the origin"),
                ("x-azure-externalerror", "the error between Front Door and the origin"),
                ("x-azure-internalerror", "Front Door's own error"),
            ),
            source="[doc] learn.microsoft.com/azure/frontdoor/troubleshoot-issues",
        ),
        "akamai": FollowUp(
            "akamai",
            headers=(("Pragma", "akamai-x-cache-on, akamai-x-get-request-id"),),
            reads=(
                ("x-cache", "Akamai's cache status"),
                ("x-akamai-request-id", "the request id to quote to Akamai"),
            ),
            source="[doc] techdocs.akamai.com pragma headers",
        ),
        "cloudflare": FollowUp(
            "cloudflare",
            path="/cdn-cgi/trace",
            body_keys=("colo", "loc", "http", "tls", "warp"),
            source="[doc] developers.cloudflare.com /cdn-cgi/trace",
        ),
    }
)

#: Akamai cache statuses that say something about the origin.
_AKAMAI_CACHE: Mapping[str, str] = MappingProxyType(
    {
        "TCP_REFRESH_FAIL_HIT": "the origin is unreachable and Akamai served a stale copy",
        "TCP_MISS": "Akamai went to the origin for this request",
        "TCP_DENIED": "Akamai denied the request itself",
    }
)


def plan_followup(result: ProbeResult) -> FollowUp | None:
    """The debug request to make after this result, or None (not a 5xx, no such vendor)."""
    response = result.response
    if response is None or (response.status_code or 0) < 500:
        return None
    verdict = result.verdict
    ident = identify(response)
    for tier in (verdict.generator if verdict else None, *ident.tiers):
        if tier is not None and tier in FOLLOW_UPS:
            return FOLLOW_UPS[tier]
    return None


def read_followup(plan: FollowUp, response: Response | None, error: str | None) -> list[str]:
    """Evidence lines from the follow-up's answer (or why there is none)."""
    head = f"asked {plan.generator} ({clip(plan.describe(), 80)})"
    if response is None:
        return [f"{head}: no answer ({clip(error or 'failed', 100)})"]
    lines = [f"{head}: it answered {response.status_code}"]
    for name, meaning in plan.reads:
        value = response.header(name)
        if value is None:
            continue
        line = f"{name}: {clip(value, 80)} — {meaning}"
        for status, said in _AKAMAI_CACHE.items():
            if name == "x-cache" and status in value:
                line += f" ({said})"
        lines.append(line)
    if plan.body_keys:
        found = dict(
            part.split("=", 1) for part in response.text.splitlines()[:40] if "=" in part
        )
        shown = [f"{k}={clip(found[k], 20)}" for k in plan.body_keys if k in found]
        if shown:
            lines.append(f"{plan.path}: " + " ".join(shown) + " (colo: the edge location)")
    if len(lines) == 1:
        lines.append(f"{plan.generator}'s debug answer carried none of the expected fields")
    return lines
