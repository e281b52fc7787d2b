"""The loopback fault lab: every fault does what it says, seen from real clients.

Raw sockets where the bytes matter (FIN vs RST, exactly what was sent), ``ssl`` for the
certificate variants, httpx where the product's view matters, and dnspython's async
resolver for DNS. One lab serves the whole module; the lifecycle tests start their own.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dns.asyncquery
import dns.asyncresolver
import dns.flags
import dns.message
import dns.nameserver
import dns.rcode
import dns.resolver
import httpx
import pytest

from gatewatch.lab import DnsTable, Lab
from gatewatch.lab.sockets import ipv6_loopback_available

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(tls_delay_ms=50.0, dns_delay_ms=200.0) as running:
        yield running
        assert running.handler_errors == []  # no lab handler crashed during the module


@pytest.fixture(scope="module")
def ca_context(lab: Lab) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=lab.ca_bundle)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    return ctx


# --------------------------------------------------------------------------- helpers


def request_bytes(path: str, method: str = "GET", extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: lab\r\n{extra}\r\n".encode()


def exchange(
    port: int, data: bytes, *, host: str = "127.0.0.1", timeout: float = 2.0
) -> tuple[bytes, BaseException | None]:
    """Send ``data``, read until the server ends the connection: (bytes, error or None)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        received = bytearray()
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError as exc:
            return bytes(received), exc
        return bytes(received), None


def split_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.lower()] = value.strip()
    return int(lines[0].split(" ")[1]), headers, body


def get(lab: Lab, path: str) -> tuple[int, dict[str, str], bytes]:
    raw, error = exchange(lab.http_port, request_bytes(path))
    assert error is None
    return split_response(raw)


def resolver(port: int, lifetime: float = 1.0) -> dns.asyncresolver.Resolver:
    r = dns.asyncresolver.Resolver(configure=False)
    r.nameservers = [dns.nameserver.Do53Nameserver("127.0.0.1", port)]
    r.timeout, r.lifetime, r.cache = 0.3, lifetime, None
    return r


# --------------------------------------------------------------------------- fault app


def test_ok_is_a_well_formed_response(lab: Lab) -> None:
    status, headers, body = get(lab, "/ok")
    assert (status, body) == (200, b"ok\n")
    assert headers["content-type"] == "text/plain"
    assert headers["content-length"] == "3"
    assert headers["server"] == "gatewatch-lab"
    assert headers["connection"] == "close"


def test_ipv6_loopback_mirrors_the_ports_when_the_machine_has_it(lab: Lab) -> None:
    assert lab.ipv6 == ipv6_loopback_available()
    if lab.ipv6:
        raw, error = exchange(lab.http_port, request_bytes("/ok"), host="::1")
        assert error is None and raw.endswith(b"\r\n\r\nok\n")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("::1", lab.refused_port), timeout=1).close()
        with pytest.raises(TimeoutError):
            socket.create_connection(("::1", lab.blackhole_port), timeout=0.2).close()


@pytest.mark.parametrize(
    ("path", "status", "body", "retry_after"),
    [
        ("/status/502", 502, b"status 502\n", None),
        ("/status/503?retry_after=7", 503, b"status 503\n", "7"),
        ("/status/201", 201, b"status 201\n", None),
        ("/ratelimit", 429, b"rate limited\n", "30"),
        ("/unavailable", 503, b"service unavailable\n", "30"),
    ],
)
def test_status_routes(
    lab: Lab, path: str, status: int, body: bytes, retry_after: str | None
) -> None:
    got_status, headers, got_body = get(lab, path)
    assert (got_status, got_body) == (status, body)
    assert headers.get("retry-after") == retry_after


def test_head_and_bodyless_statuses(lab: Lab) -> None:
    raw, _ = exchange(lab.http_port, request_bytes("/ok", method="HEAD"))
    status, headers, body = split_response(raw)
    assert (status, headers["content-length"], body) == (200, "3", b"")
    status, headers, body = get(lab, "/status/204")
    assert (status, body) == (204, b"") and "content-length" not in headers


def test_status_json_is_an_application_error_page(lab: Lab) -> None:
    status, headers, body = get(lab, "/status/502?json=1")
    assert status == 502
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"error": "Bad Gateway"}


def test_delay_holds_back_the_status_line(lab: Lab) -> None:
    started = time.perf_counter()
    response = httpx.get(lab.url("/delay/150"), timeout=2)
    assert response.text == "ok\n"
    assert time.perf_counter() - started >= 0.15


def test_body_delay_sends_headers_first(lab: Lab) -> None:
    started = time.perf_counter()
    with httpx.stream("GET", lab.url("/body-delay/300"), timeout=2) as response:
        headers_at = time.perf_counter() - started
        assert response.headers["content-length"] == "3"
        body = response.read()
    assert body == b"ok\n"
    assert headers_at < 0.25 <= time.perf_counter() - started


def test_close_sends_fin_without_a_byte(lab: Lab) -> None:
    assert exchange(lab.http_port, request_bytes("/close")) == (b"", None)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        httpx.get(lab.url("/close"), timeout=2)


def test_reset_sends_rst_without_a_byte(lab: Lab) -> None:
    raw, error = exchange(lab.http_port, request_bytes("/reset"))
    assert raw == b""
    assert isinstance(error, ConnectionResetError)
    with pytest.raises(httpx.ReadError):
        httpx.get(lab.url("/reset"), timeout=2)


def test_garbage_and_bad_status_are_exact_bytes(lab: Lab) -> None:
    assert exchange(lab.http_port, request_bytes("/garbage")) == (b"THIS IS NOT HTTP\r\n\r\n", None)
    assert exchange(lab.http_port, request_bytes("/bad-status")) == (
        b"HTTP/1.1 99x Weird\r\n\r\n",
        None,
    )
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(lab.url("/garbage"), timeout=2)


def test_reset_mid_body(lab: Lab) -> None:
    raw, error = exchange(lab.http_port, request_bytes("/reset-mid"))
    status, headers, body = split_response(raw)
    assert (status, headers["content-length"], len(body)) == (200, "100000", 1000)
    assert isinstance(error, ConnectionResetError)
    with pytest.raises(httpx.ReadError):
        httpx.get(lab.url("/reset-mid"), timeout=2)


async def test_resets_over_tls_reach_an_async_client_as_resets(
    lab: Lab, ca_context: ssl.SSLContext
) -> None:
    # (A blocking ssl.SSLSocket, e.g. sync httpx, reports a post-handshake RST as a clean EOF.)
    async with httpx.AsyncClient(verify=ca_context, timeout=2) as client:
        with pytest.raises(httpx.ReadError):
            await client.get(lab.url("/reset", scheme="https"))
        status = None
        with pytest.raises(httpx.ReadError):
            async with client.stream("GET", lab.url("/reset-mid", scheme="https")) as response:
                status = response.status_code
                await response.aread()
        assert status == 200


def test_truncate_delivers_1000_bytes_then_eof(lab: Lab) -> None:
    raw, error = exchange(lab.http_port, request_bytes("/truncate"))
    status, headers, body = split_response(raw)
    assert (status, headers["content-length"], len(body), error) == (200, "100000", 1000, None)
    with pytest.raises(httpx.RemoteProtocolError, match="received 1000 bytes"):
        httpx.get(lab.url("/truncate"), timeout=2)


def test_trickle_headers_one_byte_at_a_time(lab: Lab) -> None:
    with socket.create_connection(("127.0.0.1", lab.http_port), timeout=2) as sock:
        sock.sendall(request_bytes("/trickle-headers/40"))
        started = time.perf_counter()
        received = b""
        while len(received) < 4:
            received += sock.recv(1)
    assert received == b"HTTP"
    assert time.perf_counter() - started >= 0.1  # 3 pauses of 40 ms between 4 bytes


def test_trickle_body_never_ends(lab: Lab) -> None:
    with httpx.stream("GET", lab.url("/trickle-body/20"), timeout=2) as response:
        assert response.headers["transfer-encoding"] == "chunked"
        received = b""
        started = time.perf_counter()
        for chunk in response.iter_raw():
            received += chunk
            if time.perf_counter() - started > 0.2:
                break
    assert 2 <= len(received) <= 20
    assert set(received) == {ord("x")}


def test_endless_streams_as_fast_as_read(lab: Lab) -> None:
    with httpx.stream("GET", lab.url("/endless"), timeout=2) as response:
        received = 0
        for chunk in response.iter_raw():
            received += len(chunk)
            if received > 2_000_000:
                break
    assert received > 2_000_000


def test_big_body_has_the_asked_size(lab: Lab) -> None:
    response = httpx.get(lab.url("/big/200001"), timeout=5)
    assert response.status_code == 200 and len(response.content) == 200_001


def test_hang_never_answers(lab: Lab) -> None:
    raw, error = exchange(lab.http_port, request_bytes("/hang"), timeout=0.3)
    assert raw == b"" and isinstance(error, TimeoutError)


def test_flap_alternates(lab: Lab) -> None:
    codes = [get(lab, "/flap")[0] for _ in range(4)]
    assert sorted(codes[:2]) == [200, 500]
    assert codes[2:] == codes[:2]


def test_echo_reports_the_request_as_received(lab: Lab) -> None:
    status, _, body = get(lab, "/echo?x=1")
    seen = json.loads(body)
    assert status == 200
    assert seen["method"] == "GET" and seen["path"] == "/echo" and seen["target"] == "/echo?x=1"
    assert ["Host", "lab"] in seen["headers"]
    assert seen["sni"] is None and seen["tls"] is False
    assert seen["local_port"] == lab.http_port


def test_echo_over_tls_reports_the_sni(lab: Lab, ca_context: ssl.SSLContext) -> None:
    port = lab.https_ports["valid"]
    with (
        socket.create_connection(("127.0.0.1", port), timeout=2) as raw,
        ca_context.wrap_socket(raw, server_hostname="app.lab.test") as tls,
    ):
        assert tls.selected_alpn_protocol() == "http/1.1"
        tls.sendall(request_bytes("/echo"))
        received = b""
        while chunk := tls.recv(65536):
            received += chunk
    seen = json.loads(split_response(received)[2])
    assert (seen["sni"], seen["tls"], seen["local_port"]) == ("app.lab.test", True, port)


def test_body_route_url_decodes(lab: Lab) -> None:
    assert get(lab, "/body/hello%20world/again")[2] == b"hello world/again"


@pytest.mark.parametrize("path", ["/nope", "/", "/ok/extra", "/delay/abc", "/status/"])
def test_unknown_paths_are_404(lab: Lab, path: str) -> None:
    assert get(lab, path)[0] == 404


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"NOT A REQUEST\r\n\r\n", 400),
        (b"GET /ok HTTP/1.1\r\nbroken header\r\n\r\n", 400),
        (b"GET /ok HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
        (b"GET /ok HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n", 431),
    ],
)
def test_malformed_requests_get_a_4xx_and_the_server_lives(
    lab: Lab, data: bytes, status: int
) -> None:
    raw, _ = exchange(lab.http_port, data)
    assert split_response(raw)[0] == status
    assert get(lab, "/ok")[0] == 200


def test_request_bodies_are_read_by_length_and_chunked(lab: Lab) -> None:
    response = httpx.post(lab.url("/echo"), content=b"12345", timeout=2)
    assert response.json()["body_bytes"] == 5
    response = httpx.post(lab.url("/echo"), content=iter([b"ab", b"cde"]), timeout=2)
    assert response.json()["body_bytes"] == 5


def test_hits_counts_by_path_prefix(lab: Lab) -> None:
    before = lab.hits("/body/count")
    for text in ("a", "b", "c"):
        get(lab, f"/body/count-{text}")
    assert lab.hits("/body/count") == before + 3


# --------------------------------------------------------------------------- TLS


@pytest.mark.parametrize("name", ["app.lab.test", "x.lab.test", "localhost", "127.0.0.1"])
def test_valid_certificate_verifies(lab: Lab, ca_context: ssl.SSLContext, name: str) -> None:
    with (
        socket.create_connection(("127.0.0.1", lab.https_ports["valid"]), timeout=2) as raw,
        ca_context.wrap_socket(raw, server_hostname=name) as tls,
    ):
        assert tls.selected_alpn_protocol() == "http/1.1"
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


@pytest.mark.parametrize(
    ("variant", "verify_code"),
    [
        ("expired", 10),
        ("not_yet_valid", 9),
        ("wrong_host", 62),
        ("self_signed", 18),
        ("unknown_ca", 20),
    ],
)
def test_certificate_variants_fail_verification(
    lab: Lab, ca_context: ssl.SSLContext, variant: str, verify_code: int
) -> None:
    with (
        socket.create_connection(("127.0.0.1", lab.https_ports[variant]), timeout=2) as raw,
        pytest.raises(ssl.SSLCertVerificationError) as caught,
    ):
        ca_context.wrap_socket(raw, server_hostname="app.lab.test")
    assert caught.value.verify_code == verify_code


def test_expiring_certificate_verifies_with_five_days_left(
    lab: Lab, ca_context: ssl.SSLContext
) -> None:
    with (
        socket.create_connection(("127.0.0.1", lab.https_ports["expiring"]), timeout=2) as raw,
        ca_context.wrap_socket(raw, server_hostname="app.lab.test") as tls,
    ):
        cert = tls.getpeercert()
    assert cert is not None
    days_left = (ssl.cert_time_to_seconds(str(cert["notAfter"])) - time.time()) / 86400
    assert 4 < days_left <= 5


def test_https_through_httpx(lab: Lab, ca_context: ssl.SSLContext) -> None:
    response = httpx.get(lab.url("/ok", scheme="https"), verify=ca_context, timeout=2)
    assert response.text == "ok\n" and response.http_version == "HTTP/1.1"


def test_tls_stall_never_completes_the_handshake(lab: Lab, ca_context: ssl.SSLContext) -> None:
    with (
        socket.create_connection(("127.0.0.1", lab.tls_stall_port), timeout=0.3) as raw,
        pytest.raises(TimeoutError),
    ):
        ca_context.wrap_socket(raw, server_hostname="app.lab.test")


def test_tls_slow_handshake_waits_the_delay(lab: Lab, ca_context: ssl.SSLContext) -> None:
    with socket.create_connection(("127.0.0.1", lab.tls_slow_port), timeout=2) as raw:
        started = time.perf_counter()
        with ca_context.wrap_socket(raw, server_hostname="app.lab.test") as tls:
            elapsed = time.perf_counter() - started
            tls.sendall(request_bytes("/ok"))
            assert tls.recv(100).startswith(b"HTTP/1.1 200 OK")
    assert 0.045 <= elapsed < 1.0


# --------------------------------------------------------------------------- TCP


def test_refused_port_refuses(lab: Lab) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", lab.refused_port), timeout=1).close()


def test_blackhole_port_times_out_the_connect(lab: Lab) -> None:
    assert lab.ports_json()["blackhole_proven"]
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        socket.create_connection(("127.0.0.1", lab.blackhole_port), timeout=0.3).close()
    assert time.perf_counter() - started >= 0.29
    with pytest.raises(httpx.ConnectTimeout):
        httpx.get(f"http://127.0.0.1:{lab.blackhole_port}/", timeout=httpx.Timeout(1, connect=0.3))


# --------------------------------------------------------------------------- DNS


async def test_dns_a_and_aaaa(lab: Lab) -> None:
    r = resolver(lab.dns_port)
    a = await r.resolve("app.lab.test", "A", search=False)
    aaaa = await r.resolve("app.lab.test", "AAAA", search=False)
    assert a.rrset is not None and aaaa.rrset is not None
    assert ([x.to_text() for x in a], a.rrset.ttl) == (["127.0.0.1"], 300)
    assert ([x.to_text() for x in aaaa], aaaa.rrset.ttl) == (["::1"], 200)


async def test_dns_v4_only_name_has_no_aaaa(lab: Lab) -> None:
    with pytest.raises(dns.resolver.NoAnswer):
        await resolver(lab.dns_port).resolve("v4.lab.test", "AAAA", search=False)


async def test_dns_cname_chain(lab: Lab) -> None:
    answer = await resolver(lab.dns_port).resolve("cname.lab.test", "A", search=False)
    assert answer.canonical_name.to_text() == "app.lab.test."
    assert len(answer.chaining_result.cnames) == 2
    assert answer.chaining_result.minimum_ttl == 60
    assert [x.to_text() for x in answer] == ["127.0.0.1"]


async def test_dns_pool_has_two_addresses(lab: Lab) -> None:
    answer = await resolver(lab.dns_port).resolve("pool.lab.test", "A", search=False)
    assert sorted(x.to_text() for x in answer) == ["127.0.0.1", "127.0.0.2"]


async def test_dns_nxdomain_servfail_drop(lab: Lab) -> None:
    r = resolver(lab.dns_port, lifetime=0.4)
    with pytest.raises(dns.resolver.NXDOMAIN):
        await r.resolve("nx.lab.test", "A", search=False)
    with pytest.raises(dns.resolver.NoNameservers, match="SERVFAIL"):
        await r.resolve("servfail.lab.test", "A", search=False)
    started = time.perf_counter()
    with pytest.raises(dns.resolver.LifetimeTimeout):
        await r.resolve("drop.lab.test", "A", search=False)
    assert time.perf_counter() - started >= 0.35


async def test_dns_slow_names_answer_late(lab: Lab) -> None:
    r = resolver(lab.dns_port, lifetime=2.0)
    r.timeout = 1.0
    for name, seconds in (("slow.lab.test", 0.2), ("slow-80.lab.test", 0.08)):
        started = time.perf_counter()
        answer = await r.resolve(name, "A", search=False)
        assert [x.to_text() for x in answer] == ["127.0.0.1"]
        assert time.perf_counter() - started >= seconds


async def test_dns_runtime_records_override_the_table(lab: Lab) -> None:
    lab.dns.add("added.lab.test", "A", ["127.0.0.9"], ttl=42)
    lab.dns.add("elsewhere.example", "AAAA", ["::1"])
    r = resolver(lab.dns_port)
    answer = await r.resolve("added.lab.test", "A", search=False)
    assert answer.rrset is not None
    assert ([x.to_text() for x in answer], answer.rrset.ttl) == (["127.0.0.9"], 42)
    assert [x.to_text() for x in await r.resolve("elsewhere.example", "AAAA")] == ["::1"]
    with pytest.raises(ValueError):  # a bad value fails in the caller, not in the server
        lab.dns.add("bad.lab.test", "A", ["not-an-address"])


def test_dns_runtime_records_cancel_a_names_trick() -> None:
    table = DnsTable()
    assert table.resolve("servfail.lab.test", "A").rcode == dns.rcode.SERVFAIL
    table.add("servfail.lab.test", "CNAME", ["v4.lab.test"])  # no trailing dot needed
    answer = table.resolve("servfail.lab.test", "A").answer
    assert [rrset.to_text() for rrset in answer] == [
        "servfail.lab.test. 300 IN CNAME v4.lab.test.",
        "v4.lab.test. 300 IN A 127.0.0.1",
    ]
    assert table.addresses("servfail.lab.test") == ["127.0.0.1"]


async def test_dns_servers_that_disagree(lab: Lab) -> None:
    other = lab.add_dns_server({"app.lab.test": ["127.0.0.2"]})
    assert other != lab.dns_port
    main, second = resolver(lab.dns_port), resolver(other)
    assert [x.to_text() for x in await second.resolve("app.lab.test", "A")] == ["127.0.0.2"]
    assert [x.to_text() for x in await main.resolve("app.lab.test", "A")] == ["127.0.0.1"]
    assert [x.to_text() for x in await second.resolve("v4.lab.test", "A")] == ["127.0.0.1"]
    assert other in lab.ports_json()["extra_dns_ports"]


async def test_dns_big_answers_truncate_over_udp_and_come_over_tcp(lab: Lab) -> None:
    addresses = [f"127.0.1.{i}" for i in range(1, 120)]
    lab.dns.add("many.lab.test", "A", addresses)
    query = dns.message.make_query("many.lab.test", "A")
    udp = await dns.asyncquery.udp(query, "127.0.0.1", port=lab.dns_port, timeout=1)
    assert udp.flags & dns.flags.TC
    tcp = await dns.asyncquery.tcp(query, "127.0.0.1", port=lab.dns_port, timeout=1)
    assert len(tcp.answer[0]) == len(addresses)
    answer = await resolver(lab.dns_port).resolve("many.lab.test", "A")
    assert len(answer) == len(addresses)


async def test_dns_garbage_does_not_stop_the_server(lab: Lab) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"\x00", ("127.0.0.1", lab.dns_port))
        sock.sendto(b"\x12\x34" + b"\xff" * 20, ("127.0.0.1", lab.dns_port))
        sock.settimeout(1)
        reply = sock.recv(512)
    assert reply[:2] == b"\x12\x34"  # FORMERR echoing the id
    assert await resolver(lab.dns_port).resolve("app.lab.test", "A")


# --------------------------------------------------------------------------- proxies


def proxy_connect(port: int, target: str, extra: str = "") -> tuple[int, dict[str, str], float]:
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{extra}\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk
            head += chunk
    status, headers, _ = split_response(head)
    return status, headers, time.perf_counter() - started


def test_open_proxy_tunnels_tls(lab: Lab, ca_context: ssl.SSLContext) -> None:
    proxy = f"http://127.0.0.1:{lab.proxy_ports['open']}"
    with httpx.Client(proxy=proxy, verify=ca_context, timeout=2) as client:
        response = client.get(lab.url("/echo", scheme="https", host="app.lab.test"))
    assert response.json()["sni"] == "app.lab.test"
    status, headers, _ = proxy_connect(lab.proxy_ports["open"], f"localhost:{lab.http_port}")
    assert status == 200 and headers["via"] == "1.1 gatewatch-lab-proxy"


def test_open_proxy_forwards_absolute_form(lab: Lab) -> None:
    proxy = f"http://127.0.0.1:{lab.proxy_ports['open']}"
    with httpx.Client(proxy=proxy, timeout=2) as client:
        seen = client.get(lab.url("/echo?q=1", host="app.lab.test")).json()
        with pytest.raises(httpx.ReadError):
            client.get(lab.url("/reset-mid", host="app.lab.test"))  # the RST comes through
    assert seen["target"] == "/echo?q=1"
    headers = {k.lower(): v for k, v in seen["headers"]}
    assert headers["via"] == "1.1 gatewatch-lab-proxy" and headers["connection"] == "close"


def test_auth_proxy_wants_credentials(lab: Lab, ca_context: ssl.SSLContext) -> None:
    port = lab.proxy_ports["auth"]
    status, headers, _ = proxy_connect(port, f"app.lab.test:{lab.http_port}")
    assert status == 407
    assert headers["proxy-authenticate"] == 'Basic realm="lab"'
    assert headers["via"] == "1.1 gatewatch-lab-proxy"
    with pytest.raises(httpx.ProxyError, match="407"):
        httpx.get(lab.url("/ok", scheme="https"), proxy=f"http://127.0.0.1:{port}", timeout=2)
    user, password = lab.proxy_credentials
    proxy = f"http://{user}:{password}@127.0.0.1:{port}"
    response = httpx.get(lab.url("/ok", scheme="https"), proxy=proxy, verify=ca_context, timeout=2)
    assert response.text == "ok\n"
    forwarded = httpx.get(lab.url("/ok"), proxy=f"http://127.0.0.1:{port}", timeout=2)
    assert forwarded.status_code == 407


def test_fail_proxy_answers_502(lab: Lab) -> None:
    port = lab.proxy_ports["fail"]
    status, headers, _ = proxy_connect(port, f"app.lab.test:{lab.http_port}")
    assert (status, headers["via"]) == (502, "1.1 gatewatch-lab-proxy")
    response = httpx.get(lab.url("/ok"), proxy=f"http://127.0.0.1:{port}", timeout=2)
    assert response.status_code == 502 and response.headers["via"] == "1.1 gatewatch-lab-proxy"


def test_slow_proxy_answers_connect_late(lab: Lab) -> None:
    status, _, elapsed = proxy_connect(lab.proxy_ports["slow"], f"127.0.0.1:{lab.http_port}")
    assert status == 200 and elapsed >= 0.05


@pytest.mark.parametrize(
    ("target", "status"),
    [("refused", 502), ("nx.lab.test:80", 502), ("192.0.2.1:80", 403), ("nonsense", 400)],
)
def test_proxy_refuses_what_it_cannot_reach(lab: Lab, target: str, status: int) -> None:
    if target == "refused":
        target = f"127.0.0.1:{lab.refused_port}"
    assert proxy_connect(lab.proxy_ports["open"], target)[0] == status


# --------------------------------------------------------------------------- lifecycle & CLI


def test_url_and_ports_json(lab: Lab) -> None:
    assert lab.url() == f"http://127.0.0.1:{lab.http_port}/ok"
    assert lab.url("/x", scheme="https", cert="expired", host="app.lab.test") == (
        f"https://app.lab.test:{lab.https_ports['expired']}/x"
    )
    assert lab.url("/ok", host="::1") == f"http://[::1]:{lab.http_port}/ok"
    assert lab.url("/ok", scheme="https", cert="slow").endswith(f":{lab.tls_slow_port}/ok")
    with pytest.raises(ValueError):
        lab.url(scheme="https", cert="nope")
    data = json.loads(json.dumps(lab.ports_json()))
    assert data["https_ports"] == lab.https_ports and data["proxy_ports"] == lab.proxy_ports
    assert data["dns_port"] == lab.dns_port and data["ca_bundle"] == lab.ca_bundle
    assert set(data["https_ports"]) == {
        "valid", "expired", "not_yet_valid", "wrong_host", "self_signed", "unknown_ca", "expiring",
    }  # fmt: skip


def test_lab_refuses_non_loopback_hosts_and_needs_start() -> None:
    with pytest.raises(ValueError):
        Lab(host="10.0.0.1")
    lab = Lab()
    with pytest.raises(RuntimeError):
        _ = lab.http_port
    lab.stop()  # stopping a lab that never started is fine


def test_stop_is_quick_with_clients_hanging() -> None:
    lab = Lab(tls_delay_ms=5000).start()
    assert lab.start() is lab  # idempotent
    ca_bundle, http_port = Path(lab.ca_bundle), lab.http_port
    clients = []
    connections = {
        "/hang": (lab.http_port, request_bytes("/hang")),
        "/endless": (lab.http_port, request_bytes("/endless")),
        "/trickle-body": (lab.http_port, request_bytes("/trickle-body/1000")),
        "tls stall": (lab.tls_stall_port, b"\x16\x03\x01"),
        "tls slow": (lab.tls_slow_port, b""),
        "CONNECT": (
            lab.proxy_ports["open"],
            f"CONNECT 127.0.0.1:{lab.http_port} HTTP/1.1\r\n\r\n".encode(),
        ),
    }
    kinds = list(connections)
    for port, data in connections.values():
        sock = socket.create_connection(("127.0.0.1", port), timeout=2)
        sock.sendall(data)
        clients.append(sock)
    deadline = time.monotonic() + 10
    while lab.hits("/") < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lab.hits("/") == 3  # the three fault-app requests are being served
    tunnel = clients[kinds.index("CONNECT")]
    assert tunnel.recv(4096).startswith(b"HTTP/1.1 200")  # the tunnel is up
    started = time.perf_counter()
    lab.stop()
    assert time.perf_counter() - started < 2.0
    assert not lab.running and not ca_bundle.exists()
    for what, sock in zip(kinds, clients, strict=True):  # the server ended every connection
        sock.settimeout(1)
        with sock:
            try:
                while sock.recv(65536):
                    pass
            except ConnectionResetError:
                pass
            except TimeoutError:
                raise AssertionError(f"the {what} connection was left open") from None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", http_port), timeout=1).close()
    with Lab() as again:  # and a new lab starts fine afterwards
        assert httpx.get(again.url(), timeout=2).text == "ok\n"


def test_python_m_gatewatch_lab_json() -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    command = [sys.executable, "-m", "gatewatch.lab", "--json"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True) as process:
        try:
            assert process.stdout is not None
            data = json.loads(process.stdout.readline())
            assert data["pid"] == process.pid
            assert httpx.get(f"http://127.0.0.1:{data['http_port']}/ok", timeout=2).text == "ok\n"
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
            assert not Path(data["ca_bundle"]).exists()
        finally:
            if process.poll() is None:
                process.kill()


def test_lab_serves_other_event_loops() -> None:
    """The lab's own loop is independent: an asyncio client in this thread is fine."""

    async def probe() -> str:
        with Lab() as lab:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(lab.url())).text

    assert asyncio.run(probe()) == "ok\n"


async def test_lab_gateway_fails_like_nginx(lab: Lab) -> None:
    """The lab's reverse proxy relays for real and, on failure, sends nginx's own page,
    so gatewatch recognises it as the real nginx (tests/test_real_gateways.py)."""
    from gatewatch.diagnose import annotate
    from gatewatch.model import Endpoint
    from gatewatch.probe import Prober

    prober = Prober(environ={})
    relayed = await prober.probe(
        Endpoint(name="ok", url=lab.url(f"/gateway/{lab.http_port}/ok"), timeout=5)
    )
    assert relayed.ok and relayed.response is not None and relayed.response.body == b"ok\n"
    refused = lab.url(f"/gateway/{lab.refused_port}/health")
    result = annotate(await prober.probe(Endpoint(name="gw", url=refused, timeout=5)))
    assert result.status_code == 502 and result.verdict is not None
    assert result.verdict.generator == "nginx" and result.verdict.kind == "upstream_failed"
    origin = f"http://127.0.0.1:{lab.refused_port}/health"
    settled = annotate(await prober.probe(Endpoint(name="gw", url=refused, origin=origin,
                                                   timeout=5)))
    assert settled.verdict is not None and settled.verdict.kind == "upstream_refused"
    slow = lab.url(f"/gateway/{lab.http_port}/delay/3000")
    timed_out = annotate(await prober.probe(Endpoint(name="gw", url=slow, timeout=5)))
    assert timed_out.status_code == 504
    assert timed_out.verdict is not None and timed_out.verdict.kind == "upstream_timeout"
    await prober.aclose()
