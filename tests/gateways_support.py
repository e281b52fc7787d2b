"""Real gateways on loopback, for tests: start with a config, wait, log, always kill.

nginx, HAProxy, Apache httpd (mod_proxy), Caddy, Varnish and Squid, each from its
Debian package, never the packaged service: a config of our own, loopback ports only.


A test hands a *renderer* (``ports -> config text``) and the names of the ports it needs;
``start_nginx`` / ``start_haproxy`` pick ephemeral ports, write the config into a private
directory (pid file, logs and temp paths all inside it; nothing under /etc or /var),
start the server in the foreground as a child in its own process group, and wait until
every port accepts. If a port was taken between picking and binding, they pick again.

``Gateway.stop()`` always ends the process: SIGTERM, then SIGKILL to its process group
(only the group this module started). ``Gateway.logs()`` returns the error log (nginx)
or the log output (HAProxy) for assertion messages.

A server that drops root privileges (Apache to www-data, Squid to proxy) gets a directory
of its own under /tmp that its user may enter (pytest's base directory is 0700).
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

_APT = {
    "nginx": "nginx",
    "haproxy": "haproxy",
    "apache2": "apache2",
    "caddy": "caddy",
    "varnishd": "varnish",
    "varnishlog": "varnish",
    "squid": "squid",
}
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


#: Environment variables that would send a loopback probe through a forward proxy.
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


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


# --------------------------------------------------------------------------- Apache httpd

_APACHE_MODULES = "/usr/lib/apache2/modules"


def apache_config(ports: Ports, directory: Path, body: str) -> str:
    """A complete httpd.conf: event MPM, mod_proxy(_http), logs with request log ids.

    ``%L`` (the request's log id) is in both logs, so a test finds the error-log lines of
    one request from its access-log line (the error log does not carry the URL).
    """
    d = directory
    user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
    return f"""\
ServerRoot {d}
ServerName 127.0.0.1
Listen 127.0.0.1:{ports["http"]}
PidFile {d}/httpd.pid
DefaultRuntimeDir {d}
Mutex posixsem default
LoadModule mpm_event_module {_APACHE_MODULES}/mod_mpm_event.so
LoadModule authz_core_module {_APACHE_MODULES}/mod_authz_core.so
LoadModule proxy_module {_APACHE_MODULES}/mod_proxy.so
LoadModule proxy_http_module {_APACHE_MODULES}/mod_proxy_http.so
{user}ErrorLog {d}/error.log
ErrorLogFormat "[%{{u}}t] [%-m:%l] [log_id %L] %7F: %E: %M"
LogLevel warn proxy:info proxy_http:info
LogFormat "%L %r status=%>s" gw
CustomLog {d}/access.log gw
StartServers 1
ServerLimit 1
ThreadsPerChild 25
MaxRequestWorkers 25
MinSpareThreads 1
MaxSpareThreads 25
{body}
"""


def start_apache(body: Renderer, port_names: Sequence[str], directory: Path) -> Gateway:
    """Start Apache httpd in the foreground (``-DFOREGROUND``): ``apache_config`` around
    ``body(ports)`` (the ProxyPass lines), in a directory its www-data children can enter."""
    binary = require_binary("apache2")
    directory = _shared_directory(directory, "www-data")

    def argv(config: Path) -> list[str]:
        return [binary, "-f", str(config), "-DFOREGROUND"]

    def render(ports: Ports) -> str:
        return apache_config(ports, directory, body(ports))

    return _start(
        "apache", argv, "httpd.conf", render, port_names, directory, ("error.log", "access.log")
    )


# --------------------------------------------------------------------------- Caddy


def start_caddy(render: Renderer, port_names: Sequence[str], directory: Path) -> Gateway:
    """Start ``caddy run`` with ``render(ports)`` as its Caddyfile; its log goes to caddy.out.

    HOME and the XDG directories point into ``directory``: Caddy writes nothing elsewhere.
    """
    binary = require_binary("caddy")
    home = str(directory)
    env = {"HOME": home, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}

    def argv(config: Path) -> list[str]:
        return ["env", *(f"{k}={v}" for k, v in env.items()), binary, "run",
                "--config", str(config), "--adapter", "caddyfile"]  # fmt: skip

    return _start("caddy", argv, "Caddyfile", render, port_names, directory, ())


# --------------------------------------------------------------------------- Varnish


def start_varnish(render: Renderer, port_names: Sequence[str], directory: Path) -> Gateway:
    """Start varnishd in the foreground (``-F``) with ``render(ports)`` as its VCL.

    ``-j none``: no privilege separation (it needs no user of its own in a test);
    ``-n``: its working directory (and shared-memory log, read by ``varnish_log``). It
    listens on ``ports["http"]``.
    """
    binary = require_binary("varnishd")
    picked: dict[str, int] = {}

    def render_and_keep(ports: Ports) -> str:
        picked.clear()
        picked.update(ports)
        return render(ports)

    def argv(config: Path) -> list[str]:
        return [
            binary, "-F", "-j", "none", "-n", str(directory / "work"),
            "-a", f"127.0.0.1:{picked['http']}", "-f", str(config),
            "-s", "malloc,16m", "-T", "none", "-p", "thread_pools=1",
            "-p", "thread_pool_min=5",
        ]  # fmt: skip

    return _start("varnish", argv, "default.vcl", render_and_keep, port_names, directory, ())


def varnish_log(gateway: Gateway, query: str, want: str, timeout: float = 5.0) -> str:
    """``varnishlog -d`` records of the requests matching ``query`` (a VSL query), once
    they contain ``want`` (a regex; the log is written as the request ends)."""
    binary = require_binary("varnishlog")
    pattern = re.compile(want)
    deadline = time.monotonic() + timeout
    while True:
        done = subprocess.run(
            [binary, "-n", str(gateway.directory / "work"), "-d", "-g", "request", "-q", query],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if pattern.search(done.stdout):
            return done.stdout
        if time.monotonic() > deadline:
            raise AssertionError(
                f"varnishlog never showed /{want}/ for {query!r}\n{done.stdout}{done.stderr}"
            )
        time.sleep(0.05)


# --------------------------------------------------------------------------- Squid


def squid_config(ports: Ports, directory: Path) -> str:
    """A forward proxy for loopback clients: no cache, short timeouts, logs in ``directory``."""
    d = directory
    return f"""\
http_port 127.0.0.1:{ports["http"]}
pid_filename {d}/squid.pid
cache_log {d}/cache.log
access_log stdio:{d}/access.log squid
cache_store_log none
cache deny all
strip_query_terms off
cache_mem 8 MB
coredump_dir {d}
pinger_enable off
acl local src 127.0.0.1/32
http_access allow local
http_access deny all
connect_timeout 2 seconds
read_timeout 2 seconds
forward_max_tries 1
shutdown_lifetime 0 seconds
dns_nameservers 127.0.0.1
"""


def start_squid(port_names: Sequence[str], directory: Path) -> Gateway:
    """Start Squid in the foreground (``-N``) as a forward proxy; logs in its directory."""
    binary = require_binary("squid")
    directory = _shared_directory(directory, "proxy")

    def argv(config: Path) -> list[str]:
        return [binary, "-N", "-f", str(config)]

    return _start(
        "squid",
        argv,
        "squid.conf",
        lambda ports: squid_config(ports, directory),
        port_names,
        directory,
        ("access.log", "cache.log"),
    )


def _shared_directory(directory: Path, user: str) -> Path:
    """A directory ``user`` can write, for a server that drops root (else ``directory``).

    Removed at interpreter exit; pytest's own directory stays for the config's record.
    """
    if os.geteuid() != 0:
        return directory
    import pwd
    import tempfile

    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return directory
    shared = Path(tempfile.mkdtemp(prefix=f"gatewatch-{user}-"))
    shared.chmod(0o755)
    os.chown(shared, entry.pw_uid, entry.pw_gid)
    atexit.register(shutil.rmtree, shared, True)
    (directory / "moved-to").write_text(str(shared))
    return shared
