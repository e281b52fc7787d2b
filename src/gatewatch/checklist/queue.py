"""The checklist's job queue: which step's check runs, which wait, in the order asked.

Why apart from the screen: "one endpoint, one probe at a time" is a rule of the checklist,
not of its drawing (checks probe, and two at once would time each other); a plain class is a
unit test and the screen only draws :meth:`CheckQueue.state`.
"""

from __future__ import annotations

from typing import Literal

QueueState = Literal["running", "queued"]


class CheckQueue:
    """One running check at most; the others wait, first asked first run."""

    def __init__(self) -> None:
        self.running: str | None = None
        self.waiting: list[str] = []

    def enqueue(self, step_ids: list[str]) -> list[str]:
        """Queue these steps (those already running or waiting are not queued twice);
        returns the ones newly queued."""
        fresh: list[str] = []
        for step_id in step_ids:
            if step_id != self.running and step_id not in self.waiting and step_id not in fresh:
                fresh.append(step_id)
        self.waiting += fresh
        return fresh

    def start_next(self) -> str | None:
        """The step to run now, or None (one runs already, or nothing waits)."""
        if self.running is not None or not self.waiting:
            return None
        self.running = self.waiting.pop(0)
        return self.running

    def finished(self, step_id: str) -> None:
        if self.running == step_id:
            self.running = None

    def state(self, step_id: str) -> QueueState | None:
        if step_id == self.running:
            return "running"
        if step_id in self.waiting:
            return "queued"
        return None
