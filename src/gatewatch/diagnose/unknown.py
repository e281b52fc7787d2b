"""A gateway in no table: infer that a tier made the answer, name it, and read the kind.

Called by ``identify`` only when no template matched and nothing positively says the
application answered. Three facts make a gateway the generator, strongest first:

1. the answer's identity differs from the endpoint's healthy answers (another Server
   or Via token appeared): the new tier made it;
2. a 502/504 whose page is generic (empty, or a short page titled with the status
   text): applications rarely emit those; a forward proxy's page likewise for any 5xx;
3. a 504 (or a generic 5xx page) at a whole number of seconds: a gateway's timer fired.

The tier is named from its own Server/Via token. The kind comes from the status and
the timing (``STATUS_KINDS``), with confidence that says it was inferred.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gatewatch.diagnose.text import clip
from gatewatch.diagnose.tiers import (
    GATEWAY_STATUSES,
    PathIdentity,
    generic_gateway_page,
    identity_of,
    new_tiers,
    round_seconds,
    short_text,
    tier_token,
)
from gatewatch.model import Response


@dataclass(frozen=True)
class StatusReading:
    """What a gateway's status says about the cause when its page says nothing."""

    kind: str | None
    confidence: float
    candidates: tuple[str, ...] = ()


#: (status, timing) → reading. Timing: "timer" (at a whole second), "instant" (< 0.5 s), "any".
STATUS_KINDS: Mapping[tuple[int, str], StatusReading] = MappingProxyType(
    {
        (504, "timer"): StatusReading("upstream_timeout", 0.85),
        (504, "any"): StatusReading("upstream_timeout", 0.75),
        (502, "timer"): StatusReading(
            "upstream_timeout", 0.7, ("upstream_timeout", "upstream_closed")
        ),
        (502, "instant"): StatusReading(
            None,
            0.7,
            ("upstream_refused", "upstream_closed", "upstream_invalid_response", "upstream_dns"),
        ),
        (502, "any"): StatusReading(
            None, 0.6, ("upstream_refused", "upstream_closed", "upstream_invalid_response")
        ),
        # A 503 on a whole second: a timeout, or the delay between retries of refused
        # connections (HAProxy waits 1 s).
        (503, "timer"): StatusReading(
            "upstream_timeout", 0.6, ("upstream_timeout", "upstream_refused", "no_healthy_upstream")
        ),
        (503, "any"): StatusReading(
            None, 0.55, ("no_healthy_upstream", "upstream_refused", "rate_limited")
        ),
        (500, "any"): StatusReading("gateway_error", 0.4, ("gateway_error", "app_error")),
    }
)

#: Below this the answer was not waiting on a timer.
INSTANT_MS = 500.0


@dataclass(frozen=True)
class Inference:
    """A gateway inferred to have generated the answer."""

    generator: str | None
    confidence: float
    evidence: tuple[str, ...]
    hint: str | None
    candidates: tuple[str, ...]
    hint_confidence: float


def infer_gateway(
    response: Response,
    elapsed_ms: float | None,
    healthy: PathIdentity | None,
    forward_proxy: bool,
) -> Inference | None:
    """The inferred gateway behind ``response``, or None when nothing says it was one."""
    status = response.status_code or 0
    if status < 500:
        return None
    token = tier_token(response)
    page = generic_gateway_page(response)
    timer = round_seconds(elapsed_ms)
    evidence: list[str] = []
    confidence = 0.0
    name = token
    if healthy is not None and (fresh := new_tiers(identity_of(response), healthy)):
        name = fresh[0]
        evidence.append(
            f"{name} is on this answer but not on the endpoint's healthy answers "
            f"({clip(healthy.line(), 80)}): that tier generated it"
        )
        confidence = 0.8
    if page and status in GATEWAY_STATUSES:
        evidence.append(f"{page}: a gateway's own answer (applications rarely send one)")
        confidence = max(confidence, 0.65)
    if forward_proxy and (page or short_text(response)):
        evidence.append(
            f"a short {status} page through a forward proxy, with no sign of the application: "
            "the proxy's own answer"
        )
        confidence = max(confidence, 0.7)
    if timer and (status == 504 or page):
        evidence.append(f"the {status} came at {timer} s: a gateway's timer fired")
        confidence = max(confidence, 0.65)
    if not evidence:
        return None
    if name is None:
        evidence.append("it names itself nowhere (no Server, no Via): the gateway is unnamed")
    else:
        evidence.append(f"generator named from its own token: {name} (in no table; inferred)")
    reading = _reading(status, elapsed_ms, timer)
    if reading.kind == "upstream_timeout" and timer:
        evidence.append(f"answered at {timer} s: the gateway's timeout is likely {timer} s")
    return Inference(
        generator=name,
        confidence=confidence,
        evidence=tuple(evidence),
        hint=reading.kind,
        candidates=reading.candidates,
        hint_confidence=min(reading.confidence, confidence + 0.1),
    )


def _reading(status: int, elapsed_ms: float | None, timer: int | None) -> StatusReading:
    timing = "any"
    if timer:
        timing = "timer"
    elif elapsed_ms is not None and elapsed_ms < INSTANT_MS:
        timing = "instant"
    for key in ((status, timing), (status, "any")):
        if key in STATUS_KINDS:
            return STATUS_KINDS[key]
    return StatusReading(None, 0.4, ("upstream_failed",))
