"""Nothing is lost quietly: a history database that is locked for a while or deleted while
gatewatch runs keeps every row, says so, and goes back to the file."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

from gatewatch import watchlist as wl
from gatewatch.board import BoardState
from gatewatch.cli.watch import format_message
from gatewatch.monitor import History, HistoryRestored, HistoryUnavailable, State
from test_monitor_support import T0, ok_result
from test_tui_samples import FakeEngine

DEADLINE = 30.0  # a failure bound, not a pause


class Heard:
    """What a History told its listeners, with an event to wait on each kind."""

    def __init__(self, history: History) -> None:
        self.failures: list[str] = []
        self.restored: list[tuple[str, int]] = []
        self.failed = threading.Event()
        self.back = threading.Event()
        history.set_listener(self._failure, self._restored)

    def _failure(self, reason: str) -> None:
        self.failures.append(reason)
        self.failed.set()

    def _restored(self, reason: str, written: int) -> None:
        self.restored.append((reason, written))
        self.back.set()


def record(history: History, start: int, count: int) -> None:
    for i in range(start, start + count):
        history.record_probe(ok_result(at=T0 + timedelta(seconds=i)), State.UP, 0.0)


def rows_on_disk(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM probes").fetchone()[0])


def test_rows_recorded_while_the_file_is_locked_reach_it_when_released(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    history = History(path, busy_timeout=0.2, retry_interval=0.2, flush_interval=0.01).open()
    heard = Heard(history)
    record(history, 0, 5)
    assert history.flush()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the lock
    try:
        record(history, 5, 5)
        assert history.flush()
        assert heard.failed.wait(DEADLINE) and "locked" in heard.failures[0]
        assert not history.on_disk and history.kept_in_memory == 5
        assert len(history.last_results("shop", 100)) == 5  # queries answer meanwhile
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert heard.back.wait(DEADLINE)  # within a retry interval of the release
    assert heard.restored[0][1] == 5 and history.on_disk
    record(history, 10, 5)
    history.close()
    assert rows_on_disk(path) == 15  # before: 5 (the rest went to memory and was lost)
    assert history.written_back == 5 and history.lost == 0


def test_a_database_deleted_while_running_is_created_again(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    history = History(path, flush_interval=0.01).open()
    heard = Heard(history)
    record(history, 0, 5)
    assert history.flush()
    for leftover in tmp_path.glob("history.sqlite3*"):  # the file, its -wal and -shm
        leftover.unlink()
    record(history, 5, 5)
    assert history.flush()
    assert heard.failures and "was deleted" in heard.failures[0]
    assert heard.restored and history.on_disk
    record(history, 10, 5)
    history.close()
    assert rows_on_disk(path) == 10  # before: no file at all (rows went to the deleted inode)


def test_rows_still_kept_at_exit_are_counted_as_lost(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    history = History(path, busy_timeout=0.1, retry_interval=60, flush_interval=0.01).open()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        record(history, 0, 3)
        assert history.flush()
        history.close()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert history.lost == 3 and rows_on_disk(path) == 0


def test_watch_and_the_board_say_when_history_is_back_on_disk() -> None:
    back = HistoryRestored("history database h.sqlite3 is written again; 7 rows …", 7)
    line = format_message(back, json_lines=True)
    assert line is not None and '"type": "history_restored"' in line and '"written_back": 7' in line
    assert format_message(back, json_lines=False) == f"*  history back on disk: {back.reason}"
    board = BoardState(wl.Watchlist.empty(), FakeEngine([]))
    board.apply([HistoryUnavailable("locked")])
    assert board.history_failure == "locked"  # the board's banner shows
    changes = board.apply([back])
    assert board.history_failure is None and changes.banners  # and goes
