"""Getting the report out: a file in the state folder (atomic) and the clipboard (OSC 52).

Why OSC 52: the engineer is often on a jump host over SSH, where no clipboard tool can
reach their laptop; the terminal can. :func:`osc52` only *builds* the escape sequence: the
CLI writes it when stdout is a terminal, the board lets Textual write it. The payload is
the already-redacted report, so the clipboard never holds a secret either.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

#: Longest endpoint part of a report's file name.
SLUG_LIMIT = 60


def state_dir() -> Path:
    """``platformdirs.user_state_dir("gatewatch")``: reports and checklist progress live here."""
    import platformdirs

    return Path(platformdirs.user_state_dir("gatewatch", appauthor=False))


def reports_dir() -> Path:
    return state_dir() / "reports"


def slug(name: str) -> str:
    """``name`` fit for a file name on any system: letters, digits, ``.``, ``_`` and ``-``."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-_")[:SLUG_LIMIT]
    return text or "endpoint"


def report_path(name: str, moment: datetime, folder: Path | None = None) -> Path:
    """``<folder>/<endpoint>-<UTC time>.md`` (default folder: the state dir's ``reports``)."""
    from gatewatch.model import format_time

    stamp = format_time(moment).replace("-", "").replace(":", "").split(".")[0].rstrip("Z")
    return (folder or reports_dir()) / f"{slug(name)}-{stamp}Z.md"


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one, whole.

    A temporary file in the same folder is written and fsynced, then renamed over ``path``.
    Mode 0o600: reports and progress notes are about incidents, for the engineer's eyes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.chmod(temp, mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def write_report(text: str, path: Path) -> Path:
    """Write the (redacted) report to ``path``; returns the path written."""
    write_atomic(path, text.encode("utf-8"))
    return path


def osc52(text: str, *, tmux: bool = False) -> str:
    """The OSC 52 sequence that puts ``text`` on the terminal's clipboard.

    ``tmux``: wrap it in tmux's passthrough (``allow-passthrough on``), since tmux
    otherwise swallows it.
    """
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    sequence = f"\x1b]52;c;{payload}\x07"
    if tmux:
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence
