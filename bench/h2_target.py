"""A real HTTP/2 server for the benchmarks: nginx (``listen … ssl http2``) in front of the lab.

Why nginx and not the lab: the lab's TLS servers speak HTTP/1.1 only, and an HTTP/2
benchmark should meet the HTTP/2 stack users meet. nginx terminates TLS with the lab's
valid certificate (so curl, gatewatch and blackbox_exporter all verify it against the
lab's CA) and passes ``/delay/N`` to the lab's HTTP server, so the server delay is the
lab's; ``/ok`` it answers itself. Everything lives in a temporary directory; the process
runs in its own group and is ended by ``stop``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class H2Target:
    process: subprocess.Popen[bytes]
    port: int
    directory: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        shutil.rmtree(self.directory, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_h2_target(lab_ports: dict[str, Any]) -> H2Target:
    """nginx with HTTP/2 on a TLS listener, in front of the lab started by labproc."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).is_file():
        raise SystemExit("needs nginx (apt-get install nginx)")
    cert = lab_ports["certs"]["valid"]
    key = cert.replace(".crt.pem", ".key.pem")
    d = Path(tempfile.mkdtemp(prefix="gw-h2-"))
    port = _free_port()
    (d / "nginx.conf").write_text(
        f"""\
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/cb; proxy_temp_path {d}/p; fastcgi_temp_path {d}/f;
    uwsgi_temp_path {d}/u; scgi_temp_path {d}/s;
    upstream lab {{ server 127.0.0.1:{lab_ports["http_port"]}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        keepalive_requests 100000;
        location /ok {{ return 200 "ok\\n"; }}
        location /delay/ {{
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://lab;
        }}
    }}
}}
"""
    )
    process = subprocess.Popen(
        [nginx, "-p", f"{d}/", "-c", str(d / "nginx.conf"), "-e", str(d / "error.log"),
         "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    target = H2Target(process, port, d)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return target
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    log = (d / "error.log").read_text() if (d / "error.log").exists() else ""
    target.stop()
    raise SystemExit(f"nginx (HTTP/2 target) did not start:\n{log}")
