"""The history database's schema, and the conversions between its rows and frozen objects.

Why a file of its own: the writer (hot, batched) and the queries (occasional) both need the
same column order; keeping it in one place means they cannot disagree. Times are stored as
Unix seconds (UTC) in REAL columns, so range queries use the index and need no parsing.
Per-hop timings are columns, not JSON, so percentiles read only what they need.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from gatewatch.model import (
    HOP_NAMES,
    Cause,
    Hop,
    HopName,
    HopStatus,
    ProbeResult,
    Response,
    Verdict,
)
from gatewatch.monitor.acks import Ack
from gatewatch.monitor.state import State, TransitionEvent
from gatewatch.secrets import redact_url

SCHEMA_VERSION = 1

_HOP_COLUMNS = ", ".join(f"{h}_ms REAL, {h}_status TEXT" for h in HOP_NAMES)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS probes (
    t REAL NOT NULL,
    endpoint TEXT NOT NULL,
    url TEXT NOT NULL,
    ok INTEGER NOT NULL,
    state TEXT NOT NULL,
    status_code INTEGER,
    total_ms REAL,
    {_HOP_COLUMNS},
    failed_hop TEXT,
    failed_kind TEXT,
    failed_error TEXT,
    cause TEXT,
    kind TEXT,
    verdict_hop TEXT,
    generator TEXT,
    confidence REAL,
    summary TEXT,
    lateness_ms REAL
);
CREATE INDEX IF NOT EXISTS probes_endpoint_t ON probes (endpoint, t);
CREATE INDEX IF NOT EXISTS probes_t ON probes (t);
CREATE TABLE IF NOT EXISTS events (
    t REAL NOT NULL,
    endpoint TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL,
    verdict TEXT
);
CREATE INDEX IF NOT EXISTS events_endpoint_t ON events (endpoint, t);
CREATE INDEX IF NOT EXISTS events_t ON events (t);
CREATE TABLE IF NOT EXISTS acks (
    t REAL NOT NULL,
    endpoint TEXT NOT NULL,
    by TEXT NOT NULL,
    reason TEXT NOT NULL,
    cleared REAL,
    cleared_reason TEXT
);
CREATE INDEX IF NOT EXISTS acks_endpoint_t ON acks (endpoint, t);
"""

INSERT_ACK = "INSERT INTO acks (t, endpoint, by, reason) VALUES (?, ?, ?, ?)"
CLEAR_ACK = (
    "UPDATE acks SET cleared = ?, cleared_reason = ? WHERE endpoint = ? AND cleared IS NULL"
)
SELECT_ACK = "SELECT t, endpoint, by, reason FROM acks"


def ack_from_row(row: Sequence[Any]) -> Ack:
    return Ack(endpoint=row[1], by=row[2], reason=row[3], at=from_timestamp(row[0]))

PROBE_COLUMNS: tuple[str, ...] = (
    "t",
    "endpoint",
    "url",
    "ok",
    "state",
    "status_code",
    "total_ms",
    *(c for h in HOP_NAMES for c in (f"{h}_ms", f"{h}_status")),
    "failed_hop",
    "failed_kind",
    "failed_error",
    "cause",
    "kind",
    "verdict_hop",
    "generator",
    "confidence",
    "summary",
    "lateness_ms",
)
EVENT_COLUMNS: tuple[str, ...] = ("t", "endpoint", "from_state", "to_state", "reason", "verdict")

INSERT_PROBE = (
    f"INSERT INTO probes ({', '.join(PROBE_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in PROBE_COLUMNS)})"
)
INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
)
SELECT_PROBE = f"SELECT {', '.join('p.' + c for c in PROBE_COLUMNS)} FROM probes p"
SELECT_EVENT = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events"


@dataclass(frozen=True)
class ProbeRecord:
    """One stored probe: what the history keeps of a ProbeResult (no bodies, no evidence)."""

    at: datetime
    endpoint: str
    url: str
    ok: bool
    state: State
    status_code: int | None
    total_ms: float | None
    hops: tuple[Hop, ...]
    verdict: Verdict | None
    lateness_ms: float | None

    def to_result(self) -> ProbeResult:
        """A ProbeResult carrying what was stored, e.g. as history for ``annotate``."""
        return ProbeResult(
            name=self.endpoint,
            url=self.url,
            started_at=self.at,
            hops=self.hops,
            total_ms=self.total_ms if self.total_ms is not None else float("nan"),
            # The status code survives (replay shows it); headers and body are not stored.
            response=(
                Response(http_version="", status_code=self.status_code, reason="", headers=())
                if self.status_code is not None
                else None
            ),
            verdict=self.verdict,
        )


@dataclass(frozen=True)
class ReplayEntry:
    """What the board showed for one endpoint at a past moment."""

    endpoint: str
    state: State
    #: When that state began, if the event that started it is still within retention.
    since: datetime | None
    last_result: ProbeRecord | None


def to_timestamp(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def from_timestamp(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


def probe_row(result: ProbeResult, state: State, lateness_ms: float | None) -> tuple[Any, ...]:
    hops = {h.name: h for h in result.hops}
    hop_values: list[Any] = []
    for name in HOP_NAMES:
        hop = hops.get(name)
        hop_values += [hop.ms if hop else None, hop.status if hop else None]
    failed = result.failed_hop
    verdict = result.verdict
    return (
        to_timestamp(result.started_at),
        result.name,
        redact_url(result.url),
        int(result.ok),
        str(state),
        result.status_code,
        result.total_ms,
        *hop_values,
        failed.name if failed else None,
        failed.kind if failed else None,
        failed.error if failed else None,
        verdict.cause if verdict else None,
        verdict.kind if verdict else None,
        verdict.hop if verdict else None,
        verdict.generator if verdict else None,
        verdict.confidence if verdict else None,
        verdict.summary if verdict else None,
        lateness_ms,
    )


def record_from_row(row: Sequence[Any]) -> ProbeRecord:
    values = dict(zip(PROBE_COLUMNS, row, strict=True))
    failed_hop = values["failed_hop"]
    hops = []
    for name in HOP_NAMES:
        status = values[f"{name}_status"]
        if status is None:
            continue
        mine = name == failed_hop
        hops.append(
            Hop(
                name=name,
                status=cast(HopStatus, status),
                ms=values[f"{name}_ms"],
                error=values["failed_error"] if mine else None,
                kind=values["failed_kind"] if mine else None,
            )
        )
    verdict = None
    if values["cause"] is not None:
        verdict = Verdict(
            cause=cast(Cause, values["cause"]),
            kind=values["kind"],
            hop=cast(HopName | None, values["verdict_hop"]),
            generator=values["generator"],
            confidence=values["confidence"] or 0.0,
            summary=values["summary"] or "",
        )
    return ProbeRecord(
        at=from_timestamp(values["t"]),
        endpoint=values["endpoint"],
        url=values["url"],
        ok=bool(values["ok"]),
        state=State(values["state"]),
        status_code=values["status_code"],
        total_ms=values["total_ms"],
        hops=tuple(hops),
        verdict=verdict,
        lateness_ms=values["lateness_ms"],
    )


def event_row(event: TransitionEvent) -> tuple[Any, ...]:
    return (
        to_timestamp(event.at),
        event.endpoint,
        str(event.from_state),
        str(event.to_state),
        event.reason,
        json.dumps(_verdict_json(event.verdict)) if event.verdict else None,
    )


def event_from_row(row: Sequence[Any]) -> TransitionEvent:
    t, endpoint, from_state, to_state, reason, verdict = row
    return TransitionEvent(
        at=from_timestamp(t),
        endpoint=endpoint,
        from_state=State(from_state),
        to_state=State(to_state),
        verdict=_verdict_from_json(json.loads(verdict)) if verdict else None,
        reason=reason,
    )


def _verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {
        "cause": verdict.cause,
        "kind": verdict.kind,
        "hop": verdict.hop,
        "generator": verdict.generator,
        "confidence": verdict.confidence,
        "summary": verdict.summary,
        "evidence": list(verdict.evidence),
        "next_steps": list(verdict.next_steps),
    }


def _verdict_from_json(data: dict[str, Any]) -> Verdict:
    return Verdict(
        cause=data["cause"],
        kind=data.get("kind"),
        hop=data.get("hop"),
        generator=data.get("generator"),
        confidence=float(data.get("confidence") or 0.0),
        summary=data.get("summary") or "",
        evidence=tuple(data.get("evidence") or ()),
        next_steps=tuple(data.get("next_steps") or ()),
    )


def create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
