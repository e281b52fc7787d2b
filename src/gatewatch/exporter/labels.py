"""Label values for metrics: closed sets for the verdict, redacted and visible text elsewhere.

Why closed sets: a label value is a time series. A verdict kind or generator taken as free
text from a response would let one hostile server mint unbounded series in someone's
Prometheus (and put its words in their dashboards). So ``cause``, ``kind`` and
``generator`` are looked up in tables built from gatewatch's own taxonomy (the diagnose
tables and the probe's error taxonomy); anything else becomes ``other``, and "no value"
is ``none``, never an empty label (which Prometheus treats as an absent one).

Text that must be a label (an endpoint's name, a URL) goes through the one redaction
function and :func:`gatewatch.text.visible`, so no secret and no control character
reaches a scrape.
"""

from __future__ import annotations

from gatewatch.diagnose import advice, gateways
from gatewatch.model import HOP_NAMES, Cause
from gatewatch.probe.tls import VERIFY_KINDS
from gatewatch.secrets import redact_url
from gatewatch.text import visible

NONE = "none"
OTHER = "other"

CAUSES: frozenset[str] = frozenset(Cause.__args__)  # type: ignore[attr-defined]

#: Kinds of the probe's error taxonomy (probe/errors.py docstring) and of the engine.
_PROBE_KINDS = (
    "refused",
    "connect_timeout",
    "unreachable",
    "reset",
    "proxy_refused",
    "proxy_auth_required",
    "proxy_tunnel_failed",
    "handshake_failed",
    "handshake_timeout",
    "upstream_closed",
    "upstream_invalid_response",
    "upstream_timeout",
    "truncated_body",
    "unexpected_status",
    "body_mismatch",
    "expiring_soon",
    "config_error",
    "probe_error",
    "overloaded",
)


def _diagnose_kinds() -> set[str]:
    kinds = set(advice.KIND_CAUSE)
    for table in (advice.HOP_SUMMARY, advice.STEPS):
        for by_kind in table.values():
            kinds.update(by_kind)
    for template in gateways.TEMPLATES:
        for hint in template.hints:
            if hint.kind:
                kinds.add(hint.kind)
            kinds.update(hint.candidates)
    return kinds


KINDS: frozenset[str] = frozenset(
    {*_PROBE_KINDS, *VERIFY_KINDS.values(), *_diagnose_kinds()} - {"", NONE, OTHER}
)

GENERATORS: frozenset[str] = frozenset(
    {"app"}
    | {marker.generator for marker in gateways.MARKERS}
    | {template.generator for template in gateways.TEMPLATES}
)

HOP_STATUSES: tuple[str, ...] = ("ok", "warn", "fail", "skip")
HOPS: tuple[str, ...] = HOP_NAMES


def closed(value: str | None, allowed: frozenset[str]) -> str:
    """``value`` if it is in ``allowed``; ``none`` for no value; ``other`` for anything else."""
    if value is None or value == "":
        return NONE
    return value if value in allowed else OTHER


def text_label(text: str, *, limit: int = 200) -> str:
    """A free-text label value (endpoint name, URL): redacted, visible, bounded."""
    shown = visible(redact_url(text))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
