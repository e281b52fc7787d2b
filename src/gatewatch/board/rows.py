"""What the board shows for each endpoint, as immutable rows, plus how rows are ordered.

Why a module without Textual: the board's row bookkeeping (the engine's last word on each
endpoint, a few recent timings for the sparklines), its sort orders and its filter are
plain functions over frozen data, so they are unit tests without an app, and could move
below ``tui`` if another front end wanted them. Nothing here decides an endpoint's state:
the engine does (:mod:`gatewatch.monitor.state`); a row only remembers what it was told.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from gatewatch.model import HOP_NAMES, Endpoint, ProbeResult
from gatewatch.monitor.acks import Ack
from gatewatch.monitor.records import ReplayEntry
from gatewatch.monitor.state import State, TransitionEvent
from gatewatch.remote.vantage import RemoteRow

#: How many recent probes a row keeps for its sparkline and the detail chart.
SAMPLES = 60
#: How many of them the board's Recent column shows (and its order counts failures over).
RECENT = 8

SortMode = Literal[
    "state", "name", "code", "latency", "failures", "uptime", "since", "verdict", "url"
]
#: Every order, in the order ``s`` cycles through them (a column's header click picks one).
SORT_MODES: tuple[SortMode, ...] = (
    "state",
    "name",
    "code",
    "latency",
    "failures",
    "uptime",
    "since",
    "verdict",
    "url",
)
#: How the status line names each order.
SORT_NAMES: dict[SortMode, str] = {
    "state": "failing first",
    "name": "name",
    "code": "HTTP status, highest first",
    "latency": "slowest first",
    "failures": "most recent failures first",
    "uptime": "lowest uptime first",
    "since": "latest change first",
    "verdict": "verdict",
    "url": "URL",
}

#: Failing first: what needs a human, then what is unknown, then the healthy, then the quiet.
SEVERITY: dict[State | None, int] = {
    State.DOWN: 0,
    State.FLAPPING: 1,
    State.DEGRADED: 2,
    State.PENDING: 3,
    State.UP: 4,
    State.MAINTENANCE: 5,
    State.PAUSED: 6,
    None: 7,
}

#: The states that need a human: their verdicts are drawn as failures.
UNHEALTHY = frozenset({State.DOWN, State.FLAPPING, State.DEGRADED})


@dataclass(frozen=True)
class Sample:
    """One probe, as small as the charts need: totals and per-hop times, no bodies."""

    total_ms: float | None
    #: Milliseconds per hop in HOP_NAMES order; None where the hop did not run.
    hops: tuple[float | None, ...]
    ok: bool

    @classmethod
    def of(cls, result: ProbeResult) -> Sample:
        by_name = {h.name: h for h in result.hops}
        hops = tuple(
            _finite(by_name[n].ms) if n in by_name and by_name[n].status != "skip" else None
            for n in HOP_NAMES
        )
        return cls(total_ms=_finite(result.total_ms), hops=hops, ok=result.ok)


@dataclass(frozen=True)
class Row:
    """One endpoint on the board: its watchlist entry and what the engine last said."""

    endpoint: Endpoint
    #: None when nothing is known (e.g. replaying a moment before the endpoint existed).
    state: State | None = State.PENDING
    since: datetime | None = None
    result: ProbeResult | None = None
    samples: tuple[Sample, ...] = ()
    #: Percentage of successful probes over the last 24 h, from the history.
    uptime: float | None = None
    maintenance: str | None = None
    #: The status code the history recorded (a replayed result has no response).
    recorded_status: int | None = None
    #: Who acknowledged it, when and why (the engine holds its alerts until it is UP).
    ack: Ack | None = None
    #: The endpoint as remote vantage points see it (``[[source]]``), merged across sources.
    remote: RemoteRow | None = None
    #: Only a source knows this endpoint: it is not in the watchlist and never probed here.
    remote_only: bool = False

    @property
    def name(self) -> str:
        return self.endpoint.name

    @property
    def status_code(self) -> int | None:
        if self.result is not None and self.result.status_code is not None:
            return self.result.status_code
        return self.recorded_status

    @property
    def latency_ms(self) -> float | None:
        return None if self.result is None else _finite(self.result.total_ms)

    @property
    def summary(self) -> str | None:
        """The last verdict's one-line summary when it found something, whatever the state:
        a PENDING row that already got a 504 and a PAUSED row both say what they last saw.
        None for a healthy result (nothing to say) or no result yet. A row only a source
        knows says what its vantage points see."""
        if self.remote_only and self.remote is not None:
            return f"remote only · {self.remote.summary}"
        result = self.result
        if result is None:
            return None
        verdict = result.verdict
        if result.ok and (verdict is None or verdict.healthy):
            return None
        if verdict is not None and verdict.summary:
            return verdict.summary
        hop = result.failed_hop
        if hop is not None:
            return f"{hop.name}: {hop.error or hop.kind or hop.status}"
        return None

    @property
    def recent_failures(self) -> int:
        """Failed probes among the last few (the Recent column's ✖ marks)."""
        return sum(1 for s in self.samples[-RECENT:] if not s.ok)


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else value


# --------------------------------------------------------------------------- updating rows


def with_result(row: Row, result: ProbeResult, state: State, *, keep: int = SAMPLES) -> Row:
    """``row`` after one completed probe (the state is the engine's, as it reported it)."""
    samples = (*row.samples, Sample.of(result))[-keep:]
    return replace(row, result=result, state=state, samples=samples)


def with_transition(row: Row, event: TransitionEvent) -> Row:
    """``row`` after the engine announced a change of state."""
    return replace(row, state=event.to_state, since=event.at)


def from_status(status: Any) -> Row:
    """A row from a :class:`gatewatch.monitor.EndpointStatus` (duck-typed: no import cycle)."""
    result = status.last_result
    samples = (Sample.of(result),) if result is not None else ()
    return Row(
        endpoint=status.endpoint,
        state=status.state,
        since=status.since,
        result=result,
        samples=samples,
        maintenance=status.maintenance,
        ack=getattr(status, "ack", None),
    )


# --------------------------------------------------------------------------- ordering


def sort_key(mode: SortMode) -> Callable[[Row], tuple[Any, ...]]:
    """The key that orders rows for ``mode``; every key ends with the name, so it is total.
    Rows without the value sorted on (no result, no uptime) go last."""

    def by(first: Callable[[Row], tuple[Any, ...]]) -> Callable[[Row], tuple[Any, ...]]:
        return lambda row: (*first(row), row.name.casefold(), row.name)

    keys: dict[str, Callable[[Row], tuple[Any, ...]]] = {
        "name": by(lambda row: ()),
        "code": by(lambda row: (row.status_code is None, -(row.status_code or 0))),
        "latency": by(lambda row: (row.latency_ms is None, -(row.latency_ms or 0.0))),
        "failures": by(lambda row: (-row.recent_failures, SEVERITY.get(row.state, 7))),
        "uptime": by(lambda row: (row.uptime is None, row.uptime or 0.0)),
        "since": by(lambda row: (row.since is None, -(row.since.timestamp() if row.since else 0))),
        "verdict": by(lambda row: (row.summary is None, (row.summary or "").casefold())),
        "url": by(lambda row: (row.endpoint.url.casefold(),)),
    }
    return keys.get(mode, by(lambda row: (severity(row),)))


#: A row only a source knows has no local state: its remote state places it among the others.
REMOTE_SEVERITY = {"failing": 0, "partial": 2, "vantage_down": 3, "ok": 4}


def severity(row: Row) -> int:
    """Failing first; a remote-only row by what its vantage points say."""
    if row.remote_only and row.remote is not None:
        return REMOTE_SEVERITY.get(row.remote.state, 7)
    return SEVERITY.get(row.state, 7)


def ordered(rows: Iterable[Row], mode: SortMode) -> list[Row]:
    return sorted(rows, key=sort_key(mode))


# --------------------------------------------------------------------------- filtering


@dataclass(frozen=True)
class Query:
    """A parsed filter: every term must match (``tag:prod``, ``#prod``, ``state:down``, text)."""

    words: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    states: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.words or self.tags or self.states)


def parse_query(text: str) -> Query:
    words: list[str] = []
    tags: list[str] = []
    states: list[str] = []
    for term in text.split():
        low = term.casefold()
        if low.startswith("tag:") and len(low) > 4:
            tags.append(low[4:])
        elif low.startswith("#") and len(low) > 1:
            tags.append(low[1:])
        elif low.startswith(("state:", "is:")) and ":" in low[:-1]:
            states.append(low.split(":", 1)[1])
        else:
            words.append(low)
    return Query(tuple(words), tuple(tags), tuple(states))


def matches(row: Row, query: Query) -> bool:
    """Whether ``row`` passes ``query`` (case-insensitive; text matches a part of a field)."""
    if not query:
        return True
    row_tags = {t.casefold() for t in row.endpoint.tags}
    if any(tag not in row_tags for tag in query.tags):
        return False
    state = str(row.state) if row.state is not None else "unknown"
    if query.states and not any(state.startswith(s) for s in query.states):
        return False
    haystack = " ".join(
        (row.name, row.endpoint.url, " ".join(row.endpoint.tags), row.summary or "", state)
    ).casefold()
    return all(word in haystack for word in query.words)


def visible_rows(rows: Iterable[Row], query: Query, mode: SortMode) -> list[Row]:
    """The rows the board lists, in order."""
    return ordered((r for r in rows if matches(r, query)), mode)


def replay_rows(entries: Mapping[str, ReplayEntry], endpoints: Iterable[Endpoint]) -> list[Row]:
    """The board as the history recorded it: every endpoint known then or now.

    An endpoint of today's watchlist that the history did not know at that moment gets
    no state (shown as NO DATA); one known then but since removed is shown from its record.
    """
    rows: dict[str, Row] = {}
    for endpoint in endpoints:
        entry = entries.get(endpoint.name)
        rows[endpoint.name] = _replayed(endpoint, entry)
    for name, entry in entries.items():
        if name not in rows:
            url = entry.last_result.url if entry.last_result is not None else ""
            rows[name] = _replayed(Endpoint(name=name, url=url), entry)
    return list(rows.values())


def _replayed(endpoint: Endpoint, entry: ReplayEntry | None) -> Row:
    if entry is None:
        return Row(endpoint=endpoint, state=None)
    record = entry.last_result
    result = record.to_result() if record is not None else None
    return Row(
        endpoint=endpoint,
        state=entry.state,
        since=entry.since,
        result=result,
        samples=(Sample.of(result),) if result is not None else (),
        recorded_status=record.status_code if record is not None else None,
    )


def latencies(samples: Sequence[Sample]) -> list[float]:
    """The total times of ``samples`` that have one, oldest first (for sparklines)."""
    return [s.total_ms for s in samples if s.total_ms is not None]


def hop_series(samples: Sequence[Sample], hop: str) -> list[float]:
    """One hop's times over ``samples``, oldest first, only where the hop ran."""
    index = HOP_NAMES.index(hop)  # type: ignore[arg-type,unused-ignore]
    return [ms for s in samples if (ms := s.hops[index]) is not None]
