"""HTTP/2 in the probe, the taxonomy, the verdict, the checklist, the watchlist and the CLI.

The real-gateway scenarios are in test_real_http2.py. Here: two small TLS servers on
loopback for what nginx and HAProxy will not do on demand (a GOAWAY carrying hostile
debug data; a listener that offers h2 in ALPN and then speaks HTTP/1.1), and pure tests
over data for the taxonomy, the rules and the follow-up decision.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import httpcore
import pytest
import trustme

import diagnose_factory as f
from gatewatch.checklist.context import follow_up_version
from gatewatch.cli import build_parser
from gatewatch.cli.diagnose import add_probe_options, endpoint_from_args
from gatewatch.diagnose import annotate
from gatewatch.model import Endpoint, ProbeResult, result_to_json
from gatewatch.probe import Prober
from gatewatch.probe.errors import classify
from gatewatch.report import render_result
from gatewatch.watchlist import WatchlistError, loads


def hostile_debug_data() -> bytes:
    """GOAWAY debug data as a hostile server writes it: escapes, a bell, markup."""
    return b"\x1b[31mcalm down\x07 [/] [b]now[/b]"


# --------------------------------------------------------------------------- servers


@dataclass
class TlsServer:
    port: int
    ca: Path
    requests: list[str]


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, list[str]], Awaitable[None]]


@pytest.fixture(scope="module")
def ca_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    directory = tmp_path_factory.mktemp("h2-unit-certs")
    ca = trustme.CA()
    now = dt.datetime.now(dt.UTC)
    leaf = ca.issue_cert(
        "127.0.0.1", not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=9)
    )
    ca_path = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    leaf.configure_cert(server)
    server.set_alpn_protocols(["h2", "http/1.1"])
    return ca_path, server


async def serve(
    handler: Handler, ca_files: tuple[Path, ssl.SSLContext]
) -> AsyncIterator[TlsServer]:
    ca, context = ca_files
    seen: list[str] = []

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer, seen)
        finally:
            writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", 0, ssl=context)
    try:
        yield TlsServer(server.sockets[0].getsockname()[1], ca, seen)
    finally:
        server.close()


async def goaway_server(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    seen: list[str],
    *,
    code: int = h2.errors.ErrorCodes.ENHANCE_YOUR_CALM,
    last_stream_id: int = 0,
) -> None:
    """A real h2 server (the h2 package) that answers the first request with GOAWAY
    (and nothing else: with last_stream_id 1 it promised a response it never sends)."""
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    conn.initiate_connection()
    writer.write(conn.data_to_send())
    while data := await reader.read(65536):
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                seen.append(dict(event.headers or []).get(b":path", b"").decode())
                conn.close_connection(
                    error_code=code,
                    additional_data=hostile_debug_data(),
                    last_stream_id=last_stream_id,
                )
                writer.write(conn.data_to_send())
                await writer.drain()
                return  # and close
        writer.write(conn.data_to_send())
        await writer.drain()


async def graceful_goaway_then_close(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: list[str]
) -> None:
    await goaway_server(reader, writer, seen, code=0, last_stream_id=1)


async def h1_behind_h2_alpn(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: list[str]
) -> None:
    """Offers h2 in ALPN, then talks HTTP/1.1: what a TLS pass-through to an h1 server does."""
    first = await reader.read(65536)
    seen.append(first[:24].decode("latin-1"))
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()


@pytest.fixture
async def goaway(ca_files: tuple[Path, ssl.SSLContext]) -> AsyncIterator[TlsServer]:
    async for server in serve(goaway_server, ca_files):
        yield server


@pytest.fixture
async def graceful_then_close(ca_files: tuple[Path, ssl.SSLContext]) -> AsyncIterator[TlsServer]:
    async for server in serve(graceful_goaway_then_close, ca_files):
        yield server


@pytest.fixture
async def fake_h2(ca_files: tuple[Path, ssl.SSLContext]) -> AsyncIterator[TlsServer]:
    async for server in serve(h1_behind_h2_alpn, ca_files):
        yield server


async def probe(server: TlsServer, **kw: object) -> ProbeResult:
    prober = Prober(environ={})
    try:
        endpoint = Endpoint(
            name="h2", url=f"https://127.0.0.1:{server.port}/x", ca_bundle=str(server.ca), timeout=5
        )
        return annotate(await prober.probe(endpoint.replace(**kw)))
    finally:
        await prober.aclose()


# --------------------------------------------------------------------------- real h2 wire


async def test_goaway_names_its_code_and_shows_debug_data_as_untrusted_text(
    goaway: TlsServer,
) -> None:
    result = await probe(goaway)
    assert goaway.requests == ["/x"]
    upstream = result.hop("upstream")
    assert upstream.kind == "h2_goaway"
    assert upstream.detail["h2_error"] == "ENHANCE_YOUR_CALM"
    assert upstream.detail["h2_last_stream_id"] == 0
    assert "\x1b" in upstream.detail["h2_debug_data"]  # kept as sent, for JSON's \u escapes
    assert result.http_version == "2"
    text = render_result(result)
    assert "\x1b" not in text and "\x07" not in text  # made visible, never sent raw
    assert "[/]" in text  # shown, not parsed
    assert result.verdict is not None and result.verdict.kind == "h2_goaway"
    assert any("debug data" in line for line in result.verdict.evidence)


async def test_a_graceful_goaway_with_no_response_after_it_is_still_named(
    graceful_then_close: TlsServer,
) -> None:
    """The GOAWAY held back for a response that never came reaches httpcore before EOF."""
    result = await probe(graceful_then_close)
    upstream = result.hop("upstream")
    assert upstream.kind == "h2_goaway", upstream
    assert (upstream.detail["h2_error"], upstream.detail["h2_last_stream_id"]) == ("NO_ERROR", 1)


async def test_h2_offered_but_http11_spoken_is_a_broken_preface(fake_h2: TlsServer) -> None:
    result = await probe(fake_h2)
    assert fake_h2.requests == ["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"]  # we sent the h2 preface
    upstream = result.hop("upstream")
    assert upstream.kind == "h2_preface_failed", upstream
    assert result.hop("tls").detail["alpn"] == "h2"
    assert result.verdict is not None
    assert (result.verdict.cause, result.verdict.hop) == ("proxy", "upstream")


async def test_http11_forced_never_offers_h2(fake_h2: TlsServer) -> None:
    result = await probe(fake_h2, http_version="1.1")
    assert result.hop("tls").detail["alpn"] == "http/1.1"
    assert result.http_version == "1.1" and result.status_code == 400
    assert fake_h2.requests[0].startswith("GET /x HTTP/1.1")


# --------------------------------------------------------------------------- taxonomy


def reset(code: int, phase: str = "wait") -> str:
    event = h2.events.StreamReset(stream_id=1, error_code=code, remote_reset=True)
    exc = httpcore.RemoteProtocolError(event)
    return classify(exc, phase, target="x:1", h2=True, h2_settings=True).kind


def test_rst_stream_kinds_by_error_code() -> None:
    assert reset(h2.errors.ErrorCodes.REFUSED_STREAM) == "h2_refused_stream"
    assert reset(h2.errors.ErrorCodes.INTERNAL_ERROR) == "h2_stream_reset"
    assert reset(h2.errors.ErrorCodes.PROTOCOL_ERROR) == "h2_stream_reset"
    assert reset(0xFF) == "h2_stream_reset"
    assert reset(h2.errors.ErrorCodes.INTERNAL_ERROR, "body") == "truncated_body"


def test_unknown_error_code_is_spelled_out() -> None:
    event = h2.events.StreamReset(stream_id=1, error_code=0xFF, remote_reset=True)
    failure = classify(
        httpcore.RemoteProtocolError(event), "wait", target="x:1", h2=True, h2_settings=True
    )
    assert "unknown error code 0xff" in failure.message


def test_protocol_errors_before_and_after_settings() -> None:
    exc = httpcore.LocalProtocolError(h2.exceptions.ProtocolError("Invalid input"))
    exc.__context__ = h2.exceptions.ProtocolError("Invalid input")
    before = classify(exc, "wait", target="x:1", h2=True, h2_settings=False)
    after = classify(exc, "wait", target="x:1", h2=True, h2_settings=True)
    assert (before.kind, after.kind) == ("h2_preface_failed", "h2_protocol_error")
    closed = httpcore.RemoteProtocolError("Server disconnected")
    assert classify(closed, "wait", target="x:1", h2=True).kind == "h2_preface_failed"
    # After the server's SETTINGS, a close without GOAWAY is a close, not a broken preface.
    assert classify(closed, "wait", target="x:1", h2=True, h2_settings=True).kind == (
        "upstream_closed"
    )
    # Over HTTP/1.1 no HTTP/2 kind is ever named.
    assert not classify(closed, "wait", target="x:1").kind.startswith("h2_")


def test_no_application_protocol_alert_only_names_h2_when_h2_was_required() -> None:
    alert = ssl.SSLError(1, "[SSL] tlsv1 alert no application protocol (_ssl.c:1006)")
    wrapped = httpcore.ConnectError(str(alert))
    wrapped.__cause__ = alert
    assert classify(wrapped, "tls", target="x:1", require_h2=True).kind == "h2_not_offered"
    assert classify(wrapped, "tls", target="x:1").kind == "handshake_failed"


# --------------------------------------------------------------------------- verdicts


def over(result: ProbeResult, version: str) -> ProbeResult:
    return result.replace(http_version=version)


def gateway_502() -> ProbeResult:
    page = f.response(502, "Bad Gateway", [("Server", "nginx")], "<center>nginx</center>")
    return f.gateway_error(page)


def test_fails_over_http2_only_when_the_follow_up_passes() -> None:
    result = over(gateway_502(), "2").replace(other_version=over(f.ok(), "1.1"))
    annotated = annotate(result)
    verdict = annotated.verdict
    assert verdict is not None and verdict.kind == "h2_only"
    assert verdict.summary == "fails over HTTP/2 only: 502 over HTTP/2, 200 over HTTP/1.1"
    assert (verdict.cause, verdict.hop) == ("proxy", "upstream")
    assert not annotated.ok  # still a failure: HTTP/2 clients see it
    doc = result_to_json(annotated)
    assert doc["http_version"] == "2" and doc["other_version"]["http_version"] == "1.1"
    assert doc["other_version"]["verdict"]["cause"] == "healthy"


def test_failing_over_both_keeps_the_gateways_verdict() -> None:
    result = over(gateway_502(), "1.1").replace(other_version=over(gateway_502(), "2"))
    verdict = annotate(result).verdict
    alone = annotate(over(gateway_502(), "1.1")).verdict
    assert verdict is not None and alone is not None
    assert (verdict.cause, verdict.kind) == (alone.cause, alone.kind)
    assert any("not specific to one HTTP version" in e for e in verdict.evidence)


def test_without_a_follow_up_the_json_has_no_other_version() -> None:
    doc = result_to_json(annotate(over(gateway_502(), "2")))
    assert "other_version" not in doc and doc["http_version"] == "2"


@pytest.mark.parametrize(
    ("spoken", "url", "setting", "alpn", "expected"),
    [
        ("2", "https://a/", "auto", "h2", "1.1"),
        ("1.1", "https://a/", "auto", "h2", "2"),
        ("1.1", "https://a/", "auto", "http/1.1", None),  # the server does not offer h2
        ("1.1", "https://a/", "1.1", "http/1.1", "2"),  # forced: we did not ask
        ("1.1", "http://a/", "auto", None, None),  # no h2 without TLS
    ],
)
def test_follow_up_version(
    spoken: str, url: str, setting: str, alpn: str | None, expected: str | None
) -> None:
    failed = over(gateway_502(), spoken).replace(url=url)
    tls = failed.hop("tls")
    hops = tuple(
        h if h.name != "tls" else tls.__class__(tls.name, tls.status, tls.ms, detail={"alpn": alpn})
        for h in failed.hops
    )
    endpoint = Endpoint(name="a", url=url, http_version=setting)  # type: ignore[arg-type]
    assert follow_up_version(failed.replace(hops=hops), endpoint) == expected


def test_no_follow_up_for_a_healthy_probe_or_a_connect_failure() -> None:
    endpoint = Endpoint(name="a", url="https://a/")
    assert follow_up_version(over(f.ok(), "2"), endpoint) is None
    refused = f.result(fail="tcp", kind="refused", error="refused")
    assert follow_up_version(refused, endpoint) is None


# --------------------------------------------------------------------------- input


@pytest.mark.parametrize(
    ("raw", "value"), [('"auto"', "auto"), ('"2"', "2"), ("2", "2"), ("1.1", "1.1")]
)
def test_watchlist_http_version(raw: str, value: str) -> None:
    wl = loads(f'[[endpoint]]\nname = "a"\nurl = "https://a/"\nhttp_version = {raw}\n')
    assert wl.endpoints[0].http_version == value


def test_watchlist_http_version_default_and_typo() -> None:
    assert loads('[[endpoint]]\nname = "a"\nurl = "https://a/"\n').endpoints[0].http_version == (
        "auto"
    )
    with pytest.raises(WatchlistError) as caught:
        loads('[[endpoint]]\nname = "a"\nurl = "https://a/"\nhttp_version = "h3"\n')
    error = caught.value.errors[0]
    assert (error.line, error.key) == (4, "endpoint[1].http_version")
    assert "auto" in str(caught.value)


def test_cli_version_flags() -> None:
    parser = argparse.ArgumentParser()
    add_probe_options(parser)
    assert endpoint_from_args(parser.parse_args(["https://a/"])).http_version == "auto"
    assert endpoint_from_args(parser.parse_args(["https://a/", "--http2"])).http_version == "2"
    assert endpoint_from_args(parser.parse_args(["https://a/", "--http1.1"])).http_version == "1.1"
    with pytest.raises(SystemExit):
        parser.parse_args(["https://a/", "--http2", "--http1.1"])
    check = build_parser().parse_args(["check", "wl.toml", "--http2"])
    assert check.http_version == "2"


async def test_check_applies_the_flag_to_every_endpoint(tmp_path: Path, fake_h2: TlsServer) -> None:
    from gatewatch.cli import main

    watchlist = tmp_path / "wl.toml"
    watchlist.write_text(
        f'[[endpoint]]\nname = "a"\nurl = "https://127.0.0.1:{fake_h2.port}/"\n'
        f'ca_bundle = "{fake_h2.ca}"\ntimeout = 5\n'
    )
    out, err = io.StringIO(), io.StringIO()
    # check runs its own event loop: off this test's loop, which serves fake_h2.
    code = await asyncio.to_thread(main, ["check", str(watchlist), "--http1.1", "--json"], out, err)
    doc = json.loads(out.getvalue())
    assert code == 1 and doc[0]["http_version"] == "1.1", err.getvalue()
    assert fake_h2.requests[0].startswith("GET / HTTP/1.1")


# --------------------------------------------------------------------------- ALPN on the wire


@pytest.mark.parametrize(
    ("setting", "alpn_extension"),
    [
        ("auto", b"\x00\x0c\x02h2\x08http/1.1"),  # h2 first, as browsers offer
        ("2", b"\x00\x03\x02h2"),
        ("1.1", b"\x00\x09\x08http/1.1"),
    ],
)
async def test_the_client_hello_offers_what_http_version_says(
    setting: str, alpn_extension: bytes
) -> None:
    """Read the ClientHello off the wire: httpcore offers http/1.1 first; we must not."""
    hello: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def capture(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read(4096)
        if not hello.done():
            hello.set_result(data)
        writer.close()

    server = await asyncio.start_server(capture, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    prober = Prober(environ={})
    try:
        endpoint = Endpoint(name="a", url=f"https://127.0.0.1:{port}/", timeout=5)
        result = await prober.probe(endpoint.replace(http_version=setting))
    finally:
        await prober.aclose()
        server.close()
    assert result.hop("tls").status == "fail"
    data = await asyncio.wait_for(hello, 5)
    # ALPN extension (type 0x0010): list length, then each protocol length-prefixed.
    assert b"\x00\x10" + (len(alpn_extension)).to_bytes(2, "big") + alpn_extension in data


def test_the_endpoint_form_keeps_a_forced_version() -> None:
    """Editing an endpoint on the board must not reset its http_version to auto."""
    from gatewatch.tui.screens.endpoint_form import initial_values, to_fields
    from gatewatch.watchlist import endpoint_errors

    endpoint = Endpoint(name="a", url="https://a/", http_version="2")
    fields, errors = to_fields(initial_values(endpoint))
    assert fields["http_version"] == "2" and not errors and not endpoint_errors(fields)
    auto, _ = to_fields(initial_values(endpoint.replace(http_version="auto")))
    assert "http_version" not in auto  # empty: the default (or [defaults]) applies
    assert "http_version" in endpoint_errors({**fields, "http_version": "3"})


@pytest.mark.parametrize(
    ("url", "setting", "flag"),
    [
        ("https://a/", "1.1", "--http1.1"),
        ("https://a/", "2", "--http2"),
        ("http://a/", "2", "--http2-prior-knowledge"),
        ("https://a/", "auto", None),
    ],
)
def test_the_reports_curl_line_speaks_the_same_version(
    url: str, setting: str, flag: str | None
) -> None:
    from gatewatch.checklist.curl import curl_command
    from gatewatch.checklist.redact import Redactor

    endpoint = Endpoint(name="a", url=url, http_version=setting)  # type: ignore[arg-type]
    line = curl_command(endpoint, None, Redactor.for_endpoint(endpoint, {}))
    options = line.split()
    for known in ("--http1.1", "--http2", "--http2-prior-knowledge"):
        assert (known in options) == (known == flag), (known, line)


# --------------------------------------------------------------------------- GOAWAY hold


def frame(kind: int, payload: bytes, stream: int = 0, flags: int = 0) -> bytes:
    return (
        len(payload).to_bytes(3, "big")
        + bytes([kind, flags])
        + stream.to_bytes(4, "big")
        + (payload)
    )


def goaway_frame(last: int, code: int) -> bytes:
    return frame(0x7, last.to_bytes(4, "big") + code.to_bytes(4, "big") + b"bye")


def test_goaway_hold_keeps_a_graceful_goaway_until_the_end() -> None:
    from gatewatch.probe.h2frames import GoawayHold

    settings, headers = frame(0x4, b""), frame(0x1, b"\x88", stream=1, flags=0x4)
    hold = GoawayHold()
    wire = settings + goaway_frame(1, 0) + headers
    # Split anywhere: frames come out whole, in order, minus the held GOAWAY.
    assert hold.feed(wire[:5]) == b""
    assert hold.feed(wire[5:20]) == settings
    assert hold.feed(wire[20:]) == headers
    assert hold.held_goaway == (1, 0)
    assert hold.end() == goaway_frame(1, 0)


@pytest.mark.parametrize("bad", [goaway_frame(1, 11), goaway_frame(0, 0)])
def test_goaway_hold_passes_errors_and_goaways_that_exclude_us(bad: bytes) -> None:
    from gatewatch.probe.h2frames import GoawayHold

    hold = GoawayHold()
    assert hold.feed(frame(0x4, b"") + bad) == frame(0x4, b"") + bad
    assert hold.held_goaway is None


def test_goaway_hold_passes_what_is_not_http2() -> None:
    from gatewatch.probe.h2frames import GoawayHold

    hold = GoawayHold()
    page = b"HTTP/1.1 400 Bad Request\r\n\r\n"
    assert hold.feed(page) == page  # h2 must see it to name the broken preface
