"""Remote rows and events for the board's tests: what a RemoteWatcher would tell the board.

Built from series through the real model (:func:`gatewatch.remote.vantage.rows`), so the
rows are the ones a Prometheus answer gives, not hand-made shapes.
"""

from __future__ import annotations

from gatewatch.remote.events import ProblemKind, RemoteRowChanged, SourceProblem, SourceStatus
from gatewatch.remote.vantage import RemoteRow, RowChange, Series, Snapshot, rows

NOW = 1_800_000_000.0


def _s(value: float, labels: dict[str, str]) -> Series:
    return Series(labels, value, NOW - 1.0)


def snapshot(
    endpoint: str,
    *,
    failing: tuple[str, ...] = (),
    ok: tuple[str, ...] = (),
    down: tuple[str, ...] = (),
    blackbox: bool = False,
) -> Snapshot:
    """``endpoint`` seen from vantage points (``region`` label): failing, ok, or whose scrape
    target is down. A gatewatch exporter gives a verdict and hop timings; ``blackbox`` only
    phases."""
    known: list[Series] = []
    up: list[Series] = []
    current: list[Series] = []
    verdicts: list[Series] = []
    hop_seconds: list[Series] = []
    hops: list[Series] = []
    phases: list[Series] = []
    for region in (*failing, *ok, *down):
        base = {"job": "gatewatch", "instance": f"{region}:9115", "region": region}
        at = {**base, "endpoint": endpoint}
        known.append(Series(at, 1.0, NOW - 30))
        up.append(_s(0.0 if region in down else 1.0, base))
        if region in down:
            continue
        value = 0.0 if region in failing else 1.0
        current.append(_s(value, at))
        for phase, ms in (("resolve", 1.5), ("connect", 0.5), ("tls", 0), ("processing", 7),
                          ("transfer", 0.2)):
            phases.append(_s(ms / 1000, {**at, "phase": phase}))
        if blackbox:
            continue
        # The exporter's closed sets: a healthy verdict has kind and generator "none".
        cause, kind, by = ("backend", "upstream_refused", "nginx") if value == 0 else (
            "healthy", "none", "none")
        verdicts.append(_s(1, {**at, "cause": cause, "kind": kind, "generator": by}))
        for hop, ms in (("dns", 1.5), ("tcp", 0.5), ("tls", 0.0), ("upstream", 7.0)):
            hop_seconds.append(_s(ms / 1000, {**at, "hop": hop}))
            status = "fail" if hop == "upstream" and value == 0 else "ok"
            status = "skip" if hop == "tls" else status
            hops.append(_s(1, {**at, "hop": hop, "status": status}))
    return Snapshot(
        up=tuple(up),
        known=tuple(known),
        current=tuple(current),
        verdicts=tuple(verdicts),
        hops=tuple(hops),
        hop_seconds=tuple(hop_seconds),
        phases=tuple(phases),
    )


def remote_row(
    endpoint: str,
    source: str = "global",
    *,
    failing: tuple[str, ...] = (),
    ok: tuple[str, ...] = (),
    down: tuple[str, ...] = (),
    blackbox: bool = False,
) -> RemoteRow:
    seen = snapshot(endpoint, failing=failing, ok=ok, down=down, blackbox=blackbox)
    (row,) = rows(seen, source=source, vantage_label="region", now=NOW)
    return row


def changed(row: RemoteRow, old: RemoteRow | None = None) -> RemoteRowChanged:
    return RemoteRowChanged(RowChange(old, row), NOW)


def problem(source: str, message: str, kind: ProblemKind = "refused") -> SourceStatus:
    return SourceStatus(source, SourceProblem(kind, message), NOW)


def cleared(source: str) -> SourceStatus:
    return SourceStatus(source, None, NOW)
