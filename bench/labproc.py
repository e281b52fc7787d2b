"""The lab in its own process, for benchmarks: the tool under test never pays for it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any


def start_lab() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start ``python -m gatewatch.lab --json``; its process and its ports."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gatewatch.lab", "--json"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise SystemExit("the lab did not start (no JSON line on stdout)")
    return proc, json.loads(line)


def stop_lab(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
