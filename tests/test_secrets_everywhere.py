"""Secrets stay secret on every surface: the real URL goes on the wire only.

One endpoint carries every kind of secret the issue names: a password in its URL
(``bob:hunter2-pw@``), a token in its query (``?token=…``), and ``env:`` header values
(X-Api-Key, Cookie). It is probed through every command against the fault lab, and each
surface a person or a program reads — stdout, stderr, JSON, the history database's bytes,
the alert webhook's body, the alert command's stdin and environment, the diagnose report,
a saved watchlist — is searched for the secret strings. :func:`measure` counts them per
surface (the figure in the issue note); the tests require zero everywhere.
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from gatewatch import watchlist as wl
from gatewatch.board import Row
from gatewatch.cli import main
from gatewatch.lab import Lab

SRC = str(Path(__file__).resolve().parents[1] / "src")
PASSWORD = "hunter2-pw"
TOKEN = "tok-SECRET-123"
API_KEY = "apikey-SECRET-456"
COOKIE = "cookie-SECRET-789"
BASIC = base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
URL_SECRETS = (PASSWORD, TOKEN, BASIC)
ENV_SECRETS = (API_KEY, COOKIE)
SECRETS = URL_SECRETS + ENV_SECRETS
ENVIRON = {"GW_API_KEY": API_KEY, "GW_COOKIE": f"session={COOKIE}"}


def secret_url(lab: Lab, path: str = "/status/502") -> str:
    plain = lab.url(path)
    return plain.replace("http://", f"http://bob:{PASSWORD}@", 1) + f"?token={TOKEN}&page=2"


def found(data: str | bytes, secrets: tuple[str, ...] = SECRETS) -> int:
    """How many times any secret occurs in ``data``."""
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    return sum(raw.count(s.encode()) for s in secrets)


def write_watchlist(path: Path, url: str, alerts: str = "") -> Path:
    path.write_text(
        f"""version = 1

[[endpoint]]
name = "shop"
url = "{url}"
interval = "0.5s"
timeout = "2s"
down_after = 1
headers = {{ X-Api-Key = "env:GW_API_KEY", Cookie = "env:GW_COOKIE" }}
{alerts}""",
        encoding="utf-8",
    )
    return path


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------- the alert sinks


class Hook(BaseHTTPRequestHandler):
    bodies: ClassVar[list[bytes]] = []
    arrived: ClassVar[threading.Event] = threading.Event()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        type(self).bodies.append(self.rfile.read(length))
        self.send_response(204)
        self.end_headers()
        type(self).arrived.set()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[Hook]]]:
    handler = type("Hook", (Hook,), {"bodies": [], "arrived": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def wait_for(check: object, what: str, within: float = 30.0) -> None:
    """Poll ``check()`` until true; ``within`` only bounds a failure."""
    assert callable(check)
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# --------------------------------------------------------------------------- measurement


def measure(
    lab: Lab, tmp_path: Path, webhook: tuple[str, type[Hook]], monkeypatch: pytest.MonkeyPatch
) -> dict[str, int]:
    """Secret strings found per surface, for one endpoint carrying every kind of secret."""
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    url = secret_url(lab)
    counts: dict[str, int] = {}
    _, out, err = run_cli("probe", url, "--header", "X-Api-Key: env:GW_API_KEY", "--timeout", "3")
    counts["probe stdout+stderr"] = found(out + err)
    _, out, err = run_cli("probe", url, "--timeout", "3", "--json")
    counts["probe --json"] = found(out + err)
    watchlist = write_watchlist(tmp_path / "watchlist.toml", url)
    _, out, err = run_cli("check", str(watchlist))
    counts["check stdout+stderr"] = found(out + err)
    _, out, err = run_cli("check", str(watchlist), "--json")
    counts["check --json"] = found(out + err)
    report = tmp_path / "report.md"
    argv = ["diagnose", url, "--retries", "1", "--backoff", "0", "--report", str(report)]
    _, out, err = run_cli(*argv)
    counts["diagnose stdout+stderr"] = found(out + err)
    counts["diagnose report"] = found(report.read_bytes())
    _, out, err = run_cli(*argv[:-1], str(tmp_path / "again.md"), "--json")
    counts["diagnose --json"] = found(out + err)
    counts.update(_watch(url, tmp_path, webhook))
    loaded = wl.load(watchlist)
    saved = tmp_path / "saved.toml"
    wl.save(loaded, saved)
    # The watchlist keeps the URL as its author wrote it; no resolved env: value may enter.
    counts["saved watchlist (env values)"] = found(saved.read_bytes(), ENV_SECRETS)
    return counts


def _watch(url: str, tmp_path: Path, webhook: tuple[str, type[Hook]]) -> dict[str, int]:
    """``gatewatch watch --json`` in a real process: history, webhook, alert command."""
    hook_url, hook = webhook
    dump = tmp_path / "alert-command"
    script = tmp_path / "alert.py"
    script.write_text(
        "import os, sys\n"
        f"d = {str(dump)!r}\n"
        "open(d + '.stdin', 'wb').write(sys.stdin.buffer.read())\n"
        "open(d + '.env', 'w').write(os.environ.get('GATEWATCH_URL', '') + '\\n'"
        " + os.environ.get('GATEWATCH_TEXT', ''))\n",
        encoding="utf-8",
    )
    alerts = f'\n[alerts]\ncommand = "{sys.executable} {script}"\nwebhook = "{hook_url}"\n'
    watchlist = write_watchlist(tmp_path / "watch.toml", url, alerts)
    history = tmp_path / "history.sqlite3"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-m", "gatewatch", "watch", str(watchlist), "--json"]
    proc = subprocess.Popen(
        [*argv, "--history", str(history)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        wait_for(lambda: Path(str(dump) + ".env").exists(), "the alert command")
        wait_for(hook.arrived.is_set, "the webhook")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    history_bytes = b"".join(
        p.read_bytes() for p in tmp_path.glob("history.sqlite3*") if p.is_file()
    )
    return {
        "watch stdout+stderr": found(out + err),
        "history database": found(history_bytes),
        "alert webhook body": found(b"".join(hook.bodies)),
        "alert command stdin": found(Path(str(dump) + ".stdin").read_bytes()),
        "alert command GATEWATCH_URL/TEXT": found(Path(str(dump) + ".env").read_bytes()),
    }


def test_no_secret_on_any_surface(
    lab: Lab,
    tmp_path: Path,
    webhook: tuple[str, type[Hook]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counts = measure(lab, tmp_path, webhook, monkeypatch)
    assert len(counts) == 13
    assert counts == dict.fromkeys(counts, 0), counts


def test_the_redacted_url_still_says_where(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``url`` field shows the redacted URL: host, path and harmless parameters kept."""
    monkeypatch.setenv("GW_API_KEY", API_KEY)
    code, out, _ = run_cli("probe", secret_url(lab), "--timeout", "3", "--json")
    assert code == 1
    shown = json.loads(out)["url"]
    assert shown == lab.url("/status/502").replace("http://", "http://REDACTED@") + (
        "?token=REDACTED&page=2"
    )


def test_url_credentials_and_an_authorization_header_are_refused(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL's userinfo would silently replace the header with Basic auth: refused, exit 2,
    naming the endpoint (and the file and line for a watchlist), secrets not echoed."""
    monkeypatch.setenv("SHOP_TOKEN", "Bearer abc-SECRET")
    url = secret_url(lab)
    path = tmp_path / "conflict.toml"
    path.write_text(
        f'version = 1\n\n[[endpoint]]\nname = "shop"\nurl = "{url}"\n'
        'headers = { Authorization = "env:SHOP_TOKEN" }\n',
        encoding="utf-8",
    )
    code, out, err = run_cli("check", str(path))
    assert code == 2 and out == ""
    assert f"{path}:5:" in err and '"shop"' in err and "Authorization" in err
    assert found(err) == 0
    code, out, err = run_cli("probe", url, "--header", "Authorization: env:SHOP_TOKEN")
    assert code == 2 and "Authorization" in err and found(err) == 0
    errors = wl.endpoint_errors({"name": "x", "url": url, "headers": {"authorization": "t"}})
    assert "Authorization" in errors["url"]


async def test_the_board_shows_no_secret(tmp_path: Path) -> None:
    """The board's row, the detail screen and its facts show the redacted URL, even for a
    result that carries the raw one (a history row written by an older gatewatch)."""
    from textual.content import Content
    from textual.widgets import Static

    from gatewatch.model import Endpoint
    from gatewatch.monitor import ProbeCompleted, State
    from gatewatch.tui.app import GatewatchApp
    from gatewatch.tui.screens.detail import DetailScreen
    from test_tui_samples import FakeEngine, clock, gateway_502
    from test_tui_untrusted import screen_text

    url = f"https://bob:{PASSWORD}@shop.example/health?token={TOKEN}&page=2"
    endpoint = Endpoint(name="shop", url=url, headers=(("X-Api-Key", "env:GW_API_KEY"),))
    result = gateway_502("shop", url)
    engine = FakeEngine([endpoint])
    app = GatewatchApp(
        wl.Watchlist.empty(tmp_path / "watchlist.toml"),
        engine,
        config_dir=tmp_path / "config",
        clock=clock,
        start_engine=False,
    )
    async with app.run_test(size=(160, 50)) as pilot:
        app.state._rows[endpoint.name] = Row(endpoint=endpoint)
        engine.publish([ProbeCompleted("shop", result, State.DOWN)])
        app.drain()
        deadline = time.monotonic() + 10
        while "shop.example" not in (board := screen_text(app)):
            assert time.monotonic() < deadline, board
            await pilot.pause(0.05)
        await pilot.press("enter")
        while not isinstance(app.screen, DetailScreen):
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        await pilot.pause()
        detail = screen_text(app)
        drawn = "\n".join(
            content.plain
            for widget in app.screen.query(Static)
            if isinstance(content := widget.render(), Content)
        )
    assert "REDACTED@shop.example" in board
    for text in (board, detail, drawn):
        assert found(text) == 0, text


@pytest.mark.parametrize(
    "bad",
    [
        f"http://bob:{PASSWORD}@shop .example/?token={TOKEN}",  # a space
        f"ftp://bob:{PASSWORD}@shop.example/?token={TOKEN}",  # not http(s)
        f"http://bob:{PASSWORD}@[::1/?token={TOKEN}",  # unparsable
        f"http://bob:{PASSWORD}@/?token={TOKEN}",  # no host
        f"http://bob:{PASSWORD}@shop.example:99999/?token={TOKEN}",  # port out of range
    ],
)
def test_a_refused_url_is_quoted_redacted(bad: str, tmp_path: Path) -> None:
    """The error that refuses a URL reaches terminals and CI logs: it quotes it redacted."""
    errors = wl.endpoint_errors({"name": "x", "url": bad})
    assert "url" in errors and found(errors["url"]) == 0, errors
    path = tmp_path / "bad.toml"
    path.write_text(f'version = 1\n\n[[endpoint]]\nname = "x"\nurl = "{bad}"\n', "utf-8")
    code, out, err = run_cli("check", str(path))
    assert code == 2 and f"{path}:5:" in err and found(out + err) == 0, err
