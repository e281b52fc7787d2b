"""Proven against real gateways: nginx and HAProxy on loopback in front of the fault lab.

Each scenario of gateways.md §1 is reproduced with a real server and a config written
here, then probed with ``gatewatch probe --json`` (in-process through ``cli.main``, and
once through ``python -m gatewatch`` in a subprocess). Every test checks two things:

- reality: the gateway's own log shows the failure the scenario is about (nginx's
  error-log phrase, HAProxy's termination flags), so a test cannot pass against a
  scenario that did not happen;
- the diagnosis: generator, hop, cause, kind, confidence, and the gateway named on the
  proxy hop (``detail.generator`` / ``detail.relayed_by``).

Confidence is the probability that the verdict's claim is right (bench/accuracy.py
measures it): where the page cannot tell kinds apart, the claim is "one of these" and
the evidence lists them all, so the caps below bound a pick, and the tests check the
list holds the truth.

One nginx, one HAProxy and one nginx-in-front-of-HAProxy serve the whole module; every
probe carries a unique ``probe=`` query tag so its log lines can be found among the others.
Timeouts are 1 s (``proxy_read_timeout``, ``timeout server``, ``timeout connect``).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import gateways_support
from gatewatch.cli import main
from gatewatch.lab import Lab
from gateways_support import (
    PROXY_VARS,
    Gateway,
    Ports,
    RefusedPort,
    haproxy_config,
    nginx_config,
    require_binary,
    start_haproxy,
    start_nginx,
)

SRC = Path(__file__).resolve().parents[1] / "src"
PROBE_TIMEOUT = "5"
#: What the configs set for proxy_read_timeout / timeout server / timeout connect.
GATEWAY_TIMEOUT_MS = 1000.0
pytestmark = pytest.mark.usefixtures("no_forward_proxy")
_tags = itertools.count(1)


# --------------------------------------------------------------------------- configs


def nginx_http_block(ports: Ports, lab: Lab, dead: RefusedPort) -> str:
    """One server, one location per scenario. ``dead``: a second port nothing listens on."""
    upstream = f"http://127.0.0.1:{lab.http_port}/"
    return f"""
    proxy_connect_timeout 1s;
    proxy_read_timeout 1s;
    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/m;
    upstream bk_dead {{
        server 127.0.0.1:{lab.refused_port};
        server 127.0.0.1:{dead.port};
    }}
    server {{
        listen 127.0.0.1:{ports["http"]};
        location /lab/ {{ proxy_pass {upstream}; }}
        location /refused/ {{ proxy_pass http://127.0.0.1:{lab.refused_port}/; }}
        location /wrong-port/ {{ proxy_pass http://127.0.0.1:{dead.port}/; }}
        location /dead/ {{ proxy_pass http://bk_dead/; }}
        location /limited/ {{
            # burst defaults to 0 (nginx 1.22 rejects an explicit "burst=0")
            limit_req zone=one;
            proxy_pass {upstream};
        }}
    }}
"""


def haproxy_body(ports: Ports, lab: Lab, dead: RefusedPort) -> str:
    """A frontend per backend: the lab, a refused server (retried once, or not retried),
    and two servers that health checks mark DOWN."""
    check = "check inter 200ms fall 1 rise 1"
    return f"""
frontend fe_lab
    bind 127.0.0.1:{ports["lab"]}
    default_backend be_lab

frontend fe_refused
    bind 127.0.0.1:{ports["refused"]}
    default_backend be_refused

frontend fe_alldown
    bind 127.0.0.1:{ports["alldown"]}
    default_backend be_alldown

frontend fe_refused_noretry
    bind 127.0.0.1:{ports["noretry"]}
    default_backend be_refused_noretry

backend be_lab
    server s1 127.0.0.1:{lab.http_port}

backend be_refused
    server s1 127.0.0.1:{lab.refused_port}

backend be_alldown
    server s1 127.0.0.1:{lab.refused_port} {check}
    server s2 127.0.0.1:{dead.port} {check}

backend be_refused_noretry
    retries 0
    server s1 127.0.0.1:{lab.refused_port}
"""


# --------------------------------------------------------------------------- fixtures




@pytest.fixture(scope="module")
def nginx(
    lab: Lab, dead_port: RefusedPort, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    directory = tmp_path_factory.mktemp("nginx")
    gateway = start_nginx(
        lambda ports: nginx_config(ports, directory, nginx_http_block(ports, lab, dead_port)),
        ["http"],
        directory,
    )
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture(scope="module")
def haproxy(
    lab: Lab, dead_port: RefusedPort, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    directory = tmp_path_factory.mktemp("haproxy")
    gateway = start_haproxy(
        lambda ports: haproxy_config(haproxy_body(ports, lab, dead_port)),
        ["lab", "refused", "alldown", "noretry"],
        directory,
    )
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture(scope="module")
def nginx_chain(haproxy: Gateway, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """nginx → HAProxy's all-down frontend (gateways.md §1 #27)."""
    directory = tmp_path_factory.mktemp("nginx-chain")
    inner = haproxy.ports["alldown"]

    def render(ports: Ports) -> str:
        block = f"""
    proxy_connect_timeout 1s;
    proxy_read_timeout 2s;
    server {{
        listen 127.0.0.1:{ports["http"]};
        location / {{ proxy_pass http://127.0.0.1:{inner}; }}
    }}
"""
        return nginx_config(ports, directory, block)

    gateway = start_nginx(render, ["http"], directory)
    try:
        yield gateway
    finally:
        gateway.stop()


@dataclass(frozen=True)
class Front:
    """One gateway seen from a test: where its routes to the lab and to a dead port are."""

    name: str
    gateway: Gateway
    #: lab path ("/close") → URL through the gateway
    lab: Callable[[str], str]
    #: a URL whose upstream refuses connections
    refused: str


@pytest.fixture(scope="module")
def nginx_front(nginx: Gateway) -> Front:
    return Front("nginx", nginx, lambda path: nginx.url("/lab" + path), nginx.url("/refused/"))


@pytest.fixture(scope="module")
def haproxy_front(haproxy: Gateway) -> Front:
    return Front(
        "haproxy", haproxy, lambda path: haproxy.url(path, "lab"), haproxy.url("/", "refused")
    )


@pytest.fixture(params=["nginx", "haproxy"])
def front(request: pytest.FixtureRequest) -> Front:
    value: Front = request.getfixturevalue(f"{request.param}_front")
    return value


# --------------------------------------------------------------------------- probing


@dataclass
class Report:
    """One ``gatewatch probe --json`` run: exit code and the parsed object."""

    code: int
    doc: dict[str, Any]
    tag: str
    stderr: str = ""

    @property
    def verdict(self) -> dict[str, Any]:
        verdict: dict[str, Any] = self.doc["verdict"]
        return verdict

    def hop(self, name: str) -> dict[str, Any]:
        hop: dict[str, Any] = next(h for h in self.doc["hops"] if h["name"] == name)
        return hop

    def explain(self, *gateways: Gateway) -> str:
        """Everything needed to debug a failed assertion: the report and the gateways' logs."""
        shown = {k: self.doc.get(k) for k in ("url", "status_code", "total_ms", "verdict")}
        shown["hops"] = self.doc.get("hops")
        lines = [f"exit {self.code}", json.dumps(shown, indent=1)]
        if self.stderr:
            lines.append(f"stderr: {self.stderr}")
        lines.extend(g.logs() for g in gateways)
        return "\n".join(lines)


def tagged(url: str) -> tuple[str, str]:
    """``url`` with a unique ``probe=`` query tag, and the tag (to find its log lines)."""
    tag = f"gw{os.getpid()}x{next(_tags)}"
    return url + ("&" if "?" in url else "?") + f"probe={tag}", tag


def probe(url: str, *extra: str) -> Report:
    """``gatewatch probe URL … --json`` in-process, through the CLI's ``main``."""
    target, tag = tagged(url)
    out, err = io.StringIO(), io.StringIO()
    code = main(["probe", target, *extra, "--timeout", PROBE_TIMEOUT, "--json"], out=out, err=err)
    assert err.getvalue() == "", err.getvalue()
    return Report(code, json.loads(out.getvalue()), tag)


def probe_subprocess(url: str, *extra: str) -> Report:
    """The same, through a real ``python -m gatewatch`` process (the entry point scripts use)."""
    target, tag = tagged(url)
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    argv = ["probe", target, *extra, "--timeout", PROBE_TIMEOUT, "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "gatewatch", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip(), f"no output (exit {done.returncode}): {done.stderr}"
    return Report(done.returncode, json.loads(done.stdout), tag, done.stderr)


def check_verdict(
    report: Report,
    *gateways: Gateway,
    generator: str | None,
    hop: str,
    cause: str,
    kind: str,
    min_confidence: float = 0.0,
    max_confidence: float = 1.0,
) -> None:
    """The verdict's fields are these, the probe failed (exit 1), the five hops are there."""
    why = report.explain(*gateways)
    assert report.code == 1 and report.doc["ok"] is False, why
    assert [h["name"] for h in report.doc["hops"]] == ["dns", "tcp", "tls", "proxy", "upstream"]
    verdict = report.verdict
    got = {k: verdict[k] for k in ("generator", "hop", "cause", "kind")}
    assert got == {"generator": generator, "hop": hop, "cause": cause, "kind": kind}, why
    assert min_confidence <= verdict["confidence"] <= max_confidence, why
    assert verdict["summary"] and verdict["next_steps"], why


def check_proxy_hop(report: Report, generator: str, relayed_by: list[str], *gw: Gateway) -> None:
    """The gateway recognised in the response is named on the proxy hop, and the hop strip
    points where the verdict does: the verdict's hop fails, the hops after it are skipped,
    and the proxy hop passes unless the verdict blames it."""
    detail = report.hop("proxy")["detail"]
    why = report.explain(*gw)
    assert detail.get("generator") == generator, why
    assert detail.get("relayed_by") == relayed_by, why
    blamed = report.verdict["hop"]
    assert report.hop(blamed)["status"] == "fail", why
    names = [h["name"] for h in report.doc["hops"]]
    after = names[names.index(blamed) + 1 :]
    assert all(report.hop(name)["status"] == "skip" for name in after), why
    if blamed != "proxy":
        assert report.hop("proxy")["status"] == "ok", why


def candidates_in_evidence(report: Report) -> set[str]:
    """The kinds a verdict lists as 'it could be …' in its evidence."""
    found: set[str] = set()
    for line in report.verdict["evidence"]:
        if "could be:" in line:
            found.update(k.strip() for k in line.split("could be:", 1)[1].split(","))
    return found


def nginx_logged(nginx: Gateway, phrase: str, report: Report) -> str:
    """The error-log line with ``phrase`` (regex) for this probe's request."""
    return nginx.wait_for_log(f"{phrase}.*probe={report.tag}\\b", name="error.log")


def nginx_access(nginx: Gateway, report: Report) -> str:
    return nginx.wait_for_log(f"probe={report.tag}\\b.* status=", name="access.log")


def haproxy_logged(haproxy: Gateway, status: int, flags: str, report: Report) -> str:
    """HAProxy's log line for this probe: its status and termination flags."""
    return haproxy.wait_for_log(
        f" {status} \\d+ - - {re.escape(flags)} .*probe={report.tag}\\b", name="haproxy.out"
    )


def upstream_ms(report: Report) -> float:
    """Request sent → first byte: how long the gateway took to answer."""
    ms = report.hop("upstream")["ms"]
    assert isinstance(ms, int | float), report.explain()
    return float(ms)


# --------------------------------------------------------------------------- the binaries


def test_missing_binary_fails_never_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateways_support, "find_binary", lambda name: None)
    for ci in ("true", ""):
        monkeypatch.setenv("CI", ci)
        with pytest.raises(pytest.fail.Exception, match=r"apt-get install -y haproxy"):
            require_binary("haproxy")


def test_binaries_found_with_sbin_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    for name in ("nginx", "haproxy"):
        found = gateways_support.find_binary(name)
        if found is None:  # not installed here: the scenario tests report it
            continue
        assert Path(found).name == name and os.access(found, os.X_OK)


# --------------------------------------------------------------------------- 1. refused


def test_nginx_upstream_refused_lists_the_candidates(nginx: Gateway) -> None:
    report = probe(nginx.url("/refused/"))
    nginx_logged(nginx, r"connect\(\) failed \(111: Connection refused\)", report)
    assert report.doc["status_code"] == 502
    # nginx folds refused, closed, invalid, TLS, DNS and no-live into one 502 page: the
    # page alone cannot say which, so the verdict must not pick one or sound sure.
    check_verdict(
        report, nginx, generator="nginx", hop="upstream", cause="backend",
        kind="upstream_failed", max_confidence=0.9,
    )  # fmt: skip
    assert {"upstream_refused", "no_healthy_upstream", "upstream_closed"} <= candidates_in_evidence(
        report
    ), report.explain(nginx)
    assert upstream_ms(report) < 500, report.explain(nginx)  # an immediate error
    check_proxy_hop(report, "nginx", [], nginx)


def test_haproxy_upstream_refused_is_a_503_after_the_retry_delay(haproxy: Gateway) -> None:
    report = probe(haproxy.url("/", "refused"))
    line = haproxy_logged(haproxy, 503, "SC--", report)
    assert "be_refused/s1" in line
    assert report.doc["status_code"] == 503
    # retries 1: HAProxy waits ~1 s before its retry; the elapsed time is the only clue.
    assert 800 <= upstream_ms(report) <= 2500, report.explain(haproxy)
    check_verdict(
        report, haproxy, generator="haproxy", hop="upstream", cause="backend",
        kind="upstream_refused", min_confidence=0.5, max_confidence=0.85,
    )  # fmt: skip
    # ~1 s fits a retried refusal and a 1 s connect timeout alike: both are listed.
    assert {"upstream_refused", "upstream_timeout"} <= candidates_in_evidence(report)
    check_proxy_hop(report, "haproxy", [], haproxy)


def test_haproxy_refused_without_retry_is_immediate_too(haproxy: Gateway) -> None:
    """Not in gateways.md: with ``retries 0`` a refused server is an *immediate* 503 as well.

    (So is ``timeout connect`` under 1 s: HAProxy waits min(timeout connect, 1 s) between
    retries.) Timing alone cannot separate it from all-servers-down; only the log can
    (a real server with SC--, not <NOSRV>).
    """
    report = probe(haproxy.url("/", "noretry"))
    line = haproxy_logged(haproxy, 503, "SC--", report)
    assert "be_refused_noretry/s1" in line and "<NOSRV>" not in line  # a server was tried
    assert upstream_ms(report) < 500, report.explain(haproxy)
    verdict, why = report.verdict, report.explain(haproxy)
    assert report.code == 1 and verdict["generator"] == "haproxy", why
    assert verdict["cause"] == "backend" and verdict["confidence"] <= 0.85, why
    check_proxy_hop(report, "haproxy", [], haproxy)
    # HAProxy waits min(timeout connect, 1 s) between retries: with retries 0 a refused
    # server answers as fast as "all servers down", so refused must stay a candidate.
    assert "upstream_refused" in candidates_in_evidence(report) | {report.verdict["kind"]}, why


def test_upstream_refused_settled_by_the_origin(front: Front, lab: Lab) -> None:
    report = probe(front.refused, "--origin", f"http://127.0.0.1:{lab.refused_port}/")
    origin = report.doc["origin"]
    assert origin is not None and origin["hops"][1]["kind"] == "refused", report.explain()
    check_verdict(
        report, front.gateway, generator=front.name, hop="upstream", cause="backend",
        kind="upstream_refused", min_confidence=0.9,
    )  # fmt: skip
    check_proxy_hop(report, front.name, [], front.gateway)


# --------------------------------------------------------------------------- 2. closed


def test_upstream_closes_without_answering(front: Front, lab: Lab) -> None:
    report = probe(front.lab("/close"))
    if front.name == "nginx":
        nginx_logged(front.gateway, "upstream prematurely closed connection while reading "
                     "response header from upstream", report)  # fmt: skip
    else:
        haproxy_logged(front.gateway, 502, "SH--", report)
    assert report.doc["status_code"] == 502
    check_verdict(
        report, front.gateway, generator=front.name, hop="upstream", cause="backend",
        kind="upstream_failed", max_confidence=0.9,
    )  # fmt: skip
    assert "upstream_closed" in candidates_in_evidence(report), report.explain(front.gateway)
    check_proxy_hop(report, front.name, [], front.gateway)

    settled = probe(front.lab("/close"), "--origin", lab.url("/close"))
    check_verdict(
        settled, front.gateway, generator=front.name, hop="upstream", cause="backend",
        kind="upstream_closed", min_confidence=0.9,
    )  # fmt: skip


# --------------------------------------------------------------------------- 3. garbage


def test_nginx_relays_garbage_as_http09_and_the_probe_reads_it(nginx: Gateway, lab: Lab) -> None:
    report = probe(nginx.url("/lab/garbage"))
    nginx_logged(nginx, "upstream sent no valid HTTP/1.0 header", report)
    assert " status=009 " in nginx_access(nginx, report)  # nginx's HTTP/0.9 relay
    # No status line reached the client: no status code, and no crash either.
    assert report.doc["status_code"] is None, report.explain(nginx)
    upstream = report.hop("upstream")
    assert upstream["kind"] == "upstream_invalid_response", report.explain(nginx)
    assert upstream["detail"]["raw_head"].startswith("THIS IS NOT HTTP"), report.explain(nginx)
    # Nothing in raw bytes names nginx, and one probe has no history: the generator is unknown.
    check_verdict(
        report, nginx, generator=None, hop="upstream", cause="backend",
        kind="upstream_invalid_response", min_confidence=0.7,
    )  # fmt: skip
    proxy_hop = report.hop("proxy")
    assert proxy_hop["status"] == "skip" and "generator" not in proxy_hop["detail"]

    settled = probe(nginx.url("/lab/garbage"), "--origin", lab.url("/garbage"))
    check_verdict(
        settled, nginx, generator="app", hop="upstream", cause="backend",
        kind="upstream_invalid_response", min_confidence=0.9,
    )  # fmt: skip


def test_haproxy_blocks_garbage_with_a_502(haproxy: Gateway, lab: Lab) -> None:
    report = probe(haproxy.url("/garbage", "lab"))
    haproxy_logged(haproxy, 502, "PH--", report)
    assert report.doc["status_code"] == 502
    check_verdict(
        report, haproxy, generator="haproxy", hop="upstream", cause="backend",
        kind="upstream_failed", max_confidence=0.9,
    )  # fmt: skip
    assert "upstream_invalid_response" in candidates_in_evidence(report), report.explain(haproxy)
    check_proxy_hop(report, "haproxy", [], haproxy)

    settled = probe(haproxy.url("/garbage", "lab"), "--origin", lab.url("/garbage"))
    check_verdict(
        settled, haproxy, generator="haproxy", hop="upstream", cause="backend",
        kind="upstream_invalid_response", min_confidence=0.9,
    )  # fmt: skip


# --------------------------------------------------------------------------- 4. read timeout


def test_upstream_slower_than_the_read_timeout(front: Front) -> None:
    report = probe(front.lab("/delay/3000"))
    if front.name == "nginx":
        nginx_logged(front.gateway, r"upstream timed out \(110: Connection timed out\) while "
                     "reading response header", report)  # fmt: skip
    else:
        haproxy_logged(front.gateway, 504, "sH--", report)
    assert report.doc["status_code"] == 504
    # The gateway gave up at its configured 1 s, not at the upstream's 3 s.
    took = upstream_ms(report)
    assert GATEWAY_TIMEOUT_MS * 0.9 <= took <= GATEWAY_TIMEOUT_MS + 1200, report.explain()
    check_verdict(
        report, front.gateway, generator=front.name, hop="upstream", cause="backend",
        kind="upstream_timeout", min_confidence=0.75,
    )  # fmt: skip
    assert any("1 s is configured" in e for e in report.verdict["evidence"]), report.explain()
    check_proxy_hop(report, front.name, [], front.gateway)


# --------------------------------------------------------------------------- 5. all down


def test_nginx_all_servers_down_then_no_live_upstreams(nginx: Gateway) -> None:
    first = probe(nginx.url("/dead/"))
    # Both servers refused and were marked failed (max_fails 1) …
    nginx_logged(nginx, r"connect\(\) failed \(111: Connection refused\)", first)
    nginx_logged(nginx, r"\[warn\].*upstream server temporarily disabled", first)
    second = probe(nginx.url("/dead/"))
    # … so the next request finds no server to try at all.
    nginx_logged(nginx, "no live upstreams while connecting to upstream", second)
    for report in (first, second):
        assert report.doc["status_code"] == 502
        # Same page both times: diagnose cannot tell 'refused' from 'no live upstreams'
        # without the error log, so it says so and lists both.
        check_verdict(
            report, nginx, generator="nginx", hop="upstream", cause="backend",
            kind="upstream_failed", max_confidence=0.9,
        )  # fmt: skip
        assert {"upstream_refused", "no_healthy_upstream"} <= candidates_in_evidence(report)
        check_proxy_hop(report, "nginx", [], nginx)


def test_haproxy_all_servers_down_is_an_immediate_503(haproxy: Gateway) -> None:
    haproxy.wait_for_log(r"backend '?be_alldown'? has no server available", timeout=5)
    report = probe(haproxy.url("/", "alldown"))
    line = haproxy_logged(haproxy, 503, "SC--", report)
    assert "be_alldown/<NOSRV>" in line
    assert report.doc["status_code"] == 503
    # An immediate HAProxy 503: no server was tried. The page is the same for an empty
    # backend, an unresolved name or a TLS name check (or a refused server not retried):
    # the verdict picks the likeliest and lists the others.
    assert upstream_ms(report) < 500, report.explain(haproxy)
    check_verdict(
        report, haproxy, generator="haproxy", hop="upstream", cause="backend",
        kind="no_healthy_upstream", min_confidence=0.5, max_confidence=0.85,
    )  # fmt: skip
    assert "upstream_refused" in candidates_in_evidence(report), report.explain(haproxy)
    check_proxy_hop(report, "haproxy", [], haproxy)


# --------------------------------------------------------------------------- 6. app's own 502


def test_the_applications_own_502_relayed(front: Front) -> None:
    report = probe(front.lab("/status/502?json=1"))
    if front.name == "nginx":
        line = nginx_access(front.gateway, report)
        assert "status=502 upstream_status=502" in line
        assert not re.search(f"\\[error\\].*probe={report.tag}\\b", front.gateway.log_text())
        # nginx hid the app's Server header and put its own: the body decides, not Server.
        assert report.hop("upstream")["detail"]["server"].startswith("nginx")
    else:
        haproxy_logged(front.gateway, 502, "----", report)  # relayed, no error of its own
    assert report.doc["status_code"] == 502
    check_verdict(
        report, front.gateway, generator="app", hop="upstream", cause="backend",
        kind="app_error", min_confidence=0.7,
    )  # fmt: skip
    check_proxy_hop(report, "app", [front.name], front.gateway)


# --------------------------------------------------------------------------- 7. wrong port


def test_gateway_pointed_at_the_wrong_port(front: Front, lab: Lab) -> None:
    url = front.gateway.url("/wrong-port/") if front.name == "nginx" else front.refused
    report = probe(url, "--origin", lab.url("/ok"))
    assert report.doc["origin"]["ok"] is True, report.explain(front.gateway)
    assert report.doc["status_code"] == (502 if front.name == "nginx" else 503)
    check_verdict(
        report, front.gateway, generator=front.name, hop="proxy", cause="proxy",
        kind="gateway_misconfigured", min_confidence=0.8,
    )  # fmt: skip
    check_proxy_hop(report, front.name, [], front.gateway)
    # The strip blames the gateway, not the application: the proxy hop carries the error.
    proxy = report.hop("proxy")
    assert proxy["status"] == "fail" and proxy["kind"] == "gateway_misconfigured"
    assert proxy["error"] and report.hop("upstream")["status"] == "skip"


# --------------------------------------------------------------------------- 8. truncated


@pytest.mark.parametrize(
    ("name", "path", "event"),
    [
        ("nginx", "/truncate", "upstream prematurely closed connection while reading upstream"),
        ("nginx", "/reset-mid", r"readv\(\) failed \(104: Connection reset by peer\)"),
        ("haproxy", "/truncate", "SD--"),
    ],
    ids=["nginx-fin", "nginx-reset", "haproxy-fin"],
)
def test_body_truncated_mid_transfer(
    request: pytest.FixtureRequest, name: str, path: str, event: str
) -> None:
    front: Front = request.getfixturevalue(f"{name}_front")
    report = probe(front.lab(path))
    if name == "nginx":
        nginx_logged(front.gateway, event, report)
    else:
        haproxy_logged(front.gateway, 200, event, report)
    # The headers had gone out: it can only be a 200 with a short body, never a 502.
    assert report.doc["status_code"] == 200, report.explain(front.gateway)
    detail = report.hop("upstream")["detail"]
    assert detail["content_length"] == 100_000, report.explain(front.gateway)
    assert detail["body_bytes"] < 100_000, report.explain(front.gateway)
    if path == "/truncate":  # a clean FIN: both relay the 1000 bytes they had
        assert detail["body_bytes"] == 1000, report.explain(front.gateway)
    check_verdict(
        report, front.gateway, generator="app", hop="upstream", cause="backend",
        kind="truncated_body", min_confidence=0.8,
    )  # fmt: skip
    check_proxy_hop(report, "app", [name], front.gateway)


# --------------------------------------------------------------------------- 9. rate limited


def test_nginx_rate_limit_rejects_the_second_request(nginx: Gateway) -> None:
    first = probe(nginx.url("/limited/ok"))
    assert first.code == 0 and first.verdict["cause"] == "healthy", first.explain(nginx)
    second = probe(nginx.url("/limited/ok"))
    nginx_logged(nginx, r'limiting requests, excess: [\d.]+ by zone "one"', second)
    assert second.doc["status_code"] == 503
    assert second.hop("upstream")["detail"]["reason"] == "Service Temporarily Unavailable"
    check_verdict(
        second, nginx, generator="nginx", hop="proxy", cause="overload",
        kind="rate_limited", min_confidence=0.5,
    )  # fmt: skip
    check_proxy_hop(second, "nginx", [], nginx)
    proxy = second.hop("proxy")
    assert proxy["status"] == "fail" and proxy["kind"] == "rate_limited", second.explain(nginx)
    # The facts of the answer stay on the skipped upstream hop.
    assert second.hop("upstream")["status"] == "skip"


# --------------------------------------------------------------------------- 9b. pool member down


def test_nginx_pool_member_refusing_fails_check(nginx: Gateway, lab: Lab, tmp_path: Path) -> None:
    """``all_addresses``: pool.lab.test is 127.0.0.1 (nginx) and 127.0.0.2 (nothing
    listens). The dead member fails real clients: not ok, and ``check`` exits 1."""
    url, tag = tagged(f"http://pool.lab.test:{nginx.ports['http']}/lab/ok")
    watchlist = tmp_path / "watchlist.toml"
    watchlist.write_text(
        f"""version = 1

[[endpoint]]
name = "pool"
url = "{url}"
resolvers = ["127.0.0.1:{lab.dns_port}"]
all_addresses = true
timeout = "{PROBE_TIMEOUT}s"
""",
        encoding="utf-8",
    )
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", str(watchlist), "--json"], out=out, err=err)
    assert err.getvalue() == "", err.getvalue()
    (doc,) = json.loads(out.getvalue())
    report = Report(code, doc, tag)
    why = report.explain(nginx)
    # Reality: the live member answered through nginx.
    assert "status=200" in nginx_access(nginx, report)
    by_address = {a["address"]: a for a in doc["addresses"]}
    assert by_address["127.0.0.1"]["ok"] is True, why
    assert by_address["127.0.0.2"]["ok"] is False, why
    assert by_address["127.0.0.2"]["kind"] == "refused", why
    assert code == 1 and doc["ok"] is False, why
    assert {k: doc["verdict"][k] for k in ("cause", "kind", "hop")} == {
        "cause": "backend",
        "kind": "pool_member_down",
        "hop": "tcp",
    }, why
    assert report.hop("tcp")["status"] == "fail", why
    assert "127.0.0.2" in (report.hop("tcp")["error"] or ""), why
    assert [report.hop(n)["status"] for n in ("tls", "proxy", "upstream")] == ["skip"] * 3, why


# --------------------------------------------------------------------------- 10. chain


def test_nginx_in_front_of_haproxy_all_down(nginx_chain: Gateway, haproxy: Gateway) -> None:
    haproxy.wait_for_log(r"backend '?be_alldown'? has no server available", timeout=5)
    # Through a real process: the entry point scripts and cron jobs run.
    report = probe_subprocess(nginx_chain.url("/"))
    haproxy_logged(haproxy, 503, "SC--", report)
    access = nginx_access(nginx_chain, report)
    assert "status=503 upstream_status=503" in access
    # The outer nginx only relayed: its error log has nothing for this request.
    assert not re.search(f"\\[error\\].*probe={report.tag}\\b", nginx_chain.log_text("error.log"))
    assert report.doc["status_code"] == 503
    assert report.hop("upstream")["detail"]["server"].startswith("nginx")
    check_verdict(
        report, nginx_chain, haproxy, generator="haproxy", hop="upstream", cause="backend",
        kind="no_healthy_upstream", min_confidence=0.5,
    )  # fmt: skip
    check_proxy_hop(report, "haproxy", ["nginx"], nginx_chain, haproxy)

    # The in-process CLI says the same thing.
    again = probe(nginx_chain.url("/"))
    keys = ("generator", "hop", "cause", "kind")
    assert {k: again.verdict[k] for k in keys} == {k: report.verdict[k] for k in keys}
