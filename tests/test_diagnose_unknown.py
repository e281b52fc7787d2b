"""A gateway in no table: unknown is unknown, identity from history, generic pages, timers.

Pure data tests (diagnose does no I/O); the lab's own edgeproxy and forward proxy are
probed for real at the end, so the names come from bytes on a socket, not fixtures.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
from typing import Any

import pytest

from diagnose_factory import gateway_error, ok, response
from gatewatch.cli import main
from gatewatch.diagnose import annotate, diagnose, identify
from gatewatch.diagnose.tiers import (
    generic_gateway_page,
    healthy_identity,
    identity_of,
    product_token,
    round_seconds,
    via_token,
)
from gatewatch.lab import Lab
from gatewatch.model import Endpoint, ProbeResult, Response
from gatewatch.monitor.status import for_history
from gatewatch.probe import Prober

EDGE_502 = "<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>\n"


def _edge(status: int = 502, body: str = EDGE_502) -> Response:
    return response(
        status,
        "Bad Gateway" if status == 502 else "Gateway Timeout",
        [("Server", "edgeproxy/3.1"), ("Content-Type", "text/html")],
        body,
    )


def _healthy(*headers: tuple[str, str]) -> ProbeResult:
    page = response(200, "OK", list(headers), "ok\n")
    return dataclasses.replace(ok(), response=page)


@pytest.mark.parametrize(
    ("value", "token"),
    [("edgeproxy/3.1", "edgeproxy"), ("Apache/2.4.71 (Debian)", "apache"),
     ("Microsoft-IIS/10.0", "microsoft-iis"), ("", None), ("  /x", None)],
)  # fmt: skip
def test_product_token_drops_the_version(value: str, token: str | None) -> None:
    assert product_token(value) == token


@pytest.mark.parametrize(
    ("value", "token"),
    [("1.1 vm (squid/5.7)", "squid"), ("1.1 varnish (Varnish/7.1)", "varnish"),
     ("1.1 edge-7, 1.1 cdn", "edge-7"), ("HTTP/1.1 gatewatch-lab-proxy", "gatewatch-lab-proxy")],
)  # fmt: skip
def test_via_token_prefers_the_product_in_the_comment(value: str, token: str) -> None:
    assert via_token(value) == token


def test_an_unknown_server_is_evidence_of_nothing() -> None:
    """The old rule said 'Server: X is not a gateway' and blamed the app at 0.7."""
    page = response(500, "Internal Server Error", [("Server", "mystery/1")], "<p>oops</p>")
    verdict = diagnose(gateway_error(page))
    assert verdict.generator is None and verdict.confidence <= 0.35, verdict
    assert any("evidence of nothing" in line for line in verdict.evidence)


def test_generic_502_page_names_the_unknown_gateway() -> None:
    verdict = diagnose(gateway_error(_edge(), 3.0))
    assert (verdict.generator, verdict.kind, verdict.cause) == (
        "edgeproxy", "upstream_failed", "backend")  # fmt: skip
    assert verdict.confidence <= 0.75
    assert any("inferred" in line for line in verdict.evidence)
    assert any("could be: upstream_refused" in line for line in verdict.evidence)


def test_504_at_a_whole_second_is_a_gateway_timer() -> None:
    page = response(504, "Gateway Timeout", [("Server", "edgeproxy/3.1")], "timeout")
    verdict = diagnose(gateway_error(page, 2004.0))
    assert (verdict.generator, verdict.kind) == ("edgeproxy", "upstream_timeout"), verdict
    assert any("2 s" in line for line in verdict.evidence)
    assert round_seconds(2004.0) == 2 and round_seconds(2400.0) is None
    assert round_seconds(999.953) == 1  # Varnish's 1 s first_byte_timeout, as measured here
    assert round_seconds(1980.0) is None  # 20 ms early is not a timer
    assert round_seconds(35.0) is None


def test_a_changed_identity_names_the_new_tier() -> None:
    """The healthy answers come from the app (Server: gunicorn-free 'shopd'); the 503 does not."""
    history = [_healthy(("Server", "shopd/2"), ("X-Shop-Build", "41"), ("Cache-Control", "no"))]
    page = response(503, "Service Unavailable", [("Server", "edgeproxy/3.1")], "Try later, sorry.")
    verdict = diagnose(gateway_error(page), history=history)
    assert verdict.generator == "edgeproxy", verdict
    assert any("not on the endpoint's healthy answers" in line for line in verdict.evidence)


def test_same_identity_as_healthy_answers_is_the_apps_error() -> None:
    history = [_healthy(("Server", "shopd/2"), ("X-Shop-Build", "41"), ("Cache-Control", "no"))]
    page = response(
        500,
        "Internal Server Error",
        [("Server", "shopd/2"), ("X-Shop-Build", "41"), ("Cache-Control", "no")],
        "<h1>stack trace</h1>" * 80,
    )
    verdict = diagnose(gateway_error(page), history=history)
    assert (verdict.generator, verdict.kind) == ("app", "app_error"), verdict
    assert any("same identity" in line for line in verdict.evidence)


def test_the_monitor_keeps_a_healthy_answers_identity_but_no_values() -> None:
    full = _healthy(("Server", "shopd/2"), ("Set-Cookie", "session=secret"), ("X-Shop-Build", "4"))
    kept = for_history(full)
    assert kept.response is not None
    assert ("server", "shopd/2") in kept.response.headers
    assert ("set-cookie", "") in kept.response.headers  # the name, never the value
    identity = healthy_identity([kept])
    assert identity == identity_of(full.response or _edge())
    failing = for_history(gateway_error(_edge()))
    assert failing.response is not None and failing.response.headers == ()


def test_json_or_app_server_stays_the_apps_answer() -> None:
    page = response(502, "Bad Gateway", [("Server", "gunicorn"), ("Content-Type", "text/html")],
                    EDGE_502)  # fmt: skip
    assert identify(page).generator == "app"


def test_generic_page_rules() -> None:
    assert generic_gateway_page(response(502, "Bad Gateway", [], "")) == "an empty-body 502"
    assert generic_gateway_page(_edge()) is not None
    big = response(502, "Bad Gateway", [("Content-Type", "text/html")], EDGE_502 + "x" * 2000)
    assert generic_gateway_page(big) is None
    json_page = response(502, "Bad Gateway", [("Content-Type", "application/json")], "{}")
    assert generic_gateway_page(json_page) is None


# --------------------------------------------------------------------------- the lab, for real


async def test_lab_edgeproxy_is_named_from_its_own_token(lab: Lab, prober: Prober) -> None:
    """A reverse proxy in no table, refused upstream: named, kind from status and timing."""
    url = lab.url(f"/edge/{lab.refused_port}/health")
    result = annotate(await prober.probe(Endpoint("edge", url, timeout=5)))
    verdict = result.verdict
    assert verdict is not None and result.response is not None
    assert result.response.header("server") == "edgeproxy/3.1"  # the bytes said so
    assert (verdict.generator, verdict.cause, verdict.kind) == (
        "edgeproxy", "backend", "upstream_failed"), verdict  # fmt: skip
    assert "upstream_refused" in " ".join(verdict.evidence)
    assert result.hop("proxy").detail.get("generator") == "edgeproxy"


async def test_lab_edgeproxy_timeout_is_read_from_the_status(lab: Lab, prober: Prober) -> None:
    url = lab.url(f"/edge/{lab.http_port}/hang")
    result = annotate(await prober.probe(Endpoint("edge", url, timeout=6)))
    verdict = result.verdict
    assert verdict is not None and result.status_code == 504, result
    assert (verdict.generator, verdict.kind) == ("edgeproxy", "upstream_timeout"), verdict
    assert verdict.confidence >= 0.75


async def test_lab_forward_proxy_is_named_from_its_connect_reply(
    lab: Lab, prober: Prober
) -> None:
    """https through the 'fail' proxy: CONNECT answered 502 by fwdproxy/2.4."""
    proxy = f"http://127.0.0.1:{lab.proxy_ports['fail']}"
    endpoint = Endpoint("fwd", lab.url("/ok", scheme="https"), proxy=proxy, timeout=5,
                        ca_bundle=lab.ca_bundle)  # fmt: skip
    result = annotate(await prober.probe(endpoint))
    verdict = result.verdict
    assert verdict is not None
    assert (verdict.hop, verdict.kind, verdict.generator) == (
        "proxy", "proxy_tunnel_failed", "fwdproxy"), verdict  # fmt: skip


async def test_lab_forward_proxy_error_page_is_named(lab: Lab, prober: Prober) -> None:
    """http through the open proxy to a refused origin: the proxy's own 502 page."""
    proxy = f"http://127.0.0.1:{lab.proxy_ports['open']}"
    endpoint = Endpoint("fwd", f"http://127.0.0.1:{lab.refused_port}/", proxy=proxy, timeout=5)
    result = annotate(await prober.probe(endpoint))
    verdict = result.verdict
    assert verdict is not None and result.status_code == 502, result
    assert verdict.generator == "fwdproxy", verdict
    assert verdict.kind == "upstream_failed" and verdict.cause == "backend", verdict


# --------------------------------------------------------------------------- learning the path


async def test_the_monitors_history_names_the_tier_that_changed(lab: Lab, prober: Prober) -> None:
    """Healthy answers through edgeproxy carry the app's identity; its own 502 does not."""
    healthy = annotate(await prober.probe(Endpoint("e", lab.url(f"/edge/{lab.http_port}/ok"))))
    assert healthy.ok, healthy
    history = [for_history(healthy)]  # what the monitor keeps (identity, no values)
    failing = await prober.probe(Endpoint("e", lab.url(f"/edge/{lab.refused_port}/ok")))
    verdict = annotate(failing, history=history).verdict
    assert verdict is not None and verdict.generator == "edgeproxy", verdict
    assert any("not on the endpoint's healthy answers (Server gatewatch-lab)" in line
               for line in verdict.evidence), verdict.evidence  # fmt: skip
    # The kind's claim (one of refused, closed, invalid, dns) is what the confidence is of.
    assert 0.6 <= verdict.confidence <= 0.8


async def _site(routes: dict[str, bytes]) -> tuple[asyncio.Server, int, list[str]]:
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        path = head.split(" ", 2)[1].split("?", 1)[0]
        seen.append(path)
        writer.write(routes.get(path, routes["*"]))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], seen


def _raw(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = f"HTTP/1.1 {status} Whatever\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return (head + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


_SHOP = [("Server", "shopd/2"), ("X-Shop-Build", "41"), ("Cache-Control", "no-store")]


@pytest.mark.parametrize(
    ("failure", "generator"),
    [(_raw(503, [("Server", "edgeproxy/3.1")], b"Try again later, please."), "edgeproxy"),
     (_raw(500, _SHOP, b"<h1>Traceback</h1>" + b"x" * 2000), "app")],
    ids=["another-tier", "same-identity"],
)  # fmt: skip
def test_probe_asks_a_sibling_path_when_it_has_no_history(failure: bytes, generator: str) -> None:
    """``gatewatch probe`` (no history) learns the path from ``/`` after a 5xx."""

    async def run() -> tuple[dict[str, Any], list[str]]:
        server, port, seen = await _site({"/": _raw(200, _SHOP, b"welcome"), "*": failure})
        try:
            out = io.StringIO()
            url = f"http://127.0.0.1:{port}/api/orders"
            code = await asyncio.to_thread(main, ["probe", url, "--json"], out, io.StringIO())
            assert code == 1
            return json.loads(out.getvalue()), seen
        finally:
            server.close()
            await server.wait_closed()

    doc, seen = asyncio.run(run())
    assert seen == ["/api/orders", "/"]  # one extra request, to the site's root
    verdict = doc["verdict"]
    assert verdict["generator"] == generator, verdict
    why = "same identity" if generator == "app" else "not on the endpoint's healthy answers"
    assert any(why in line for line in verdict["evidence"]), verdict
