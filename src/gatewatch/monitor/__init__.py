"""The probe engine: scheduling, states, history (SQLite) and alerts. No UI, no Textual.

It runs in a thread with its own asyncio loop (DESIGN.md, "Threads and time"), probing
there or in worker processes (``workers=N``), and tells listeners what happened through
frozen messages (the full API: :mod:`gatewatch.monitor.engine`)::

    from gatewatch.monitor import Monitor, StateChanged
    monitor = Monitor(endpoints, history=path, alerts=watchlist.alerts)
    inbox = monitor.events()
    monitor.start()
    ...
    monitor.stop()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gatewatch.monitor.acks import Ack
    from gatewatch.monitor.alerts import Alert, AlertConfig, AlertPolicy
    from gatewatch.monitor.engine import Monitor
    from gatewatch.monitor.events import (
        Acknowledged,
        AlertFailed,
        HistoryRestored,
        HistoryUnavailable,
        LocalProblem,
        Message,
        ProbeCompleted,
        StateChanged,
        WorkerRestarted,
    )
    from gatewatch.monitor.history import History, default_history_path
    from gatewatch.monitor.records import ProbeRecord, ReplayEntry
    from gatewatch.monitor.settings import MonitorRules, rules_for
    from gatewatch.monitor.state import State, TransitionEvent
    from gatewatch.monitor.stats import EngineStats
    from gatewatch.monitor.status import EndpointStatus
    from gatewatch.monitor.watchlist_check import check_watchlist, load_checked

#: Where each public name lives. Imported on first use (PEP 562), not here: a probe
#: worker imports ``gatewatch.monitor.worker``, and importing this package eagerly would
#: load the engine, SQLite history, alerts and the watchlist into every worker
#: (about 4 MB of RSS each, and start-up time) for nothing.
_EXPORTS = {
    "Ack": "gatewatch.monitor.acks",
    "Acknowledged": "gatewatch.monitor.events",
    "Alert": "gatewatch.monitor.alerts",
    "AlertConfig": "gatewatch.monitor.alerts",
    "AlertFailed": "gatewatch.monitor.events",
    "AlertPolicy": "gatewatch.monitor.alerts",
    "EndpointStatus": "gatewatch.monitor.status",
    "EngineStats": "gatewatch.monitor.stats",
    "History": "gatewatch.monitor.history",
    "HistoryRestored": "gatewatch.monitor.events",
    "HistoryUnavailable": "gatewatch.monitor.events",
    "LocalProblem": "gatewatch.monitor.events",
    "Message": "gatewatch.monitor.events",
    "Monitor": "gatewatch.monitor.engine",
    "MonitorRules": "gatewatch.monitor.settings",
    "ProbeCompleted": "gatewatch.monitor.events",
    "ProbeRecord": "gatewatch.monitor.records",
    "ReplayEntry": "gatewatch.monitor.records",
    "State": "gatewatch.monitor.state",
    "StateChanged": "gatewatch.monitor.events",
    "TransitionEvent": "gatewatch.monitor.state",
    "WorkerRestarted": "gatewatch.monitor.events",
    "check_watchlist": "gatewatch.monitor.watchlist_check",
    "default_history_path": "gatewatch.monitor.history",
    "load_checked": "gatewatch.monitor.watchlist_check",
    "rules_for": "gatewatch.monitor.settings",
}


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Ack",
    "Acknowledged",
    "Alert",
    "AlertConfig",
    "AlertFailed",
    "AlertPolicy",
    "EndpointStatus",
    "EngineStats",
    "History",
    "HistoryRestored",
    "HistoryUnavailable",
    "LocalProblem",
    "Message",
    "Monitor",
    "MonitorRules",
    "ProbeCompleted",
    "ProbeRecord",
    "ReplayEntry",
    "State",
    "StateChanged",
    "TransitionEvent",
    "WorkerRestarted",
    "check_watchlist",
    "default_history_path",
    "load_checked",
    "rules_for",
]
