"""A ``curl`` command that reproduces a probe, for the report: same address, headers, trust,
proxy and deadline, with the timings curl can print, and no secret in it.

Why curl: whoever the report reaches (the gateway team, a vendor's support) has it and
trusts it more than our tool. Secrets stay out while the command still works: an ``env:``
header becomes ``"$NAME"`` (their shell fills it in), any other secret becomes
``[REDACTED]`` for them to replace.
"""

from __future__ import annotations

import ipaddress
import re
import shlex

from gatewatch import secrets
from gatewatch.checklist.redact import MASK, Redactor, secret_header
from gatewatch.diagnose.text import host_port
from gatewatch.model import Endpoint, ProbeResult
from gatewatch.probe.dns import is_ip_literal
from gatewatch.probe.engine import USER_AGENT

#: curl's own measurements of the same phases as our hops.
WRITE_OUT = (
    r"\ndns %{time_namelookup}s  connect %{time_connect}s  tls %{time_appconnect}s  "
    r"first byte %{time_starttransfer}s  total %{time_total}s  "
    r"status %{http_code}  address %{remote_ip}\n"
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _double_quoted(text: str) -> str:
    """``text`` safe inside shell double quotes (no expansion)."""
    return re.sub(r'([\\"$`])', r"\\\1", text)


def _header_arg(name: str, value: str, redactor: Redactor) -> str:
    if secrets.is_reference(value):
        var = value[len(secrets.PREFIX) :]
        if _ENV_NAME.fullmatch(var):
            return '"' + _double_quoted(f"{name}: ") + "${" + var + '}"'
        return shlex.quote(f"{name}: {MASK}")
    shown = MASK if secret_header(name) else redactor.text(value)
    return shlex.quote(f"{name}: {shown}")


def _plain_address(address: str | None) -> str | None:
    """An IP address from what the probe recorded (``10.0.0.1``, ``10.0.0.1:443``, ``::1``)."""
    if not address:
        return None
    for candidate in (address.strip("[]"), address.rpartition(":")[0].strip("[]")):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def failing_address(result: ProbeResult | None) -> str | None:
    """The address to pin: the first one that failed when every address was probed, else the
    one the probe dialled."""
    if result is None:
        return None
    bad = next((a for a in result.addresses if not a.ok), None)
    return _plain_address(bad.address if bad else result.address)


def _version_flag(endpoint: Endpoint, result: ProbeResult | None) -> str | None:
    """curl's option for the HTTP version the probe spoke or was told to speak.

    curl offers h2 and http/1.1 over TLS by default, as ``auto`` does, so only a forced
    version (or an ``auto`` probe that spoke HTTP/2 over cleartext, which cannot happen)
    needs saying; ``--http2`` over ``http://`` would try an h2c upgrade, hence prior
    knowledge there.
    """
    if endpoint.http_version == "1.1":
        return "--http1.1"
    if endpoint.http_version == "2":
        cleartext = endpoint.url.lower().startswith("http://")
        return "--http2-prior-knowledge" if cleartext else "--http2"
    return None


def curl_command(endpoint: Endpoint, result: ProbeResult | None, redactor: Redactor) -> str:
    """The command line, one option per line, redacted."""
    host, port = host_port(endpoint.url)
    args: list[str] = ["curl", "-sS", "-o /dev/null", "-D -"]
    if endpoint.method.upper() == "HEAD":
        args.append("--head")
    elif endpoint.method.upper() != "GET":
        args.append(f"-X {shlex.quote(endpoint.method.upper())}")
    args.append(f"--max-time {endpoint.timeout:g}")
    flag = _version_flag(endpoint, result)
    if flag:
        args.append(flag)
    address = failing_address(result)
    if address and not endpoint.proxy and not is_ip_literal(host):
        pinned = f"[{address}]" if ":" in address else address
        args.append(f"--resolve {shlex.quote(f'{host}:{port}:{pinned}')}")
    if endpoint.proxy:
        if secrets.is_reference(endpoint.proxy):
            var = endpoint.proxy[len(secrets.PREFIX) :]
            proxy = '"${' + var + '}"' if _ENV_NAME.fullmatch(var) else shlex.quote(MASK)
        else:
            proxy = shlex.quote(redactor.url(endpoint.proxy))
        args.append(f"-x {proxy}")
    if endpoint.insecure:
        args.append("-k")
    elif endpoint.ca_bundle:
        args.append(f"--cacert {shlex.quote(endpoint.ca_bundle)}")
    args.append(f"-H {shlex.quote(f'User-Agent: {USER_AGENT}')}")
    for name, value in endpoint.headers:
        args.append(f"-H {_header_arg(name, value, redactor)}")
    args.append(f"-w {shlex.quote(WRITE_OUT)}")
    args.append(shlex.quote(redactor.url(endpoint.url)))
    return redactor.text(" \\\n  ".join(args))
