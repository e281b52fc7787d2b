"""Real nginx and HAProxy on loopback, for tests: start with a config, wait, log, always kill.

A test hands a *renderer* (``ports -> config text``) and the names of the ports it needs;
``start_nginx`` / ``start_haproxy`` pick ephemeral ports, write the config into a private
directory (pid file, logs and temp paths all inside it; nothing under /etc or /var),
start the server in the foreground as a child in its own process group, and wait until
every port accepts. If a port was taken between picking and binding, they pick again.

``Gateway.stop()`` always ends the process: SIGTERM, then SIGKILL to its process group
(only the group this module started). ``Gateway.logs()`` returns the error log (nginx)
or the log output (HAProxy) for assertion messages.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: Ports by name, e.g. {"http": 40123}; a renderer turns them into a config.
Ports = Mapping[str, int]
Renderer = Callable[[Ports], str]

_APT = {"nginx": "nginx", "haproxy": "haproxy"}
_SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")
_ADDRESS_IN_USE = re.compile(r"Address already in use|\(98:", re.IGNORECASE)
_START_ATTEMPTS = 5
_READY_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0


# --------------------------------------------------------------------------- binaries


def find_binary(name: str) -> str | None:
    """``name`` on PATH, else in the sbin directories (often missing from a user's PATH)."""
    found = shutil.which(name)
    if found:
        return found
    for directory in _SBIN:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def missing_message(name: str) -> str:
    package = _APT.get(name, name)
    return (
        f"{name} is not installed (looked on PATH and in {', '.join(_SBIN)}); these tests run "
        f"a real {name} on loopback. Install it: sudo apt-get install -y {package}"
    )


def require_binary(name: str) -> str:
    """The path of ``name``; when absent the test fails (./scripts/test installs both).

    Never a skip: a skipped gateway test would hide a missing install step.
    """
    path = find_binary(name)
    if path is not None:
        return path
    pytest.fail(missing_message(name) + " (or run ./scripts/test, which installs it)")


# --------------------------------------------------------------------------- ports


def pick_ports(names: Iterable[str], host: str = "127.0.0.1") -> dict[str, int]:
    """Distinct ephemeral ports, one per name (free now; the caller retries on a race)."""
    sockets: list[socket.socket] = []
    try:
        ports = {}
        for name in names:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)  # held open until all are picked, so they are distinct
            sock.bind((host, 0))
            ports[name] = sock.getsockname()[1]
        return ports
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class RefusedPort:
    """A port bound but never listening: connect() to it is refused (RST) while it is held."""

    sock: socket.socket
    port: int

    def close(self) -> None:
        self.sock.close()


def reserve_refused_port(host: str = "127.0.0.1") -> RefusedPort:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    return RefusedPort(sock, sock.getsockname()[1])


def accepts(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- the process


@dataclass(eq=False)
class Gateway:
    """One running nginx or HAProxy, with its directory, ports and logs."""

    kind: str
    directory: Path
    ports: dict[str, int]
    config: str
    process: subprocess.Popen[bytes]
    #: Files to show in ``logs()``, most useful first.
    log_files: Sequence[Path] = field(default_factory=tuple)

    @property
    def alive(self) -> bool:
        """Running. Never reaps it: until ``stop()`` its pid stays ours, and so its group."""
        return self.process.returncode is None and not _exited(self.process.pid)

    def url(self, path: str = "/", port: str = "http") -> str:
        return f"http://127.0.0.1:{self.ports[port]}{path}"

    def log_text(self, name: str | None = None) -> str:
        """One log file (by file name), or all of them joined."""
        files = [p for p in self.log_files if name is None or p.name == name]
        parts = []
        for path in files:
            try:
                parts.append(path.read_text(errors="replace"))
            except FileNotFoundError:
                continue
        return "\n".join(parts)

    def logs(self, tail: int = 40) -> str:
        """The last lines of every log, labelled: for assertion messages."""
        chunks = []
        for path in self.log_files:
            try:
                lines = path.read_text(errors="replace").splitlines()
            except FileNotFoundError:
                lines = ["(no such file)"]
            chunks.append(f"--- {self.kind} {path.name} (last {tail} lines)")
            chunks.extend(lines[-tail:])
        return "\n".join(chunks)

    def wait_for_log(self, pattern: str, timeout: float = 5.0, name: str | None = None) -> str:
        """Wait until a log line matches ``pattern`` (regex); the line. AssertionError if not."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log_text(name).splitlines():
                if regex.search(line):
                    return line
            if time.monotonic() > deadline or not self.alive:
                raise AssertionError(
                    f"{self.kind} never logged /{pattern}/ within {timeout} s\n{self.logs()}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """End the process: SIGTERM, then SIGKILL to its own process group. Idempotent."""
        process = self.process
        if process.returncode is None:
            # os.kill, not terminate(): that would poll() and so reap the process.
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            _wait_exited(process.pid, _STOP_TIMEOUT)
            # Not reaped yet, so the group id is still this process's (start_new_session made
            # it; nginx's workers are in it, nothing else is): kill whatever is left in it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(_STOP_TIMEOUT)
        _RUNNING.discard(self)


def _exited(pid: int) -> bool:
    """Whether our child ``pid`` has exited, without reaping it (it stays a zombie)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # already reaped
        return True


def _wait_exited(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not _exited(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


#: Gateways not yet stopped: a last sweep at interpreter exit, should a fixture not run.
_RUNNING: set[Gateway] = set()


@atexit.register
def _stop_leftovers() -> None:
    for gateway in list(_RUNNING):
        gateway.stop()


def _launch(
    kind: str,
    argv: Sequence[str],
    directory: Path,
    ports: dict[str, int],
    config: str,
    log_files: Sequence[Path],
    output: Path,
) -> Gateway:
    with output.open("ab") as sink:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=directory,
            start_new_session=True,
        )
    gateway = Gateway(kind, directory, ports, config, process, log_files)
    _RUNNING.add(gateway)
    return gateway


def _wait_ready(gateway: Gateway) -> bool:
    """True when every port accepts; False when the process exited (see its logs)."""
    deadline = time.monotonic() + _READY_TIMEOUT
    pending = set(gateway.ports.values())
    while pending:
        if not gateway.alive:
            return False
        pending = {port for port in pending if not accepts(port)}
        if not pending:
            break
        if time.monotonic() > deadline:
            gateway.stop()
            raise RuntimeError(
                f"{gateway.kind} did not listen on {sorted(pending)} within "
                f"{_READY_TIMEOUT} s\n{gateway.logs()}"
            )
        time.sleep(0.02)
    return True


def _start(
    kind: str,
    make_argv: Callable[[Path], list[str]],
    config_name: str,
    render: Renderer,
    port_names: Sequence[str],
    directory: Path,
    log_names: Sequence[str],
) -> Gateway:
    directory.mkdir(parents=True, exist_ok=True)
    last = ""
    for attempt in range(_START_ATTEMPTS):
        ports = pick_ports(port_names)
        config = render(ports)
        config_path = directory / config_name
        config_path.write_text(config)
        output = directory / f"{kind}.out"
        logs = [directory / name for name in log_names]
        for path in [output, *logs]:
            path.unlink(missing_ok=True)
        gateway = _launch(
            kind, make_argv(config_path), directory, ports, config, [*logs, output], output
        )
        try:
            if _wait_ready(gateway):
                return gateway
        except BaseException:
            gateway.stop()
            raise
        gateway.stop()
        last = gateway.logs()
        if not _ADDRESS_IN_USE.search(gateway.log_text()):
            raise RuntimeError(f"{kind} exited at start (attempt {attempt + 1})\n{config}\n{last}")
    raise RuntimeError(f"{kind}: ports kept being taken ({_START_ATTEMPTS} attempts)\n{last}")


# --------------------------------------------------------------------------- nginx


def nginx_config(ports: Ports, directory: Path, http_block: str) -> str:
    """A complete nginx.conf: everything in ``directory``; ``http_block`` goes inside http{}."""
    d = directory
    return f"""\
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    log_format gw '$request_uri status=$status upstream_status=$upstream_status '
                  'upstream_addr=$upstream_addr request_time=$request_time';
    access_log {d}/access.log gw;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    proxy_max_temp_file_size 0;
{http_block}
}}
"""


def start_nginx(render: Renderer, port_names: Sequence[str], directory: Path) -> Gateway:
    """Start nginx in the foreground (``daemon off``) with ``render(ports)`` as nginx.conf.

    ``render`` returns a whole config; ``nginx_config`` builds one around an http{} body.
    """
    binary = require_binary("nginx")

    def argv(config: Path) -> list[str]:
        # -e: the error log before the config is read (else /var/log/nginx/error.log).
        return [
            binary,
            "-p", f"{directory}/",
            "-c", str(config),
            "-e", str(directory / "error.log"),
            "-g", "daemon off;",
        ]  # fmt: skip

    return _start(
        "nginx", argv, "nginx.conf", render, port_names, directory, ("error.log", "access.log")
    )


# --------------------------------------------------------------------------- HAProxy


def haproxy_config(body: str, *, connect: str = "1s", server: str = "1s") -> str:
    """global + defaults (logs to stdout, short timeouts, ``retries 1``) followed by ``body``."""
    return f"""\
global
    log stdout format raw local0 info
    maxconn 256
    # Without SO_REUSEPORT a port taken by someone else fails the bind (and we pick again)
    # instead of silently sharing the port with another HAProxy.
    noreuseport

defaults
    mode http
    log global
    option httplog
    retries 1
    timeout connect {connect}
    timeout client 5s
    timeout server {server}
    timeout queue 1s
    timeout check 500ms

{body}
"""


def start_haproxy(render: Renderer, port_names: Sequence[str], directory: Path) -> Gateway:
    """Start HAProxy in the foreground (``-db``) with ``render(ports)`` as haproxy.cfg.

    Its log (``log stdout``) and warnings go to ``haproxy.out`` in ``directory``.
    """
    binary = require_binary("haproxy")

    def argv(config: Path) -> list[str]:
        return [binary, "-f", str(config), "-db"]

    return _start("haproxy", argv, "haproxy.cfg", render, port_names, directory, ())
