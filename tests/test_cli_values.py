"""Bad values on the command line are usage errors: exit 2, one line with a hint, no
traceback and no probe. Run as the real command, the way a script meets it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gatewatch.lab import Lab


def gatewatch(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gatewatch", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["probe", "http://127.0.0.1:99999/"], "a port runs from 1 to 65535"),
        (["probe", "http://shop example/"], "can't contain spaces"),
        (["probe", "127.0.0.1:9/health"], 'did you mean "http://127.0.0.1:9/health"?'),
        (["diagnose", "shop.example"], 'did you mean "http://shop.example"?'),
        (["probe", "http://127.0.0.1:9/", "--origin", "127.0.0.1:8/"], "--origin: expected"),
        (["probe", "http://127.0.0.1:9/", "--timeout", "soon"], "expected a duration like"),
        (["probe", "http://127.0.0.1:9/", "--timeout", "0s"], "must be longer than zero"),
        (["check", "--concurrency", "0", "w.toml"], "expected a whole number ≥ 1, got '0'"),
    ],
)
def test_a_bad_value_is_a_usage_error_with_a_hint(argv: list[str], hint: str) -> None:
    done = gatewatch(*argv)
    assert done.returncode == 2, done.stderr
    assert hint in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_timeout_takes_the_watchlist_duration_grammar(lab: Lab) -> None:
    # `--timeout 5s` was refused although a watchlist takes "5s".
    done = gatewatch("probe", lab.url("/ok"), "--timeout", "5s", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True
    done = gatewatch("probe", lab.url("/delay/1500"), "--timeout", "300ms", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["verdict"]["kind"] is not None


def test_concurrency_one_is_fine(tmp_path: Path, lab: Lab) -> None:
    path = tmp_path / "w.toml"
    path.write_text(f'version = 1\n[[endpoint]]\nname = "ok"\nurl = "{lab.url("/ok")}"\n')
    done = gatewatch("check", str(path), "--concurrency", "1", "--json")
    assert done.returncode == 0, done.stderr
