"""Probe and transition history in SQLite: written off the probe path, never in the way.

Why it looks like this:

- The engine hands results over with :meth:`History.record_probe`: an append to a deque,
  which wakes nobody. The writer thread wakes every ``flush_interval`` (or at once for a
  flush or close), takes everything pending and commits it in transactions of up to
  ``batch_size`` rows, so a slow disk never delays a probe.
- WAL journal, ``synchronous=NORMAL``: durable enough for a status board, and another
  process (``sqlite3 history.sqlite3``) can read while we write.
- One connection, guarded by a lock, serves the writer and the queries. Queries are rare
  (the board asks now and then) and short, and this also works for ``":memory:"``.
- A corrupt, locked, unwritable or deleted database must never stop monitoring, and must
  not lose rows quietly. When the disk fails (``busy_timeout`` already waited out for a
  lock) the rows go to an in-memory database, so queries still answer, *and* are kept for
  the disk; the failure is reported (``HistoryUnavailable``). Every ``retry_interval`` the
  writer tries the file again; when it works, the kept rows are written to it and the
  store is back on disk (``HistoryRestored``, with the count). A database file deleted
  while running is noticed before the next write (its inode changed or vanished), reported
  and created anew, instead of writing on into the deleted file.
- Retention is enforced by the writer thread in small chunks, so a week of rows being
  deleted never holds the lock for long.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from gatewatch.model import HOP_NAMES, ProbeResult
from gatewatch.monitor import records
from gatewatch.monitor.acks import Ack
from gatewatch.monitor.records import ProbeRecord, ReplayEntry
from gatewatch.monitor.state import State, TransitionEvent
from gatewatch.monitor.stats import percentile

log = logging.getLogger(__name__)

DEFAULT_RETENTION = 7 * 86400.0
MEMORY = ":memory:"
#: Uptime windows the board shows, in seconds.
UPTIME_WINDOWS = {"1h": 3600.0, "24h": 86400.0, "7d": 7 * 86400.0}
#: Probes in these states are not held against an endpoint's uptime.
_NOT_COUNTED = (str(State.MAINTENANCE), str(State.PAUSED))
_PRUNE_CHUNK = 5000

Listener = Callable[[str], None]
#: Told ``(reason, rows written back)`` when the history is on disk again.
RestoredListener = Callable[[str, int], None]


def default_history_path() -> Path:
    """``user_state_dir("gatewatch")/history.sqlite3`` (created on first write)."""
    import platformdirs

    return Path(platformdirs.user_state_dir("gatewatch")) / "history.sqlite3"


class _Flush:
    """A marker in the write queue: set once everything queued before it is committed."""

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()


class History:
    """The history store. Thread-safe; :meth:`open` starts its writer thread."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        retention: float = DEFAULT_RETENTION,
        batch_size: int = 500,
        flush_interval: float = 0.25,
        prune_every: float = 300.0,
        busy_timeout: float = 1.0,
        retry_interval: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path: str = str(default_history_path() if path is None else path)
        self.retention = retention
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.prune_every = prune_every
        self.busy_timeout = busy_timeout
        self.clock = clock
        self.retry_interval = retry_interval
        #: Why the database is not used (None while it is).
        self.failure: str | None = None
        #: Rows written to memory that the file has not got yet (0 while on disk).
        self.kept_in_memory = 0
        #: Rows that were kept in memory and later written to the file, this session.
        self.written_back = 0
        #: Rows that never reached the file (kept in memory when the session ended).
        self.lost = 0
        self._reported = False
        self._listener: Listener | None = None
        self._restored_listener: RestoredListener | None = None
        #: Batches waiting for the file while it fails: (probes, events, renames).
        self._pending: list[
            tuple[list[Any], list[Any], list[tuple[str, str]], list[tuple[str, tuple[Any, ...]]]]
        ] = []
        self._retry_at = 0.0
        #: (st_dev, st_ino) of the file we write, to notice it was deleted or replaced.
        self._identity: tuple[int, int] | None = None
        #: Items for the writer; appends and pops are atomic, and wake nobody: a queue that
        #: woke the writer for every row cost the engine thread ~0.2 ms per probe in GIL
        #: hand-offs at hundreds of probes per second, more than the state machine.
        self._inbox: deque[Any] = deque()
        self._wake = threading.Event()
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._writer: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------ life cycle

    def open(self) -> History:
        """Open (or create) the database and start the writer. Never raises for the file."""
        with self._lock:
            if self._conn is not None:
                return self
            try:
                self._conn = self._connect(self.path)
                self._identity = self._stat()
            except (sqlite3.Error, OSError) as exc:
                self._fail_over(exc)
        self._prune()
        self._writer = threading.Thread(
            target=self._write_loop, name="gatewatch-history", daemon=True
        )
        self._writer.start()
        return self

    @property
    def on_disk(self) -> bool:
        """Whether rows go to the file now (False while kept in memory, or for ``:memory:``)."""
        return self.path != MEMORY and self.failure is None and self._conn is not None

    def set_listener(
        self, listener: Listener | None, restored: RestoredListener | None = None
    ) -> None:
        """Who hears of a failure (each time the history leaves the disk; told at once if it
        already has) and, with ``restored``, of each return to disk."""
        with self._lock:
            self._listener = listener
            self._restored_listener = restored
            self._report()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything recorded so far is committed; False on timeout."""
        if self._writer is None or not self._writer.is_alive():
            return self._writer is None and self._conn is not None
        marker = _Flush()
        self._inbox.append(marker)
        self._wake.set()
        return marker.done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, stop the writer, close the database. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None and self._writer.is_alive():
            self._inbox.append(_STOP)
            self._wake.set()
            self._writer.join(timeout)
        with self._lock:
            if self.failure is not None:
                self._retry_at = 0.0
                self._try_disk()  # one last chance for the rows kept in memory
            if self._pending:
                self.lost += self.kept_in_memory
                log.warning(
                    "history: %d rows kept in memory could not be written to %s",
                    self.kept_in_memory,
                    self.path,
                )
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> History:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ recording (any thread)

    def record_probe(
        self, result: ProbeResult, state: State, lateness_ms: float | None = None
    ) -> None:
        """Queue one probe; the row is built and written by the writer thread."""
        if not self._closed:
            self._inbox.append(("probe", result, state, lateness_ms))

    def rename_endpoint(self, old: str, new: str) -> None:
        """Re-key the stored probes and events of ``old`` as ``new`` (a rename on the board).

        Queued behind the probes already waiting, so none of them is left under the old name.
        """
        if not self._closed:
            self._inbox.append(("rename", old, new))

    def record_event(self, event: TransitionEvent) -> None:
        if not self._closed:
            self._inbox.append(("event", event))

    def record_ack(self, ack: Ack) -> None:
        """Keep an acknowledgement (open until :meth:`clear_ack`)."""
        if not self._closed:
            self._inbox.append(("ack", ack))

    def clear_ack(self, endpoint: str, at: datetime, reason: str) -> None:
        """Close ``endpoint``'s open acknowledgement (it was UP again, or removed)."""
        if not self._closed:
            self._inbox.append(("unack", endpoint, at, reason))

    def open_acks(self) -> dict[str, Ack]:
        """Acknowledgements still open (read on start: they survive a restart)."""
        rows = self._query(f"{records.SELECT_ACK} WHERE cleared IS NULL ORDER BY t, rowid", ())
        return {ack.endpoint: ack for ack in map(records.ack_from_row, rows)}

    def acks(self, endpoint: str, since: datetime) -> list[Ack]:
        """``endpoint``'s acknowledgements made since ``since``, oldest first (the report)."""
        rows = self._query(
            f"{records.SELECT_ACK} WHERE endpoint = ? AND t >= ? ORDER BY t, rowid",
            (endpoint, records.to_timestamp(since)),
        )
        return [records.ack_from_row(r) for r in rows]

    # ------------------------------------------------------------------ queries (any thread)

    def last_results(self, endpoint: str, n: int = 20) -> list[ProbeRecord]:
        """The ``n`` most recent probes of ``endpoint``, oldest first."""
        rows = self._query(
            f"{records.SELECT_PROBE} WHERE p.endpoint = ? ORDER BY p.t DESC LIMIT ?",
            (endpoint, n),
        )
        return [records.record_from_row(r) for r in reversed(rows)]

    def uptime(self, endpoint: str, window: float, *, now: float | None = None) -> float | None:
        """Percentage of successful probes over the last ``window`` seconds (None: no probes).

        Probes taken in maintenance or while paused do not count; a degraded probe is up.
        """
        since = (self.clock() if now is None else now) - window
        rows = self._query(
            "SELECT COUNT(*), SUM(ok) FROM probes WHERE endpoint = ? AND t >= ? "
            "AND state NOT IN (?, ?)",
            (endpoint, since, *_NOT_COUNTED),
        )
        count, ok = rows[0] if rows else (0, 0)
        return None if not count else 100.0 * (ok or 0) / count

    def uptime_all(self, window: float, *, now: float | None = None) -> dict[str, float]:
        """Uptime % over ``window`` for every endpoint with probes in it, in one query.

        The board refreshes a thousand rows' uptime at once: one GROUP BY, not a thousand
        queries. Same rules as :meth:`uptime`; endpoints without probes are absent.
        """
        since = (self.clock() if now is None else now) - window
        rows = self._query(
            "SELECT endpoint, COUNT(*), SUM(ok) FROM probes WHERE t >= ? "
            "AND state NOT IN (?, ?) GROUP BY endpoint",
            (since, *_NOT_COUNTED),
        )
        return {name: 100.0 * (ok or 0) / count for name, count, ok in rows if count}

    def uptimes(self, endpoint: str, *, now: float | None = None) -> dict[str, float | None]:
        """Uptime % over 1 h, 24 h and 7 d."""
        return {k: self.uptime(endpoint, w, now=now) for k, w in UPTIME_WINDOWS.items()}

    def hop_percentiles(
        self,
        endpoint: str,
        window: float,
        *,
        ps: Sequence[float] = (50, 95, 99),
        now: float | None = None,
    ) -> dict[str, dict[float, float | None]]:
        """Per hop (and ``total``): percentiles of ms over the window, hops that ran only."""
        since = (self.clock() if now is None else now) - window
        cols = ", ".join(f"{h}_ms, {h}_status" for h in HOP_NAMES)
        rows = self._query(
            f"SELECT total_ms, {cols} FROM probes WHERE endpoint = ? AND t >= ?",
            (endpoint, since),
        )
        series: dict[str, list[float]] = {h: [] for h in (*HOP_NAMES, "total")}
        for row in rows:
            if row[0] is not None:
                series["total"].append(row[0])
            for i, hop in enumerate(HOP_NAMES):
                ms, status = row[1 + 2 * i], row[2 + 2 * i]
                if ms is not None and status in ("ok", "warn"):
                    series[hop].append(ms)
        out: dict[str, dict[float, float | None]] = {}
        for name, values in series.items():
            values.sort()
            out[name] = {p: percentile(values, p) for p in ps}
        return out

    def events(
        self,
        since: datetime,
        until: datetime | None = None,
        *,
        endpoint: str | None = None,
    ) -> list[TransitionEvent]:
        """Transitions in ``[since, until]``, oldest first."""
        sql = f"{records.SELECT_EVENT} WHERE t >= ? AND t <= ?"
        params: list[Any] = [
            records.to_timestamp(since),
            records.to_timestamp(until) if until else float("inf"),
        ]
        if endpoint is not None:
            sql += " AND endpoint = ?"
            params.append(endpoint)
        rows = self._query(sql + " ORDER BY t, rowid", params)
        return [records.event_from_row(r) for r in rows]

    def state_at(self, moment: datetime) -> dict[str, ReplayEntry]:
        """For every endpoint known at ``moment``: its state and last result then (replay)."""
        t = records.to_timestamp(moment)
        probe_rows = self._query(
            f"{records.SELECT_PROBE} JOIN (SELECT endpoint, MAX(t) AS mt FROM probes "
            "WHERE t <= ? GROUP BY endpoint) m ON p.endpoint = m.endpoint AND p.t = m.mt",
            (t,),
        )
        event_rows = self._query(
            "SELECT e.t, e.endpoint, e.from_state, e.to_state, e.reason, e.verdict "
            "FROM events e JOIN (SELECT endpoint, MAX(t) AS mt FROM events WHERE t <= ? "
            "GROUP BY endpoint) m ON e.endpoint = m.endpoint AND e.t = m.mt ORDER BY e.rowid",
            (t,),
        )
        last = {r.endpoint: r for r in map(records.record_from_row, probe_rows)}
        changes = {e.endpoint: e for e in map(records.event_from_row, event_rows)}
        out: dict[str, ReplayEntry] = {}
        for name in sorted(set(last) | set(changes)):
            record, event = last.get(name), changes.get(name)
            if event is not None and (record is None or event.at >= record.at):
                state = event.to_state
            else:
                assert record is not None
                state = record.state
            out[name] = ReplayEntry(
                endpoint=name,
                state=state,
                since=event.at if event is not None and event.to_state == state else None,
                last_result=record,
            )
        return out

    # ------------------------------------------------------------------ internals

    def _connect(self, path: str) -> sqlite3.Connection:
        if path != MEMORY:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            path, timeout=self.busy_timeout, check_same_thread=False, isolation_level=None
        )
        try:
            if path != MEMORY:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            records.create_schema(conn)
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def _stat(self) -> tuple[int, int] | None:
        if self.path == MEMORY:
            return None
        try:
            st = Path(self.path).stat()
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _fail_over(self, exc: BaseException) -> None:
        """Leave the disk: rows go to memory (and are kept for the file); report it."""
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.close()
            self._conn = self._connect(MEMORY)
            self._retry_at = time.monotonic() + self.retry_interval
            if self.failure is None:
                if self.path == MEMORY:
                    self.failure = (
                        f"history database in memory unusable ({type(exc).__name__}: {exc})"
                    )
                else:
                    self.failure = (
                        f"history database {self.path} unusable ({type(exc).__name__}: {exc}); "
                        f"keeping rows in memory, retrying every {self.retry_interval:g}s"
                    )
                self._reported = False
                log.warning("%s", self.failure)
            self._report()

    def _try_disk(self) -> bool:
        """Off disk: open the file again and write the rows kept meanwhile. True if back."""
        if self.path == MEMORY or time.monotonic() < self._retry_at:
            return False
        self._retry_at = time.monotonic() + self.retry_interval
        try:
            conn = self._connect(self.path)
        except (sqlite3.Error, OSError):
            return False
        try:
            for probes, events, renames, acks in self._pending:
                self._insert(conn, probes, events, renames, acks)
        except sqlite3.Error:
            # Nothing half-written: a batch is one transaction, and the ones before it are
            # in the file now; keep only what is left.
            conn.close()
            return False
        with contextlib.suppress(sqlite3.Error):
            if self._conn is not None:
                self._conn.close()
        self._conn = conn
        self._identity = self._stat()
        written, self.kept_in_memory = self.kept_in_memory, 0
        self.written_back += written
        self._pending.clear()
        self.failure = None
        reason = (
            f"history database {self.path} is written again; "
            f"{written} rows kept in memory were saved to it"
        )
        log.warning("%s", reason)
        if self._restored_listener is not None:
            try:
                self._restored_listener(reason, written)
            except Exception:
                log.exception("history restored listener raised")
        return True

    def _check_deleted(self) -> None:
        """On disk, before a write: was the file deleted (or replaced) under us?"""
        if self.path == MEMORY or self._identity is None or self.failure is not None:
            return
        if self._stat() == self._identity:
            return
        # Writing on would go to the deleted inode and vanish at exit: make the file anew.
        with contextlib.suppress(sqlite3.Error):
            if self._conn is not None:
                self._conn.close()
        self._conn = None
        self.failure = f"history database {self.path} was deleted while in use; creating it again"
        self._reported = False
        log.warning("%s", self.failure)
        self._report()
        self._conn = self._connect(MEMORY)
        self._retry_at = 0.0
        self._try_disk()

    def _report(self) -> None:
        """Tell the listener about the current failure, once per failure."""
        if self.failure is None or self._reported or self._listener is None:
            return
        self._reported = True
        try:
            self._listener(self.failure)
        except Exception:
            log.exception("history failure listener raised")

    def _query(self, sql: str, params: Iterable[Any]) -> list[Any]:
        with self._lock:
            if self._conn is None:
                return []
            try:
                return self._conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as exc:
                self._fail_over(exc)
                return self._conn.execute(sql, tuple(params)).fetchall()

    def _write_loop(self) -> None:
        """Every ``flush_interval`` (at once for a flush or close): take everything queued,
        in transactions of up to ``batch_size`` rows; retry the disk and prune when due."""
        next_prune = time.monotonic() + self.prune_every
        stopping = False
        while not stopping:
            wake = next_prune if self.failure is None else min(next_prune, self._retry_at)
            self._wake.wait(max(0.0, min(self.flush_interval, wake - time.monotonic())))
            self._wake.clear()
            while True:
                batch: list[Any] = []
                with contextlib.suppress(IndexError):  # appended from any thread meanwhile
                    while len(batch) < self.batch_size:
                        batch.append(self._inbox.popleft())
                stopping = stopping or any(item is _STOP for item in batch)
                self._write(batch)  # empty too: a history off disk tries the file again
                for item in batch:
                    if isinstance(item, _Flush):
                        item.done.set()
                if len(batch) < self.batch_size:
                    break
            if time.monotonic() >= next_prune:
                self._prune()
                next_prune = time.monotonic() + self.prune_every

    def _write(self, batch: Sequence[Any]) -> None:
        probes: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        renames: list[tuple[str, str]] = []
        acks: list[tuple[str, tuple[Any, ...]]] = []
        for item in batch:
            if isinstance(item, tuple) and item[0] == "probe":
                probes.append(records.probe_row(item[1], item[2], item[3]))
            elif isinstance(item, tuple) and item[0] == "event":
                events.append(records.event_row(item[1]))
            elif isinstance(item, tuple) and item[0] == "rename":
                renames.append((item[2], item[1]))  # (new, old) for the UPDATE
            elif isinstance(item, tuple) and item[0] == "ack":
                ack: Ack = item[1]
                acks.append((records.INSERT_ACK, (records.to_timestamp(ack.at), ack.endpoint,
                                                  ack.by, ack.reason)))
            elif isinstance(item, tuple) and item[0] == "unack":
                acks.append((records.CLEAR_ACK, (records.to_timestamp(item[2]), item[3],
                                                 item[1])))
        with self._lock:
            if self.failure is not None:
                self._try_disk()
            if not probes and not events and not renames and not acks:
                return
            if self._conn is None:
                return
            self._check_deleted()
            if self.failure is None:
                try:
                    self._insert(self._conn, probes, events, renames, acks)
                    return
                except sqlite3.Error as exc:
                    if self.path == MEMORY:
                        log.warning("history: %s", exc)
                        return
                    self._fail_over(exc)
            # Off disk: to memory for the queries, and kept for the file.
            self._pending.append((probes, events, renames, acks))
            self.kept_in_memory += len(probes) + len(events) + len(acks)
            assert self._conn is not None
            with contextlib.suppress(sqlite3.Error):
                self._insert(self._conn, probes, events, renames, acks)

    @staticmethod
    def _insert(
        conn: sqlite3.Connection,
        probes: list[tuple[Any, ...]],
        events: list[tuple[Any, ...]],
        renames: list[tuple[str, str]] = (),  # type: ignore[assignment]
        acks: Sequence[tuple[str, tuple[Any, ...]]] = (),
    ) -> None:
        conn.execute("BEGIN")
        try:
            if probes:
                conn.executemany(records.INSERT_PROBE, probes)
            if events:
                conn.executemany(records.INSERT_EVENT, events)
            for sql, params in acks:  # in order: an ack, then its clearing
                conn.execute(sql, params)
            # After the inserts: rows queued before the rename are re-keyed with the rest.
            for table in ("probes", "events", "acks"):
                conn.executemany(f"UPDATE {table} SET endpoint = ? WHERE endpoint = ?", renames)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _prune(self) -> None:
        """Delete rows older than the retention, a chunk at a time (lock released between)."""
        cutoff = self.clock() - self.retention
        for table in ("probes", "events", "acks"):
            while True:
                with self._lock:
                    if self._conn is None:
                        return
                    try:
                        cur = self._conn.execute(
                            f"DELETE FROM {table} WHERE rowid IN "
                            f"(SELECT rowid FROM {table} WHERE t < ? LIMIT {_PRUNE_CHUNK})",
                            (cutoff,),
                        )
                    except sqlite3.Error as exc:
                        self._fail_over(exc)
                        return
                if cur.rowcount < _PRUNE_CHUNK:
                    break
