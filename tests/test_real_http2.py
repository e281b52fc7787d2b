"""HTTP/2 proven against real servers: nginx (``listen … ssl http2``) and HAProxy
(``bind … ssl alpn h2,http/1.1``) on loopback, started here with their own configs.

Every scenario is checked on both sides: the server's own log shows the thing happened
(nginx's error-log phrase, its access log's ``$server_protocol``, HAProxy's termination
flags), and gatewatch names it (``http_version``, the tls hop's ALPN, the hop, the kind,
the verdict). Timings are compared with ``curl --http2 -w`` from the same run, on
structure and on a bound a loaded machine cannot break; the 1 ms goal is measured by
bench/bench_probe.py, not asserted here.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import random
import string
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme

from gatewatch.cli import main
from gatewatch.lab import Lab
from gateways_support import (
    Gateway,
    Ports,
    RefusedPort,
    haproxy_config,
    nginx_config,
    require_binary,
    start_haproxy,
    start_nginx,
)

pytestmark = pytest.mark.usefixtures("no_forward_proxy")
_tags = itertools.count(1)
#: Beyond this, a timing difference from curl is not noise of a busy machine but a bug.
TIMING_BOUND_MS = 250.0
#: nginx's large_client_header_buffers size in the config below (bytes).
HEADER_BUFFER = 1024


@dataclass(frozen=True)
class Certs:
    ca: Path
    cert: Path
    key: Path
    both: Path  # HAProxy's crt: chain then key in one file


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    directory = tmp_path_factory.mktemp("h2-certs")
    ca = trustme.CA(organization_name="gatewatch h2 test CA")
    now = dt.datetime.now(dt.UTC)
    leaf = ca.issue_cert(
        "127.0.0.1",
        "localhost",
        not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(days=30),
    )
    files = Certs(
        directory / "ca.pem", directory / "leaf.pem", directory / "key.pem", directory / "both.pem"
    )
    ca.cert_pem.write_to_path(str(files.ca))
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    files.cert.write_bytes(chain)
    leaf.private_key_pem.write_to_path(str(files.key))
    files.both.write_bytes(chain + leaf.private_key_pem.bytes())
    return files




def nginx_block(ports: Ports, certs: Certs, dead_port: RefusedPort) -> str:
    tls = f"ssl_certificate {certs.cert}; ssl_certificate_key {certs.key};"
    return f"""
    log_format h2 '$request_uri proto=$server_protocol status=$status';
    proxy_connect_timeout 1s;
    proxy_read_timeout 1s;
    # HTTP/2 requests take another upstream (a dead one): the h2-only incident.
    map $server_protocol $by_version {{
        "HTTP/2.0" 127.0.0.1:{dead_port.port};
        default    127.0.0.1:{ports["origin"]};
    }}
    server {{
        listen 127.0.0.1:{ports["origin"]};
        access_log {{dir}}/origin.log h2;
        location / {{ return 200 "origin ok\\n"; }}
    }}
    server {{
        listen 127.0.0.1:{ports["h2c"]} http2;
        access_log {{dir}}/h2c.log h2;
        location / {{ return 200 "h2c ok\\n"; }}
    }}
    server {{
        listen 127.0.0.1:{ports["h2"]} ssl http2;
        {tls}
        access_log {{dir}}/h2.log h2;
        large_client_header_buffers 4 {HEADER_BUFFER};
        location / {{ return 200 "ok\\n"; }}
        location /dead {{ proxy_pass http://127.0.0.1:{dead_port.port}; }}
        location /by-version {{ proxy_pass http://$by_version; }}
    }}
    server {{
        listen 127.0.0.1:{ports["streams"]} ssl http2;
        {tls}
        http2_max_concurrent_streams 0;
        location / {{ return 200 "ok\\n"; }}
    }}
    server {{
        # One request per connection: nginx sends GOAWAY(NO_ERROR, last stream 1) *before*
        # the response, which still follows (RFC 9113 §6.8).
        listen 127.0.0.1:{ports["onerequest"]} ssl http2;
        {tls}
        keepalive_requests 1;
        location / {{ return 200 "ok\\n"; }}
    }}
    server {{
        listen 127.0.0.1:{ports["h1only"]} ssl;
        {tls}
        access_log {{dir}}/h1only.log h2;
        location / {{ return 200 "ok\\n"; }}
    }}
"""


@pytest.fixture(scope="module")
def nginx(
    certs: Certs, dead_port: RefusedPort, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    directory = tmp_path_factory.mktemp("nginx-h2")

    def render(ports: Ports) -> str:
        block = nginx_block(ports, certs, dead_port).replace("{dir}", str(directory))
        return nginx_config(ports, directory, block)

    gateway = start_nginx(
        render, ["h2", "streams", "h1only", "origin", "h2c", "onerequest"], directory
    )
    logs = ("h2.log", "h1only.log", "origin.log", "h2c.log")
    gateway.log_files = (*gateway.log_files, *(directory / name for name in logs))
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture(scope="module")
def haproxy(
    nginx: Gateway, certs: Certs, dead_port: RefusedPort, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    directory = tmp_path_factory.mktemp("haproxy-h2")
    origin = nginx.ports["origin"]

    def render(ports: Ports) -> str:
        body = f"""
global
    # Headers must fit in one buffer: a bigger header block is HAProxy's own limit.
    tune.bufsize 16384

frontend fe
    bind 127.0.0.1:{ports["h2"]} ssl crt {certs.both} alpn h2,http/1.1
    use_backend dead if {{ path_beg /dead }}
    default_backend origin

backend origin
    server app 127.0.0.1:{origin}

backend dead
    server app 127.0.0.1:{dead_port.port}
"""
        return haproxy_config(body)

    gateway = start_haproxy(render, ["h2"], directory)
    try:
        yield gateway
    finally:
        gateway.stop()


def https(gateway: Gateway, path: str = "/", port: str = "h2") -> str:
    tag = f"gw{os.getpid()}h{next(_tags)}"
    sep = "&" if "?" in path else "?"
    return f"https://127.0.0.1:{gateway.ports[port]}{path}{sep}probe={tag}"


def run(argv: list[str]) -> tuple[int, dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out=out, err=err)
    assert out.getvalue(), f"exit {code}, no output; stderr: {err.getvalue()}"
    doc: dict[str, Any] = json.loads(out.getvalue())
    return code, doc


def probe(url: str, certs: Certs, *extra: str) -> tuple[int, dict[str, Any]]:
    return run(["probe", url, "--ca-bundle", str(certs.ca), "--timeout", "5", "--json", *extra])


def hop(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(h for h in doc["hops"] if h["name"] == name)
    return found


def explain(doc: dict[str, Any], *gateways: Gateway) -> str:
    return json.dumps(doc, indent=1)[:6000] + "\n" + "\n".join(g.logs() for g in gateways)


def curl_h2(url: str, certs: Certs) -> dict[str, float | str]:
    """One ``curl --http2`` with its -w timings, in ms, as hop durations."""
    curl = require_binary("curl")
    fmt = (
        "%{http_version} %{time_connect} %{time_appconnect} %{time_pretransfer} "
        "%{time_starttransfer} %{time_total}"
    )
    done = subprocess.run(
        [curl, "-s", "-o", "/dev/null", "--http2", "--cacert", str(certs.ca), "-w", fmt, url],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    version, *raw = done.stdout.split()
    connect, appconnect, pretransfer, start, total = (float(v) * 1000 for v in raw)
    return {
        "http_version": version,
        "tcp": connect,
        "tls": appconnect - connect,
        "upstream": start - pretransfer,
        "total": total,
    }


def random_text(size: int) -> str:
    """Text HPACK's Huffman code cannot shrink much: it stays over a size limit in h2 too."""
    rng = random.Random(16)
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(size))


# --------------------------------------------------------------------------- healthy


@pytest.mark.parametrize("server", ["nginx", "haproxy"])
def test_healthy_over_http2_with_hop_timings_next_to_curls(
    server: str, request: pytest.FixtureRequest, certs: Certs
) -> None:
    gateway: Gateway = request.getfixturevalue(server)
    url = https(gateway)
    code, doc = probe(url, certs)
    reference = curl_h2(url, certs)
    assert code == 0, explain(doc, gateway)
    assert doc["http_version"] == "2", explain(doc, gateway)
    assert reference["http_version"] == "2"
    tls = hop(doc, "tls")
    assert tls["detail"]["alpn"] == "h2" and tls["detail"]["http_version"] == "2"
    assert doc["verdict"]["cause"] == "healthy"
    # Same hop boundaries as curl's: each of ours is a positive duration near curl's.
    ours = {name: hop(doc, name)["ms"] for name in ("tcp", "tls", "upstream")}
    for name, ms in ours.items():
        assert isinstance(ms, float) and 0 < ms < doc["total_ms"], (name, explain(doc))
        theirs = reference[name]
        assert isinstance(theirs, float)
        assert abs(ms - theirs) < TIMING_BOUND_MS, (name, ms, theirs)
    detail = hop(doc, "upstream")["detail"]
    assert detail["first_byte_ms"] == pytest.approx(ours["upstream"])
    assert detail["send_ms"] >= 0 and detail["transfer_ms"] >= 0
    # The parts add up: nothing is counted twice, nothing exceeds the whole.
    assert sum(ours.values()) + detail["send_ms"] + detail["transfer_ms"] <= doc["total_ms"]


def test_http1_flag_speaks_http11_to_the_same_listener(nginx: Gateway, certs: Certs) -> None:
    url = https(nginx)
    code, doc = probe(url, certs, "--http1.1")
    assert code == 0 and doc["http_version"] == "1.1", explain(doc, nginx)
    assert hop(doc, "tls")["detail"]["alpn"] == "http/1.1"
    line = nginx.wait_for_log(url.rsplit("=", 1)[1], name="h2.log")
    assert "proto=HTTP/1.1" in line


def test_http2_required_of_a_server_without_h2_is_a_tls_finding(
    nginx: Gateway, certs: Certs
) -> None:
    url = https(nginx, port="h1only")
    code, doc = probe(url, certs, "--http2")
    assert code == 1
    tls = hop(doc, "tls")
    assert tls["status"] == "fail" and tls["kind"] == "h2_not_offered", explain(doc, nginx)
    assert hop(doc, "upstream")["status"] == "skip"
    assert doc["verdict"]["cause"] == "tls" and doc["verdict"]["kind"] == "h2_not_offered"
    assert doc["verdict"]["hop"] == "tls"
    assert any("http2" in step for step in doc["verdict"]["next_steps"])
    # No silent fallback: the request never reached the server over any version.
    tag = url.rsplit("=", 1)[1]
    assert tag not in nginx.log_text("h1only.log")
    # The same server over auto answers over HTTP/1.1.
    code, doc = probe(https(nginx, port="h1only"), certs)
    assert code == 0 and doc["http_version"] == "1.1"


# --------------------------------------------------------------------------- dead upstream


@pytest.mark.parametrize(("server", "status"), [("nginx", 502), ("haproxy", 503)])
def test_dead_upstream_over_http2_has_the_http11_verdict(
    server: str, status: int, request: pytest.FixtureRequest, certs: Certs
) -> None:
    gateway: Gateway = request.getfixturevalue(server)
    code2, over2 = probe(https(gateway, "/dead"), certs, "--http2")
    code1, over1 = probe(https(gateway, "/dead"), certs, "--http1.1")
    assert (code2, code1) == (1, 1)
    assert over2["http_version"] == "2" and over1["http_version"] == "1.1"
    assert over2["status_code"] == over1["status_code"] == status, explain(over2, gateway)
    keys = ("cause", "kind", "hop", "generator")
    assert {k: over2["verdict"][k] for k in keys} == {k: over1["verdict"][k] for k in keys}
    assert over2["verdict"]["generator"] == server
    if server == "haproxy":
        gateway.wait_for_log(r"dead/app .* 503 .* SC-- .*HTTP/2\.0")


# --------------------------------------------------------------------------- one version only


def diagnose(url: str, certs: Certs, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    return run(
        [
            "diagnose",
            url,
            "--ca-bundle",
            str(certs.ca),
            "--timeout",
            "5",
            "--retries",
            "2",
            "--backoff",
            "0",
            "--report",
            str(tmp_path / "report.md"),
            "--json",
            *extra,
        ]
    )


def test_fails_over_http2_only_found_by_one_follow_up_probe(
    nginx: Gateway, certs: Certs, tmp_path: Path
) -> None:
    url = https(nginx, "/by-version")
    code, doc = diagnose(url, certs, tmp_path)
    assert code == 1
    verdict = doc["verdict"]
    assert verdict["kind"] == "h2_only", explain(doc["result"], nginx)
    assert verdict["summary"].startswith("fails over HTTP/2 only: 502 over HTTP/2, 200 over")
    assert verdict["cause"] == "proxy" and verdict["hop"] == "upstream"
    assert verdict["generator"] == "nginx"
    assert any("$server_protocol" in s for s in verdict["next_steps"])
    result = doc["result"]
    assert result["http_version"] == "2" and result["status_code"] == 502
    other = result["other_version"]
    assert other["http_version"] == "1.1" and other["ok"] and other["status_code"] == 200
    # ONE follow-up: the only HTTP/1.1 request nginx saw for this URL.
    tag = url.rsplit("=", 1)[1]
    lines = [line for line in nginx.log_text("h2.log").splitlines() if tag in line]
    assert sum("proto=HTTP/1.1" in line for line in lines) == 1, lines
    assert sum("proto=HTTP/2.0" in line for line in lines) >= 3, lines  # probe + 2 retries
    retry = next(s for s in doc["steps"] if s["id"] == "retry")
    assert any("over HTTP/1.1: answered 200" in e for e in retry["evidence"])
    assert retry["summary"].endswith("; fails over HTTP/2 only"), retry["summary"]
    report = (tmp_path / "report.md").read_text()
    assert "fails over HTTP/2 only" in report
    assert "| Last probe | HTTP/2 502 in" in report
    assert "| Other HTTP version | over HTTP/1.1: answered 200 in" in report


def test_fails_over_http11_only_when_a_header_limit_is_hit_by_one_version(
    nginx: Gateway, certs: Certs, tmp_path: Path
) -> None:
    # 1500 bytes of one letter: over HTTP/1.1 the raw line overflows nginx's 1 KiB header
    # buffer (400); over HTTP/2 HPACK's Huffman code packs it under 1 KiB (200).
    big = "a" * 1500
    url = https(nginx, "/")
    code, doc = diagnose(url, certs, tmp_path, "--http1.1", "--header", f"X-Big: {big}")
    assert code == 1
    verdict = doc["verdict"]
    assert verdict["kind"] == "h1_only", explain(doc["result"], nginx)
    assert verdict["summary"].startswith("fails over HTTP/1.1 only: 400 over HTTP/1.1, 200")
    assert doc["result"]["other_version"]["http_version"] == "2"
    nginx.wait_for_log(r"client sent too long header line|too large")


# --------------------------------------------------------------------------- resets, GOAWAY


def test_refused_stream_from_nginxs_stream_limit(nginx: Gateway, certs: Certs) -> None:
    code, doc = probe(https(nginx, "/", port="streams"), certs)
    assert code == 1
    upstream = hop(doc, "upstream")
    assert upstream["kind"] == "h2_refused_stream", explain(doc, nginx)
    assert upstream["detail"]["h2_frame"] == "RST_STREAM"
    assert upstream["detail"]["h2_error"] == "REFUSED_STREAM"
    assert "REFUSED_STREAM" in upstream["error"]
    assert doc["http_version"] == "2"
    verdict = doc["verdict"]
    assert (verdict["cause"], verdict["kind"], verdict["hop"]) == (
        "overload",
        "h2_refused_stream",
        "upstream",
    )
    assert any("http2_max_concurrent_streams" in s for s in verdict["next_steps"])
    nginx.wait_for_log(r"concurrent streams exceeded 0")


def test_graceful_goaway_ahead_of_the_response_is_healthy(nginx: Gateway, certs: Certs) -> None:
    url = https(nginx, port="onerequest")
    code, doc = probe(url, certs)
    reference = curl_h2(url, certs)
    assert reference["http_version"] == "2"  # curl reads the response after the GOAWAY too
    assert code == 0 and doc["status_code"] == 200, explain(doc, nginx)
    assert doc["http_version"] == "2" and doc["verdict"]["cause"] == "healthy"
    detail = hop(doc, "upstream")["detail"]
    assert detail["h2_goaway_before_response"] == "NO_ERROR, last stream 1"


@pytest.mark.parametrize(
    ("server", "size", "code", "logged"),
    [
        ("nginx", 1500, "ENHANCE_YOUR_CALM", r"client sent too large header field"),
        ("haproxy", 17000, "COMPRESSION_ERROR", r"<BADREQ>"),
    ],
)
def test_goaway_from_a_servers_header_limit(
    server: str, size: int, code: str, logged: str, request: pytest.FixtureRequest, certs: Certs
) -> None:
    gateway: Gateway = request.getfixturevalue(server)
    exit_code, doc = probe(https(gateway), certs, "--header", f"X-Big: {random_text(size)}")
    assert exit_code == 1
    upstream = hop(doc, "upstream")
    assert upstream["kind"] == "h2_goaway", explain(doc, gateway)
    assert upstream["detail"]["h2_frame"] == "GOAWAY"
    assert upstream["detail"]["h2_error"] == code
    assert isinstance(upstream["detail"]["h2_last_stream_id"], int)
    verdict = doc["verdict"]
    assert (verdict["cause"], verdict["kind"]) == ("proxy", "h2_goaway")
    assert any("large_client_header_buffers" in s for s in verdict["next_steps"])
    gateway.wait_for_log(logged)


# --------------------------------------------------------------------------- other routes


def test_http2_prior_knowledge_over_cleartext(nginx: Gateway, certs: Certs) -> None:
    url = f"http://127.0.0.1:{nginx.ports['h2c']}/?probe=gw{os.getpid()}c"
    code, doc = probe(url, certs, "--http2")
    assert code == 0 and doc["http_version"] == "2", explain(doc, nginx)
    assert hop(doc, "tls")["status"] == "skip"
    assert "proto=HTTP/2.0" in nginx.wait_for_log(f"gw{os.getpid()}c", name="h2c.log")
    # auto over http:// is HTTP/1.1, as in browsers: no h2c upgrade, no prior knowledge.
    code, doc = probe(f"http://127.0.0.1:{nginx.ports['origin']}/", certs)
    assert code == 0 and doc["http_version"] == "1.1"


def test_http2_to_an_http11_only_server_is_a_broken_preface(nginx: Gateway, certs: Certs) -> None:
    code, doc = probe(f"http://127.0.0.1:{nginx.ports['origin']}/", certs, "--http2")
    assert code == 1
    upstream = hop(doc, "upstream")
    assert upstream["kind"] == "h2_preface_failed", explain(doc, nginx)
    assert upstream["detail"]["h2_settings_received"] is False
    assert doc["verdict"]["kind"] == "h2_preface_failed"
    assert doc["verdict"]["hop"] == "upstream"
    # nginx read our preface as a malformed HTTP/1.x request and answered 400.
    nginx.wait_for_log(r"proto=- status=400", name="origin.log")


@pytest.mark.parametrize("flags", [(), ("--http2",)])
def test_http2_through_a_connect_tunnel(
    nginx: Gateway, certs: Certs, lab: Lab, flags: tuple[str, ...]
) -> None:
    proxy = f"http://127.0.0.1:{lab.proxy_ports['open']}"
    code, doc = probe(https(nginx), certs, "--proxy", proxy, *flags)
    assert code == 0, explain(doc, nginx)
    assert doc["http_version"] == "2"
    assert hop(doc, "tls")["detail"]["alpn"] == "h2"  # our ALPN offer, inside the tunnel
    proxy_hop = hop(doc, "proxy")
    assert proxy_hop["status"] == "ok" and proxy_hop["detail"]["connect_status"] == 200
    assert hop(doc, "upstream")["ms"] is not None
