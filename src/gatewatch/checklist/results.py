"""What a checklist step's check found, and what the engineer marked: frozen, JSON round-trip.

Why a module of its own: the checks produce these, the runner collects them, the report and
the screen render them, and the progress file stores them across restarts. Every one of
those layers must agree on one shape, and the stored shape must read back after an upgrade,
so the JSON conversion lives beside the types and tolerates keys it does not know.

Nothing here does I/O. Evidence lines are untrusted text (they quote servers): renderers
pass them through :func:`gatewatch.text.visible`, and exports through the redactor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, cast, get_args

from gatewatch.model import HOP_NAMES, ProbeResult, format_time, frozen_mapping

Outcome = Literal["pass", "warn", "fail", "inconclusive", "not_applicable"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)

Mark = Literal["done", "skipped"]
MARKS: tuple[Mark, ...] = get_args(Mark)

#: Outcomes that mean "look here": a failing check, or one that found a warning sign.
ALARMING: frozenset[Outcome] = frozenset({"fail", "warn"})


def parse_time(text: str | None) -> datetime | None:
    """The inverse of :func:`gatewatch.model.format_time` (None for missing or bad text)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) or math.isinf(value) else float(value)


@dataclass(frozen=True)
class ProbeRow:
    """One probe as the report's table shows it: small enough to store with a check result.

    A whole ProbeResult (body, headers, certificate facts) is too much to keep per check
    and holds server text the progress file has no use for.
    """

    at: datetime
    status_code: int | None
    ok: bool
    #: Milliseconds per hop in HOP_NAMES order; None where the hop did not run.
    hop_ms: tuple[float | None, ...]
    total_ms: float | None
    #: The verdict's kind, else the failing hop's kind; None when healthy.
    kind: str | None = None
    address: str | None = None
    #: Where the row comes from: "" (history or the probe that opened the checklist),
    #: or e.g. "retry 2/5".
    note: str = ""

    @classmethod
    def of(cls, result: ProbeResult, note: str = "") -> ProbeRow:
        by_name = {h.name: h for h in result.hops}
        hop_ms = tuple(
            _finite(by_name[n].ms) if n in by_name and by_name[n].status != "skip" else None
            for n in HOP_NAMES
        )
        return cls(
            at=result.started_at,
            status_code=result.status_code,
            ok=result.ok,
            hop_ms=hop_ms,
            total_ms=_finite(result.total_ms),
            kind=kind_of(result),
            address=result.address,
            note=note,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "at": format_time(self.at),
            "status_code": self.status_code,
            "ok": self.ok,
            "hop_ms": dict(zip(HOP_NAMES, self.hop_ms, strict=True)),
            "total_ms": self.total_ms,
            "kind": self.kind,
            "address": self.address,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProbeRow | None:
        at = parse_time(data.get("at"))
        if at is None:
            return None
        hops = data.get("hop_ms") or {}
        status = data.get("status_code")
        return cls(
            at=at,
            status_code=status if isinstance(status, int) else None,
            ok=bool(data.get("ok")),
            hop_ms=tuple(
                _finite(hops.get(n)) if isinstance(hops, Mapping) else None for n in HOP_NAMES
            ),
            total_ms=_finite(data.get("total_ms")),
            kind=_text_or_none(data.get("kind")),
            address=_text_or_none(data.get("address")),
            note=str(data.get("note") or ""),
        )


def kind_of(result: ProbeResult) -> str | None:
    """What went wrong in one probe, in the verdict's words when there is a verdict."""
    if result.verdict is not None:
        return None if result.verdict.healthy else result.verdict.kind or result.verdict.cause
    failed = result.failed_hop
    if failed is None:
        return None
    return failed.kind or failed.name


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class CheckResult:
    """One run of one step's automated check."""

    step: str
    outcome: Outcome
    #: One line an engineer reads first ("persistent: 5 of 5 probes failed").
    summary: str
    #: The facts behind the outcome, one checkable line each.
    evidence: tuple[str, ...] = ()
    #: Machine-readable facts for ``--json`` (JSON-ready values only).
    facts: Mapping[str, Any] = field(default_factory=frozen_mapping, compare=False)
    #: Probes the check made itself (retries, per-address probes), for the report's table.
    probes: tuple[ProbeRow, ...] = ()
    checked_at: datetime | None = None
    #: How long the check took.
    ms: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "outcome": self.outcome,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "facts": _plain(self.facts),
            "probes": [p.to_json() for p in self.probes],
            "checked_at": format_time(self.checked_at) if self.checked_at else None,
            "ms": None if self.ms is None else round(self.ms, 3),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckResult | None:
        """Read a stored result back; None when it is not one (a file from elsewhere)."""
        step, outcome, summary = data.get("step"), data.get("outcome"), data.get("summary")
        if not isinstance(step, str) or outcome not in OUTCOMES or not isinstance(summary, str):
            return None
        evidence = data.get("evidence") or []
        probes = data.get("probes") or []
        facts = data.get("facts")
        return cls(
            step=step,
            outcome=cast(Outcome, outcome),
            summary=summary,
            evidence=tuple(str(e) for e in evidence if isinstance(e, str)),
            facts=frozen_mapping(facts if isinstance(facts, Mapping) else {}),
            probes=tuple(
                row
                for p in probes
                if isinstance(p, Mapping) and (row := ProbeRow.from_json(p)) is not None
            ),
            checked_at=parse_time(data.get("checked_at")),
            ms=_finite(data.get("ms")),
        )


def _plain(value: Any) -> Any:
    """Facts as plain JSON values (mappings and sequences copied, times formatted)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, float):
        return _finite(value)
    return value


@dataclass(frozen=True)
class StepProgress:
    """The engineer's side of one step: a mark, a note, and the last check's result."""

    mark: Mark | None = None
    note: str = ""
    result: CheckResult | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "mark": self.mark,
            "note": self.note,
            "result": self.result.to_json() if self.result else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepProgress:
        mark = data.get("mark")
        note = data.get("note")
        result = data.get("result")
        return cls(
            mark=cast(Mark, mark) if mark in MARKS else None,
            note=note if isinstance(note, str) else "",
            result=CheckResult.from_json(result) if isinstance(result, Mapping) else None,
        )


@dataclass(frozen=True)
class Progress:
    """A checklist's state for one endpoint. Replace, never mutate (it crosses threads)."""

    name: str
    url: str
    steps: Mapping[str, StepProgress] = field(default_factory=frozen_mapping)
    updated_at: datetime | None = None

    def step(self, step_id: str) -> StepProgress:
        return self.steps.get(step_id) or StepProgress()

    def _with(self, step_id: str, **changes: Any) -> Progress:
        steps = dict(self.steps)
        steps[step_id] = replace(self.step(step_id), **changes)
        return replace(self, steps=frozen_mapping(steps))

    def with_mark(self, step_id: str, mark: Mark | None) -> Progress:
        return self._with(step_id, mark=mark)

    def toggle_mark(self, step_id: str, mark: Mark) -> Progress:
        """Set ``mark``, or clear it when the step already has it (one key does both)."""
        return self.with_mark(step_id, None if self.step(step_id).mark == mark else mark)

    def with_note(self, step_id: str, note: str) -> Progress:
        return self._with(step_id, note=note)

    def with_result(self, result: CheckResult) -> Progress:
        return self._with(result.step, result=result)

    @property
    def results(self) -> dict[str, CheckResult]:
        return {k: s.result for k, s in self.steps.items() if s.result is not None}
