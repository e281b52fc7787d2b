"""Acknowledgements: an engineer says "I have this one", with a reason.

Why in the monitor: an acknowledgement changes what the engine does (alerts for that
endpoint stop while its checks go on) and must outlive the board (kept in the history, read
back on start, shown by ``watch --json`` and the incident report). It clears itself when the
endpoint is UP again: the next failure is a new incident and pages again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gatewatch.model import format_time


@dataclass(frozen=True)
class Ack:
    """``by`` acknowledged ``endpoint`` at ``at`` because ``reason``."""

    endpoint: str
    by: str
    reason: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"by": self.by, "reason": self.reason, "at": format_time(self.at)}
