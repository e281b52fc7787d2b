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
    "gatewatch.cli.board",
    "gatewatch.board",
    "gatewatch.checklist",
    "gatewatch.report",
    "gatewatch.checklist.runner",
    "gatewatch.checklist.report",
    "gatewatch.lab",
    "gatewatch.lab.demo",
    "gatewatch.exporter.server",
]


@pytest.mark.parametrize("module", PURE)
def test_module_does_not_import_textual(module: str) -> None:
    code = f"import sys, {module}; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_board_and_tui_never_load_the_lab() -> None:
    """Only the CLI meets the lab: starting the board's state or the app loads none of it."""
    code = (
        "import sys, gatewatch.board, gatewatch.tui.app; "
        "print(sorted(m for m in sys.modules if m.startswith('gatewatch.lab')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
