"""Real Prometheus and blackbox_exporter on loopback, and gatewatch exporters in threads.

Prometheus and blackbox_exporter are started like nginx in ``gateways_support`` (own
config, private directory, own process group, always killed). A missing binary fails the
test: ``scripts/test`` installs both (Debian ``prometheus``, ``prometheus-blackbox-exporter``).

Nothing here sleeps a fixed time: :func:`query_until` polls Prometheus's HTTP API until the
answer satisfies a predicate, with a deadline that is only a failure bound.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import httpx

from gatewatch.exporter.server import serve
from gatewatch.model import Endpoint
from gateways_support import Gateway, Ports, _start, require_binary

Sample = dict[str, Any]


def start_blackbox(directory: Path, config: str) -> Gateway:
    """blackbox_exporter with ``config`` (YAML) on a loopback port named ``http``."""
    binary = require_binary("prometheus-blackbox-exporter")

    def argv(path: Path, port: int) -> list[str]:
        return [binary, f"--config.file={path}", f"--web.listen-address=127.0.0.1:{port}"]

    return _start_on_port("blackbox", argv, "blackbox.yml", lambda _: config, directory)


def start_prometheus(directory: Path, render: Callable[[Ports], str]) -> Gateway:
    """Prometheus with the config ``render`` returns, a TSDB in ``directory``, port ``http``."""
    binary = require_binary("prometheus")
    tsdb = directory / "tsdb"

    def argv(path: Path, port: int) -> list[str]:
        return [
            binary,
            f"--config.file={path}",
            f"--storage.tsdb.path={tsdb}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]

    return _start_on_port("prometheus", argv, "prometheus.yml", render, directory)


def _start_on_port(
    kind: str,
    argv: Callable[[Path, int], list[str]],
    config_name: str,
    render: Callable[[Ports], str],
    directory: Path,
) -> Gateway:
    """``gateways_support._start`` for a server whose port is a flag, not in its config."""
    chosen: dict[str, int] = {}

    def remember(ports: Ports) -> str:
        chosen.update(ports)
        return render(ports)

    return _start(
        kind, lambda path: argv(path, chosen["http"]), config_name, remember, ["http"],
        directory, [],
    )


# --------------------------------------------------------------------------- gatewatch


@dataclass
class RunningExporter:
    host: str
    port: int
    stop_event: threading.Event
    thread: threading.Thread
    output: StringIO

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.address}{path}"

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(15)


@contextmanager
def gatewatch_exporter(
    endpoints: Sequence[Endpoint],
    history: Path,
    *,
    allow_any_target: bool = False,
    watch: bool = True,
) -> Iterator[RunningExporter]:
    """``gatewatch exporter`` in a thread on an ephemeral loopback port."""
    stop = threading.Event()
    ready: list[tuple[str, int]] = []
    started = threading.Event()
    output = StringIO()

    def on_ready(address: tuple[str, int]) -> None:
        ready.append(address)
        started.set()

    thread = threading.Thread(
        target=serve,
        args=(list(endpoints),),
        kwargs={
            "listen": "127.0.0.1:0",
            "allow_any_target": allow_any_target,
            "watch": watch,
            "history": history,
            "out": output,
            "stop": stop,
            "on_ready": on_ready,
        },
        daemon=True,
    )
    thread.start()
    if not started.wait(30):
        stop.set()
        raise AssertionError(f"gatewatch exporter did not start: {output.getvalue()}")
    running = RunningExporter(ready[0][0], ready[0][1], stop, thread, output)
    try:
        yield running
    finally:
        running.stop()


# --------------------------------------------------------------------------- reading


def query(prometheus: Gateway, promql: str) -> list[Sample]:
    """An instant query's result vector (raises on an API error)."""
    response = httpx.get(
        prometheus.url("/api/v1/query"), params={"query": promql}, timeout=5.0
    )
    response.raise_for_status()
    payload = response.json()
    assert payload["status"] == "success", payload
    result: list[Sample] = payload["data"]["result"]
    return result


def query_until(
    prometheus: Gateway,
    promql: str,
    done: Callable[[list[Sample]], bool],
    *,
    deadline: float = 60.0,
) -> list[Sample]:
    """Poll ``promql`` until ``done(result)``; AssertionError with the last answer if never."""
    end = time.monotonic() + deadline
    last: list[Sample] = []
    while True:
        last = query(prometheus, promql)
        if done(last):
            return last
        if time.monotonic() > end or not prometheus.alive:
            raise AssertionError(
                f"{promql!r} never satisfied the test within {deadline} s; last: {last}\n"
                f"{prometheus.logs()}"
            )
        time.sleep(0.2)


def by_label(samples: list[Sample], label: str) -> dict[str, float]:
    """{label value: sample value} of an instant vector."""
    return {s["metric"].get(label, ""): float(s["value"][1]) for s in samples}


def parse_exposition(text: str) -> dict[str, str]:
    """{metric family name: type} from a text exposition's ``# TYPE`` lines."""
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind.strip()
    return types


def series(text: str) -> set[str]:
    """Every sample's name and labels (no value) in a text exposition."""
    found: set[str] = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            found.add(line.rsplit(" ", 1)[0])
    return found


def check_with_promtool(text: str) -> None:
    """``promtool check metrics`` must accept ``text`` (the real promtool, never skipped)."""
    promtool = require_binary("promtool")
    done = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stdout + done.stderr
