"""The taxonomy for failures loopback cannot produce safely (unreachable networks,
resets during connect): a real network would send packets off this machine, so these
feed classify() the exception chains httpx actually raises (probe-engine-notes §4)."""

from __future__ import annotations

import errno
import ssl

import httpcore
import httpx
import pytest

from gatewatch.probe.errors import chain, classify


def wrapped(root: BaseException, outer: type[Exception] = httpx.ConnectError) -> Exception:
    """httpx → httpcore → OSError("All connection attempts failed") → root."""
    middle = OSError("All connection attempts failed")
    middle.__cause__ = root
    core = httpcore.ConnectError("All connection attempts failed")
    core.__cause__ = middle
    top = outer("All connection attempts failed")
    top.__cause__ = core
    return top


@pytest.mark.parametrize(
    ("root", "kind"),
    [
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "unreachable"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "unreachable"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "refused"),
        (ConnectionResetError(errno.ECONNRESET, "reset"), "reset"),
    ],
)
def test_connect_phase_errno(root: OSError, kind: str) -> None:
    failure = classify(wrapped(root), "tcp", target="192.0.2.1:443")
    assert (failure.hop, failure.kind) == ("tcp", kind)
    assert "192.0.2.1:443" in failure.message


def test_errno_inside_an_exception_group() -> None:
    group = ExceptionGroup("happy eyeballs", [OSError(errno.ENETUNREACH, "unreachable")])
    assert classify(wrapped(group), "tcp", target="x:1").kind == "unreachable"


def test_timeout_wins_over_ssl_want_read() -> None:
    """A stalled handshake's chain holds SSLWantReadError, an SSLError: timeout first."""
    inner = ssl.SSLWantReadError("want read")
    outer = TimeoutError()
    outer.__context__ = inner
    assert classify(outer, "tls", target="x:1").kind == "handshake_timeout"


def test_chain_survives_cycles() -> None:
    a, b = ValueError("a"), ValueError("b")
    a.__context__, b.__context__ = b, a
    assert len(list(chain(a))) == 2


def test_unknown_phase_is_still_named() -> None:
    assert classify(RuntimeError("boom"), "done", target="x:1").hop == "upstream"


@pytest.mark.parametrize(
    ("host", "no_proxy", "bypass"),
    [
        ("app.lab.test", ".lab.test", True),
        ("app.lab.test", "lab.test", True),
        ("lab.test", "*.lab.test", True),
        ("notlab.test", "lab.test", False),
        ("10.1.2.3", "10.0.0.0/8", True),
        ("10.1.2.3", "10.1.2.3:8080", True),
        ("example.com", "*", True),
        ("example.com", "other.org, ,", False),
    ],
)
def test_no_proxy_matching(host: str, no_proxy: str, bypass: bool) -> None:
    from gatewatch.probe.plan import bypasses_proxy

    assert bypasses_proxy(host, no_proxy) is bypass
