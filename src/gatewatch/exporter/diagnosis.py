"""``gatewatch_*``: what no blackbox_exporter user can get, the verdict and the five hops.

- ``gatewatch_verdict_info{cause,kind,generator}`` 1: closed label sets (labels.py).
- ``gatewatch_hop_duration_seconds{hop}``: each of the five hops, proxy and upstream
  included; 0 for a hop that did not run (its status says ``skip``).
- ``gatewatch_hop_status{hop,status}``: a state set, one series per hop and status with 1
  on the current one, so ``gatewatch_hop_status{status="fail"} == 1`` finds failing hops
  and the series never appear and vanish.
- ``gatewatch_build_info{version}`` 1.

Pure: no I/O.
"""

from __future__ import annotations

from gatewatch import __version__
from gatewatch.exporter.families import FamilySet
from gatewatch.exporter.labels import CAUSES, GENERATORS, HOP_STATUSES, HOPS, KINDS, closed
from gatewatch.model import ProbeResult


def verdict_labels(result: ProbeResult) -> dict[str, str]:
    """The closed ``cause``/``kind``/``generator`` labels of ``result``'s verdict."""
    verdict = result.verdict
    if verdict is None:
        return {"cause": "unknown", "kind": "none", "generator": "none"}
    return {
        "cause": closed(verdict.cause, CAUSES),
        "kind": closed(verdict.kind, KINDS),
        "generator": closed(verdict.generator, GENERATORS),
    }


def add_diagnosis(families: FamilySet, result: ProbeResult) -> None:
    """Add the verdict and the hops of ``result`` to ``families``."""
    families.gauge(
        "gatewatch_verdict_info",
        "The verdict of the probe: cause, kind and who generated the error (closed sets)",
        1.0,
        verdict_labels(result),
    )
    for name in HOPS:
        hop = result.hop(name)
        families.gauge(
            "gatewatch_hop_duration_seconds",
            "Duration of each hop of the probe (0 when the hop did not run)",
            0.0 if hop.ms is None else hop.ms / 1000.0,
            {"hop": name},
        )
    for name in HOPS:
        hop = result.hop(name)
        for status in HOP_STATUSES:
            families.gauge(
                "gatewatch_hop_status",
                "Status of each hop of the probe: 1 on the current status, 0 on the others",
                float(hop.status == status),
                {"hop": name, "status": status},
            )


def add_build_info(families: FamilySet) -> None:
    families.gauge(
        "gatewatch_build_info", "The gatewatch version running", 1.0, {"version": __version__}
    )
