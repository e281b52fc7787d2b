"""Exception → (hop, kind, message): the one taxonomy of probe failures.

httpx exception *messages* are often empty (every timeout's ``str()`` is ``''``), so we
attribute by what was happening (the open phase of the :class:`Timeline`) and by what
the exception chain holds, never by message text alone (probe-engine-notes §4).

    phase   hop        kinds
    tcp     tcp        refused connect_timeout unreachable reset   (proxy_refused via a proxy)
    proxy   proxy      proxy_auth_required proxy_tunnel_failed
    tls     tls        expired not_yet_valid self_signed unknown_ca hostname_mismatch
                       handshake_failed handshake_timeout
                       h2_not_offered (``http_version = "2"``, no h2 in ALPN)
    send    upstream   upstream_closed
    wait    upstream   upstream_closed upstream_invalid_response upstream_timeout
                       over HTTP/2: h2_refused_stream h2_stream_reset (RST_STREAM and its
                       error code) h2_goaway (last-stream-id, debug data) h2_preface_failed
                       (no SETTINGS from the server) h2_protocol_error (connection level)
    body    upstream   truncated_body upstream_timeout (an RST_STREAM mid-body says so)

Timeouts are checked before ssl errors: a stalled handshake's chain holds an
``SSLWantReadError``, which is an ``SSLError`` too. HTTP/2 failures are read from the
h2 events httpcore raises with (``RemoteProtocolError(StreamReset)``,
``RemoteProtocolError(ConnectionTerminated)``) and from h2's own ``ProtocolError``.
"""

from __future__ import annotations

import ast
import errno
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import anyio
import h2.errors
import h2.events
import h2.exceptions
import h11
import httpcore
import httpx

from gatewatch.model import HopName
from gatewatch.probe.tls import verify_failure
from gatewatch.probe.transport import H2NotNegotiated
from gatewatch.text import visible

UNREACHABLE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL}


@dataclass(frozen=True)
class Failure:
    hop: HopName
    kind: str
    message: str
    reset: bool = False
    #: Facts for the hop's detail (HTTP/2 error code, GOAWAY's last-stream-id …).
    facts: tuple[tuple[str, object], ...] = ()


#: Debug data in a GOAWAY is the server's free text: untrusted, and kept short.
DEBUG_DATA_CAP = 200


def h2_code_name(code: object) -> str:
    """``REFUSED_STREAM (0x7)`` for an h2 error code (an ErrorCodes member or a bare int)."""
    try:
        value = int(code)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return str(code)
    try:
        return f"{h2.errors.ErrorCodes(value).name} (0x{value:x})"
    except ValueError:
        return f"unknown error code 0x{value:x}"


def _h2_event(exc: BaseException, kind: type[h2.events.Event]) -> h2.events.Event | None:
    """The h2 event httpcore raised with (its only argument), anywhere in the chain."""
    for e in chain(exc):
        if isinstance(e, httpcore.RemoteProtocolError | httpx.RemoteProtocolError):
            for arg in e.args:
                if isinstance(arg, kind):
                    return arg
    return None


def _h2_failure(exc: BaseException, phase: str, settings_seen: bool) -> Failure | None:
    """The HTTP/2 failure in ``exc``, or None when it holds none (then h1 rules apply)."""
    reset = _h2_event(exc, h2.events.StreamReset)
    if isinstance(reset, h2.events.StreamReset):
        code = h2_code_name(reset.error_code)
        facts: tuple[tuple[str, object], ...] = (
            ("h2_frame", "RST_STREAM"),
            ("h2_error", code.split(" ")[0]),
            ("h2_stream_id", reset.stream_id),
        )
        if phase == "body":
            return Failure(
                "upstream",
                "truncated_body",
                f"HTTP/2 stream reset mid-body: RST_STREAM {code}",
                reset=True,
                facts=facts,
            )
        refused = reset.error_code == h2.errors.ErrorCodes.REFUSED_STREAM
        return Failure(
            "upstream",
            "h2_refused_stream" if refused else "h2_stream_reset",
            f"the server reset the HTTP/2 stream: RST_STREAM {code}",
            reset=True,
            facts=facts,
        )
    goaway = _h2_event(exc, h2.events.ConnectionTerminated)
    if isinstance(goaway, h2.events.ConnectionTerminated):
        code = h2_code_name(goaway.error_code)
        raw = goaway.additional_data or b""
        debug = raw[:DEBUG_DATA_CAP].decode("utf-8", errors="replace")
        facts = (
            ("h2_frame", "GOAWAY"),
            ("h2_error", code.split(" ")[0]),
            ("h2_last_stream_id", goaway.last_stream_id),
        )
        if debug:
            facts += (("h2_debug_data", debug),)
        said = f', debug data "{debug}"' if debug else ""
        return Failure(
            "upstream",
            "truncated_body" if phase == "body" else "h2_goaway",
            f"the server closed the HTTP/2 connection: GOAWAY {code}, last stream "
            f"{goaway.last_stream_id}{said}",
            facts=facts,
        )
    protocol = _first(exc, h2.exceptions.ProtocolError)
    if protocol is not None:
        text = str(protocol).strip() or type(protocol).__name__
        if not settings_seen:
            return Failure(
                "upstream",
                "h2_preface_failed",
                f"the server does not speak HTTP/2 (no SETTINGS frame came back): {text[:160]}",
                facts=(("h2_settings_received", False),),
            )
        return Failure("upstream", "h2_protocol_error", f"HTTP/2 protocol error: {text[:160]}")
    disconnected = any(
        isinstance(e, httpcore.RemoteProtocolError | httpx.RemoteProtocolError)
        and str(e) == "Server disconnected"
        for e in chain(exc)
    )
    if settings_seen and disconnected:
        if phase == "body":
            return Failure("upstream", "truncated_body", "server closed the HTTP/2 connection "
                           "mid-body without a GOAWAY")  # fmt: skip
        return Failure(
            "upstream",
            "upstream_closed",
            "server closed the HTTP/2 connection without a response (no GOAWAY)",
        )
    if not settings_seen and phase in ("send", "wait") and not _is_timeout(exc):
        return Failure(
            "upstream",
            "h2_preface_failed",
            f"the server closed the connection before its HTTP/2 SETTINGS ({_describe(exc)[:120]})",
            reset=_is_reset(exc),
            facts=(("h2_settings_received", False),),
        )
    return None


def _not_offered(exc: BaseException, require_h2: bool) -> Failure | None:
    """``http_version = "2"`` against a server that does not negotiate h2: either the
    handshake chose another protocol (the transport's H2NotNegotiated) or the server
    refused it with alert 120, no_application_protocol (nginx without ``http2`` does)."""
    for e in chain(exc):
        if isinstance(e, H2NotNegotiated):
            return Failure("tls", "h2_not_offered", str(e))
        text = f"{getattr(e, 'reason', '')} {e}".lower().replace("_", " ")
        if require_h2 and isinstance(e, ssl.SSLError) and "no application protocol" in text:
            return Failure(
                "tls",
                "h2_not_offered",
                "HTTP/2 required, but the server refused the handshake: it offers no protocol "
                "we asked for in ALPN (alert no_application_protocol)",
            )
    return None


def chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and the members of exception groups."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        cur = todo.pop(0)
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        if isinstance(cur, BaseExceptionGroup):
            todo.extend(cur.exceptions)
        for nxt in (cur.__cause__, cur.__context__):
            if nxt is not None:
                todo.append(nxt)


def _first(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    return next((e for e in chain(exc) if isinstance(e, kind)), None)


def _is_timeout(exc: BaseException) -> bool:
    return any(
        isinstance(e, TimeoutError | httpx.TimeoutException | httpcore.TimeoutException)
        for e in chain(exc)
    )


def _is_reset(exc: BaseException) -> bool:
    return any(
        isinstance(e, ConnectionResetError | anyio.BrokenResourceError)
        or (isinstance(e, OSError) and e.errno == errno.ECONNRESET)
        for e in chain(exc)
    )


def _oserror_kind(exc: BaseException) -> tuple[str, str] | None:
    for e in chain(exc):
        if isinstance(e, ConnectionRefusedError) or (
            isinstance(e, OSError) and e.errno == errno.ECONNREFUSED
        ):
            return "refused", "connection refused"
        if isinstance(e, OSError) and e.errno in UNREACHABLE_ERRNOS:
            return "unreachable", f"network unreachable ({e.strerror or e})"
        if isinstance(e, ConnectionResetError):
            return "reset", "connection reset by peer"
    return None


def classify(
    exc: BaseException,
    phase: str,
    *,
    target: str,
    via_proxy: str | None = None,
    deadline: float | None = None,
    h2: bool = False,
    h2_settings: bool = False,
    require_h2: bool = False,
) -> Failure:
    """Name the failure. ``target`` is ``address:port`` as dialled; ``via_proxy`` the proxy.

    ``h2``: the exchange ran over HTTP/2; ``h2_settings``: the server's SETTINGS arrived;
    ``require_h2``: the endpoint allows only HTTP/2 (``http_version = "2"``).
    """
    timed_out = _is_timeout(exc)
    after = f" after {deadline:g} s" if deadline is not None else ""

    if phase == "tcp":
        if timed_out:
            who = f"forward proxy {target}" if via_proxy else target
            return Failure("tcp", "connect_timeout", f"connect to {who} timed out{after}")
        found = _oserror_kind(exc)
        if via_proxy and found and found[0] == "refused":
            return Failure("tcp", "proxy_refused", f"forward proxy {target} refused the connection")
        if found:
            kind, text = found
            return Failure("tcp", kind, f"{target}: {text}")
        return Failure("tcp", "refused", f"{target}: cannot connect ({_describe(exc)})")

    if phase == "proxy":
        if timed_out:
            return Failure(
                "proxy",
                "proxy_tunnel_failed",
                f"forward proxy {target} did not answer CONNECT{after}",
            )
        proxy_error = _first(exc, httpx.ProxyError) or _first(exc, httpcore.ProxyError)
        if proxy_error is not None:
            text = str(proxy_error)
            if text.startswith("407"):
                return Failure(
                    "proxy",
                    "proxy_auth_required",
                    f"forward proxy {target} demands authentication: {text}",
                )
            return Failure(
                "proxy", "proxy_tunnel_failed", f"forward proxy {target} refused the tunnel: {text}"
            )
        return Failure("proxy", "proxy_tunnel_failed", f"forward proxy {target}: {_describe(exc)}")

    if phase == "tls":
        if timed_out:
            return Failure("tls", "handshake_timeout", f"TLS handshake timed out{after}")
        refused_h2 = _not_offered(exc, require_h2)
        if refused_h2 is not None:
            return refused_h2
        for e in chain(exc):
            verdict = verify_failure(e)
            if verdict:
                return Failure("tls", verdict[0], verdict[1])
        ssl_error = _first(exc, ssl.SSLError)
        if isinstance(ssl_error, ssl.SSLEOFError) or _first(exc, anyio.EndOfStream):
            return Failure(
                "tls", "handshake_failed", "server closed the connection during the TLS handshake"
            )
        if _is_reset(exc):
            return Failure(
                "tls", "handshake_failed", "connection reset during the TLS handshake", reset=True
            )
        if ssl_error is not None:
            reason = getattr(ssl_error, "reason", None) or str(ssl_error)
            return Failure("tls", "handshake_failed", f"TLS handshake failed: {reason}")
        return Failure("tls", "handshake_failed", f"TLS handshake failed: {_describe(exc)}")

    # send / wait / body: the server (or the gateway in front of it) is talking HTTP.
    if h2 and phase in ("send", "wait", "body") and not timed_out:
        named = _h2_failure(exc, phase, h2_settings)
        if named is not None:
            return named
    if phase in ("send", "wait"):
        if timed_out:
            return Failure("upstream", "upstream_timeout", f"no response headers{after}")
        if _is_reset(exc):
            return Failure(
                "upstream", "upstream_closed", "connection reset before any response", reset=True
            )
        protocol = _first(exc, h11.RemoteProtocolError)
        remote = _first(exc, httpx.RemoteProtocolError)
        text = str(remote or protocol or "")
        if "without sending a response" in text or (
            remote is None and protocol is None and _first(exc, httpx.ReadError)
        ):
            return Failure(
                "upstream", "upstream_closed", "server closed the connection without a response"
            )
        if remote is not None or protocol is not None:
            return Failure(
                "upstream",
                "upstream_invalid_response",
                f"invalid HTTP response: {without_reprs(text)[:160]}",
            )
        if _first(exc, httpx.WriteError):
            return Failure(
                "upstream", "upstream_closed", "connection closed while sending the request"
            )
        return Failure("upstream", "upstream_invalid_response", _describe(exc))

    if phase == "body":
        if timed_out:
            return Failure("upstream", "upstream_timeout", f"body not complete{after}")
        if _is_reset(exc):
            return Failure(
                "upstream",
                "truncated_body",
                "connection reset in the middle of the body",
                reset=True,
            )
        return Failure("upstream", "truncated_body", f"body cut short: {_describe(exc)[:160]}")

    return Failure("upstream", "upstream_invalid_response", _describe(exc))


_BYTES_REPR = re.compile(r"""(?:bytearray\()?b(?P<q>['"])(?P<body>(?:\\.|(?!(?P=q)).)*)(?P=q)\)?""")


def without_reprs(text: str) -> str:
    """h11's messages quote what it read as Python reprs (``bytearray(b'HTTP/1.1 99x')``);
    an engineer reads the bytes as text in quotes: ``"HTTP/1.1 99x"``."""

    def plain(match: re.Match[str]) -> str:
        try:
            raw = ast.literal_eval(f"b{match['q']}{match['body']}{match['q']}")
        except (ValueError, SyntaxError):
            return match[0]
        return '"' + visible(bytes(raw).decode("latin-1")) + '"'

    return _BYTES_REPR.sub(plain, text)


def _describe(exc: BaseException) -> str:
    """The most telling one-line message in the chain (httpx's own are often empty)."""
    for e in chain(exc):
        text = str(e).strip()
        if text and text != "All connection attempts failed":
            return f"{type(e).__name__}: {text}" if len(text) < 40 else text
    return type(exc).__name__
