"""The wall around the pure core: nothing outside gatewatch.tui imports Textual."""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE = [
    "gatewatch.model",
    "gatewatch.probe",
    "gatewatch.diagnose",
    "gatewatch.watchlist",
    "gatewatch.monitor",
    "gatewatch.cli",
    "gatewatch.report",
    "gatewatch.checklist.runner",
    "gatewatch.checklist.report",
    "gatewatch.lab",
]


@pytest.mark.parametrize("module", PURE)
def test_module_does_not_import_textual(module: str) -> None:
    code = f"import sys, {module}; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
