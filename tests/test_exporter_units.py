"""The exporter's pure parts: which targets may be probed, results as metrics, closed labels.

No network here (a fake probe function stands in for the prober); the wire-level
comparison with the real blackbox_exporter and Prometheus is in test_exporter_real.py.
promtool is real: the exposition must pass ``promtool check metrics``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from gatewatch.exporter.blackbox import GO_ZERO_TIME, PHASES, fnv32a, ip_facts
from gatewatch.exporter.collectors import WatchlistCollector, probe_registry
from gatewatch.exporter.labels import KINDS, OTHER, closed
from gatewatch.exporter.service import Exporter
from gatewatch.exporter.targets import ProbeRequest, Refusal, normalise_url, resolve_probe
from gatewatch.model import Endpoint, Hop, ProbeResult, Response, Verdict
from gatewatch.monitor.state import State
from gatewatch.monitor.status import EndpointStatus
from prometheus_support import check_with_promtool, parse_exposition, series

STARTED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SHOP = Endpoint(name="shop", url="https://Shop.example:443/health", timeout=3.0)
API = Endpoint(name="api", url="http://api.example:8080/", expect_status=(200, 204))
ENDPOINTS = (SHOP, API)


# --------------------------------------------------------------------------- targets


def test_a_target_is_an_endpoint_name_or_a_url_matching_one() -> None:
    by_name = resolve_probe("shop", None, None, ENDPOINTS, allow_any_target=False)
    assert isinstance(by_name, ProbeRequest) and by_name.endpoint.url == SHOP.url
    assert by_name.module == "http_2xx" and by_name.known
    # Same URL spelled differently: host case, default port, no path.
    by_url = resolve_probe("https://shop.example/health", None, None, ENDPOINTS,
                           allow_any_target=False)
    assert isinstance(by_url, ProbeRequest) and by_url.endpoint.name == "shop"
    # blackbox_exporter reads host:port without a scheme as http://
    bare = resolve_probe("api.example:8080", None, None, ENDPOINTS, allow_any_target=False)
    assert isinstance(bare, ProbeRequest) and bare.endpoint.name == "api"


def test_any_other_url_is_refused_unless_allowed_because_it_is_an_ssrf_hole() -> None:
    refused = resolve_probe("http://169.254.169.254/latest/meta-data/", None, None, ENDPOINTS,
                            allow_any_target=False)
    assert isinstance(refused, Refusal)
    assert refused.status == 403 and refused.reason == "unknown_target"
    assert "--allow-any-target" in refused.message
    allowed = resolve_probe("http://127.0.0.1:9/x", None, None, ENDPOINTS, allow_any_target=True)
    assert isinstance(allowed, ProbeRequest) and not allowed.known
    assert allowed.endpoint.url == "http://127.0.0.1:9/x"
    # Never another scheme, even when any target is allowed.
    assert isinstance(
        resolve_probe("file:///etc/passwd", None, None, (), allow_any_target=True), Refusal
    )


def test_missing_target_and_unknown_module_are_refused_like_blackbox() -> None:
    missing = resolve_probe(None, None, None, ENDPOINTS, allow_any_target=True)
    assert isinstance(missing, Refusal) and (missing.status, missing.reason) == (
        400,
        "missing_target",
    )
    module = resolve_probe("shop", "icmp", None, ENDPOINTS, allow_any_target=False)
    assert isinstance(module, Refusal) and module.reason == "unknown_module"


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, 3.0), ("10", 3.0), ("2", 1.5), ("0.3", 0.1), ("  ", 3.0)],
)
def test_the_scrape_timeout_bounds_the_probe(header: str | None, expected: float) -> None:
    request = resolve_probe("shop", None, header, ENDPOINTS, allow_any_target=False)
    assert isinstance(request, ProbeRequest)
    assert request.endpoint.timeout == pytest.approx(expected)


@pytest.mark.parametrize("header", ["abc", "-1", "nan", "inf"])
def test_a_malformed_scrape_timeout_is_refused(header: str) -> None:
    request = resolve_probe("shop", None, header, ENDPOINTS, allow_any_target=False)
    assert isinstance(request, Refusal) and request.reason == "bad_timeout"


def test_http_2xx_expects_2xx_only_where_the_endpoint_says_nothing() -> None:
    shop = resolve_probe("shop", "http_2xx", None, ENDPOINTS, allow_any_target=False)
    api = resolve_probe("api", "http_2xx", None, ENDPOINTS, allow_any_target=False)
    own = resolve_probe("shop", "gatewatch", None, ENDPOINTS, allow_any_target=False)
    assert isinstance(shop, ProbeRequest) and shop.endpoint.expect_status == ("2xx",)
    assert isinstance(api, ProbeRequest) and api.endpoint.expect_status == (200, 204)
    assert isinstance(own, ProbeRequest) and own.endpoint.expect_status == ()


def test_normalised_urls() -> None:
    assert normalise_url("HTTP://Example.COM:80") == "http://example.com/"
    assert normalise_url("https://[::1]:8443/a?b=1#frag") == "https://[::1]:8443/a?b=1"
    assert normalise_url("ftp://example.com/") is None
    assert normalise_url("http://:80/") is None


# --------------------------------------------------------------------------- results


def _hops(**overrides: Hop) -> tuple[Hop, ...]:
    base = {
        "dns": Hop("dns", "ok", ms=2.0),
        "tcp": Hop("tcp", "ok", ms=1.0),
        "tls": Hop("tls", "ok", ms=3.0, detail={"version": "TLSv1.3",
                                               "not_after": datetime(2027, 1, 1, tzinfo=UTC)}),
        "proxy": Hop("proxy", "skip"),
        "upstream": Hop(
            "upstream",
            "ok",
            ms=4.0,
            detail={"send_ms": 0.5, "first_byte_ms": 4.0, "transfer_ms": 0.25},
        ),
    }
    base.update(overrides)
    return tuple(base[name] for name in ("dns", "tcp", "tls", "proxy", "upstream"))


def _healthy_https() -> ProbeResult:
    return ProbeResult(
        name="shop",
        url=SHOP.url,
        started_at=STARTED,
        hops=_hops(),
        total_ms=11.0,
        response=Response("HTTP/2", 200, "", (("last-modified", "Tue, 24 Nov 2026 09:00:00 GMT"),),
                          b"ok", 2, None),
        address="10.0.0.7",
        verdict=Verdict("healthy", None, None, None, 1.0, "ok"),
    )


def _nxdomain() -> ProbeResult:
    skip = {n: Hop(n, "skip") for n in ("tcp", "tls", "upstream")}
    return ProbeResult(
        name="shop",
        url=SHOP.url,
        started_at=STARTED,
        hops=_hops(dns=Hop("dns", "fail", ms=7.0, kind="nxdomain", error="NXDOMAIN"), **skip),
        total_ms=7.0,
        verdict=Verdict("dns", "nxdomain", "dns", None, 0.9, "no such name"),
    )


def _values(text: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def _exposition(result: ProbeResult, endpoint: Endpoint = SHOP) -> str:
    return generate_latest(probe_registry(result, endpoint, 0.012)).decode()


def test_a_healthy_https_probe_in_blackbox_terms() -> None:
    values = _values(_exposition(_healthy_https()))
    assert values["probe_success"] == 1
    assert values["probe_duration_seconds"] == pytest.approx(0.012)
    assert values['probe_http_duration_seconds{phase="resolve"}'] == pytest.approx(0.002)
    assert values['probe_http_duration_seconds{phase="connect"}'] == pytest.approx(0.001)
    assert values['probe_http_duration_seconds{phase="tls"}'] == pytest.approx(0.003)
    # processing: request start to first byte (send + wait), as blackbox's gotConn → first byte
    assert values['probe_http_duration_seconds{phase="processing"}'] == pytest.approx(0.0045)
    assert values['probe_http_duration_seconds{phase="transfer"}'] == pytest.approx(0.00025)
    assert values["probe_dns_lookup_time_seconds"] == pytest.approx(0.002)
    assert values["probe_http_status_code"] == 200
    assert values["probe_http_version"] == 2
    assert values["probe_http_ssl"] == 1
    assert values["probe_http_content_length"] == -1  # not declared: Go's -1
    assert values["probe_http_uncompressed_body_length"] == 2
    assert values["probe_ip_protocol"] == 4
    assert values["probe_ip_addr_hash"] == fnv32a(bytes([10, 0, 0, 7]))
    expiry = datetime(2027, 1, 1, tzinfo=UTC).timestamp()
    assert values["probe_ssl_earliest_cert_expiry"] == expiry
    assert values["probe_ssl_last_chain_expiry_timestamp_seconds"] == expiry
    assert values['probe_tls_version_info{version="TLS 1.3"}'] == 1
    assert values["probe_http_last_modified_timestamp_seconds"] == datetime(
        2026, 11, 24, 9, tzinfo=UTC
    ).timestamp()
    assert values['gatewatch_verdict_info{cause="healthy",generator="none",kind="none"}'] == 1
    insecure = _values(_exposition(_healthy_https(), SHOP.replace(insecure=True)))
    assert insecure["probe_ssl_last_chain_expiry_timestamp_seconds"] == GO_ZERO_TIME


def test_a_dns_failure_keeps_all_five_phases_and_no_tls_series() -> None:
    text = _exposition(_nxdomain())
    values = _values(text)
    phases = {p: values[f'probe_http_duration_seconds{{phase="{p}"}}'] for p in PHASES}
    assert phases == {"resolve": 0.007, "connect": 0, "tls": 0, "processing": 0, "transfer": 0}
    assert len([k for k in values if k.startswith("probe_http_duration_seconds")]) == 5
    assert values["probe_success"] == 0
    assert values["probe_http_status_code"] == 0
    assert values["probe_http_content_length"] == 0
    assert values["probe_http_version"] == 0
    assert values["probe_ip_protocol"] == 0
    assert "probe_tls_version_info" not in text and "probe_ssl_earliest_cert_expiry" not in text
    assert values['gatewatch_verdict_info{cause="dns",generator="none",kind="nxdomain"}'] == 1
    assert values['gatewatch_hop_status{hop="dns",status="fail"}'] == 1
    assert values['gatewatch_hop_status{hop="tcp",status="skip"}'] == 1
    assert values['gatewatch_hop_duration_seconds{hop="dns"}'] == pytest.approx(0.007)
    # A state set: every hop has all four statuses, exactly one of them 1.
    for hop in ("dns", "tcp", "tls", "proxy", "upstream"):
        row = [values[f'gatewatch_hop_status{{hop="{hop}",status="{s}"}}']
               for s in ("ok", "warn", "fail", "skip")]
        assert sorted(row) == [0, 0, 0, 1]


def test_verdict_labels_take_values_only_from_closed_sets() -> None:
    hostile = _nxdomain().with_verdict(
        Verdict("backend", 'x"}\nevil 1', "upstream", "<b>nginx-ish</b>", 0.5, "s")
    )
    values = _values(_exposition(hostile))
    assert values['gatewatch_verdict_info{cause="backend",generator="other",kind="other"}'] == 1
    assert closed(None, KINDS) == "none" and closed("upstream_refused", KINDS) == "upstream_refused"
    assert closed("nope", KINDS) == OTHER
    assert all(k.replace("_", "").isalnum() and k.islower() for k in KINDS)


def test_ip_facts() -> None:
    assert ip_facts("::1")[0] == 6
    assert ip_facts(None) == (0.0, 0.0)
    # The FNV-1a reference value blackbox_exporter reports for 127.0.0.1 (measured with
    # the real binary: probe_ip_addr_hash 3.668918509e+09).
    assert ip_facts("127.0.0.1")[1] == 3668918509


# --------------------------------------------------------------------------- /metrics


def _status(endpoint: Endpoint, result: ProbeResult | None, state: State) -> EndpointStatus:
    return EndpointStatus(endpoint=endpoint, state=state, last_result=result)


def test_watchlist_metrics_carry_the_endpoint_label_redacted_and_visible() -> None:
    secret = Endpoint(
        name="pay\x1b[31m",
        url="https://user:hunter2pass@pay.example/health?token=s3cr3tvalue&x=1",
    )
    statuses: Mapping[str, EndpointStatus] = {
        "shop": _status(SHOP, _nxdomain(), State.DOWN),
        secret.name: _status(secret, None, State.PENDING),
    }
    text = generate_latest_of(WatchlistCollector(lambda: statuses))
    assert "hunter2pass" not in text and "s3cr3tvalue" not in text and "\x1b" not in text
    values = _values(text)
    assert values['probe_success{endpoint="shop"}'] == 0
    assert values['gatewatch_endpoint_state{endpoint="shop",state="down"}'] == 1
    assert values['gatewatch_endpoint_state{endpoint="shop",state="up"}'] == 0
    assert values['gatewatch_endpoint_state{endpoint="pay␛[31m",state="pending"}'] == 1
    info = [k for k in values if k.startswith('gatewatch_endpoint_info{endpoint="pay')]
    assert info == [
        'gatewatch_endpoint_info{endpoint="pay␛[31m",'
        'url="https://REDACTED@pay.example/health?token=REDACTED&x=1"}'
    ]
    # No result yet: state and info only, no probe_* series that would read as a failure.
    assert not any(k.startswith('probe_success{endpoint="pay') for k in values)
    check_with_promtool(text)


def generate_latest_of(collector: WatchlistCollector) -> str:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry).decode()


def test_probe_answers_pass_promtool() -> None:
    check_with_promtool(_exposition(_healthy_https()))
    check_with_promtool(_exposition(_nxdomain()))


async def test_the_exporter_counts_probes_and_refusals() -> None:
    seen: list[Endpoint] = []

    async def fake_probe(endpoint: Endpoint) -> tuple[ProbeResult, float]:
        seen.append(endpoint)
        return _nxdomain(), 0.01

    exporter = Exporter(ENDPOINTS, probe=fake_probe)
    answer = await exporter.probe("target=shop&module=http_2xx", "1.5")
    assert answer.status == 200 and b"probe_success 0.0" in answer.body
    assert seen[0].timeout == pytest.approx(1.0)
    refused = await exporter.probe("target=http%3A%2F%2F10.1.2.3%2F", None)
    assert refused.status == 403 and len(seen) == 1
    metrics = exporter.metrics().body.decode()
    values = _values(metrics)
    assert values['gatewatch_exporter_probes_total{outcome="failure"}'] == 1
    assert values['gatewatch_exporter_probe_errors_total{reason="unknown_target"}'] == 1
    assert "process_cpu_seconds_total" in parse_exposition(metrics)
    assert 'gatewatch_build_info{version="0.1.0"}' in series(metrics)
    check_with_promtool(metrics)


# --------------------------------------------------------------------------- command line


def test_listen_is_an_explicit_ip_and_port_and_loopback_by_default() -> None:
    from gatewatch.exporter.server import DEFAULT_LISTEN, parse_listen

    assert parse_listen(DEFAULT_LISTEN) == ("127.0.0.1", 9115)
    assert parse_listen("[::1]:9115") == ("::1", 9115)
    assert parse_listen("0.0.0.0:9115") == ("0.0.0.0", 9115)  # all interfaces: only if asked
    for bad in (":9115", "9115", "localhost:9115", "127.0.0.1:99999", "127.0.0.1:x"):
        with pytest.raises(ValueError):
            parse_listen(bad)


def test_the_exporter_command_fails_cleanly_on_bad_input(tmp_path: Path) -> None:
    from gatewatch.cli import main

    out, err = StringIO(), StringIO()
    assert main(["exporter", "--listen", "everywhere"], out, err) == 2
    assert "--listen wants HOST:PORT" in err.getvalue()
    err = StringIO()
    assert main(["exporter", str(tmp_path / "missing.toml")], out, err) == 2
    assert "no such watchlist" in err.getvalue()
    bad = tmp_path / "bad.toml"
    bad.write_text('version = 1\n[[endpoint]]\nname = "x"\nurl = "ftp://x"\n')
    err = StringIO()
    assert main(["exporter", str(bad)], out, err) == 2
    assert "bad.toml:4" in err.getvalue()


def _exchange(address: tuple[str, int], raw: bytes) -> bytes:
    """Send ``raw`` on one connection and read until the server closes it."""
    import socket

    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_http_server_keeps_alive_and_refuses_what_is_not_a_scrape(tmp_path: Path) -> None:
    from prometheus_support import gatewatch_exporter

    with gatewatch_exporter([], tmp_path / "h.sqlite", watch=False) as running:
        address = (running.host, running.port)
        # Two requests on one connection (Prometheus keeps its connection), then close.
        both = _exchange(
            address,
            b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /probe?target=nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        assert both.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"gatewatch_build_info" in both
        assert both.count(b"HTTP/1.1 ") == 2 and b"HTTP/1.1 403 Forbidden\r\n" in both
        head = _exchange(address, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK") and head.endswith(b"\r\n\r\n")
        post = _exchange(address, b"POST /probe HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                  b"Connection: close\r\n\r\n")
        assert post.startswith(b"HTTP/1.1 405 ")
        missing = _exchange(address, b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert missing.startswith(b"HTTP/1.1 404 ")
        garbage = _exchange(address, b"\x16\x03\x01 hello, this is no HTTP\r\n\r\n")
        assert garbage.startswith(b"HTTP/1.1 400 ")
        huge = _exchange(address, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 40_000 + b"\r\n\r\n")
        assert huge.startswith(b"HTTP/1.1 400 ")  # a head past 16 KiB is refused, not buffered
