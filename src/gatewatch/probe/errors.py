"""Exception → (hop, kind, message): the one taxonomy of probe failures.

httpx exception *messages* are often empty (every timeout's ``str()`` is ``''``), so we
attribute by what was happening (the open phase of the :class:`Timeline`) and by what
the exception chain holds, never by message text alone (probe-engine-notes §4).

    phase   hop        kinds
    tcp     tcp        refused connect_timeout unreachable reset   (proxy_refused via a proxy)
    proxy   proxy      proxy_auth_required proxy_tunnel_failed
    tls     tls        expired not_yet_valid self_signed unknown_ca hostname_mismatch
                       handshake_failed handshake_timeout
    send    upstream   upstream_closed
    wait    upstream   upstream_closed upstream_invalid_response upstream_timeout
    body    upstream   truncated_body upstream_timeout

Timeouts are checked before ssl errors: a stalled handshake's chain holds an
``SSLWantReadError``, which is an ``SSLError`` too.
"""

from __future__ import annotations

import errno
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import anyio
import h11
import httpcore
import httpx

from gatewatch.model import HopName
from gatewatch.probe.tls import verify_failure

UNREACHABLE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL}


@dataclass(frozen=True)
class Failure:
    hop: HopName
    kind: str
    message: str
    reset: bool = False


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
) -> Failure:
    """Name the failure. ``target`` is ``address:port`` as dialled; ``via_proxy`` the proxy."""
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
                "upstream", "upstream_invalid_response", f"invalid HTTP response: {text[:160]}"
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


def _describe(exc: BaseException) -> str:
    """The most telling one-line message in the chain (httpx's own are often empty)."""
    for e in chain(exc):
        text = str(e).strip()
        if text and text != "All connection attempts failed":
            return f"{type(e).__name__}: {text}" if len(text) < 40 else text
    return type(exc).__name__
