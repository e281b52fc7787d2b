"""Everything a probe decides before its first packet: what to dial and what to send.

The URL is checked, ``env:`` secrets are resolved (only now, never stored), and the
forward proxy is chosen: the endpoint's own, or HTTP(S)_PROXY / ALL_PROXY / NO_PROXY from
the environment as httpx would honour them. With a proxy, the probe dials the proxy.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from gatewatch import secrets
from gatewatch.model import Endpoint


class ProbeSetupError(ValueError):
    """The endpoint cannot be probed as configured (bad URL, missing secret)."""


@dataclass(frozen=True)
class Plan:
    """Everything decided before the first packet: what to dial and what to send."""

    url: httpx.URL
    host: str
    port: int
    headers: tuple[tuple[str, str], ...]
    proxy_url: str | None  # with credentials removed
    proxy_label: str | None
    proxy_headers: tuple[tuple[str, str], ...]
    dial_host: str
    dial_port: int


def bypasses_proxy(host: str, no_proxy: str) -> bool:
    """Whether NO_PROXY exempts ``host``: ``*``, exact names, domain suffixes, IPs, CIDRs."""
    host = host.lower().strip("[]")
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "://" in entry:
            entry = entry.split("://", 1)[1]
        if entry.startswith("[") or entry.count(":") == 1:  # strip a port
            entry = entry.rsplit(":", 1)[0] if not entry.startswith("[") else entry
        entry = entry.strip("[]")
        if "/" in entry:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        entry = entry.removeprefix("*").lstrip(".")
        if host == entry or host.endswith("." + entry):
            return True
    return False


def environment_proxy(url: httpx.URL, environ: Mapping[str, str]) -> str | None:
    """The forward proxy the environment asks for (HTTP(S)_PROXY, ALL_PROXY, NO_PROXY)."""

    def get(name: str) -> str | None:
        return environ.get(name.lower()) or environ.get(name.upper()) or None

    no_proxy = get("no_proxy")
    if no_proxy and bypasses_proxy(url.host, no_proxy):
        return None
    return get(f"{url.scheme}_proxy") or get("all_proxy")


def split_proxy(proxy: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(url without credentials, label for humans, Proxy-Authorization header if any)."""
    parsed = httpx.URL(proxy)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ProbeSetupError(f"proxy must be an http:// or https:// URL, got {proxy!r}")
    bare = parsed.copy_with(username=None, password=None)
    headers: tuple[tuple[str, str], ...] = ()
    if parsed.username:
        token = base64.b64encode(f"{parsed.username}:{parsed.password}".encode()).decode()
        headers = (("Proxy-Authorization", f"Basic {token}"),)
    label = f"{bare.scheme}://{bare.host}:{bare.port or (443 if bare.scheme == 'https' else 80)}"
    return str(bare), label, headers


def default_port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def make_plan(endpoint: Endpoint, environ: Mapping[str, str]) -> Plan:
    """What to dial and what to send: the URL checked, secrets resolved, the proxy chosen."""
    try:
        url = httpx.URL(endpoint.url)
    except (httpx.InvalidURL, TypeError) as exc:
        shown = secrets.redact_url(endpoint.url)
        raise ProbeSetupError(f"{endpoint.name}: invalid URL {shown!r}: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ProbeSetupError(f"{endpoint.name}: URL must be http:// or https:// with a host")
    try:
        headers = tuple((name, secrets.resolve(value, environ)) for name, value in endpoint.headers)
        proxy_spec = (
            secrets.resolve(endpoint.proxy, environ)
            if endpoint.proxy
            else environment_proxy(url, environ)
        )
    except secrets.SecretError as exc:
        raise ProbeSetupError(f"{endpoint.name}: {exc}") from exc
    if conflict := secrets.credentials_conflict(endpoint.url, endpoint.headers):
        raise ProbeSetupError(f"{endpoint.name}: {conflict}")
    proxy_url = proxy_label = None
    proxy_headers: tuple[tuple[str, str], ...] = ()
    dial_host, dial_port = url.host, default_port(url)
    if proxy_spec:
        proxy_url, proxy_label, proxy_headers = split_proxy(proxy_spec)
        proxy = httpx.URL(proxy_url)
        dial_host, dial_port = proxy.host, default_port(proxy)
    return Plan(
        url=url,
        host=url.host,
        port=default_port(url),
        headers=headers,
        proxy_url=proxy_url,
        proxy_label=proxy_label,
        proxy_headers=proxy_headers,
        dial_host=dial_host,
        dial_port=dial_port,
    )
