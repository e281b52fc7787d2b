"""``gatewatch lab`` / ``python -m gatewatch.lab``: the lab in the foreground.

Prints what each URL demonstrates, with ready-made ``gatewatch probe`` command lines (or,
with ``--json``, one line of ``Lab.ports_json()`` for scripts and benchmarks), then serves
until Ctrl-C or SIGTERM. The catalogue below is data so the table stays in step with it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from gatewatch.lab import Lab
from gatewatch.lab.certs import CERT_VARIANTS

#: Fault app path → what it demonstrates.
UPSTREAM_FAULTS: tuple[tuple[str, str], ...] = (
    ("/ok", "200 ok"),
    ("/status/502", "any status; ?retry_after=N adds Retry-After, ?json=1 a JSON error page"),
    ("/delay/300", "300 ms before the status line (server processing time)"),
    ("/body-delay/300", "headers at once, body 300 ms later"),
    ("/close", "reads the request, closes (FIN) without a byte"),
    ("/reset", "reads the request, resets (RST) without a byte"),
    ("/garbage", "answers with bytes that are not HTTP"),
    ("/bad-status", "answers 'HTTP/1.1 99x Weird'"),
    ("/reset-mid", "announces 100000 bytes, sends 1000, then RST"),
    ("/truncate", "announces 100000 bytes, sends 1000, then FIN"),
    ("/trickle-headers/300", "status line and headers one byte every 300 ms"),
    ("/trickle-body/300", "chunked body, one byte every 300 ms, forever"),
    ("/endless", "chunked body as fast as you read, forever"),
    ("/big/1000000", "a 1000000-byte body"),
    ("/hang", "reads the request, never answers"),
    ("/ratelimit", "429 with Retry-After: 30"),
    ("/unavailable", "503 with Retry-After: 30"),
    ("/flap", "200 and 500 on alternate requests"),
    ("/echo", "JSON of the request as received (headers, SNI, port)"),
    ("/body/hello%20world", "200 with that text as the body"),
    ("/gateway/PORT/path", "a reverse proxy to 127.0.0.1:PORT with nginx's error pages"),
    ("/edge/PORT/path", "the same proxy signing its errors edgeproxy/3.1 (in no table)"),
    ("/edge-ps/PORT/path", "edgeproxy with an RFC 9209 Proxy-Status header on its errors"),
)

#: DNS name in the lab zone → what it answers.
DNS_NAMES: tuple[tuple[str, str], ...] = (
    ("app.lab.test", "A 127.0.0.1 (ttl 300), AAAA ::1 (ttl 200)"),
    ("v4.lab.test", "A 127.0.0.1 only; AAAA is an empty NOERROR"),
    ("cname.lab.test", "CNAME alias.lab.test → CNAME app.lab.test → A/AAAA"),
    ("pool.lab.test", "A 127.0.0.1 and 127.0.0.2 (nothing listens on .2: refused)"),
    ("servfail.lab.test", "SERVFAIL"),
    ("drop.lab.test", "never answers (resolver timeout)"),
    ("slow.lab.test", "A 127.0.0.1 after the lab's dns delay"),
    ("slow-500.lab.test", "A 127.0.0.1 after 500 ms (any number)"),
    ("nx.lab.test", "NXDOMAIN (so is any other name)"),
)


def describe(lab: Lab) -> str:
    """The human table: every endpoint, what it shows, and a command that shows it."""
    dns = f"--resolver {lab.host}:{lab.dns_port}"
    ca = f"--ca-bundle {shlex.quote(lab.ca_bundle)}"
    app_http = lab.url("", host="app.lab.test").rstrip("/")
    proxies = lab.proxy_ports
    user, password = lab.proxy_credentials
    https_ok = lab.url("/ok", scheme="https", host="app.lab.test")
    dead = f"http://{lab.host}:{lab.refused_port}/health"
    examples = (
        (https_ok, f"{dns} {ca}"),
        (f"{app_http}/gateway/{lab.refused_port}/health", f"{dns} --origin {dead}"),
        (f"{app_http}/status/502?json=1", dns),
        (lab.url("/ok", scheme="https", cert="expired", host="app.lab.test"), f"{dns} {ca}"),
        (https_ok, f"{dns} {ca} --proxy http://{user}:{password}@{lab.host}:{proxies['auth']}"),
        (https_ok, f"{dns} {ca} --proxy http://{lab.host}:{proxies['auth']}"),
        (https_ok, f"{dns} {ca} --proxy http://{lab.host}:{proxies['fail']}"),
        (f"http://nx.lab.test:{lab.http_port}/ok", dns),
        (f"http://drop.lab.test:{lab.http_port}/ok", dns),
        (f"http://{lab.host}:{lab.refused_port}/ok", ""),
        (f"http://{lab.host}:{lab.blackhole_port}/ok", "--timeout 2"),
        (f"{app_http}/reset-mid", dns),
        (f"{app_http}/trickle-headers/300", f"{dns} --timeout 2"),
    )
    lines = [
        "gatewatch lab: a loopback fault lab. Ctrl-C stops it.",
        "",
        f"DNS server {lab.host}:{lab.dns_port} (UDP and TCP), zone lab.test:",
        *(f"  {name:<20} {what}" for name, what in DNS_NAMES),
        "",
        f"CA bundle (trusts every variant but self_signed and unknown_ca): {lab.ca_bundle}",
        "",
        f"Upstream faults, on {app_http} and on every https port below:",
        *(f"  {path:<22} {what}" for path, what in UPSTREAM_FAULTS),
        "",
        "TLS (same fault app; the name must be app.lab.test, localhost or 127.0.0.1):",
        *(
            f"  {name:<14} {lab.url('/ok', scheme='https', cert=name, host='app.lab.test'):<38} "
            f"{CERT_VARIANTS[name]}"
            for name in lab.https_ports
        ),
        f"  {'slow':<14} {lab.url('/ok', scheme='https', cert='slow', host='app.lab.test'):<38} "
        "handshake starts after the lab's tls delay",
        f"  {'stall':<14} {lab.url('/ok', scheme='https', cert='stall', host='app.lab.test'):<38} "
        "never answers the ClientHello",
        "",
        "TCP:",
        f"  refused        {lab.host}:{lab.refused_port:<28} connection refused",
        f"  blackhole      {lab.host}:{lab.blackhole_port:<28} connect times out",
        "",
        "Forward proxies (CONNECT and absolute-form http://):",
        f"  open           http://{lab.host}:{proxies['open']}",
        f"  auth           http://{user}:{password}@{lab.host}:{proxies['auth']}"
        "   (407 without credentials)",
        f"  fail           http://{lab.host}:{proxies['fail']}   (502 to everything)",
        f"  slow           http://{lab.host}:{proxies['slow']}   (answers CONNECT late)",
        "",
        "Try:",
        *(f"  gatewatch probe {shlex.quote(url)} {options}" for url, options in examples),
    ]
    return "\n".join(lines)


def run_lab_command(json_output: bool, host: str = "127.0.0.1") -> int:
    """Start a lab on ``host``, print its table (or one JSON line), serve until stopped."""
    try:
        lab = Lab(host=host).start()
    except (OSError, ValueError) as exc:
        print(f"gatewatch lab: cannot start: {exc}", file=sys.stderr)
        return 1
    try:
        out: TextIO = sys.stdout
        out.write((json.dumps(lab.ports_json()) if json_output else describe(lab)) + "\n")
        out.flush()
        _wait_for_stop()
    finally:
        lab.stop()
    return 0


def _wait_for_stop() -> None:
    """Block until SIGINT or SIGTERM (or KeyboardInterrupt when not in the main thread)."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    previous: dict[signal.Signals, Callable[..., object] | int | None] = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # Outside the main thread signal() raises: the signals stay with their owner.
        with contextlib.suppress(ValueError):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def cmd_lab(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return run_lab_command(json_output=args.json, host=args.host)
