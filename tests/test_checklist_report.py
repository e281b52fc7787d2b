"""The incident report, the curl line, ``diagnose --json``, progress files: what they say,
and what they never say (secrets), with hostile server text kept in its place."""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shlex
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from diagnose_factory import STARTED, ok
from gatewatch import cli
from gatewatch.checklist import (
    CheckResult,
    Past,
    ProgressStore,
    Redactor,
    from_history,
    osc52,
    report_path,
)
from gatewatch.checklist.curl import curl_command
from gatewatch.checklist.progress import progress_key
from gatewatch.checklist.redact import MASK
from gatewatch.checklist.report import cell, fenced
from gatewatch.cli.diagnose import add_diagnose_parser, run_diagnose_command
from gatewatch.lab import Lab
from gatewatch.model import Endpoint
from gatewatch.monitor import History, State, TransitionEvent
from gatewatch.probe import Prober
from test_checklist_support import FIXED, ep, servers, simple_response

SECRETS = {
    "GW_TOKEN": "Bearer s3cr3t-env-token-value",
    "api key": "literal-api-key-123",
    "cookie": "cookie-secret-456",
    "query token": "query-token-abc",
    "query sig": "sig-value-def",
    "origin password": "origin-password-789",
    "proxy password": "proxy-pass-ghi",
}
NEEDLES = [
    *(v.removeprefix("Bearer ") for v in SECRETS.values()),
    base64.b64encode(b"someone:proxy-pass-ghi").decode(),
    base64.b64encode(b"admin:origin-password-789").decode(),
]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="gatewatch")
    add_diagnose_parser(top.add_subparsers(dest="command"))
    return top


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def diagnose(
    argv: list[str],
    environ: dict[str, str] | None = None,
    out: io.StringIO | None = None,
    clock: Callable[[], datetime] | None = None,
) -> tuple[int, str, str]:
    out = out or io.StringIO()
    err = io.StringIO()
    args = parser().parse_args(["diagnose", *argv, "--retries", "2", "--backoff", "0"])
    code = run_diagnose_command(args, out, err, environ=environ or {}, clock=clock)
    return code, out.getvalue(), err.getvalue()


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for needle in NEEDLES:
            assert needle not in text, f"{needle!r} leaked"


# --------------------------------------------------------------------------- redaction


def secret_args(lab: Lab) -> tuple[list[str], dict[str, str]]:
    """Secrets in every place a watchlist can hold them, aimed at the lab's echo route."""
    url = lab.url("/echo?token=query-token-abc&sig=sig-value-def&page=2")
    environ = {
        "GW_TOKEN": SECRETS["GW_TOKEN"],
        "GW_PROXY": f"http://someone:proxy-pass-ghi@127.0.0.1:{lab.proxy_ports['open']}",
    }
    argv = [
        url,
        "--name",
        "shop",
        "--header",
        "Authorization: env:GW_TOKEN",
        "--header",
        "X-Api-Key: literal-api-key-123",
        "--header",
        "Cookie: session=cookie-secret-456",
        "--header",
        "X-Request-Id: harmless-id-1",
        "--origin",
        # (credentials in the origin's URL would clash with the Authorization header)
        f"http://127.0.0.1:{lab.http_port}/ok?access_token=origin-password-789",
        "--proxy",
        "env:GW_PROXY",
        # 200 is not expected: the echoed headers (the token among them) land in the report
        "--expect-status",
        "201",
    ]
    return argv, environ


def test_no_secret_in_the_report_json_curl_or_clipboard(lab: Lab, tmp_path: Path) -> None:
    argv, environ = secret_args(lab)
    report = tmp_path / "report.md"
    code, text, err = diagnose([*argv, "--report", str(report), "--print"], environ, out=Tty())
    assert code == 1
    assert report.read_text() in text  # stdout: the report, then the OSC 52 sequence
    sequence = text[text.index("\x1b]52;c;") :]
    copied = base64.b64decode(sequence[len("\x1b]52;c;") : -1]).decode()
    assert copied == report.read_text()
    assert_no_secret(text, err, copied)
    # What must still be there: references, harmless headers, the shape of the URL.
    assert "| Header Authorization | env:GW_TOKEN |" in text
    assert "| Forward proxy | env:GW_PROXY |" in text
    assert "harmless-id-1" in text and "page=2" in text and "token=REDACTED" in text
    assert '-H "Authorization: ${GW_TOKEN}"' in text and '-x "${GW_PROXY}"' in text
    assert MASK in text  # the echoed body's secrets were found and masked

    code, payload, _ = diagnose([*argv, "--report", str(tmp_path / "r2.md"), "--json"], environ)
    assert code == 1
    assert_no_secret(payload, (tmp_path / "r2.md").read_text())
    data = json.loads(payload)
    assert data["url"].endswith("/echo?token=REDACTED&sig=REDACTED&page=2")


def test_redactor_structure_and_literals() -> None:
    endpoint = Endpoint(
        name="x",
        url="https://TOKENASUSERNAME123@h.example/p?api_key=k3y-value&q=1",
        headers=(("X-Session", "sess-value-1"), ("Accept", "text/plain")),
    )
    redactor = Redactor.for_endpoint(endpoint, {})
    assert redactor.url(endpoint.url) == "https://REDACTED@h.example/p?api_key=REDACTED&q=1"
    text = redactor.text(
        "echo: sess-value-1 and k3y-value\n"
        "Set-Cookie: id=abc123456\nWWW-Authenticate: Basic realm=x\nServer: nginx\n"
        "see https://u:pw-in-text@x.example/?password=hunter22 at https://auth:8443/x"
    )
    assert "sess-value-1" not in text and "k3y-value" not in text
    assert "Set-Cookie: [REDACTED]" in text and "abc123456" not in text
    assert "WWW-Authenticate: Basic realm=x" in text  # a challenge, not a secret
    assert "Server: nginx" in text
    assert "https://REDACTED@x.example/?password=REDACTED" in text
    assert "https://auth:8443/x" in text  # a host:port is no header line
    assert redactor.header("Authorization", "env:TOKEN") == "env:TOKEN"
    assert redactor.header("X-Api-Key", "abc") == MASK


def test_curl_reproduces_the_probe(lab: Lab, tmp_path: Path) -> None:
    """The curl line parses as shell, pins the failing pool member, and really runs."""
    import asyncio

    endpoint = ep(
        lab.url("/ok", host="pool.lab.test"),
        lab,
        all_addresses=True,
        headers=(("Authorization", "env:GW_TOKEN"), ("X-Api-Key", "literal-api-key-123")),
    )
    environ = {"GW_TOKEN": SECRETS["GW_TOKEN"]}

    async def run() -> str:
        prober = Prober(environ=environ)
        try:
            result = await prober.probe(endpoint)
        finally:
            await prober.aclose()
        return curl_command(endpoint, result, Redactor.for_endpoint(endpoint, environ))

    line = asyncio.run(run())
    assert_no_secret(line)
    words = shlex.split(line.replace("\\\n", " "))
    assert words[words.index("--resolve") + 1] == f"pool.lab.test:{lab.http_port}:127.0.0.2"
    assert words[words.index("--cacert") + 1] == lab.ca_bundle
    assert "X-Api-Key: [REDACTED]" in words
    # Pinned to the healthy member instead, the same command must reach the lab.
    healthy = line.replace(":127.0.0.2", ":127.0.0.1")
    done = subprocess.run(
        ["bash", "-c", healthy],
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "GW_TOKEN": "x"},
    )
    assert "status 200" in done.stdout, done.stderr


# --------------------------------------------------------------------------- hostile text


async def test_hostile_server_text_stays_text(lab: Lab, tmp_path: Path) -> None:
    hostile = "evil|`tick` [/red] \x1b]0;pwned\x07"
    async with servers({"127.0.0.1": simple_response(503, server=hostile)}) as port:
        import asyncio

        out = io.StringIO()
        err = io.StringIO()
        args = parser().parse_args(
            [
                "diagnose",
                f"http://127.0.0.1:{port}/",
                "--retries",
                "1",
                "--backoff",
                "0",
                "--report",
                str(tmp_path / "r.md"),
                "--print",
            ]
        )
        code = await asyncio.to_thread(run_diagnose_command, args, out, err, environ={})
    text = out.getvalue()
    assert code == 1
    assert "\x1b" not in text and "\x07" not in text
    row = next(line for line in text.splitlines() if "| Software |" in line)
    assert "evil\\|\\`tick\\` [/red] ␛]0;pwned␇" in row  # escaped in the table
    assert "- server: evil|`tick` [/red] ␛]0;pwned␇" in text  # visible in the evidence


def test_markdown_helpers() -> None:
    assert cell("a|b`c\nd") == "a\\|b\\`c d"
    block = fenced("x ``` y")
    assert block.startswith("````\n") and block.endswith("\n````")
    assert cell("\x1b[31m") == "␛[31m"


# --------------------------------------------------------------------------- the command


def test_diagnose_healthy_exit_0_with_json(lab: Lab, tmp_path: Path) -> None:
    report = tmp_path / "reports" / "ok.md"
    code, payload, err = diagnose([lab.url("/ok"), "--json", "--report", str(report)])
    assert code == 0
    data = json.loads(payload)
    assert data["ok"] is True and data["verdict"]["cause"] == "healthy"
    assert [s["id"] for s in data["steps"]][-1] == "escalate"
    assert {s["outcome"] for s in data["steps"]} <= {"pass", "inconclusive", "not_applicable"}
    assert data["report"] == str(report) and report.is_file()
    assert data["result"]["hops"][0]["name"] == "dns"
    assert f"report written to {report}" in err
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


def test_diagnose_prints_the_verdict_steps_and_report_path(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    code, text, _ = diagnose([lab.url("/status/502"), "--report", str(path)])
    lines = text.rstrip().splitlines()
    assert code == 1 and len(lines) < 20
    assert lines[0].startswith("127.0.0.1: ") and "/" in lines[0].split()[1]
    retry = next(line for line in lines if ". Retry " in line)
    assert "FAIL" in retry and "persistent: 2 of 2 probes failed" in retry
    assert lines[-1] == f"report: {path}" and path.read_text().startswith("# Incident report")


def test_diagnose_unhealthy_exit_1_and_markdown(lab: Lab, tmp_path: Path) -> None:
    code, text, _ = diagnose(
        [lab.url("/status/502"), "--report", str(tmp_path / "r.md"), "--print"]
    )
    assert code == 1
    assert text.startswith("# Incident report: 127.0.0.1")
    for heading in ("## Verdict", "## Checklist", "## Recent probes", "## Reproduce"):
        assert heading in text
    assert "| Retry | FAIL | persistent: 2 of 2 probes failed" in text
    assert "retry 2/2" in text  # the retries are in the probes table


def test_diagnose_reads_the_monitors_history(lab: Lab, tmp_path: Path) -> None:
    """History written at FIXED is read at FIXED: the store's pruning and the load step's
    window follow the injected clock, so the test holds on any calendar day."""
    database = tmp_path / "history.sqlite3"
    with History(database, clock=FIXED.timestamp) as history:
        for i in range(6):
            past = ok(started_at=FIXED - timedelta(minutes=6 - i))
            history.record_probe(past.replace(name="shop", url=lab.url("/ok")), State.UP)
    argv = [lab.url("/ok"), "--name", "shop", "--history", str(database), "--json"]
    code, payload, _ = diagnose([*argv, "--report", str(tmp_path / "r.md")], clock=lambda: FIXED)
    assert code == 0
    load = next(s for s in json.loads(payload)["steps"] if s["id"] == "load")
    # 6 from the history, the probe that opened the checklist, and the Retry step's 2
    assert load["facts"]["probes"] == 9 and load["outcome"] == "pass"
    code, _, err = diagnose([*argv[:3], "--history", str(tmp_path / "missing.sqlite3")])
    assert code == 2 and "no such file" in err


def test_load_counts_the_retries_and_does_not_blame_load_for_a_refused_port(
    lab: Lab, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{lab.refused_port}/health"
    code, payload, _ = diagnose([url, "--json", "--report", str(tmp_path / "r.md")])
    steps = {s["id"]: s for s in json.loads(payload)["steps"]}
    assert code == 1 and steps["retry"]["outcome"] == "fail"
    load = steps["load"]
    assert load["outcome"] == "not_applicable" and load["facts"]["probes"] == 3
    assert "not a load problem" in load["summary"] and "refused" in load["summary"]


@pytest.mark.parametrize(
    "argv",
    [
        ["http://x.example/", "--header", "nocolon"],
        ["http://x.example/", "--timeout", "0"],
        ["ftp://x.example/"],
        ["http://x.example/", "--resolver", "dns.example"],
    ],
)
def test_diagnose_usage_errors_exit_2(argv: list[str], tmp_path: Path) -> None:
    code, _out, err = diagnose([*argv, "--report", str(tmp_path / "r.md")])
    assert code == 2 and err.startswith("gatewatch: ")


def test_diagnose_accepts_every_probe_option() -> None:
    """Same options as ``gatewatch probe``: the two parsers must not drift apart."""

    def options(top: argparse.ArgumentParser, name: str) -> set[str]:
        sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
        return {o for a in sub.choices[name]._actions for o in a.option_strings}

    probe = options(cli.build_parser(), "probe")
    assert probe <= options(parser(), "diagnose")


def test_osc52() -> None:
    sequence = osc52("héllo")
    assert sequence == "\x1b]52;c;" + base64.b64encode("héllo".encode()).decode() + "\x07"
    wrapped = osc52("x", tmux=True)
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]52;c;") and wrapped.endswith("\x1b\\")


def test_report_path_in_the_state_folder(tmp_path: Path) -> None:
    path = report_path("shop / eu", FIXED, tmp_path)
    assert path == tmp_path / "shop-eu-20261124T100000Z.md"


# --------------------------------------------------------------------------- progress


def test_progress_survives_a_restart_and_is_redacted(tmp_path: Path) -> None:
    endpoint = Endpoint(name="shop", url="https://shop.example/?token=query-token-abc")
    redactor = Redactor.for_endpoint(endpoint, {})
    store = ProgressStore(tmp_path)
    result = CheckResult("dns", "fail", "NXDOMAIN", ("resolver said so",), checked_at=FIXED)
    store.update(endpoint, redactor, lambda p: p.with_mark("retry", "done"))
    store.update(endpoint, redactor, lambda p: p.with_note("retry", "saw query-token-abc"))
    store.update(endpoint, redactor, lambda p: p.with_result(result))
    path = store.save(endpoint, redactor, FIXED)
    assert_no_secret(path.read_text())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left

    again, problem = ProgressStore(tmp_path).load(endpoint, redactor)  # a new process
    assert problem is None
    assert again.step("retry").mark == "done"
    assert again.step("retry").note == f"saw {MASK}"
    assert again.step("dns").result == result

    moved = endpoint.replace(url="https://shop.example/v2")
    assert progress_key(moved) != progress_key(endpoint)
    assert ProgressStore(tmp_path).load(moved, redactor)[0].steps == {}


def test_a_broken_progress_file_is_reported_not_fatal(tmp_path: Path) -> None:
    endpoint = Endpoint(name="shop", url="https://shop.example/")
    store = ProgressStore(tmp_path)
    store.path(endpoint).write_text("{not json")
    progress, problem = store.load(endpoint, Redactor())
    assert progress.steps == {} and problem is not None and "ignored" in problem


def test_progress_changes_from_two_screens_meet(tmp_path: Path) -> None:
    """A check finishing for a screen already left must not undo marks made since."""
    endpoint = Endpoint(name="shop", url="https://shop.example/")
    store = ProgressStore(tmp_path)
    store.update(endpoint, Redactor(), lambda p: p.with_mark("dns", "skipped"))
    late = CheckResult("retry", "pass", "0 of 5 probes failed")
    store.update(endpoint, Redactor(), lambda p: p.with_result(late))
    current, _ = store.load(endpoint, Redactor())
    assert current.step("dns").mark == "skipped" and current.step("retry").result == late


# --------------------------------------------------------------------------- history, purity


def test_past_from_the_monitor_history() -> None:
    with History(":memory:") as history:
        for i in range(3):
            history.record_probe(
                ok(started_at=STARTED - timedelta(minutes=3 - i)).replace(name="shop"), State.UP
            )
        history.record_event(
            TransitionEvent(STARTED, "shop", State.UP, State.DOWN, None, "502 from nginx")
        )
        assert history.flush()
        past = from_history(history, "shop", now=STARTED + timedelta(minutes=1))
    assert len(past.results) == 3
    assert past.results[0].started_at < past.results[-1].started_at
    assert [e.reason for e in past.events] == ["502 from nginx"]
    assert past.window() == (STARTED - timedelta(minutes=3), STARTED)
    assert Past().window() is None


def test_checklist_does_not_import_textual() -> None:
    modules = ", ".join(
        f"gatewatch.checklist.{m}"
        for m in ("runner", "checks", "report", "progress", "queue", "export", "past")
    )
    code = f"import sys, {modules}; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_building_the_parser_imports_nothing_heavy() -> None:
    """Every ``gatewatch`` run builds the diagnose parser: it must not load the probe."""
    code = (
        "import sys, argparse; from gatewatch.cli.diagnose import add_diagnose_parser; "
        "add_diagnose_parser(argparse.ArgumentParser().add_subparsers()); "
        "print(sorted(m for m in ('httpx', 'dns', 'gatewatch.monitor') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves() -> None:
    import gatewatch.checklist as package

    assert sorted(package.__all__) == sorted(package._HOME)
    for name in package.__all__:
        assert getattr(package, name) is not None
