"""Default timeouts of gateways, as data, to read elapsed time as evidence.

An error that arrives exactly at a gateway's timeout points to a timeout; one that
arrives at once points to refused/reset/invalid/unresolvable. The table holds the
defaults from gateways.md §2 ("Default timeouts to compare against elapsed time");
a deployment may configure others, so a miss is reported as such, never as proof.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gatewatch.diagnose.text import fmt_ms


@dataclass(frozen=True)
class Timeout:
    """One default timeout of one gateway."""

    setting: str
    seconds: float
    #: "connect", "read" or "dns": which phase the timeout bounds.
    phase: str


_NGINX = (
    Timeout("proxy_read_timeout", 60, "read"),
    Timeout("proxy_connect_timeout", 60, "connect"),
    Timeout("resolver_timeout", 30, "dns"),
)

#: Generator → its default (or usual) timeouts. gateways.md §2.
TIMEOUTS: Mapping[str, tuple[Timeout, ...]] = MappingProxyType(
    {
        "nginx": _NGINX,
        "openresty": _NGINX,
        # HAProxy has no built-in timeouts; these are the usual values.
        "haproxy": (
            Timeout("timeout connect (usual)", 5, "connect"),
            Timeout("timeout server (usual)", 30, "read"),
            Timeout("timeout server (usual)", 60, "read"),
        ),
        "aws-alb": (Timeout("connect timeout", 10, "connect"), Timeout("idle timeout", 60, "read")),
        "cloudflare": (Timeout("proxy read timeout (524)", 100, "read"),),
        "cloudfront": (Timeout("origin response timeout", 30, "read"),),
        "aws-apigateway": (Timeout("integration timeout", 29, "read"),),
        "heroku": (Timeout("router timeout (H12)", 30, "read"),),
        "azure-frontdoor": (Timeout("origin response timeout", 30, "read"),),
        "azure-appgw": (Timeout("request timeout", 20, "read"),),
        "gcp-lb": (Timeout("backend service timeout", 30, "read"),),
        "envoy": (Timeout("route timeout", 15, "read"),),
        "vercel": (Timeout("external rewrite timeout", 120, "read"),),
        "iis-arr": (Timeout("ARR proxy timeout", 30, "read"),),
        "netlify": (Timeout("synchronous function timeout", 10, "read"),),
        # Apache's ProxyTimeout defaults to the server's Timeout (60 s).
        "apache": (Timeout("ProxyTimeout (= Timeout)", 60, "read"),),
        # [doc] docs.fastly.com "Changing connection timeouts to your origin".
        "fastly": (
            Timeout("first_byte_timeout", 15, "read"),
            Timeout("connect_timeout", 1, "connect"),
            Timeout("between_bytes_timeout", 10, "read"),
        ),
        # [src] varnish-cache bin/varnishd/mgt/mgt_param_tbl.c defaults.
        "varnish": (
            Timeout("first_byte_timeout", 60, "read"),
            Timeout("connect_timeout", 3.5, "connect"),
        ),
        # [doc] techdocs.akamai.com property manager "Timeout" behaviors: origin read 120 s.
        "akamai": (Timeout("origin read timeout", 120, "read"),),
        # [doc] squid-cache.org Doc/config: connect_timeout 1 min, read_timeout 15 min.
        "squid": (Timeout("connect_timeout", 60, "connect"), Timeout("read_timeout", 900, "read")),
        # [doc] caddyserver.com reverse_proxy transport http: dial_timeout 3 s.
        "caddy": (Timeout("dial_timeout", 3, "connect"),),
    }
)

#: An answer faster than this was not waiting on any timeout.
INSTANT_MS = 500.0


def near(elapsed_ms: float, seconds: float) -> bool:
    """Whether ``elapsed_ms`` is where a ``seconds`` timeout would fire (a little after it)."""
    return seconds * 950 <= elapsed_ms <= seconds * 1150 + 250


def matching(generator: str | None, elapsed_ms: float) -> tuple[Timeout, ...]:
    """The defaults of ``generator`` that ``elapsed_ms`` lands on."""
    return tuple(t for t in TIMEOUTS.get(generator or "", ()) if near(elapsed_ms, t.seconds))


def describe(generator: str | None, elapsed_ms: float, *, timed_out: bool) -> str:
    """One evidence line reading ``elapsed_ms`` against ``generator``'s default timeouts."""
    took = f"answered after {fmt_ms(elapsed_ms)}"
    defaults = TIMEOUTS.get(generator or "", ())
    hits = matching(generator, elapsed_ms)
    if hits:
        names = " / ".join(dict.fromkeys(t.setting for t in hits))
        secs = f"{hits[0].seconds:g} s"
        return f"{took}, close to {generator}'s {names} ({secs} default)"
    if not timed_out:
        if elapsed_ms < INSTANT_MS:
            return f"{took}: an immediate error, so no timeout fired"
        return f"{took}"
    if defaults:
        # One setting with two usual values reads "timeout server (usual) 30 s or 60 s".
        values: dict[str, list[str]] = {}
        for t in defaults:
            if t.phase != "dns":
                values.setdefault(t.setting, []).append(f"{t.seconds:g} s")
        listed = ", ".join(f"{name} {' or '.join(secs)}" for name, secs in values.items())
        return (
            f"{took}, not near {generator}'s defaults ({listed}): "
            f"a timeout of about {elapsed_ms / 1000:.0f} s is configured"
        )
    return f"{took}: compare with the gateway's configured timeouts"
