"""The headless commands' contract (DESIGN.md): JSON shape, exit codes, readable errors."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatewatch.cli import main
from gatewatch.lab import Lab

HOP_KEYS = {"name", "status", "ms", "error", "kind", "detail"}
TOP_KEYS = {"name", "url", "started_at", "ok", "status_code", "total_ms", "hops", "origin",
            "verdict"}
VERDICT_KEYS = {"cause", "kind", "hop", "generator", "confidence", "summary", "evidence",
                "next_steps"}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def lab_args(lab: Lab) -> list[str]:
    return ["--resolver", f"127.0.0.1:{lab.dns_port}", "--ca-bundle", lab.ca_bundle]


def test_probe_json_contract_healthy(lab: Lab) -> None:
    url = lab.url("/ok", scheme="https", host="app.lab.test")
    code, out, _ = run("probe", url, *lab_args(lab), "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= TOP_KEYS
    assert [h["name"] for h in doc["hops"]] == ["dns", "tcp", "tls", "proxy", "upstream"]
    assert all(set(h) >= HOP_KEYS for h in doc["hops"])
    assert doc["ok"] is True and doc["status_code"] == 200
    assert doc["started_at"].endswith("Z")
    assert set(doc["verdict"]) == VERDICT_KEYS and doc["verdict"]["cause"] == "healthy"


def test_probe_json_unhealthy_exit_1(lab: Lab) -> None:
    code, out, _ = run("probe", f"http://127.0.0.1:{lab.refused_port}/", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False and doc["status_code"] is None
    assert doc["hops"][1]["status"] == "fail" and doc["hops"][1]["kind"] == "refused"
    assert doc["verdict"]["cause"] == "network" and doc["verdict"]["kind"] == "refused"


def test_probe_human_output_ends_with_the_verdict(lab: Lab) -> None:
    code, out, _ = run("probe", lab.url("/status/502"))
    assert code == 1
    lines = out.rstrip().splitlines()
    assert lines[0].endswith(lab.url("/status/502"))
    table = "\n".join(lines)
    for hop in ("dns", "tcp", "tls", "proxy", "upstream"):
        assert f"\n  {hop} " in table
    verdict_at = next(i for i, line in enumerate(lines) if line.strip().startswith("Verdict:"))
    assert any("Next steps" in line for line in lines[verdict_at:])


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["probe", "ftp://example.test/"], "http:// or https://"),
        (["probe", "http://x.test/", "--resolver", "dns.google"], "--resolver"),
        (["probe", "http://x.test/", "--expect-status", "abc"], "--expect-status"),
        (["probe", "http://x.test/", "--header", "novalue"], "--header"),
        (["probe", "http://x.test/", "--header", "X:env:GW_SURELY_UNSET"], "GW_SURELY_UNSET"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], needle: str) -> None:
    code, out, err = run(*argv)
    assert code == 2 and needle in err and out == ""


def test_check_runs_a_watchlist(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_text(
        "version = 1\n[defaults]\ntimeout = \"3s\"\n"
        f'[[endpoint]]\nname = "good"\nurl = "{lab.url("/ok")}"\n'
        f'[[endpoint]]\nname = "bad"\nurl = "{lab.url("/status/503")}"\n'
    )
    code, out, _ = run("check", str(path), "--json")
    assert code == 1
    docs = json.loads(out)
    assert [d["name"] for d in docs] == ["good", "bad"]
    assert [d["ok"] for d in docs] == [True, False]


def test_check_all_healthy_exit_0(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_text(f'version = 1\n[[endpoint]]\nname = "good"\nurl = "{lab.url("/ok")}"\n')
    code, out, _ = run("check", str(path))
    assert code == 0 and out.rstrip().splitlines()[-1] == "1 endpoint healthy"


def test_check_ends_with_one_line_and_brief_is_a_table(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_text(
        "version = 1\n[defaults]\ntimeout = \"3s\"\n"
        f'[[endpoint]]\nname = "good"\nurl = "{lab.url("/ok")}"\n'
        f'[[endpoint]]\nname = "gone"\nurl = "http://127.0.0.1:{lab.refused_port}/x"\n'
        f'[[endpoint]]\nname = "busy"\nurl = "{lab.url("/status/503")}"\n'
    )
    code, out, _ = run("check", str(path))
    last = out.rstrip().splitlines()[-1]
    assert code == 1 and last.startswith("2 of 3 endpoints unhealthy: gone (network/refused), ")
    assert "busy (" in last and "good" not in last
    code, out, _ = run("check", str(path), "--brief")
    lines = out.rstrip().splitlines()
    assert code == 1 and len(lines) == 5  # header, three endpoints, the summary line
    assert lines[0].split()[:3] == ["NAME", "HTTP", "TIME"]
    assert lines[1].startswith("FAIL") and lines[3].startswith("ok    good  200")
    assert lines[-1] == last


def test_check_malformed_watchlist_names_file_line_key(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    text = (
        'version = 1\n\n[[endpoint]]\nname = "shop"\nurl = "https://shop.test/"\n'
        'timeout = "soon"\n'
    )
    path.write_text(text)
    code, out, err = run("check", str(path))
    assert code == 2 and out == ""
    assert f"{path}:6" in err and "timeout" in err
    assert path.read_text() == text  # never touched


def test_check_missing_watchlist(tmp_path: Path) -> None:
    code, _, err = run("check", str(tmp_path / "nope.toml"))
    assert code == 2 and "nope.toml" in err


def test_check_uses_gatewatch_watchlist_env(lab: Lab, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "wl.toml"
    path.write_text(f'version = 1\n[[endpoint]]\nname = "env"\nurl = "{lab.url("/ok")}"\n')
    monkeypatch.setenv("GATEWATCH_WATCHLIST", str(path))
    code, out, _ = run("check", "--json")
    assert code == 0 and json.loads(out)[0]["name"] == "env"


@pytest.fixture
def hostile_server() -> Iterator[int]:
    """A server whose reason phrase, headers and body try to drive the terminal."""
    body = b"[/]\x1b]0;pwned\x07 [bold red]x[/]"
    answer = (
        b"HTTP/1.1 502 Bad \x1b[31mGateway\r\n"
        b"Server: \x1b]0;pwned\x07evil[/]\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    listener.close()


def test_hostile_text_never_reaches_the_terminal(hostile_server: int) -> None:
    code, out, _ = run("probe", f"http://127.0.0.1:{hostile_server}/")
    assert code == 1
    assert "\x1b" not in out and "\x07" not in out
    assert "␛" in out  # shown, not obeyed
    code, out, _ = run("probe", f"http://127.0.0.1:{hostile_server}/", "--json")
    assert json.loads(out)["status_code"] == 502  # JSON escapes control characters itself
    assert "\x1b" not in out


def test_lab_command_is_wired() -> None:
    from gatewatch.cli import COMMANDS

    assert {"probe", "check", "watch", "lab"} <= set(COMMANDS)


def test_watch_prints_transitions_and_stops_on_ctrl_c(lab: Lab, tmp_path: Path) -> None:
    """`gatewatch watch` as a user runs it: JSON lines until SIGINT, then exit 0."""
    import os
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "watchlist.toml"
    path.write_text(
        'version = 1\n[defaults]\ninterval = "1s"\ntimeout = "1s"\n'
        f'[[endpoint]]\nname = "dead"\nurl = "http://127.0.0.1:{lab.refused_port}/"\n'
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gatewatch", "watch", str(path), "--json",
         "--history", str(tmp_path / "history.sqlite3")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 15
        seen: list[dict[str, object]] = []
        while time.monotonic() < deadline and not any(e.get("to") == "down" for e in seen):
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(json.loads(line))
        assert any(e.get("endpoint") == "dead" and e.get("to") == "down" for e in seen), seen
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait()
