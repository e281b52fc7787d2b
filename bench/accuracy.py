"""Diagnosis accuracy on real gateways: is the verdict right, and is its confidence honest?

    python bench/accuracy.py [--markdown]

Starts the fault lab and, from their Debian packages, nginx, HAProxy, Apache httpd,
Caddy, Varnish and Squid on loopback with the test suite's own configs (never the
packaged services), runs every real-gateway scenario once through ``gatewatch probe
--json`` (in-process) and prints, per scenario, the truth (who generated the answer, and
the kind) against the verdict, with its confidence. Then the calibration: accuracy per
confidence band and the Brier score over the failing scenarios.

A verdict is *right* when its kind is the true kind — or its evidence lists the true
kind among the kinds the answer cannot tell apart ("it could be: …"; the verdict then
claims "one of these", as the non-committal ``upstream_failed`` does) — and its
generator is the true one (a null generator claims nothing and is not counted wrong).
Confidence is read as the probability of being right: Brier = mean((confidence −
right)²), 0 is perfect, a constant 0.5 scores 0.25.

``--blind`` empties the fingerprint tables first: every gateway is then one gatewatch
has never seen, which measures the reasoning of issue 17 §0 on real servers.

The scenarios are ``tests/gateway_scenarios.SCENARIOS`` (Apache, Caddy, Varnish, Squid,
the lab's edgeproxy, Proxy-Status and forward proxy) plus nginx and HAProxy's below,
whose configs are those of ``tests/test_real_gateways.py``. Loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from gatewatch.cli import main  # noqa: E402
from gatewatch.lab import Lab  # noqa: E402
from gateway_scenarios import NEEDED, SCENARIOS, Gateways, Scenario, Target, gateways  # noqa: E402
from gateways_support import (  # noqa: E402
    Gateway,
    haproxy_config,
    nginx_config,
    reserve_refused_port,
    start_haproxy,
    start_nginx,
)
from test_real_gateways import haproxy_body, nginx_http_block  # noqa: E402

BANDS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.85), (0.85, 1.01))


def _on(gateway: str, path: str, port: str = "http", *extra: str) -> Target:
    def target(found: Gateways, _lab: Lab) -> tuple[str, tuple[str, ...]]:
        return found[gateway].url(path, port), extra

    return target


def _origin(gateway: str, path: str, port: str, origin: str) -> Target:
    def target(found: Gateways, lab: Lab) -> tuple[str, tuple[str, ...]]:
        where = lab.url(origin) if origin != "refused" else f"http://127.0.0.1:{lab.refused_port}/"
        return found[gateway].url(path, port), ("--origin", where)

    return target


def _s(name: str, gateway: str, truth: tuple[str | None, str | None], target: Target) -> Scenario:
    return Scenario(name, gateway, truth, truth[1], target)


#: nginx and HAProxy (tests/test_real_gateways.py's configs and cases).
CLASSIC: tuple[Scenario, ...] = (
    _s("nginx-refused", "nginx", ("nginx", "upstream_refused"), _on("nginx", "/refused/")),
    _s("nginx-refused+origin", "nginx", ("nginx", "upstream_refused"),
       _origin("nginx", "/refused/", "http", "refused")),
    _s("nginx-close", "nginx", ("nginx", "upstream_closed"), _on("nginx", "/lab/close")),
    _s("nginx-close+origin", "nginx", ("nginx", "upstream_closed"),
       _origin("nginx", "/lab/close", "http", "/close")),
    _s("nginx-reset", "nginx", ("nginx", "upstream_closed"), _on("nginx", "/lab/reset")),
    _s("nginx-garbage", "nginx", ("app", "upstream_invalid_response"),
       _on("nginx", "/lab/garbage")),
    _s("nginx-garbage+origin", "nginx", ("app", "upstream_invalid_response"),
       _origin("nginx", "/lab/garbage", "http", "/garbage")),
    _s("nginx-read-timeout", "nginx", ("nginx", "upstream_timeout"),
       _on("nginx", "/lab/delay/3000")),
    _s("nginx-pool-dead", "nginx", ("nginx", "upstream_refused"), _on("nginx", "/dead/")),
    _s("nginx-wrong-port+origin", "nginx", ("nginx", "gateway_misconfigured"),
       _origin("nginx", "/wrong-port/", "http", "/ok")),
    _s("nginx-app-502", "nginx", ("app", "app_error"), _on("nginx", "/lab/status/502?json=1")),
    _s("nginx-app-503-retry-after", "nginx", ("app", "unavailable"),
       _on("nginx", "/lab/unavailable")),
    _s("nginx-truncated", "nginx", ("app", "truncated_body"), _on("nginx", "/lab/truncate")),
    _s("nginx-reset-mid-body", "nginx", ("app", "truncated_body"), _on("nginx", "/lab/reset-mid")),
    _s("nginx-healthy", "nginx", (None, None), _on("nginx", "/lab/ok")),
    _s("haproxy-refused-retried", "haproxy", ("haproxy", "upstream_refused"),
       _on("haproxy", "/", "refused")),
    _s("haproxy-refused-no-retry", "haproxy", ("haproxy", "upstream_refused"),
       _on("haproxy", "/", "noretry")),
    _s("haproxy-all-down", "haproxy", ("haproxy", "no_healthy_upstream"),
       _on("haproxy", "/", "alldown")),
    _s("haproxy-close", "haproxy", ("haproxy", "upstream_closed"), _on("haproxy", "/close", "lab")),
    _s("haproxy-reset", "haproxy", ("haproxy", "upstream_closed"), _on("haproxy", "/reset", "lab")),
    _s("haproxy-garbage", "haproxy", ("haproxy", "upstream_invalid_response"),
       _on("haproxy", "/garbage", "lab")),
    _s("haproxy-garbage+origin", "haproxy", ("haproxy", "upstream_invalid_response"),
       _origin("haproxy", "/garbage", "lab", "/garbage")),
    _s("haproxy-read-timeout", "haproxy", ("haproxy", "upstream_timeout"),
       _on("haproxy", "/delay/3000", "lab")),
    _s("haproxy-app-502", "haproxy", ("app", "app_error"),
       _on("haproxy", "/status/502?json=1", "lab")),
    _s("haproxy-truncated", "haproxy", ("app", "truncated_body"),
       _on("haproxy", "/truncate", "lab")),
    _s("haproxy-healthy", "haproxy", (None, None), _on("haproxy", "/ok", "lab")),
    _s("nginx-chain-haproxy-all-down", "chain", ("haproxy", "no_healthy_upstream"),
       _on("chain", "/")),
)  # fmt: skip


@dataclass
class Outcome:
    scenario: Scenario
    generator: str | None
    kind: str | None
    cause: str
    confidence: float
    candidates: tuple[str, ...]
    ms: float

    @property
    def failing(self) -> bool:
        return self.scenario.truth[1] is not None

    @property
    def right(self) -> bool:
        truth_generator, truth_kind = self.scenario.truth
        if truth_kind is None:
            return self.cause == "healthy"
        kind_ok = self.kind == truth_kind or truth_kind in self.candidates
        return kind_ok and self.generator in (truth_generator, None)


def run(scenario: Scenario, found: Gateways, lab: Lab) -> Outcome:
    url, extra = scenario.target(found, lab)
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    main(["probe", url, *extra, "--timeout", "5", "--json"], out=out, err=err)
    took = (time.perf_counter() - started) * 1000
    doc: dict[str, Any] = json.loads(out.getvalue())
    verdict = doc["verdict"]
    candidates: set[str] = set()
    for line in verdict["evidence"]:
        if "could be:" in line:
            candidates.update(k.strip() for k in line.split("could be:", 1)[1].split(","))
    return Outcome(
        scenario,
        verdict["generator"],
        verdict["kind"],
        verdict["cause"],
        verdict["confidence"],
        tuple(sorted(candidates)),
        took,
    )


@contextlib.contextmanager
def classic(lab: Lab, directory: Path) -> Iterator[dict[str, Gateway]]:
    """nginx, HAProxy and nginx in front of HAProxy, as tests/test_real_gateways.py runs them."""
    dead = reserve_refused_port()
    started: dict[str, Gateway] = {}
    try:
        d = directory / "nginx"
        started["nginx"] = start_nginx(
            lambda ports: nginx_config(ports, d, nginx_http_block(ports, lab, dead)), ["http"], d
        )
        started["haproxy"] = start_haproxy(
            lambda ports: haproxy_config(haproxy_body(ports, lab, dead)),
            ["lab", "refused", "alldown", "noretry"],
            directory / "haproxy",
        )
        inner = started["haproxy"].ports["alldown"]
        c = directory / "chain"

        def chain(ports: dict[str, int] | Any) -> str:
            block = f"""
    proxy_connect_timeout 1s;
    proxy_read_timeout 2s;
    server {{
        listen 127.0.0.1:{ports["http"]};
        location / {{ proxy_pass http://127.0.0.1:{inner}; }}
    }}
"""
            return nginx_config(ports, c, block)

        started["chain"] = start_nginx(chain, ["http"], c)
        started["haproxy"].wait_for_log(r"backend '?be_alldown'? has no server available")
        yield started
    finally:
        for gateway in started.values():
            gateway.stop()
        dead.close()


def report(outcomes: list[Outcome], markdown: bool) -> str:
    lines = []
    head = ("scenario", "truth (generator / kind)", "verdict (generator / kind)", "conf", "right")
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for o in outcomes:
        g, k = o.scenario.truth
        truth = f"{g or '–'} / {k or 'healthy'}"
        said = f"{o.generator or '–'} / {o.kind or o.cause}"
        if o.candidates:
            said += f" ({', '.join(o.candidates)})"
        mark = "yes" if o.right else "**no**"
        lines.append(f"| {o.scenario.name} | {truth} | {said} | {o.confidence:.2f} | {mark} |")
    failing = [o for o in outcomes if o.failing]
    lines.append("")
    lines.append("| confidence band | verdicts | right | accuracy | mean confidence |")
    lines.append("|---|---|---|---|---|")
    for lo, hi in BANDS:
        band = [o for o in failing if lo <= o.confidence < hi]
        if not band:
            lines.append(f"| {lo:.2f}–{min(hi, 1.0):.2f} | 0 | – | – | – |")
            continue
        right = sum(o.right for o in band)
        mean = sum(o.confidence for o in band) / len(band)
        lines.append(
            f"| {lo:.2f}–{min(hi, 1.0):.2f} | {len(band)} | {right} | {right / len(band):.2f} | "
            f"{mean:.2f} |"
        )
    brier = sum((o.confidence - o.right) ** 2 for o in failing) / len(failing)
    wrong_sure = [o for o in failing if not o.right and o.confidence > 0.5]
    healthy = [o for o in outcomes if not o.failing]
    lines.append("")
    lines.append(
        f"Failing scenarios: {len(failing)}, right: {sum(o.right for o in failing)}; "
        f"Brier score: {brier:.3f}; wrong verdicts above 0.5: {len(wrong_sure)}"
        + (" (" + ", ".join(o.scenario.name for o in wrong_sure) + ")" if wrong_sure else "")
        + f"; healthy controls right: {sum(o.right for o in healthy)} of {len(healthy)}."
    )
    text = "\n".join(lines)
    return text if markdown else text.replace("**", "")


def main_bench(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument(
        "--blind",
        action="store_true",
        help="empty the fingerprint tables (markers and page templates): every gateway is "
        "one we have never seen, so only the reasoning for unknown gateways is left",
    )
    args = parser.parse_args(argv)
    if args.blind:
        import importlib

        identify_module = importlib.import_module("gatewatch.diagnose.identify")
        identify_module.__dict__["TEMPLATES"] = ()
        identify_module.__dict__["MARKERS"] = ()
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        for key in (name, name.upper()):
            import os

            os.environ.pop(key, None)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gatewatch-accuracy-") as tmp, Lab() as lab:
        directory = Path(tmp)
        with gateways(lab, directory, NEEDED) as found, classic(lab, directory) as old:
            found.running.update(old)
            outcomes = [run(s, found, lab) for s in (*CLASSIC, *SCENARIOS)]
    print(report(outcomes, args.markdown))
    print(f"\n({len(outcomes)} scenarios in {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main_bench())
