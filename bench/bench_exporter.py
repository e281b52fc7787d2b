"""Benchmark: CPU per ``/probe`` of ``gatewatch exporter`` against blackbox_exporter's.

    python bench/bench_exporter.py [--probes 1000] [--rounds 2] [--out bench/results/exporter.json]

Both exporters run as their own processes and are driven the same way: N scrapes of
``/probe`` with 20 in flight, fresh connection to the target each, http and https lab
targets; each one's process CPU is read from /proc before and after. gatewatch's answer
includes what blackbox's does not (the diagnosis, ``gatewatch_*``), so this is the cost
of the whole answer. The rounds alternate gatewatch and blackbox_exporter so that a
change in the machine's load touches both; the load average is recorded with the result.
gatewatch runs with a watchlist of the two targets (so https verifies against the lab's
CA) and a 1 h interval, so its monitor probes once at start and then sleeps.

The lab runs in a separate process (``python -m gatewatch.lab --json``). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from bench_probe import exporter_cpu, proc_cpu_seconds
from labproc import start_lab, stop_lab

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _drive(probe_url: str, params: dict[str, str], pid: int, probes: int) -> float:
    """ms of ``pid``'s CPU per /probe, 20 in flight; every probe must succeed."""
    async with httpx.AsyncClient(timeout=15, trust_env=False) as client:
        for _ in range(100):
            try:
                first = await client.get(probe_url, params=params)
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.1)
        assert "probe_success 1" in first.text, first.text[-500:]
        limit = asyncio.Semaphore(20)

        async def one() -> bool:
            async with limit:
                response = await client.get(probe_url, params=params)
                return "probe_success 1" in response.text

        before = proc_cpu_seconds(pid)
        oks = await asyncio.gather(*(one() for _ in range(probes)))
        after = proc_cpu_seconds(pid)
    assert all(oks)
    return (after - before) * 1000 / probes


def gatewatch_exporter_cpu(urls: dict[str, str], ca: str, probes: int) -> dict[str, float]:
    """ms of ``gatewatch exporter``'s CPU per /probe, per target name."""
    workdir = Path(tempfile.mkdtemp(prefix="gw-exporter-"))
    watchlist = workdir / "watchlist.toml"
    watchlist.write_text(
        'version = 1\n[defaults]\ninterval = "1h"\n'
        + "".join(
            f'[[endpoint]]\nname = "{name}"\nurl = "{url}"\nca_bundle = "{ca}"\n'
            for name, url in urls.items()
        )
    )
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gatewatch", "exporter", str(watchlist),
         "--listen", f"127.0.0.1:{port}", "--history", str(workdir / "history.sqlite")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        probe_url = f"http://127.0.0.1:{port}/probe"
        return {
            name: asyncio.run(_drive(probe_url, {"target": name, "module": "http_2xx"},
                                     proc.pid, probes))
            for name in urls
        }
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "exporter.json")
    args = parser.parse_args()
    blackbox = shutil.which("prometheus-blackbox-exporter") or shutil.which("blackbox_exporter")
    if blackbox is None:
        raise SystemExit("needs prometheus-blackbox-exporter (apt-get install it)")
    lab, ports = start_lab()
    runs: dict[str, dict[str, list[float]]] = {"gatewatch": {}, "blackbox_exporter": {}}
    load_before = os.getloadavg()
    try:
        urls = {
            "http": f"http://localhost:{ports['http_port']}/ok",
            "https": f"https://localhost:{ports['https_ports']['valid']}/ok",
        }
        ca = ports["ca_bundle"]
        for _ in range(args.rounds):
            for scheme, ms in gatewatch_exporter_cpu(urls, ca, args.probes).items():
                runs["gatewatch"].setdefault(scheme, []).append(ms)
            for scheme, url in urls.items():
                ms = asyncio.run(exporter_cpu(blackbox, url, ca, args.probes))
                runs["blackbox_exporter"].setdefault(scheme, []).append(ms)
    finally:
        stop_lab(lab)
    load_after = os.getloadavg()
    report: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "probes": args.probes,
        "rounds": args.rounds,
        "cores": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
        "cpu_ms_per_probe": runs,
    }
    for scheme in ("http", "https"):
        gw = sum(runs["gatewatch"][scheme]) / args.rounds
        bb = sum(runs["blackbox_exporter"][scheme]) / args.rounds
        each = ", ".join(
            f"{g:.2f}/{b:.2f}"
            for g, b in zip(runs["gatewatch"][scheme], runs["blackbox_exporter"][scheme],
                            strict=True)
        )
        print(f"/probe {scheme:<5} gatewatch {gw:.2f} ms  blackbox_exporter {bb:.2f} ms  "
              f"ratio {gw / bb:.2f}x  (rounds gw/bb: {each})")
    print(f"load average before {load_before}, after {load_after}, {os.cpu_count()} cores")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
