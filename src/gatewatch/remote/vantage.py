"""Remote vantage points as rows: "k of n vantage points failing", and vantage down.

Pure: series in (already read from a Prometheus source), rows out; no I/O, no clock (the
caller passes ``now``). The rules:

- A vantage point is named by the source's ``vantage_label`` on the series, else by the
  source's name (one Prometheus per region).
- An endpoint is named by the ``endpoint`` label (``gatewatch exporter``'s ``/metrics``),
  else by ``instance`` (a ``/probe`` scrape: the multi-target pattern sets it to the target).
- A vantage point that has reported an endpoint recently (``known``) but has no fresh
  ``probe_success`` now, or whose scrape target has ``up == 0``, is **vantage down**: the
  prober stopped reporting, which says nothing about the target. Only a fresh
  ``probe_success == 0`` is **target failing**.
- The verdict comes from ``gatewatch_verdict_info`` when the vantage point is a gatewatch
  exporter; from a plain blackbox_exporter it is unknown (None), the phases still known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

VantageState = Literal["ok", "failing", "vantage_down"]
RowState = Literal["ok", "failing", "partial", "vantage_down"]

#: A sample older than this (seconds) is stale, even inside Prometheus's lookback.
DEFAULT_STALE_AFTER = 120.0

Labels = Mapping[str, str]


@dataclass(frozen=True)
class Series:
    """One instant-vector sample: labels, value and the time the sample was taken."""

    labels: Labels
    value: float
    timestamp: float = 0.0


@dataclass(frozen=True)
class Snapshot:
    """What one source said at one moment, by query."""

    #: ``up`` of every scrape target.
    up: tuple[Series, ...] = ()
    #: ``last_over_time(probe_success[…])``: which vantage points reported which endpoints.
    known: tuple[Series, ...] = ()
    #: ``probe_success`` now, with each sample's own timestamp.
    current: tuple[Series, ...] = ()
    #: ``gatewatch_verdict_info``.
    verdicts: tuple[Series, ...] = ()
    #: ``gatewatch_hop_status == 1``.
    hops: tuple[Series, ...] = ()
    #: ``gatewatch_hop_duration_seconds{hop}`` (a gatewatch exporter only).
    hop_seconds: tuple[Series, ...] = ()
    #: ``probe_http_duration_seconds{phase}`` (blackbox_exporter and gatewatch exporter).
    phases: tuple[Series, ...] = ()
    #: (job, instance, last scrape error) of targets that are not up (/api/v1/targets).
    target_errors: tuple[tuple[str, str, str], ...] = ()
    #: The instant every query was evaluated at, on the source's own clock (unix seconds):
    #: freshness is judged against it, so a skewed local clock cannot make every series
    #: stale (None: not known, e.g. a snapshot built by hand).
    at: float | None = None


@dataclass(frozen=True)
class Verdict:
    cause: str
    kind: str
    generator: str


@dataclass(frozen=True)
class VantageView:
    """One endpoint as one vantage point sees it."""

    vantage: str
    state: VantageState
    #: Why: "probe_success 0", "up == 0 (job=…)", "no sample for 130 s" …
    reason: str
    verdict: Verdict | None = None
    #: (hop, status) from a gatewatch exporter; empty from blackbox_exporter.
    hops: tuple[tuple[str, str], ...] = ()
    #: (hop, ms) from ``gatewatch_hop_duration_seconds``, else (phase, ms) from
    #: ``probe_http_duration_seconds``; as of the last read that changed the row (timings
    #: alone do not make a change, or every read would be news).
    timings: tuple[tuple[str, float], ...] = ()
    #: "hop" or "phase": which of the two ``timings`` are.
    timing_kind: str = ""


@dataclass(frozen=True)
class RemoteRow:
    """One endpoint across the vantage points of one source."""

    source: str
    endpoint: str
    vantages: tuple[VantageView, ...] = field(default_factory=tuple)

    @property
    def failing(self) -> tuple[str, ...]:
        return tuple(v.vantage for v in self.vantages if v.state == "failing")

    @property
    def down(self) -> tuple[str, ...]:
        return tuple(v.vantage for v in self.vantages if v.state == "vantage_down")

    @property
    def state(self) -> RowState:
        failing, down, n = len(self.failing), len(self.down), len(self.vantages)
        if failing == 0:
            return "vantage_down" if down else "ok"
        return "failing" if failing == n - down else "partial"

    @property
    def summary(self) -> str:
        """``1 of 2 failing (us)``, ``0 of 2 failing``, plus ``· 1 vantage down (eu)``."""
        text = f"{len(self.failing)} of {len(self.vantages)} failing"
        if self.failing:
            text += f" ({', '.join(self.failing)})"
        if self.down:
            text += f" · {len(self.down)} vantage down ({', '.join(self.down)})"
        return text


def _target(labels: Labels) -> tuple[str, str]:
    return labels.get("job", ""), labels.get("instance", "")


def _endpoint(labels: Labels) -> str:
    return labels.get("endpoint") or labels.get("instance", "")


def _vantage(labels: Labels, source: str, vantage_label: str | None) -> str:
    if vantage_label:
        return labels.get(vantage_label) or source
    return source


def rows(
    snapshot: Snapshot,
    *,
    source: str,
    vantage_label: str | None,
    now: float,
    stale_after: float = DEFAULT_STALE_AFTER,
) -> tuple[RemoteRow, ...]:
    """Every endpoint the source knows about, with each vantage point's view, sorted."""
    key = _Keys(source, vantage_label)
    up_by_target = {(_target(s.labels), key.vantage(s.labels)): s.value for s in snapshot.up}
    members: dict[tuple[str, str], list[Labels]] = {}
    for s in snapshot.known:
        members.setdefault(key.of(s.labels), []).append(s.labels)
    current: dict[tuple[str, str], list[Series]] = {}
    for s in snapshot.current:
        current.setdefault(key.of(s.labels), []).append(s)
        members.setdefault(key.of(s.labels), []).append(s.labels)
    verdicts = {key.of(s.labels): s.labels for s in snapshot.verdicts}
    hops: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for s in snapshot.hops:
        hops.setdefault(key.of(s.labels), []).append(
            (s.labels.get("hop", ""), s.labels.get("status", ""))
        )

    timings = _timings(snapshot, key)
    views: dict[str, list[VantageView]] = {}
    for (endpoint, vantage), labels_seen in members.items():
        view = _view(
            vantage,
            current.get((endpoint, vantage), []),
            labels_seen,
            up_by_target,
            {(job, instance): error for job, instance, error in snapshot.target_errors},
            now=now,
            stale_after=stale_after,
        )
        found = verdicts.get((endpoint, vantage))
        if found is not None and view.state != "vantage_down":
            view = VantageView(
                view.vantage,
                view.state,
                view.reason,
                Verdict(found.get("cause", ""), found.get("kind", ""), found.get("generator", "")),
                tuple(sorted(hops.get((endpoint, vantage), []), key=_hop_order)),
            )
        if view.state != "vantage_down" and (endpoint, vantage) in timings:
            kind, found_timings = timings[(endpoint, vantage)]
            view = replace(view, timings=found_timings, timing_kind=kind)
        views.setdefault(endpoint, []).append(view)
    return tuple(
        RemoteRow(source, endpoint, tuple(sorted(found, key=lambda v: v.vantage)))
        for endpoint, found in sorted(views.items())
    )


@dataclass(frozen=True)
class _Keys:
    source: str
    vantage_label: str | None

    def vantage(self, labels: Labels) -> str:
        return _vantage(labels, self.source, self.vantage_label)

    def of(self, labels: Labels) -> tuple[str, str]:
        return _endpoint(labels), self.vantage(labels)


_HOPS = ("dns", "tcp", "tls", "proxy", "upstream")
_PHASES = ("resolve", "connect", "tls", "processing", "transfer")


def _timings(
    snapshot: Snapshot, key: _Keys
) -> dict[tuple[str, str], tuple[str, tuple[tuple[str, float], ...]]]:
    """Per (endpoint, vantage): hop timings when a gatewatch exporter gave them, else phases."""
    found: dict[tuple[str, str], tuple[str, tuple[tuple[str, float], ...]]] = {}
    for kind, series, label, order in (
        ("phase", snapshot.phases, "phase", _PHASES),
        ("hop", snapshot.hop_seconds, "hop", _HOPS),
    ):
        grouped: dict[tuple[str, str], dict[str, float]] = {}
        for s in series:
            grouped.setdefault(key.of(s.labels), {})[s.labels.get(label, "")] = s.value * 1000
        for where, values in grouped.items():
            ordered = tuple((n, values[n]) for n in order if n in values)
            if ordered:
                found[where] = (kind, ordered)  # hops, read second, win over phases
    return found


def _hop_order(item: tuple[str, str]) -> int:
    return _HOPS.index(item[0]) if item[0] in _HOPS else len(_HOPS)


def _view(
    vantage: str,
    samples: Sequence[Series],
    labels_seen: Iterable[Labels],
    up_by_target: Mapping[tuple[tuple[str, str], str], float],
    errors: Mapping[tuple[str, str], str],
    *,
    now: float,
    stale_after: float,
) -> VantageView:
    for labels in labels_seen:
        target = _target(labels)
        if up_by_target.get((target, vantage)) == 0:
            error = errors.get(target)
            why = f"up == 0 (job={target[0]}{': ' + error if error else ''})"
            return VantageView(vantage, "vantage_down", why)
    fresh = [s for s in samples if now - s.timestamp <= stale_after]
    if not fresh:
        if samples:
            age = now - max(s.timestamp for s in samples)
            return VantageView(vantage, "vantage_down", f"no sample for {age:.0f} s")
        return VantageView(vantage, "vantage_down", "stopped reporting")
    if any(s.value == 0 for s in fresh):
        return VantageView(vantage, "failing", "probe_success 0")
    return VantageView(vantage, "ok", "probe_success 1")


@dataclass(frozen=True)
class RowChange:
    """A remote row whose state or failing/down sets changed (``old`` None: first seen)."""

    old: RemoteRow | None
    new: RemoteRow


def changes(
    old: Mapping[tuple[str, str], RemoteRow], new: Sequence[RemoteRow]
) -> list[RowChange]:
    """Rows that appeared, or whose state, set of (failing, down, all) vantage points or a
    vantage point's verdict changed: one that starts reporting makes "0 of 1" "0 of 2";
    one that fails at tls instead of dns is news too."""
    found = []
    for row in new:
        before = old.get((row.source, row.endpoint))
        if before is None or _shape(before) != _shape(row):
            found.append(RowChange(before, row))
    return found


def _shape(row: RemoteRow) -> tuple[object, ...]:
    return row.state, row.failing, row.down, tuple((v.vantage, v.verdict) for v in row.vantages)
