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
