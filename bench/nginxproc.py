"""Real nginx as the benchmark target: http and https on loopback, ``return 200``.

Why: at hundreds of probes per second the Python lab competes with gatewatch for the same
cores, so a benchmark of the monitor would partly measure the lab. nginx answers in C with
a few percent of a core; its CPU is reported next to ours so the reader can see it.

Everything lives in a private directory (config, pid, logs, certificates minted with
trustme for 127.0.0.1); nginx runs in the foreground in its own process group, and
:func:`stop_nginx` ends that group.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_MINT = """
import sys, trustme
d = sys.argv[1]
ca = trustme.CA(organization_name="gatewatch bench CA")
ca.cert_pem.write_to_path(d + "/ca.pem")
leaf = ca.issue_cert("127.0.0.1", "localhost")
leaf.private_key_and_cert_chain_pem.write_to_path(d + "/leaf.pem")
"""
_SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")


@dataclass
class Nginx:
    process: subprocess.Popen[bytes]
    directory: Path
    http_port: int
    https_port: int
    ca_bundle: str

    def pids(self) -> list[int]:
        """The master and its workers (every process in its group)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.process.pid:  # field 5: process group id
                found.append(int(entry.name))
        return found


def _binary() -> str:
    found = shutil.which("nginx") or next(
        (f"{d}/nginx" for d in _SBIN if os.access(f"{d}/nginx", os.X_OK)), None
    )
    if found is None:
        raise SystemExit("nginx is not installed: apt-get install -y nginx")
    return found


def _free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def start_nginx(workers: int = 1) -> Nginx:
    """Start nginx (``workers`` worker processes) and wait until both ports accept."""
    directory = Path(tempfile.mkdtemp(prefix="gatewatch-bench-nginx-"))
    ca_bundle = directory / "ca.pem"
    # Minted in a child process: trustme pulls in cryptography (~10 MB), which the
    # benchmark's own process must not carry — it stands for `gatewatch watch`'s.
    subprocess.run([sys.executable, "-c", _MINT, str(directory)], check=True)
    http_port, https_port = _free_ports(2)
    d = directory
    config = f"""\
worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_timeout 5;
    server {{
        listen 127.0.0.1:{http_port};
        listen 127.0.0.1:{https_port} ssl;
        ssl_certificate {d}/leaf.pem;
        ssl_certificate_key {d}/leaf.pem;
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""
    (d / "nginx.conf").write_text(config)
    process = subprocess.Popen(
        [_binary(), "-p", f"{d}/", "-c", str(d / "nginx.conf"), "-e", str(d / "error.log"),
         "-g", "daemon off;"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    nginx = Nginx(process, d, http_port, https_port, str(ca_bundle))
    deadline = time.monotonic() + 10
    for port in (http_port, https_port):
        while True:
            if process.poll() is not None:
                log_file = d / "error.log"
                log = log_file.read_text(errors="replace") if log_file.exists() else ""
                raise SystemExit(f"nginx exited at start:\n{log}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                stop_nginx(nginx)
                raise SystemExit("nginx did not listen within 10 s")
            time.sleep(0.02)
    return nginx


def stop_nginx(nginx: Nginx) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(nginx.process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        nginx.process.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(nginx.process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        nginx.process.wait(timeout=5)
    shutil.rmtree(nginx.directory, ignore_errors=True)
