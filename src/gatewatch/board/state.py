"""The board's one state: the endpoints being watched and what the engine last said of each.

Why one owner: an endpoint used to live in three places (the watchlist in hand, the board's
rows and the monitor's records) and every edit updated all three by hand. Here the
watchlist in hand *is* the list of endpoints; a command (add, edit, delete, pause, probe now,
save) validates against it, tells the engine, and returns what changed. A row's state, result
and samples change only when the engine says so (:meth:`BoardState.apply`), so the board
shows what the engine did, never what was asked.

No Textual here (import-linter keeps it so): the Textual app and its screens render this
state and receive it through :class:`gatewatch.board.api.BoardModel`. Event-loop thread only,
except :meth:`BoardState.save`, which blocks on the disk and runs in a worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import tomli_w

from gatewatch import watchlist as wl
from gatewatch.board import remote as rm
from gatewatch.board.engine import Engine, News
from gatewatch.board.rows import Row, from_status, with_result, with_transition
from gatewatch.model import Endpoint
from gatewatch.monitor import (
    Acknowledged,
    AlertFailed,
    EndpointStatus,
    History,
    HistoryRestored,
    HistoryUnavailable,
    LocalProblem,
    ProbeCompleted,
    State,
    StateChanged,
    WorkerRestarted,
)
from gatewatch.remote.events import RemoteRowChanged, SourceProblem, SourceStatus
from gatewatch.remote.vantage import RemoteRow
from gatewatch.text import one_line, visible


@dataclass
class Changes:
    """What one command or one batch of engine events changed; the screens redraw exactly that."""

    #: Endpoints with a new probe result.
    results: set[str] = field(default_factory=set)
    #: Endpoints whose state changed.
    states: set[str] = field(default_factory=set)
    #: Endpoints added or edited (their row's endpoint changed; they may move).
    endpoints: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    #: The board-wide conditions (probably local, history unavailable) changed.
    banners: bool = False
    #: The watchlist in hand or on disk changed (unsaved changes may come or go).
    watchlist: bool = False
    #: Things to tell the engineer, in order (already safe to show: ``visible`` text).
    notices: list[str] = field(default_factory=list)
    #: Alerts that failed to go out, to show as warnings.
    alerts: list[str] = field(default_factory=list)
    #: The endpoint the cursor should go to (the one just added or renamed).
    focus: str | None = None

    def __bool__(self) -> bool:
        return bool(
            self.results
            or self.states
            or self.endpoints
            or self.removed
            or self.banners
            or self.watchlist
            or self.notices
            or self.alerts
        )

    @property
    def names(self) -> set[str]:
        """Every endpoint whose row looks different now."""
        return self.results | self.states | self.endpoints

    @property
    def reorders(self) -> bool:
        """Whether the rows' order may have changed (a state, an added or removed row)."""
        return bool(self.states or self.endpoints or self.removed)


class BoardState:
    """The watchlist in hand and on disk, one :class:`Row` per endpoint, and the engine.

    ``rows`` follow the watchlist's endpoints one to one; their contents follow the engine.
    """

    def __init__(
        self,
        watchlist: wl.Watchlist,
        engine: Engine,
        *,
        clock: Callable[[], datetime] | None = None,
        user: str = "someone",
    ) -> None:
        self.watchlist = watchlist
        #: Who acknowledges from this board (``$USER``, given by the app).
        self.user = user
        self.saved = watchlist
        self.engine = engine
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._rows: dict[str, Row] = {e.name: Row(endpoint=e) for e in watchlist.endpoints}
        #: The active "probably local" problem's reason, or None.
        self.local_problem: str | None = None
        #: Why the history database is not used, or None.
        self.history_failure: str | None = None
        #: Alerts that did not reach a sink this session (failed, or dropped).
        self.alerts_undelivered = 0
        #: The remote sources' rows as last told, by (source, endpoint).
        self._remote: dict[rm.Key, RemoteRow] = {}
        #: Sources that fail to answer now (refused, 401, timeout, bad JSON …), by name.
        self.source_problems: dict[str, SourceProblem] = {}

    # ------------------------------------------------------------------ reading

    @property
    def rows(self) -> Mapping[str, Row]:
        return self._rows

    @property
    def dirty(self) -> bool:
        """Unsaved changes: the watchlist in hand differs from the one last read or written."""
        return self.watchlist != self.saved

    @property
    def history(self) -> History | None:
        return getattr(self.engine, "history", None)

    def now(self) -> datetime:
        return self.clock()

    def find(self, name: str) -> Endpoint | None:
        return self.watchlist.find(name)

    # ------------------------------------------------------------------ from the engine

    def load(self, statuses: Mapping[str, EndpointStatus]) -> Changes:
        """Take the engine's snapshot (at start, or after a reconnect)."""
        changes = Changes()
        for name, status in statuses.items():
            if name in self._rows:
                old = self._rows[name]
                self._rows[name] = replace(
                    from_status(status), uptime=old.uptime, remote=old.remote
                )
                changes.states.add(name)
        return changes

    def apply(self, messages: Iterable[News]) -> Changes:
        """Fold a batch of engine (and remote sources') events into the rows; the only way a
        row's state changes."""
        changes = Changes()
        remote = False
        for message in messages:
            if isinstance(message, RemoteRowChanged):
                new = message.change.new
                self._remote[(new.source, new.endpoint)] = new
                remote = True
            elif isinstance(message, SourceStatus):
                if message.problem is None:
                    self.source_problems.pop(message.source, None)
                else:
                    self.source_problems[message.source] = message.problem
                changes.banners = True
            elif isinstance(message, ProbeCompleted):
                row = self._rows.get(message.endpoint_name)
                if row is None:
                    continue  # removed while the probe was in flight
                self._rows[row.name] = with_result(row, message.result, message.state)
                changes.results.add(row.name)
                if row.state != message.state:
                    changes.states.add(row.name)
            elif isinstance(message, StateChanged):
                event = message.event
                row = self._rows.get(event.endpoint)
                if row is None:
                    continue
                self._rows[row.name] = with_transition(row, event)
                changes.states.add(row.name)
            elif isinstance(message, LocalProblem):
                self.local_problem = message.reason if message.active else None
                changes.banners = True
            elif isinstance(message, HistoryUnavailable):
                self.history_failure = message.reason
                changes.banners = True
            elif isinstance(message, HistoryRestored):
                self.history_failure = None  # the banner goes: history is on disk again
                changes.banners = True
            elif isinstance(message, Acknowledged):
                ack = message.ack
                row = self._rows.get(ack.endpoint)
                if row is None:
                    continue
                self._rows[row.name] = replace(row, ack=ack if message.active else None)
                changes.results.add(row.name)
                if not message.active:
                    changes.notices.append(
                        visible(f"{ack.endpoint}: acknowledgement by {ack.by} ended "
                                f"({message.reason or 'cleared'})")
                    )
            elif isinstance(message, AlertFailed):
                self.alerts_undelivered += message.undelivered
                changes.alerts.append(visible(f"alert to {message.sink} failed: {message.reason}"))
            elif isinstance(message, WorkerRestarted):  # never silently frozen rows
                count = len(message.endpoints)
                changes.alerts.append(
                    f"probe worker {message.worker} {message.reason}; restarted, its "
                    + (f"{count} endpoints are" if count != 1 else "endpoint is")
                    + " probed again now"
                )
        if remote:
            self._sync_remote(changes)
        return changes

    def _sync_remote(self, changes: Changes) -> None:
        """Hand each row its remote vantage points; rows only a source knows come and go."""
        added, changed, removed = rm.sync(self._rows, self._remote, self.watchlist.endpoints)
        changes.endpoints |= added
        changes.results |= changed
        changes.removed |= removed

    def source_banner(self) -> str | None:
        """The sources that fail now, in one line (already ``visible``), or None."""
        if not self.source_problems:
            return None
        return "; ".join(
            f"{one_line(name, 40)}: {one_line(p.message, 160)}"
            for name, p in sorted(self.source_problems.items())
        )

    def set_uptimes(self, uptimes: Mapping[str, float | None]) -> Changes:
        """The history's uptime percentages (read in a worker, handed over here)."""
        changes = Changes()
        for name, value in uptimes.items():
            row = self._rows.get(name)
            if row is not None and row.uptime != value:
                self._rows[name] = replace(row, uptime=value)
                changes.results.add(name)
        return changes

    # ------------------------------------------------------------------ commands: the watchlist

    def add(self, endpoint: Endpoint) -> Changes:
        """Watch ``endpoint``. Raises WatchlistError (it would not load back) or ValueError."""
        edited = self.watchlist.with_endpoint(endpoint)
        self.engine.add(endpoint)
        self.watchlist = edited
        self._rows.pop(endpoint.name, None)  # a remote-only row of that name becomes local
        self._rows[endpoint.name] = Row(endpoint=endpoint)
        changes = Changes(
            endpoints={endpoint.name},
            watchlist=True,
            focus=endpoint.name,
            notices=[f"added {visible(endpoint.name)} (ctrl+s saves)"],
        )
        self._sync_remote(changes)
        return changes

    def edit(self, old_name: str, endpoint: Endpoint) -> Changes:
        """Replace ``old_name`` with ``endpoint``; a rename keeps the state and the history
        (the engine carries them over too: ``Monitor.rename``). Raises WatchlistError,
        ValueError or KeyError."""
        edited = self.watchlist.replace_endpoint(old_name, endpoint)
        if endpoint.name == old_name:
            self.engine.update(endpoint)
        else:
            self.engine.rename(old_name, endpoint)
        self.watchlist = edited
        old = self._rows.pop(old_name, None)
        self._rows[endpoint.name] = (
            Row(endpoint=endpoint) if old is None else replace(old, endpoint=endpoint)
        )
        removed = {old_name} if old_name != endpoint.name else set()
        changes = Changes(
            endpoints={endpoint.name},
            removed=removed,
            watchlist=True,
            focus=endpoint.name,
            notices=[f"changed {visible(endpoint.name)} (ctrl+s saves)"],
        )
        self._sync_remote(changes)
        return changes

    def delete(self, name: str) -> Changes:
        """Stop watching ``name``. Raises KeyError or WatchlistError."""
        edited = self.watchlist.without_endpoint(name)
        self.engine.remove(name)
        self.watchlist = edited
        self._rows.pop(name, None)
        changes = Changes(
            removed={name}, watchlist=True, notices=[f"deleted {visible(name)} (ctrl+s saves)"]
        )
        self._sync_remote(changes)
        return changes

    def save(self, *, force: bool = False) -> Changes:
        """Write the watchlist (atomic, with .bak). Blocks on the disk: call from a worker.
        Raises WatchlistConflict (changed on disk since loaded), WatchlistError or OSError."""
        in_hand = self.watchlist
        saved = wl.save(in_hand, force=force)
        self.saved = saved
        if self.watchlist is in_hand:  # no edit arrived while the disk was busy
            self.watchlist = saved
        return Changes(
            watchlist=True,
            notices=[f"saved {visible(str(saved.path))} (previous version in .bak)"],
        )

    # ------------------------------------------------------------------ commands: the engine

    def toggle_pause(self, name: str) -> Changes:
        """Pause ``name``, or resume it when paused. The row changes when the engine says."""
        row = self._rows.get(name)
        if row is None or row.remote_only:
            return self._not_here(name, "pause")
        if row.state == State.PAUSED:
            self.engine.resume(name)
            return Changes(notices=[f"resumed {visible(name)}"])
        self.engine.pause(name)
        return Changes(notices=[f"paused {visible(name)}"])

    def pause_all(self) -> Changes:
        self.engine.pause_all()
        return Changes(notices=["paused every endpoint (P resumes them)"])

    def resume_all(self) -> Changes:
        self.engine.resume_all()
        return Changes(notices=["resumed every endpoint"])

    def acknowledge(self, name: str, reason: str) -> Changes:
        """``user`` has ``name`` in hand, for ``reason``: its alerts stop while the checks go
        on, until it is UP again. The row shows it when the engine confirms."""
        if name not in self._rows or self._rows[name].remote_only:
            return self._not_here(name, "acknowledge")
        self.engine.acknowledge(name, self.user, reason)
        return Changes(
            notices=[f"acknowledged {visible(name)}: alerts held until it is UP again"]
        )

    def _not_here(self, name: str, what: str) -> Changes:
        """A command on a row only a source knows: nothing to do, and a word why."""
        row = self._rows.get(name)
        if row is None or not row.remote_only:
            return Changes()
        return Changes(notices=[_remote_only_notice(name, what)])

    def probe_now(self, name: str) -> Changes:
        if name not in self._rows or self._rows[name].remote_only:
            return self._not_here(name, "probe")
        try:
            self.engine.probe_now(name)
        except KeyError:
            return Changes()
        return Changes(notices=[f"probing {visible(name)} now"])


def _remote_only_notice(name: str, what: str) -> str:
    return (
        f"{visible(name)} is only known to a remote source: nothing to {what} here "
        "(add it to the watchlist to probe it locally)"
    )


def build_endpoint(
    fields: Mapping[str, Any], watchlist: wl.Watchlist, *, extra: Mapping[str, Any] | None = None
) -> Endpoint:
    """The Endpoint a form describes, read exactly as a load would read it.

    ``fields`` are TOML-shaped values (as :func:`gatewatch.watchlist.endpoint_errors`
    takes them). Empty fields are left out, so the watchlist's ``[defaults]`` apply, as
    they would in the file. ``extra`` (an edited endpoint's other keys) is carried over.
    Raises WatchlistError.
    """
    document: dict[str, Any] = {"version": 1, "endpoint": [dict(fields)]}
    defaults = watchlist.document.get("defaults")
    if isinstance(defaults, dict):
        document["defaults"] = defaults
    text = tomli_w.dumps(document)
    path = watchlist.path if watchlist.path is not None else "<string>"
    endpoint = wl.loads(text, path=path).endpoints[0]
    return endpoint.replace(extra=dict(extra or {}))
