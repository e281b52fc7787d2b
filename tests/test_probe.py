"""The probe against real loopback servers: every (hop, kind) of the taxonomy.

Each test points the probe at one misbehaving lab server and asserts which hop failed,
with which kind, and that the probe ended within its deadline.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from gatewatch.lab import Lab
from gatewatch.model import HOP_NAMES, Endpoint, ProbeResult, result_to_json
from gatewatch.probe import Prober, ProbeSetupError


def ep(url: str, lab: Lab | None = None, **kw: Any) -> Endpoint:
    """An endpoint that resolves lab names through the lab's DNS and trusts its CA."""
    if lab is not None:
        kw.setdefault("resolvers", (f"127.0.0.1:{lab.dns_port}",))
        kw.setdefault("ca_bundle", lab.ca_bundle)
    kw.setdefault("timeout", 3.0)
    return Endpoint(name="t", url=url, **kw)


def lab_url(lab: Lab, path: str, *, scheme: str = "http", cert: str = "valid") -> str:
    return lab.url(path, scheme=scheme, cert=cert, host="app.lab.test")


def failing(result: ProbeResult) -> tuple[str, str | None]:
    hop = next(h for h in result.hops if h.status == "fail")
    return hop.name, hop.kind


def assert_shape(result: ProbeResult) -> None:
    """Five hops, in order; everything after the first failure skipped (in time order)."""
    assert tuple(h.name for h in result.hops) == HOP_NAMES
    assert sum(h.status == "fail" for h in result.hops) <= 1
    json.dumps(result_to_json(result))  # the contract always serialises


# ----------------------------------------------------------------------------- healthy


async def test_healthy_http_through_lab_dns(lab: Lab, prober: Prober) -> None:
    result = await prober.probe(ep(lab_url(lab, "/ok"), lab))
    assert_shape(result)
    assert result.ok and result.status_code == 200
    dns, tcp, tls, proxy, upstream = result.hops
    assert dns.status == "ok" and dns.detail["source"] == "dns"
    assert dns.detail["addresses"][0] == "127.0.0.1" and "::1" in dns.detail["addresses"]
    assert dns.detail["ttl"] == 200  # the smaller of A (300) and AAAA (200)
    assert tcp.status == "ok" and tcp.detail["address"] == "127.0.0.1"
    assert tls.status == "skip" and proxy.status == "skip"
    assert upstream.status == "ok" and upstream.detail["body_bytes"] == 3
    assert result.response is not None and result.response.body == b"ok\n"


async def test_https_keeps_hostname_for_sni_and_host(lab: Lab, prober: Prober) -> None:
    result = await prober.probe(ep(lab_url(lab, "/echo", scheme="https"), lab))
    assert result.ok, result.hops
    assert result.response is not None
    echo = json.loads(result.response.body)
    assert echo["sni"] == "app.lab.test"
    headers = {k.lower(): v for k, v in echo["headers"]}
    assert headers["host"].startswith("app.lab.test")
    tls = result.hop("tls")
    assert tls.status == "ok" and tls.detail["version"].startswith("TLS")
    assert "app.lab.test" in tls.detail["sans"] and tls.detail["days_left"] > 14
    assert tls.ms is not None and tls.ms > 0


async def test_ip_literal_skips_dns(lab: Lab, prober: Prober) -> None:
    result = await prober.probe(ep(lab.url("/ok")))
    assert result.hop("dns").status == "skip" and result.ok


async def test_hosts_file_name_says_so(lab: Lab, prober: Prober) -> None:
    result = await prober.probe(ep(lab.url("/ok", host="localhost")))
    dns = result.hop("dns")
    assert dns.status == "ok" and dns.detail["source"] == "hosts"
    assert "127.0.0.1" in dns.detail["addresses"]


async def test_cname_chain_is_reported(lab: Lab, prober: Prober) -> None:
    url = lab.url("/ok", host="cname.lab.test")
    result = await prober.probe(ep(url, lab))
    dns = result.hop("dns")
    assert result.ok
    assert dns.detail["cnames"][:2] == ["cname.lab.test → alias.lab.test",
                                        "alias.lab.test → app.lab.test"]


async def test_secret_header_resolved_at_probe_time(lab: Lab) -> None:
    prober = Prober(environ={"LAB_TOKEN": "s3cret"})
    endpoint = ep(lab.url("/echo"), headers=(("Authorization", "env:LAB_TOKEN"),))
    result = await prober.probe(endpoint)
    assert result.response is not None
    headers = {k.lower(): v for k, v in json.loads(result.response.body)["headers"]}
    assert headers["authorization"] == "s3cret"
    assert endpoint.headers == (("Authorization", "env:LAB_TOKEN"),)  # never expanded in place
    with pytest.raises(ProbeSetupError, match="MISSING"):
        await Prober(environ={}).probe(
            ep(lab.url("/ok"), headers=(("X", "env:MISSING"),))
        )


# ----------------------------------------------------------------------------- dns


@pytest.mark.parametrize(
    ("host", "kind"),
    [("nx.lab.test", "nxdomain"), ("servfail.lab.test", "servfail")],
)
async def test_dns_failures(lab: Lab, prober: Prober, host: str, kind: str) -> None:
    result = await prober.probe(ep(lab.url("/ok", host=host), lab))
    assert_shape(result)
    assert failing(result) == ("dns", kind)
    assert all(h.status == "skip" for h in result.hops[1:])


async def test_dns_no_answer(lab: Lab, prober: Prober) -> None:
    lab.dns.add("textonly.lab.test", "TXT", ['"no address here"'])
    result = await prober.probe(ep(lab.url("/ok", host="textonly.lab.test"), lab))
    assert failing(result) == ("dns", "no_answer")


async def test_dns_timeout_is_bounded(lab: Lab, prober: Prober) -> None:
    started = time.perf_counter()
    result = await prober.probe(ep(lab.url("/ok", host="drop.lab.test"), lab, timeout=1.0))
    elapsed = time.perf_counter() - started
    assert failing(result) == ("dns", "timeout")
    assert 0.9 < elapsed < 1.4  # dnspython alone overshoots its lifetime by ~0.4 s


async def test_dns_slow_is_a_warning(lab: Lab, prober: Prober) -> None:
    result = await prober.probe(ep(lab.url("/ok", host="slow-600.lab.test"), lab))
    dns = result.hop("dns")
    assert result.ok and dns.status == "warn" and dns.kind == "slow"
    assert dns.ms is not None and dns.ms >= 600


async def test_resolvers_that_disagree(lab: Lab, prober: Prober) -> None:
    other = lab.add_dns_server({"app.lab.test": ["127.0.0.3"]})
    endpoint = ep(lab_url(lab, "/ok"), lab,
                  resolvers=(f"127.0.0.1:{lab.dns_port}", f"127.0.0.1:{other}"))
    result = await prober.probe(endpoint)
    dns = result.hop("dns")
    assert dns.status == "warn" and dns.kind == "resolver_mismatch"
    assert len(dns.detail["resolvers"]) == 2
    assert result.ok and result.address == "127.0.0.1"  # the first resolver's answer is dialled


# ----------------------------------------------------------------------------- tcp


async def test_tcp_refused(lab: Lab, prober: Prober) -> None:
    result = await prober.probe(ep(f"http://127.0.0.1:{lab.refused_port}/"))
    assert_shape(result)
    assert failing(result) == ("tcp", "refused")
    assert result.hop("upstream").status == "skip"


async def test_tcp_connect_timeout_is_bounded(lab: Lab, prober: Prober) -> None:
    started = time.perf_counter()
    result = await prober.probe(ep(f"http://127.0.0.1:{lab.blackhole_port}/", timeout=1.0))
    assert failing(result) == ("tcp", "connect_timeout")
    assert time.perf_counter() - started < 1.3


# ----------------------------------------------------------------------------- tls


@pytest.mark.parametrize(
    ("cert", "kind"),
    [
        ("expired", "expired"),
        ("not_yet_valid", "not_yet_valid"),
        ("self_signed", "self_signed"),
        ("unknown_ca", "unknown_ca"),
        ("wrong_host", "hostname_mismatch"),
    ],
)
async def test_tls_verification_classes(lab: Lab, prober: Prober, cert: str, kind: str) -> None:
    result = await prober.probe(ep(lab_url(lab, "/ok", scheme="https", cert=cert), lab))
    assert_shape(result)
    assert failing(result) == ("tls", kind)
    tls = result.hop("tls")
    # The facts of the rejected certificate are there: that is when they matter.
    assert tls.detail["not_after"] and tls.detail["subject"]
    if kind == "expired":
        assert tls.detail["days_left"] < 0
    if kind == "hostname_mismatch":
        assert tls.detail["sans"] == ["other.example"]


async def test_tls_expiring_soon_is_a_warning(lab: Lab, prober: Prober) -> None:
    result = await prober.probe(ep(lab_url(lab, "/ok", scheme="https", cert="expiring"), lab))
    tls = result.hop("tls")
    assert result.ok and tls.status == "warn" and tls.kind == "expiring_soon"
    assert 0 < tls.detail["days_left"] < 14


async def test_tls_insecure_accepts_a_bad_certificate(lab: Lab, prober: Prober) -> None:
    url = lab_url(lab, "/ok", scheme="https", cert="self_signed")
    result = await prober.probe(ep(url, lab, insecure=True))
    assert result.ok and result.hop("tls").detail["self_issued"] is True


async def test_tls_handshake_stall_is_bounded(lab: Lab, prober: Prober) -> None:
    started = time.perf_counter()
    url = f"https://127.0.0.1:{lab.tls_stall_port}/"
    result = await prober.probe(ep(url, lab, timeout=1.0))
    assert failing(result) == ("tls", "handshake_timeout")
    assert time.perf_counter() - started < 1.3


async def test_tls_to_a_plaintext_server_fails_the_handshake(prober: Prober) -> None:
    async def shout(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await reader.read(100)
        writer.close()

    server = await asyncio.start_server(shout, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await prober.probe(ep(f"https://127.0.0.1:{port}/"))
    assert failing(result) == ("tls", "handshake_failed")


async def test_tls_delay_is_measured(lab: Lab, prober: Prober) -> None:
    url = f"https://app.lab.test:{lab.tls_slow_port}/ok"
    result = await prober.probe(ep(url, lab))
    tls = result.hop("tls")
    assert result.ok and tls.ms is not None
    delay = lab.ports_json()["tls_delay_ms"]
    assert delay <= tls.ms < delay + 25


# ----------------------------------------------------------------------------- proxy


async def test_connect_proxy_ok(lab: Lab, prober: Prober) -> None:
    proxy = f"http://proxy.lab.test:{lab.proxy_ports['slow']}"
    result = await prober.probe(ep(lab_url(lab, "/echo", scheme="https"), lab, proxy=proxy))
    assert result.ok, result.hops
    proxy_hop = result.hop("proxy")
    assert proxy_hop.status == "ok" and proxy_hop.detail["connect_status"] == 200
    assert proxy_hop.ms is not None and proxy_hop.ms >= 50  # the slow proxy answers at 50 ms
    assert result.hop("dns").detail["name"] == "proxy.lab.test"  # we resolve the proxy
    assert result.response is not None
    assert json.loads(result.response.body)["sni"] == "app.lab.test"


async def test_forward_proxy_for_http(lab: Lab, prober: Prober) -> None:
    proxy = f"http://127.0.0.1:{lab.proxy_ports['open']}"
    result = await prober.probe(ep(lab.url("/ok"), proxy=proxy))
    assert result.ok and result.hop("proxy").detail["mode"] == "forward"


async def test_proxy_refused(lab: Lab, prober: Prober) -> None:
    proxy = f"http://127.0.0.1:{lab.refused_port}"
    result = await prober.probe(ep(lab_url(lab, "/ok", scheme="https"), lab, proxy=proxy))
    assert failing(result) == ("tcp", "proxy_refused")


@pytest.mark.parametrize("scheme", ["https", "http"])
async def test_proxy_auth_required(lab: Lab, prober: Prober, scheme: str) -> None:
    proxy = f"http://127.0.0.1:{lab.proxy_ports['auth']}"
    result = await prober.probe(ep(lab_url(lab, "/ok", scheme=scheme), lab, proxy=proxy))
    assert failing(result) == ("proxy", "proxy_auth_required")
    user, password = lab.proxy_credentials
    with_auth = f"http://{user}:{password}@127.0.0.1:{lab.proxy_ports['auth']}"
    result = await prober.probe(ep(lab_url(lab, "/ok", scheme=scheme), lab, proxy=with_auth))
    assert result.ok, result.hops


async def test_proxy_tunnel_failed(lab: Lab, prober: Prober) -> None:
    proxy = f"http://127.0.0.1:{lab.proxy_ports['fail']}"
    result = await prober.probe(ep(lab_url(lab, "/ok", scheme="https"), lab, proxy=proxy))
    assert_shape(result)
    assert failing(result) == ("proxy", "proxy_tunnel_failed")
    assert result.hop("tls").status == "skip"


async def test_proxy_from_environment_and_no_proxy(lab: Lab) -> None:
    proxy = f"http://127.0.0.1:{lab.proxy_ports['fail']}"
    env = {"HTTPS_PROXY": proxy}
    result = await Prober(environ=env).probe(ep(lab_url(lab, "/ok", scheme="https"), lab))
    assert failing(result) == ("proxy", "proxy_tunnel_failed")
    env["NO_PROXY"] = ".lab.test"
    result = await Prober(environ=env).probe(ep(lab_url(lab, "/ok", scheme="https"), lab))
    assert result.ok and result.hop("proxy").status == "skip"


# ----------------------------------------------------------------------------- upstream


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/close", "upstream_closed"),
        ("/reset", "upstream_closed"),
        ("/garbage", "upstream_invalid_response"),
        ("/bad-status", "upstream_invalid_response"),
        ("/truncate", "truncated_body"),
        ("/reset-mid", "truncated_body"),
        ("/status/502", "unexpected_status"),
    ],
)
async def test_upstream_failures(lab: Lab, prober: Prober, path: str, kind: str) -> None:
    result = await prober.probe(ep(lab.url(path)))
    assert_shape(result)
    assert failing(result) == ("upstream", kind)
    assert result.hop("tcp").status == "ok"


async def test_truncated_body_says_how_much_arrived(lab: Lab, prober: Prober) -> None:
    result = await prober.probe(ep(lab.url("/truncate")))
    assert result.response is not None
    assert result.response.status_code == 200 and not result.response.complete
    assert result.response.body_size == 1000 and result.response.content_length == 100000
    assert "1000 of 100000" in (result.hop("upstream").error or "")


async def test_garbage_keeps_the_raw_head(lab: Lab, prober: Prober) -> None:
    result = await prober.probe(ep(lab.url("/garbage")))
    assert "THIS IS NOT HTTP" in result.hop("upstream").detail["raw_head"]


@pytest.mark.parametrize(
    ("path", "quoted", "what"),
    [
        ("/garbage", '"THIS IS NOT HTTP"', "(no HTTP status line)"),
        ("/bad-status", '"HTTP/1.1 99x Weird"', "(an HTTP status line that does not parse)"),
    ],
)
async def test_what_came_back_is_quoted_as_text_never_a_python_repr(
    lab: Lab, prober: Prober, path: str, quoted: str, what: str
) -> None:
    from gatewatch.diagnose import annotate

    result = annotate(await prober.probe(ep(lab.url(path))))
    error = result.hop("upstream").error or ""
    assert error.endswith(f"illegal status line: {quoted}") and "bytearray" not in error
    assert result.verdict is not None
    evidence = result.verdict.evidence
    assert not any("bytearray" in line or "b'" in line for line in evidence)
    assert any(line.endswith(what) for line in evidence)


def test_reprs_become_quoted_text_with_controls_made_visible() -> None:
    from gatewatch.probe.errors import without_reprs

    assert without_reprs("bad: bytearray(b'HTTP/1.1 99x')") == 'bad: "HTTP/1.1 99x"'
    assert without_reprs("bad: b'\\x1b[2J'") == 'bad: "␛[2J"'
    assert without_reprs("no repr here") == "no repr here"


async def test_expectations(lab: Lab, prober: Prober) -> None:
    ok = await prober.probe(ep(lab.url("/status/404"), expect_status=(404,)))
    assert ok.ok
    ok = await prober.probe(ep(lab.url("/status/503"), expect_status=("5xx",)))
    assert ok.ok
    bad = await prober.probe(ep(lab.url("/ok"), expect_body="healthy"))
    assert failing(bad) == ("upstream", "body_mismatch")
    good = await prober.probe(ep(lab.url("/body/all%20healthy"), expect_body="healthy"))
    assert good.ok


@pytest.mark.parametrize("path", ["/hang", "/trickle-headers/100", "/trickle-body/100"])
async def test_hostile_servers_cost_at_most_the_deadline(
    lab: Lab, prober: Prober, path: str
) -> None:
    started = time.perf_counter()
    result = await prober.probe(ep(lab.url(path), timeout=1.0))
    elapsed = time.perf_counter() - started
    assert failing(result) == ("upstream", "upstream_timeout")
    assert 0.95 < elapsed < 1.3
    waited = result.hop("upstream").ms
    if path != "/trickle-body/100":  # no headers: the hop lasted as long as we waited
        assert waited is not None and 950 < waited < 1300
    else:  # headers came at once; the body never finished: the wait was for the first byte
        assert waited is not None and waited < 500


async def test_endless_body_stops_at_the_cap(lab: Lab, prober: Prober) -> None:
    result = await prober.probe(ep(lab.url("/endless"), timeout=3.0))
    assert result.ok and result.response is not None
    assert len(result.response.body) == 64 * 1024
    assert result.total_ms < 3000


async def test_first_byte_timing_matches_the_injected_delay(lab: Lab, prober: Prober) -> None:
    result = await prober.probe(ep(lab.url("/delay/80")))
    upstream = result.hop("upstream")
    assert upstream.ms is not None and 80 <= upstream.ms < 95
    assert result.total_ms >= upstream.ms


# ----------------------------------------------------------------------------- many addresses


async def test_all_addresses_reports_the_dead_pool_member(lab: Lab, prober: Prober) -> None:
    url = lab.url("/ok", host="pool.lab.test")
    result = await prober.probe(ep(url, lab, all_addresses=True))
    by_address = {a.address: a for a in result.addresses}
    assert set(by_address) == {"127.0.0.1", "127.0.0.2"}
    assert by_address["127.0.0.1"].ok
    assert not by_address["127.0.0.2"].ok and by_address["127.0.0.2"].kind == "refused"
    assert "addresses" in result_to_json(result)


async def test_origin_is_probed_and_attached(lab: Lab, prober: Prober) -> None:
    endpoint = ep(lab.url("/status/502"), origin=f"http://127.0.0.1:{lab.refused_port}/")
    result = await prober.probe(endpoint)
    assert result.origin is not None
    assert failing(result.origin) == ("tcp", "refused")
    assert result_to_json(result)["origin"]["hops"][1]["kind"] == "refused"


async def test_trace_event_names_are_what_we_rely_on(lab: Lab) -> None:
    """Guard against an httpcore upgrade renaming the trace steps the timings come from."""
    import httpx

    seen: list[str] = []

    async def trace(event: str, info: dict[str, object]) -> None:
        seen.append(event)

    async with httpx.AsyncClient() as client:
        await client.get(lab.url("/ok"), extensions={"trace": trace})
    for step in ("send_request_headers", "send_request_body", "receive_response_headers"):
        assert f"http11.{step}.started" in seen and f"http11.{step}.complete" in seen


async def test_ipv6_literal(lab: Lab, prober: Prober) -> None:
    if not lab.ipv6:
        pytest.fail("the lab could not bind ::1; IPv6 loopback is expected on CI machines")
    result = await prober.probe(ep(f"https://[::1]:{lab.https_ports['valid']}/ok", lab))
    assert result.ok, result.hops
    assert result.address == "::1" and result.hop("dns").status == "skip"
