"""The checklist's progress per endpoint, kept across screens and restarts, as JSON files.

Why files keyed by a hash of name and URL: an incident outlasts a session (the engineer
quits, the laptop sleeps), and the marks and notes must be there when they come back; an
endpoint whose URL changed is a different endpoint, so its old notes must not appear. The
URL may carry a token, so it is hashed for the file name and stored redacted.

A file that cannot be read starts an empty checklist and is reported, never fatal; writes
are atomic (:func:`gatewatch.checklist.export.write_atomic`) and redacted (notes included:
an engineer pasting a token into a note must not leave it on disk).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from gatewatch.checklist.export import slug, state_dir, write_atomic
from gatewatch.checklist.redact import Redactor
from gatewatch.checklist.results import Progress, StepProgress, parse_time
from gatewatch.model import Endpoint, format_time, frozen_mapping
from gatewatch.text import dumps

VERSION = 1


def progress_key(endpoint: Endpoint) -> str:
    """Name + URL, hashed: the same endpoint finds its progress, a changed one does not."""
    digest = hashlib.sha256(f"{endpoint.name}\0{endpoint.url}".encode()).hexdigest()[:16]
    return f"{slug(endpoint.name)}-{digest}"


class ProgressStore:
    """Progress files in ``<state dir>/checklists`` (or ``folder``), with the latest progress
    per endpoint held in memory.

    Why the memory: a check can finish after the engineer left the screen and came back to
    a new one; both must change the *same* progress, or the later save would drop the other's
    marks. So every change goes through :meth:`update` (under a lock), and :meth:`save` writes
    what is current. Thread-safe; the board's app owns one and hands it to every checklist.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or state_dir() / "checklists"
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._current: dict[str, Progress] = {}

    def path(self, endpoint: Endpoint) -> Path:
        return self.folder / f"{progress_key(endpoint)}.json"

    def load(self, endpoint: Endpoint, redactor: Redactor) -> tuple[Progress, str | None]:
        """The current progress and a problem to show (None when all is well or none yet).

        Reads the file the first time; blocks on the disk then, so call it from a worker.
        """
        key = progress_key(endpoint)
        with self._lock:
            if key in self._current:
                return self._current[key], None
        progress, problem = self._read(endpoint, redactor)
        with self._lock:
            return self._current.setdefault(key, progress), problem

    def update(
        self, endpoint: Endpoint, redactor: Redactor, change: Callable[[Progress], Progress]
    ) -> Progress:
        """Apply ``change`` to the current progress (read first if need be); returns the new
        one. Does not write: call :meth:`save` (from a worker) when it should last."""
        current, _problem = self.load(endpoint, redactor)
        key = progress_key(endpoint)
        with self._lock:
            updated = change(self._current.get(key, current))
            self._current[key] = updated
            return updated

    def save(self, endpoint: Endpoint, redactor: Redactor, now: datetime) -> Path:
        """Write the current progress (redacted) atomically; raises OSError when the disk
        says no. Saves are serialised, and each writes the latest progress."""
        path = self.path(endpoint)
        with self._write_lock:
            with self._lock:
                progress = self._current.get(progress_key(endpoint))
            if progress is None:
                return path
            payload = {
                "version": VERSION,
                "endpoint": endpoint.name,
                "url": redactor.url(endpoint.url),
                "updated_at": format_time(now),
                "steps": {k: s.to_json() for k, s in progress.steps.items()},
            }
            text = dumps(redactor.data(payload), indent=2)
            write_atomic(path, (text + "\n").encode("utf-8"))
        return path

    def _read(self, endpoint: Endpoint, redactor: Redactor) -> tuple[Progress, str | None]:
        empty = Progress(name=endpoint.name, url=redactor.url(endpoint.url))
        path = self.path(endpoint)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return empty, None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            return empty, f"{path}: ignored ({exc})"
        if not isinstance(data, Mapping) or not isinstance(data.get("steps"), Mapping):
            return empty, f"{path}: ignored (not a checklist file)"
        steps = {
            str(k): StepProgress.from_json(v)
            for k, v in data["steps"].items()
            if isinstance(v, Mapping)
        }
        return (
            Progress(
                name=endpoint.name,
                url=redactor.url(endpoint.url),
                steps=frozen_mapping(steps),
                updated_at=parse_time(data.get("updated_at")),
            ),
            None,
        )
