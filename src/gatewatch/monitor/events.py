"""Messages the engine sends to whoever listens (the board, ``gatewatch watch``, tests).

They cross from the engine thread to other threads, so they are frozen and hold only
immutable data (frozen model objects, strings, numbers). A listener may keep them.
"""

from __future__ import annotations

from dataclasses import dataclass

from gatewatch.model import ProbeResult
from gatewatch.monitor.acks import Ack
from gatewatch.monitor.state import State, TransitionEvent


@dataclass(frozen=True)
class ProbeCompleted:
    """One probe finished (annotated with a verdict) and the state it left the endpoint in."""

    endpoint_name: str
    result: ProbeResult
    state: State
    #: Actual start − scheduled start, in ms (monotonic clock). Includes any wait for a
    #: concurrency slot, which is exactly what an engineer reading a timeline wants to know.
    lateness_ms: float = 0.0


@dataclass(frozen=True)
class StateChanged:
    event: TransitionEvent


@dataclass(frozen=True)
class LocalProblem:
    """The problem is probably on this side (our network, our resolvers), not the endpoints."""

    active: bool
    reason: str


@dataclass(frozen=True)
class HistoryUnavailable:
    """The history database failed; monitoring goes on with history kept in memory."""

    reason: str


@dataclass(frozen=True)
class HistoryRestored:
    """The history database is written again; the rows kept in memory meanwhile were saved."""

    reason: str
    #: Rows that were kept in memory and are now in the file.
    written_back: int = 0


@dataclass(frozen=True)
class AlertFailed:
    """An alert sink failed (after its retries). Never fatal; ``reason`` holds no secrets."""

    sink: str
    reason: str
    #: How many alerts did not get through (a digest or a queue stands for several).
    undelivered: int = 1


@dataclass(frozen=True)
class Acknowledged:
    """An engineer acknowledged an endpoint (``active``), or the acknowledgement ended: the
    endpoint was UP again, or it was removed. While active, its alerts stop; probes go on."""

    ack: Ack
    active: bool = True
    #: Why it ended (None while active).
    reason: str | None = None


@dataclass(frozen=True)
class WorkerRestarted:
    """A probe worker process died, or stopped answering and was killed, and was started
    again.

    ``endpoints`` are the ones it probed: their probes in flight were lost and they are
    probed again at once by the new worker. Never silent: without this event a dead or
    stuck worker's rows would simply stop updating. ``reason`` is how it ended (exit
    status, signal, or "stopped answering for 30 s and was killed").
    """

    worker: int
    endpoints: tuple[str, ...]
    reason: str


Message = (
    ProbeCompleted
    | StateChanged
    | LocalProblem
    | HistoryUnavailable
    | HistoryRestored
    | AlertFailed
    | Acknowledged
    | WorkerRestarted
)
