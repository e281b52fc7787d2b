"""History rows kept across a locked and a deleted database: recorded vs on disk at exit.

    PYTHONPATH=src python3 bench/history_loss.py
    PYTHONPATH=/work/main/src python3 bench/history_loss.py   # before

Locked: 100 rows, then another connection holds an exclusive lock for 1.5 s while 100
more are recorded, then 100 after it is released. Deleted: 100 rows, the file (and its
-wal, -shm) deleted, 200 more. Prints one JSON object.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from gatewatch.monitor import History, State
from test_monitor_support import T0, ok_result


def record(history: History, start: int, count: int) -> None:
    for i in range(start, start + count):
        history.record_probe(ok_result(at=T0 + timedelta(seconds=i)), State.UP, 0.0)


def on_disk(path: Path) -> int | None:
    if not path.exists():
        return None
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM probes").fetchone()[0])


def locked() -> int | None:
    path = Path(tempfile.mkdtemp(prefix="gatewatch-bench-")) / "h.sqlite3"
    history = History(path, busy_timeout=1.0, flush_interval=0.01).open()
    record(history, 0, 100)
    history.flush()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    record(history, 100, 100)
    history.flush()
    time.sleep(1.5)  # the lock is held this long: part of the scenario, not a wait
    other.execute("ROLLBACK")
    other.close()
    time.sleep(2.5)  # a retry interval and more
    record(history, 200, 100)
    history.flush()
    history.close()
    return on_disk(path)


def deleted() -> int | None:
    folder = Path(tempfile.mkdtemp(prefix="gatewatch-bench-"))
    path = folder / "h.sqlite3"
    history = History(path, flush_interval=0.01).open()
    record(history, 0, 100)
    history.flush()
    for leftover in folder.glob("h.sqlite3*"):
        leftover.unlink()
    record(history, 100, 200)
    history.flush()
    history.close()
    return on_disk(path)


if __name__ == "__main__":
    print(
        json.dumps(
            {
                "locked_recorded": 300,
                "locked_on_disk_at_exit": locked(),
                "deleted_recorded_after_deletion": 200,
                "deleted_on_disk_at_exit": deleted(),  # null: no file at all
            }
        )
    )
