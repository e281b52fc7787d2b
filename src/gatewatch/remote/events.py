"""What the remote watcher tells the board: rows that changed, sources that failed, came back.

Kept apart from :mod:`gatewatch.remote.watcher` (which needs httpx to read Prometheus) so
the board can know these types without importing an HTTP client at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gatewatch.remote.vantage import RowChange

ProblemKind = Literal[
    "refused",
    "unauthorized",
    "timeout",
    "bad_json",
    "http_error",
    "query_error",
    "config",
    "internal",
]


@dataclass(frozen=True)
class SourceProblem:
    """Why a source could not be read (shown on the board and in ``watch``)."""

    kind: ProblemKind
    message: str


@dataclass(frozen=True)
class RemoteRowChanged:
    change: RowChange
    at: float


@dataclass(frozen=True)
class SourceStatus:
    """A source's problem began (``problem`` set) or ended (None)."""

    source: str
    problem: SourceProblem | None
    at: float


RemoteEvent = RemoteRowChanged | SourceStatus
