"""Benchmark: are gatewatch's per-hop timings exact, and what does a probe cost?

    python bench/bench_probe.py [--repeats 40] [--cpu-probes 2000] [--out bench/results/probe.json]

1. Timing fidelity. Against lab targets with injected delays (server processing, a slow
   TLS handshake, a slow CONNECT proxy), each repeat runs curl (``-w`` timings,
   ``--resolve``) and a gatewatch probe back to back, in one run, and compares medians
   hop by hop: tcp = time_connect - time_namelookup, tls(+CONNECT) = time_appconnect -
   time_connect, wait = time_starttransfer - time_pretransfer. Twice: idle, and with 20
   probes in flight (19 background probes keep the probe engine busy while curl and the
   measured probe run).
2. CPU per probe, fresh connection each, 20 in flight, http and https: gatewatch's own
   process CPU against Prometheus' blackbox_exporter (its process CPU, read from /proc),
   driven through its /probe endpoint on the same targets.
3. HTTP/2: the same two measures against a real nginx with ``listen … ssl http2`` in front
   of the lab (bench/h2_target.py): gatewatch (``http_version = "2"``) against
   ``curl --http2``, idle and 20 in flight, and CPU per probe against blackbox_exporter
   with ``enable_http2: true``. ``--h2-only`` runs this part alone.

The lab runs in a separate process (``python -m gatewatch.lab --json``) so neither tool
pays for the servers. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from h2_target import start_h2_target
from labproc import start_lab, stop_lab

from gatewatch.model import Endpoint, ProbeResult
from gatewatch.probe import Prober

HERE = Path(__file__).resolve().parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def curl_times(
    url: str, host: str, port: int, ca: str, proxy: str | None, http2: bool = False
) -> dict[str, float]:
    """One curl run; its -w timings as per-hop durations in ms."""
    fmt = json.dumps(
        {
            k: f"%{{{k}}}"
            for k in (
                "time_namelookup",
                "time_connect",
                "time_appconnect",
                "time_pretransfer",
                "time_starttransfer",
                "time_total",
            )
        }
    )
    cmd = [
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "--http2" if http2 else "--http1.1",
        "--cacert",
        ca,
        "-w",
        fmt,
        "--resolve",
        f"{host}:{port}:127.0.0.1",
        url,
    ]
    if proxy:
        cmd += [
            "--proxy",
            proxy,
            "--resolve",
            f"proxy.lab.test:{proxy.rsplit(':', 1)[1]}:127.0.0.1",
        ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    t = {k: float(v) * 1000 for k, v in json.loads(out).items()}
    tls = t["time_appconnect"] - t["time_connect"] if t["time_appconnect"] else None
    return {
        "tcp": t["time_connect"] - t["time_namelookup"],
        "tls": tls if tls is not None else float("nan"),
        "wait": t["time_starttransfer"] - t["time_pretransfer"],
    }


def gw_times(result: ProbeResult) -> dict[str, float]:
    hop = {h.name: h for h in result.hops}
    tls = hop["tls"].ms
    if hop["proxy"].ms is not None:  # curl's appconnect spans CONNECT + TLS
        tls = (tls or 0.0) + hop["proxy"].ms
    return {
        "tcp": hop["tcp"].ms or float("nan"),
        "tls": tls if tls is not None else float("nan"),
        "wait": hop["upstream"].ms or float("nan"),
    }


def median(values: list[float]) -> float:
    clean = [v for v in values if v == v]
    return statistics.median(clean) if clean else float("nan")


Case = tuple[str, str, int, str | None]


async def fidelity(
    ports: dict[str, Any], repeats: int, loaded: bool, h2_port: int | None = None
) -> list[dict[str, Any]]:
    """curl and gatewatch back to back per repeat; with ``h2_port``, over HTTP/2 (nginx)."""
    ca = ports["ca_bundle"]
    valid = ports["https_ports"]["valid"]
    slow_tls = ports["tls_slow_port"]
    http = ports["http_port"]
    proxy_port = ports["proxy_ports"]["slow"]
    resolvers = (f"127.0.0.1:{ports['dns_port']}",)
    cases: list[Case] = [
        ("http, 20 ms server delay", f"http://app.lab.test:{http}/delay/20", http, None),
        ("https, 20 ms server delay", f"https://app.lab.test:{valid}/delay/20", valid, None),
        ("https, handshake delayed", f"https://app.lab.test:{slow_tls}/delay/20", slow_tls, None),
        (
            "https via CONNECT proxy (+50 ms)",
            f"https://app.lab.test:{valid}/delay/20",
            valid,
            f"http://proxy.lab.test:{proxy_port}",
        ),
    ]
    background_url = f"https://app.lab.test:{valid}/delay/100"
    version: Any = "1.1"
    if h2_port is not None:
        version = "2"
        cases = [
            ("h2 nginx, 20 ms upstream delay", f"https://app.lab.test:{h2_port}/delay/20",
             h2_port, None),
            ("h2 nginx, /ok", f"https://app.lab.test:{h2_port}/ok", h2_port, None),
        ]  # fmt: skip
        background_url = f"https://app.lab.test:{h2_port}/delay/100"
    prober = Prober(environ={})
    await prober.warm_up()
    stop = asyncio.Event()

    async def background() -> None:
        target = Endpoint(
            name="bg",
            url=background_url,
            resolvers=resolvers,
            ca_bundle=ca,
            timeout=5,
            http_version=version,
        )
        while not stop.is_set():
            await prober.probe(target)

    workers = [asyncio.create_task(background()) for _ in range(19 if loaded else 0)]
    rows = []
    try:
        for label, url, port, proxy in cases:
            endpoint = Endpoint(
                name=label,
                url=url,
                resolvers=resolvers,
                ca_bundle=ca,
                proxy=proxy,
                timeout=5,
                http_version=version,
            )
            ours: dict[str, list[float]] = {"tcp": [], "tls": [], "wait": []}
            theirs: dict[str, list[float]] = {"tcp": [], "tls": [], "wait": []}
            for repeat in range(repeats):
                # Alternate who goes first, so neither tool always meets the server (and
                # its upstream keep-alive pool) right after the other.
                if repeat % 2:
                    result = await prober.probe(endpoint)
                curl = await asyncio.to_thread(
                    curl_times, url, "app.lab.test", port, ca, proxy, h2_port is not None
                )
                if not repeat % 2:
                    result = await prober.probe(endpoint)
                assert result.ok, (label, result.hops)
                assert result.http_version == ("2" if h2_port else "1.1"), result.http_version
                for k, v in gw_times(result).items():
                    ours[k].append(v)
                for k, v in curl.items():
                    theirs[k].append(v)
            row: dict[str, Any] = {"case": label, "load": "20 in flight" if loaded else "idle"}
            for k in ("tcp", "tls", "wait"):
                row[k] = {
                    "gatewatch": round(median(ours[k]), 3),
                    "curl": round(median(theirs[k]), 3),
                    "diff": round(median(ours[k]) - median(theirs[k]), 3),
                }
            rows.append(row)
    finally:
        stop.set()
        await asyncio.gather(*workers)
        await prober.aclose()
    return rows


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


async def gatewatch_cpu(url: str, ca: str, probes: int, http2: bool = False) -> float:
    """ms of this process's CPU per probe, 20 in flight, fresh connection each."""
    prober = Prober(environ={})
    await prober.warm_up()
    endpoint = Endpoint(
        name="cpu", url=url, ca_bundle=ca, timeout=10, http_version="2" if http2 else "1.1"
    )
    assert (await prober.probe(endpoint)).http_version == ("2" if http2 else "1.1")
    limit = asyncio.Semaphore(20)

    async def one() -> bool:
        async with limit:
            return (await prober.probe(endpoint)).ok

    before = resource.getrusage(resource.RUSAGE_SELF)
    oks = await asyncio.gather(*(one() for _ in range(probes)))
    after = resource.getrusage(resource.RUSAGE_SELF)
    await prober.aclose()
    assert all(oks)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu * 1000 / probes


async def exporter_cpu(exporter: str, url: str, ca: str, probes: int, http2: bool = False) -> float:
    """ms of blackbox_exporter's CPU per probe, driven through /probe, 20 in flight."""
    workdir = Path(tempfile.mkdtemp(prefix="gw-bbe-"))
    config = workdir / "blackbox.yml"
    config.write_text(
        "modules:\n  http_probe:\n    prober: http\n    timeout: 10s\n    http:\n"
        f"      enable_http2: {'true' if http2 else 'false'}\n"
        "      preferred_ip_protocol: ip4\n      tls_config:\n"
        f"        ca_file: {ca}\n"
    )
    port = 19115
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before any timing
        [
            exporter,
            f"--config.file={config}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        probe_url = f"http://127.0.0.1:{port}/probe"
        params = {"module": "http_probe", "target": url}
        async with httpx.AsyncClient(timeout=15) as client:
            for _ in range(50):
                try:
                    r = await client.get(probe_url, params=params)
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)
            assert "probe_success 1" in r.text, r.text[-500:]
            spoken = "probe_http_version 2" if http2 else "probe_http_version 1.1"
            assert spoken in r.text, r.text[-800:]
            limit = asyncio.Semaphore(20)

            async def one() -> bool:
                async with limit:
                    resp = await client.get(probe_url, params=params)
                    return "probe_success 1" in resp.text

            before = proc_cpu_seconds(proc.pid)
            oks = await asyncio.gather(*(one() for _ in range(probes)))
            after = proc_cpu_seconds(proc.pid)
        assert all(oks)
        return (after - before) * 1000 / probes
    finally:
        proc.terminate()
        proc.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--cpu-probes", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--h2-only", action="store_true", help="only the HTTP/2 part (timings and CPU)"
    )
    args = parser.parse_args()
    if args.out is None:
        args.out = HERE / "results" / ("probe_h2.json" if args.h2_only else "probe.json")
    exporter = shutil.which("prometheus-blackbox-exporter") or shutil.which("blackbox_exporter")
    if shutil.which("curl") is None or exporter is None:
        raise SystemExit("needs curl and prometheus-blackbox-exporter (apt-get install both)")
    lab, ports = start_lab()
    h2 = start_h2_target(ports)
    try:
        report: dict[str, Any] = {
            "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "repeats": args.repeats,
            "fidelity": [],
            "cpu_ms_per_probe": {},
            "load_before": os.getloadavg(),
        }
        ca = ports["ca_bundle"]
        if not args.h2_only:
            report["fidelity"] += asyncio.run(fidelity(ports, args.repeats, loaded=False))
            report["fidelity"] += asyncio.run(fidelity(ports, args.repeats, loaded=True))
            http_url = f"http://localhost:{ports['http_port']}/ok"
            https_url = f"https://localhost:{ports['https_ports']['valid']}/ok"
            for scheme, url in (("http", http_url), ("https", https_url)):
                report["cpu_ms_per_probe"][scheme] = {
                    "gatewatch": round(asyncio.run(gatewatch_cpu(url, ca, args.cpu_probes)), 3),
                    "blackbox_exporter": round(
                        asyncio.run(exporter_cpu(exporter, url, ca, args.cpu_probes)), 3
                    ),
                }
        for loaded in (False, True):
            report["fidelity"] += asyncio.run(
                fidelity(ports, args.repeats, loaded=loaded, h2_port=h2.port)
            )
        h2_url = f"https://localhost:{h2.port}/ok"
        # The same nginx over both versions: what HTTP/2 itself costs each tool.
        for label, http2 in (("https 1.1 nginx", False), ("https h2 nginx", True)):
            report["cpu_ms_per_probe"][label] = {
                "gatewatch": round(
                    asyncio.run(gatewatch_cpu(h2_url, ca, args.cpu_probes, http2=http2)), 3
                ),
                "blackbox_exporter": round(
                    asyncio.run(exporter_cpu(exporter, h2_url, ca, args.cpu_probes, http2=http2)),
                    3,
                ),
            }
        report["load_after"] = os.getloadavg()
    finally:
        h2.stop()
        stop_lab(lab)
    for row in report["fidelity"]:
        diffs = "  ".join(
            f"{k} {row[k]['gatewatch']:.2f}/{row[k]['curl']:.2f} ({row[k]['diff']:+.2f})"
            for k in ("tcp", "tls", "wait")
        )
        print(f"{row['case']:<34} {row['load']:<13} {diffs}")
    print(f"load average before {report['load_before']}, after {report['load_after']}")
    for scheme, cpu in report["cpu_ms_per_probe"].items():
        ratio = cpu["gatewatch"] / cpu["blackbox_exporter"]
        print(
            f"CPU/probe {scheme:<16} gatewatch {cpu['gatewatch']:.2f} ms  "
            f"blackbox_exporter {cpu['blackbox_exporter']:.2f} ms  ratio {ratio:.2f}x"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
