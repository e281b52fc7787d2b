"""``gatewatch watch``: the engine without a board, transitions printed as lines.

For a terminal multiplexer pane, a systemd unit or a CI job: one line per transition
(and per local problem, history failure or failed alert), plain text or JSON lines, until
Ctrl-C or SIGTERM; then a clean stop (in-flight probes cancelled, history flushed) and
exit status 0. Server text is shown with control characters made visible; JSON escapes
them by itself. With probe workers (``--workers``, one per core by default) a stop also
ends every worker; a worker that died and was restarted is printed as a line.
"""

from __future__ import annotations

import argparse
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from gatewatch.model import Endpoint, format_time, verdict_to_json
from gatewatch.monitor.engine import Monitor
from gatewatch.monitor.events import (
    Acknowledged,
    AlertFailed,
    HistoryRestored,
    HistoryUnavailable,
    LocalProblem,
    Message,
    StateChanged,
    WorkerRestarted,
)
from gatewatch.monitor.gctune import tune_gc
from gatewatch.stopsignals import stop_on_signals
from gatewatch.text import dumps, one_line
from gatewatch.watchlist.sources import Source

_POLL = 0.2


def run_watch(
    watchlist_endpoints: Iterable[Endpoint],
    alerts_config: Mapping[str, Any] | None,
    *,
    json_lines: bool,
    history_path: str | Path | None,
    out: TextIO = sys.stdout,
    stop: threading.Event | None = None,
    monitor_factory: Callable[..., Monitor] = Monitor,
    gc_tuning: bool = True,
    sources: Sequence[Source] = (),
    workers: int = 0,
) -> int:
    """Watch until SIGINT/SIGTERM (or ``stop`` is set); 0 on a clean stop.

    ``stop``, ``monitor_factory`` and ``gc_tuning`` exist for tests and embedding (a test
    must not retune the garbage collector of the test process); the CLI passes none.
    ``workers``: probe worker processes (0: probe on the engine's thread).
    """
    stop = stop or threading.Event()
    options: dict[str, Any] = {"history": history_path, "alerts": alerts_config}
    if workers:
        options["workers"] = workers
    monitor = monitor_factory(list(watchlist_endpoints), **options)
    inbox = monitor.events()
    remote = _RemoteLines(sources, json_lines, out)
    restore = stop_on_signals(stop)
    try:
        monitor.start()
        remote.start()
        if gc_tuning:
            tune_gc()
        while not stop.is_set():
            remote.flush()
            try:
                message = inbox.get(timeout=_POLL)
            except queue.Empty:
                continue
            _emit(message, json_lines, out)
    finally:
        remote.stop()
        monitor.stop()
        restore()
        while True:  # what arrived while stopping (e.g. a history failure)
            try:
                _emit(inbox.get_nowait(), json_lines, out)
            except queue.Empty:
                break
    return 0


def format_message(message: Message, *, json_lines: bool) -> str | None:
    """One output line for ``message``, or None for messages ``watch`` does not print."""
    record = _record(message)
    if record is None:
        return None
    if json_lines:
        return dumps(record)
    return _human(record)


def _emit(message: Message, json_lines: bool, out: TextIO) -> None:
    line = format_message(message, json_lines=json_lines)
    if line is not None:
        out.write(line + "\n")
        out.flush()


def _record(message: Message) -> dict[str, Any] | None:
    if isinstance(message, StateChanged):
        event = message.event
        return {
            "type": "transition",
            "at": format_time(event.at),
            "endpoint": event.endpoint,
            "from": str(event.from_state),
            "to": str(event.to_state),
            "reason": event.reason,
            "verdict": verdict_to_json(event.verdict),
            "http_version": event.http_version,
        }
    if isinstance(message, LocalProblem):
        return {"type": "local_problem", "active": message.active, "reason": message.reason}
    if isinstance(message, HistoryUnavailable):
        return {"type": "history_unavailable", "reason": message.reason}
    if isinstance(message, HistoryRestored):
        return {
            "type": "history_restored",
            "reason": message.reason,
            "written_back": message.written_back,
        }
    if isinstance(message, AlertFailed):
        return {
            "type": "alert_failed",
            "sink": message.sink,
            "reason": message.reason,
            "undelivered": message.undelivered,
        }
    if isinstance(message, Acknowledged):
        ack = message.ack
        return {
            "type": "acknowledged" if message.active else "acknowledgement_cleared",
            "at": format_time(ack.at),
            "endpoint": ack.endpoint,
            "by": ack.by,
            "reason": ack.reason,
            "cleared_because": message.reason,
        }
    if isinstance(message, WorkerRestarted):
        return {
            "type": "worker_restarted",
            "worker": message.worker,
            "reason": message.reason,
            "endpoints": list(message.endpoints),
        }
    return None


def _human(record: dict[str, Any]) -> str:
    kind = record["type"]
    if kind == "transition":
        line = (
            f"{record['at']}  {one_line(record['endpoint'], 60)}  "
            f"{record['from']} → {record['to'].upper()}  {one_line(record['reason'])}"
        )
        verdict = record["verdict"]
        if verdict and verdict["cause"] != "healthy" and record["to"] != "up":
            line += f"  [{verdict['cause']}/{verdict['kind'] or '-'}]"
        return line
    if kind == "local_problem":
        head = "LOCAL PROBLEM" if record["active"] else "local problem cleared"
        return f"*  {head}: {one_line(record['reason'])}"
    if kind == "acknowledged":
        return (
            f"{record['at']}  {one_line(record['endpoint'], 60)}  acknowledged by "
            f"{one_line(record['by'], 40)}: {one_line(record['reason'])} (alerts held)"
        )
    if kind == "acknowledgement_cleared":
        return (
            f"-  {one_line(record['endpoint'], 60)}: acknowledgement by "
            f"{one_line(record['by'], 40)} ended ({one_line(record['cleared_because'] or '')})"
        )
    if kind == "history_unavailable":
        return f"!  history unavailable: {one_line(record['reason'])}"
    if kind == "history_restored":
        return f"*  history back on disk: {one_line(record['reason'])}"
    if kind == "worker_restarted":
        shown = ", ".join(one_line(n, 40) for n in record["endpoints"][:5])
        more = len(record["endpoints"]) - 5
        shown += f" and {more} more" if more > 0 else ""
        count = len(record["endpoints"])
        return (
            f"!  probe worker {record['worker']} {record['reason']}; restarted, its "
            f"{count} endpoint{'s' if count != 1 else ''} probed again now: {shown}"
        )
    return f"!  alert via {record['sink']} failed: {one_line(record['reason'])}"


class _RemoteLines:
    """The sources' events (``[[source]]``), printed from the main loop like the monitor's."""

    def __init__(self, sources: Sequence[Source], json_lines: bool, out: TextIO) -> None:
        self._json, self._out = json_lines, out
        self._events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._watcher: Any = None
        if sources:
            from gatewatch.remote.watcher import RemoteWatcher

            self._watcher = RemoteWatcher(sources, self._events.put)

    def start(self) -> None:
        if self._watcher is not None:
            self._watcher.start()

    def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self.flush()

    def flush(self) -> None:
        if self._watcher is None:
            return
        from gatewatch.remote.records import human_line, remote_record

        while True:
            try:
                record = remote_record(self._events.get_nowait())
            except queue.Empty:
                return
            line = dumps(record) if self._json else human_line(record)
            self._out.write(line + "\n")
            self._out.flush()


def cmd_watch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gatewatch.cli.common import load_watchlist, workers_from

    watchlist = load_watchlist(args, err)
    if isinstance(watchlist, int):
        return watchlist
    return run_watch(
        watchlist.endpoints,
        watchlist.alerts,
        json_lines=args.json,
        history_path=args.history,
        out=out,
        sources=watchlist.sources,
        workers=workers_from(args),
    )
