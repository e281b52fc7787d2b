"""Real-gateway scenarios as data: Apache, Caddy, Varnish, Squid and the lab's own gateways.

One table (``SCENARIOS``) serves two readers: ``tests/test_real_gateways_more.py`` runs
each row against the real binary and asserts the gateway's own log line, then the
verdict; ``bench/accuracy.py`` runs the same rows (and nginx/HAProxy's) and prints how
often the verdict is right at each confidence. A row says what really happened
(``truth``) and what the verdict should say (``said``): they differ when the response
cannot tell kinds apart, and then the verdict must list the truth among its candidates.

The configs are here too, so the tests and the benchmark start the same servers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gatewatch.lab import Lab
from gateways_support import (
    Gateway,
    Ports,
    start_apache,
    start_caddy,
    start_squid,
    start_varnish,
    varnish_log,
)

#: ProxyTimeout, response_header_timeout, first_byte_timeout: 1 s everywhere (2 s: Squid).
TIMEOUT_S = 1

# --------------------------------------------------------------------------- configs


def apache_body(lab: Lab) -> Callable[[Ports], str]:
    """mod_proxy to the lab and to a refused port (``retry=0``: every request tries)."""

    def body(_ports: Ports) -> str:
        return f"""
ProxyTimeout {TIMEOUT_S}
ProxyPass /lab/ http://127.0.0.1:{lab.http_port}/
ProxyPass /refused/ http://127.0.0.1:{lab.refused_port}/ retry=0
"""

    return body


def caddyfile(lab: Lab) -> Callable[[Ports], str]:
    def render(ports: Ports) -> str:
        return f"""{{
\tadmin off
\tauto_https off
}}
http://127.0.0.1:{ports["http"]} {{
\thandle_path /lab/* {{
\t\treverse_proxy 127.0.0.1:{lab.http_port} {{
\t\t\ttransport http {{
\t\t\t\tresponse_header_timeout {TIMEOUT_S}s
\t\t\t\tdial_timeout {TIMEOUT_S}s
\t\t\t}}
\t\t}}
\t}}
\thandle_path /refused/* {{
\t\treverse_proxy 127.0.0.1:{lab.refused_port}
\t}}
}}
"""

    return render


def varnish_vcl(lab: Lab) -> Callable[[Ports], str]:
    def render(_ports: Ports) -> str:
        return f"""vcl 4.1;
backend lab {{
    .host = "127.0.0.1"; .port = "{lab.http_port}";
    .first_byte_timeout = {TIMEOUT_S}s; .connect_timeout = {TIMEOUT_S}s;
}}
backend dead {{ .host = "127.0.0.1"; .port = "{lab.refused_port}"; .connect_timeout = 1s; }}
sub vcl_recv {{
    if (req.url ~ "^/refused/") {{
        set req.backend_hint = dead;
        set req.url = regsub(req.url, "^/refused", "");
    }} else {{
        set req.backend_hint = lab;
        set req.url = regsub(req.url, "^/lab", "");
    }}
    return (pass);
}}
"""

    return render


@dataclass
class Gateways:
    """Running gateways by name (apache, caddy, varnish, squid)."""

    running: dict[str, Gateway] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Gateway:
        return self.running[name]


def start_one(name: str, lab: Lab, directory: Path) -> Gateway:
    """Start gateway ``name`` in front of ``lab`` with its config from this module."""
    directory.mkdir(parents=True, exist_ok=True)
    if name == "apache":
        return start_apache(apache_body(lab), ["http"], directory)
    if name == "caddy":
        return start_caddy(caddyfile(lab), ["http"], directory)
    if name == "varnish":
        return start_varnish(varnish_vcl(lab), ["http"], directory)
    if name == "squid":
        return start_squid(["http"], directory)
    raise ValueError(name)


@contextmanager
def gateways(lab: Lab, directory: Path, names: tuple[str, ...]) -> Iterator[Gateways]:
    """Start ``names`` (one instance each), stop them all on the way out."""
    found = Gateways()
    with ExitStack() as stack:
        for name in names:
            gateway = start_one(name, lab, directory / name)
            stack.callback(gateway.stop)
            found.running[name] = gateway
        yield found


# --------------------------------------------------------------------------- scenarios

#: (gateway, the probe's request tag) → raises AssertionError unless its log shows it.
LogCheck = Callable[[Gateway, str], object]


def _apache(phrase: str, server_wide: str | None = None) -> LogCheck:
    """The error-log line of this request (found through its log id) shows ``phrase``;
    ``server_wide``: a line logged without a request (mod_proxy's connect errors)."""

    def check(gateway: Gateway, tag: str) -> object:
        access = gateway.wait_for_log(rf"probe={tag}\b.* status=", name="access.log")
        log_id = access.split(" ", 1)[0]
        line = gateway.wait_for_log(rf"log_id {re.escape(log_id)}\].*{phrase}", name="error.log")
        if server_wide:
            gateway.wait_for_log(server_wide, name="error.log")
        return line

    return check


def _apache_access(status: int) -> LogCheck:
    def check(gateway: Gateway, tag: str) -> object:
        return gateway.wait_for_log(rf"probe={tag}\b.* status={status}$", name="access.log")

    return check


def _caddy(phrase: str) -> LogCheck:
    def check(gateway: Gateway, tag: str) -> object:
        return gateway.wait_for_log(rf'"http.log.error".*{phrase}.*probe={tag}\b')

    return check


def _varnish(fetch_error: str) -> LogCheck:
    def check(gateway: Gateway, tag: str) -> object:
        return varnish_log(gateway, f'ReqURL ~ "probe={tag}"', rf"FetchError\s+{fetch_error}")

    return check


def _squid(status: str, method: str = "GET") -> LogCheck:
    """Squid's access log: result code/status for this request (CONNECT lines carry no URL
    path, so those are matched by method and status only, after the probe)."""

    def check(gateway: Gateway, tag: str) -> object:
        if method == "CONNECT":
            return gateway.wait_for_log(rf" {re.escape(status)} \d+ CONNECT ", name="access.log")
        return gateway.wait_for_log(rf" {re.escape(status)} .*probe={tag}\b", name="access.log")

    return check


def _none(_gateway: Gateway, _tag: str) -> object:
    return None


#: How a test reaches a scenario: (gateways, lab) → (URL, extra ``gatewatch probe`` args).
Target = Callable[[Gateways, Lab], tuple[str, tuple[str, ...]]]


@dataclass(frozen=True)
class Scenario:
    """One failure (or healthy control) through one real gateway."""

    name: str
    #: Which running gateway: apache, caddy, varnish, squid, or lab (the lab's own).
    gateway: str
    #: What really happened: generator and kind (None, None for a healthy control).
    truth: tuple[str | None, str | None]
    #: The kind the verdict must say ("upstream_failed" when the answer cannot tell).
    said: str | None
    #: How the test reaches it: a function of (gateways, lab) → (url, extra CLI args).
    target: Target
    #: The gateway's own log line (or error-page marker) proving the scenario happened.
    log: LogCheck = _none
    #: Status the gateway answers with (None: no HTTP answer, or a CONNECT failure).
    status: int | None = None
    max_confidence: float = 1.0
    min_confidence: float = 0.0


def _via(gateway: str, path: str, *extra: str) -> Target:
    def target(found: Gateways, _lab: Lab) -> tuple[str, tuple[str, ...]]:
        return found[gateway].url(path), extra

    return target


def _squid_to(scheme: str, path: str) -> Target:
    def target(found: Gateways, lab: Lab) -> tuple[str, tuple[str, ...]]:
        port = lab.refused_port if path == "refused" else lab.http_port
        url = f"{scheme}://127.0.0.1:{port}/{'' if path == 'refused' else path}"
        return url, ("--proxy", found["squid"].url("/").rstrip("/"))

    return target


def _lab(path: Callable[[Lab], str], *extra: str) -> Target:
    def target(_found: Gateways, lab: Lab) -> tuple[str, tuple[str, ...]]:
        return path(lab), extra

    return target


def _fwd(lab: Lab, mode: str, url: str) -> tuple[str, tuple[str, ...]]:
    proxy = f"http://127.0.0.1:{lab.proxy_ports[mode]}"
    return url, ("--proxy", proxy, "--ca-bundle", lab.ca_bundle)


_REFUSED = "upstream_refused"
_FAILED = "upstream_failed"

SCENARIOS: tuple[Scenario, ...] = (
    # ---- Apache httpd mod_proxy
    Scenario("apache-dead", "apache", ("apache", _REFUSED), _FAILED, _via("apache", "/refused/"),
             _apache("AH01114: HTTP: failed to make connection to backend",
                     r"\(111\)Connection refused: AH00957"), 503,
             max_confidence=0.9),
    Scenario("apache-hang", "apache", ("apache", "upstream_timeout"), "upstream_timeout",
             _via("apache", "/lab/hang"),
             _apache(r"\(70007\)The timeout specified has expired: AH01102"), 502,
             min_confidence=0.7),
    Scenario("apache-close", "apache", ("apache", "upstream_closed"), "upstream_closed",
             _via("apache", "/lab/close"), _apache("AH01102: error reading status line"), 502,
             min_confidence=0.7),
    # Apache relays a reply that is not HTTP as an HTTP/0.9 body under its own 200: only an
    # expectation on the body can catch it (as for nginx, gateways.md §0.2).
    Scenario("apache-garbage", "apache", ("app", "body_mismatch"), "body_mismatch",
             _via("apache", "/lab/garbage", "--expect-body", "ok"), _apache_access(200), 200),
    Scenario("apache-app-502", "apache", ("app", "app_error"), "app_error",
             _via("apache", "/lab/status/502?json=1"), _apache_access(502), 502),
    Scenario("apache-healthy", "apache", (None, None), None, _via("apache", "/lab/ok"),
             _apache_access(200), 200),
    # ---- Caddy reverse_proxy
    Scenario("caddy-dead", "caddy", ("caddy", _REFUSED), _FAILED, _via("caddy", "/refused/"),
             _caddy("connect: connection refused"), 502, max_confidence=0.9),
    Scenario("caddy-hang", "caddy", ("caddy", "upstream_timeout"), "upstream_timeout",
             _via("caddy", "/lab/hang"), _caddy("timeout awaiting response headers"), 504,
             min_confidence=0.8),
    Scenario("caddy-close", "caddy", ("caddy", "upstream_closed"), _FAILED,
             _via("caddy", "/lab/close"), _caddy('"msg":"EOF"'), 502, max_confidence=0.9),
    Scenario("caddy-garbage", "caddy", ("caddy", "upstream_invalid_response"), _FAILED,
             _via("caddy", "/lab/garbage"), _caddy("malformed HTTP"), 502, max_confidence=0.9),
    Scenario("caddy-app-502", "caddy", ("app", "app_error"), "app_error",
             _via("caddy", "/lab/status/502?json=1"), status=502),
    Scenario("caddy-healthy", "caddy", (None, None), None, _via("caddy", "/lab/ok"), status=200),
    # ---- Varnish
    Scenario("varnish-dead", "varnish", ("varnish", _REFUSED), _FAILED,
             _via("varnish", "/refused/"), _varnish(r"backend dead: fail errno 111"), 503,
             max_confidence=0.9),
    Scenario("varnish-first-byte-timeout", "varnish", ("varnish", "upstream_timeout"),
             "upstream_timeout", _via("varnish", "/lab/hang"), _varnish("first byte timeout"), 503,
             min_confidence=0.7),
    Scenario("varnish-close", "varnish", ("varnish", "upstream_closed"), _FAILED,
             _via("varnish", "/lab/close"), _varnish(r"HTC eof"), 503, max_confidence=0.9),
    Scenario("varnish-garbage", "varnish", ("varnish", "upstream_invalid_response"), _FAILED,
             _via("varnish", "/lab/garbage"), _varnish("http format error"), 503,
             max_confidence=0.9),
    Scenario("varnish-app-502", "varnish", ("app", "app_error"), "app_error",
             _via("varnish", "/lab/status/502?json=1"), status=502),
    Scenario("varnish-healthy", "varnish", (None, None), None, _via("varnish", "/lab/ok"),
             status=200),
    # ---- Squid as a forward proxy
    Scenario("squid-http-dead-origin", "squid", ("squid", _REFUSED), _REFUSED,
             _squid_to("http", "refused"), _squid("TCP_MISS/503"), 503, min_confidence=0.85),
    Scenario("squid-https-connect-fails", "squid", ("squid", "proxy_tunnel_failed"),
             "proxy_tunnel_failed", _squid_to("https", "refused"),
             _squid("NONE_NONE/503", "CONNECT"), None, min_confidence=0.9),
    Scenario("squid-http-read-timeout", "squid", ("squid", "upstream_timeout"),
             "upstream_timeout", _squid_to("http", "hang"), _squid("TCP_MISS/504"), 504,
             min_confidence=0.85),
    Scenario("squid-http-close", "squid", ("squid", "upstream_closed"), "upstream_closed",
             _squid_to("http", "close"), _squid("TCP_MISS/502"), 502, min_confidence=0.8),
    Scenario("squid-app-502", "squid", ("app", "app_error"), "app_error",
             _squid_to("http", "status/502?json=1"), _squid("TCP_MISS/502"), 502),
    Scenario("squid-healthy", "squid", (None, None), None, _squid_to("http", "ok"),
             _squid("TCP_MISS/200"), 200),
    # ---- The lab's gateways: in no table (edgeproxy, fwdproxy), and RFC 9209 Proxy-Status
    Scenario("lab-edge-refused", "lab", ("edgeproxy", _REFUSED), _FAILED,
             _lab(lambda lab: lab.url(f"/edge/{lab.refused_port}/health")), status=502,
             max_confidence=0.9),
    Scenario("lab-edge-timeout", "lab", ("edgeproxy", "upstream_timeout"), "upstream_timeout",
             _lab(lambda lab: lab.url(f"/edge/{lab.http_port}/hang")), status=504,
             min_confidence=0.75),
    Scenario("lab-edge-close", "lab", ("edgeproxy", "upstream_closed"), _FAILED,
             _lab(lambda lab: lab.url(f"/edge/{lab.http_port}/close")), status=502,
             max_confidence=0.9),
    Scenario("lab-edge-app-502", "lab", ("app", "app_error"), "app_error",
             _lab(lambda lab: lab.url(f"/edge/{lab.http_port}/status/502?json=1")), status=502),
    Scenario("lab-proxy-status-refused", "lab", ("edgeproxy", _REFUSED), _REFUSED,
             _lab(lambda lab: lab.url(f"/edge-ps/{lab.refused_port}/health")), status=502,
             min_confidence=0.85),
    Scenario("lab-proxy-status-timeout", "lab", ("edgeproxy", "upstream_timeout"),
             "upstream_timeout", _lab(lambda lab: lab.url(f"/edge-ps/{lab.http_port}/hang")),
             status=504, min_confidence=0.85),
    Scenario("lab-proxy-status-close", "lab", ("edgeproxy", "upstream_closed"), "upstream_closed",
             _lab(lambda lab: lab.url(f"/edge-ps/{lab.http_port}/close")), status=502,
             min_confidence=0.85),
    Scenario("lab-fwdproxy-connect-fails", "lab", ("fwdproxy", "proxy_tunnel_failed"),
             "proxy_tunnel_failed",
             lambda _g, lab: _fwd(lab, "fail", lab.url("/ok", scheme="https")),
             min_confidence=0.9),
    Scenario("lab-fwdproxy-dead-origin", "lab", ("fwdproxy", _REFUSED), _FAILED,
             lambda _g, lab: _fwd(lab, "open", f"http://127.0.0.1:{lab.refused_port}/"),
             status=502, max_confidence=0.9),
)  # fmt: skip

#: Gateways the table needs, in start order.
NEEDED: tuple[str, ...] = ("apache", "caddy", "varnish", "squid")
