"""Key-to-screen of the real board in a real terminal (tmux), under load.

    PYTHONPATH=src python bench/bench_tmux_keys.py                      # 1,000 endpoints, 160x45
    PYTHONPATH=src python bench/bench_tmux_keys.py --endpoints 300      # the new user's case
    PYTHONPATH=src python bench/bench_tmux_keys.py --size 80x24 --workers 1 --json out.json

What runs: real nginx (``bench/nginxproc.py``: http and https on loopback, ``return 200``,
half the endpoints https with a fresh handshake per probe) as the target, and the real
``gatewatch board WATCHLIST`` — its Linux driver writing escape sequences to a real pty —
inside a tmux server of its own (``tmux -L``, killed at the end), at ``--size``. The
endpoints are probed at ``--rate`` probes per second (interval = endpoints / rate); the
board picks its own workers as it would for a user unless ``--workers`` is given.

How it measures, and why it is exact:

- **Output.** ``tmux pipe-pane -O`` copies everything the board writes to its pty into a
  FIFO that this script reads; each chunk is stamped with ``perf_counter`` when ``read``
  returns, *before* it is parsed, then fed to pyte (a VT100 emulator), so the emulated
  screen is the screen tmux draws. What the terminal shows is known at the moment the
  bytes reach the terminal, not at the next poll.
- **Keys.** One tmux control-mode client (``tmux -C``, with ``no-output``) stays attached;
  a key is ``send-keys -t board j`` written to its stdin — no process started per key.
  The key's time is when that line is written. tmux's ``%end`` reply (the key is in the
  pty) is stamped too, so tmux's own share is reported (``key_in_pty_ms``).
- **Key-to-screen.** The highlighted row is the one whose name cell is bold (the
  cursor's ``text-style: bold``; no other row's name is bold). Its (screen line, name)
  before the key is remembered; the latency is the time to the first chunk after which
  the emulated screen shows it on another line or another name (a scroll). ``j`` is
  pressed every ``--key-gap`` seconds, the next one only once the last one showed (a
  key that never shows counts as 2,000 ms). At the list's end ``home`` brings the cursor
  back, unmeasured.
- **First frame.** From writing the command's go-ahead (the shell ``exec``s the board at
  once) to the first chunk after which every table line of the final screen shows a row.
- **Load.** The load average at start and end, and the CPU of the board (its process and
  workers; the UI's process alone as ``board_ui_process``), nginx, the tmux server and
  this script (pyte's parsing) over the measured window; the bytes the board wrote (total,
  per second, largest chunk).

At the end the tmux server is killed, so the board gets SIGHUP as from a closed terminal;
``board_after_sighup`` says whether it and its workers exited within 10 s (any that
linger are killed, never left behind).

Warm-up: ``--warmup`` seconds (default 1.5 intervals, at least 3 s: every endpoint is
probed at once on start, then joins its spread grid) before keys are measured for
``--duration`` seconds.
Exit status 0 when the goals hold (key-to-screen p95 < 35 ms, first frame < 0.5 s), 1
otherwise. pyte is in the ``test`` extra; tmux and nginx are Debian packages.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyte
from nginxproc import Nginx, start_nginx, stop_nginx

GOALS = {"key_p95_ms": 35.0, "first_frame_s": 0.5}
MISSED_MS = 2000.0
SESSION = "board"


# --------------------------------------------------------------------------- the target


def watchlist_text(nginx: Nginx, count: int, interval: float) -> str:
    """Half http, half https, each its own path; names sort in list order."""
    lines = [
        "version = 1",
        "",
        "[defaults]",
        f'interval = "{interval * 1000:.0f}ms"',
        'timeout = "5s"',
        "",
    ]
    for i in range(count):
        if i % 2:
            url = f"https://127.0.0.1:{nginx.https_port}/{i}"
            extra = f'ca_bundle = "{nginx.ca_bundle}"\n'
        else:
            url = f"http://127.0.0.1:{nginx.http_port}/{i}"
            extra = ""
        lines.append(f'[[endpoint]]\nname = "ep-{i:05d}"\nurl = "{url}"\n{extra}')
    return "\n".join(lines)


# --------------------------------------------------------------------------- processes


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


class Tmux:
    """A private tmux server (``-L``) with one session running one command."""

    def __init__(self, size: tuple[int, int], command: str, env: dict[str, str]) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            raise SystemExit("tmux is not installed: apt-get install -y tmux")
        self.base = [tmux, "-L", f"gatewatch-bench-{os.getpid()}", "-f", "/dev/null"]
        width, height = size
        self.run("new-session", "-d", "-s", SESSION, "-x", str(width), "-y", str(height),
                 command, env=env)  # fmt: skip
        self.run("set-option", "-g", "window-size", "manual")
        self.pane_pid = int(self.run("display-message", "-p", "-t", SESSION, "#{pane_pid}"))
        self.server_pid = int(self.run("display-message", "-p", "#{pid}"))
        self.control: subprocess.Popen[bytes] | None = None
        self.replies: list[float] = []

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        out = subprocess.run([*self.base, *args], capture_output=True, check=True, env=env)
        return out.stdout.decode().strip()

    def attach_control(self) -> None:
        """A control-mode client that never receives pane output: keys go through it."""
        self.control = subprocess.Popen(
            [*self.base, "-C", "attach-session", "-f", "no-output,ignore-size", "-t", SESSION],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        threading.Thread(target=self._read_replies, daemon=True).start()

    def _read_replies(self) -> None:
        assert self.control is not None and self.control.stdout is not None
        for line in self.control.stdout:
            if line.startswith(b"%end") or line.startswith(b"%error"):
                self.replies.append(time.perf_counter())

    def send(self, key: str) -> float:
        """Press ``key``; the time the command was written."""
        assert self.control is not None and self.control.stdin is not None
        line = f"send-keys -t {SESSION} {key}\n".encode()
        sent = time.perf_counter()
        self.control.stdin.write(line)
        self.control.stdin.flush()
        return sent

    def close(self) -> None:
        if self.control is not None:
            with contextlib.suppress(OSError):
                assert self.control.stdin is not None
                self.control.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.control.wait(timeout=2)
            if self.control.poll() is None:
                self.control.kill()
        subprocess.run([*self.base, "kill-server"], capture_output=True, check=False)


# --------------------------------------------------------------------------- the screen


@dataclass
class Screen:
    """pyte fed with every chunk the board wrote, and what the table shows."""

    width: int
    height: int
    screen: pyte.Screen = field(init=False)
    stream: pyte.ByteStream = field(init=False)
    name_x: int | None = None
    parse_s: float = 0.0

    def __post_init__(self) -> None:
        self.screen = pyte.Screen(self.width, self.height)
        self.stream = pyte.ByteStream(self.screen)

    def feed(self, data: bytes) -> None:
        start = time.perf_counter()
        self.stream.feed(data)
        self.parse_s += time.perf_counter() - start

    def line(self, y: int) -> str:
        row = self.screen.buffer[y]
        return "".join(row[x].data for x in range(self.width))

    def locate_name_column(self) -> None:
        if self.name_x is not None:
            return
        for y in range(self.height):
            text = self.line(y)
            if "State" in text and "Name" in text:
                self.name_x = text.index("Name")
                return

    def rows(self) -> list[tuple[int, str, bool]]:
        """(line, endpoint name, highlighted) of every table line that shows a row."""
        self.locate_name_column()
        x = self.name_x
        if x is None:
            return []
        found = []
        buffer = self.screen.buffer
        for y in range(self.height):
            row = buffer[y]
            if row[x].data == "e" and row[x + 1].data == "p" and row[x + 2].data == "-":
                name = "".join(row[x + i].data for i in range(8))
                found.append((y, name, row[x].bold))
        return found

    def cursor(self) -> tuple[int, str] | None:
        lit = [(y, name) for y, name, bold in self.rows() if bold]
        return lit[0] if len(lit) == 1 else None


# --------------------------------------------------------------------------- the run


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    in_pty: list[float] = field(default_factory=list)
    chunks: list[tuple[float, int]] = field(default_factory=list)
    row_counts: list[tuple[float, int]] = field(default_factory=list)
    first_frame_s: float | None = None


def pcts(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)

    def at(p: float) -> float | None:
        if not ordered:
            return None
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)

    return {"n": len(ordered), "p50": at(50), "p95": at(95), "p99": at(99), "max": at(100)}


class Reader:
    """Stamps each chunk the moment ``read`` returns, on a thread of its own; the caller
    parses. pyte is pure Python and a scrolled frame is ~70 KB: parsing on the reading
    thread would stamp the next chunk late by the parse time of the last one."""

    def __init__(self, fd: int, screen: Screen, run: Run) -> None:
        self.fd = fd
        self.screen = screen
        self.run = run
        self.rows_seen = 0
        self.dump: Any = None
        self.chunks: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 1 << 20)
            except OSError:
                data = b""
            self.chunks.put((time.perf_counter(), data))
            if not data:
                return

    def pump(self, until: float) -> float | None:
        """Parse the next chunk that arrives before ``until``; its time (None: none)."""
        wait = until - time.perf_counter()
        try:
            now, data = (
                self.chunks.get(timeout=max(0.0, wait)) if wait > 0 else self.chunks.get_nowait()
            )
        except queue.Empty:
            return None
        if not data:
            raise SystemExit("the board's output ended (did it exit?)")
        self.run.chunks.append((now, len(data)))
        if self.dump is not None:
            self.dump.write(b"\n@@CHUNK %.6f %d@@\n" % (now, len(data)) + data)
        self.screen.feed(data)
        count = len(self.screen.rows())
        if count > self.rows_seen:
            self.rows_seen = count
            self.run.row_counts.append((now, count))
        return now

    def until_cursor_differs(self, before: tuple[int, str] | None, limit: float) -> float | None:
        """The time of the first chunk after which the cursor is elsewhere."""
        while time.perf_counter() < limit:
            at = self.pump(limit)
            if at is None:
                continue
            now = self.screen.cursor()
            if now is not None and now != before:
                return at
        return None


def measure(args: argparse.Namespace, nginx: Nginx, folder: Path) -> dict[str, Any]:
    width, height = args.size
    interval = args.endpoints / args.rate
    watchlist = folder / "watchlist.toml"
    watchlist.write_text(watchlist_text(nginx, args.endpoints, interval))
    go, out = folder / "go", folder / "out"
    os.mkfifo(go)
    os.mkfifo(out)
    src = Path(__file__).resolve().parents[1] / "src"
    env = {
        **{k: v for k, v in os.environ.items() if "proxy" not in k.lower()},
        "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "XDG_CONFIG_HOME": str(folder / "config"),
        "XDG_STATE_HOME": str(folder / "state"),
        "XDG_DATA_HOME": str(folder / "data"),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
    }
    workers = "" if args.workers is None else f" --workers {args.workers}"
    board = args.board_command or f"{sys.executable} -m gatewatch"
    command = f"read go < {go}; exec {board} board {watchlist}{workers}"
    tmux = Tmux((width, height), f"sh -c '{command}'", env)
    run = Run()
    reader = None
    board_pids: list[int] = [tmux.pane_pid]
    report: dict[str, Any] = {}
    try:
        # Read-write: the FIFO then never reads as ended while `cat` is not there yet.
        fd = os.open(out, os.O_RDWR)
        tmux.run("pipe-pane", "-O", "-t", SESSION, f"exec cat > {out}")
        tmux.attach_control()
        screen = Screen(width, height)
        reader = Reader(fd, screen, run)
        if args.dump is not None:
            reader.dump = open(args.dump, "wb")  # noqa: SIM115  closed with the process
        launched = time.perf_counter()
        with open(go, "w") as gate:
            gate.write("go\n")
        warm_until = launched + args.warmup
        while time.perf_counter() < warm_until:
            reader.pump(warm_until)
        full = reader.rows_seen
        first = next((t for t, count in run.row_counts if count >= full), None)
        run.first_frame_s = None if first is None else first - launched
        board_pids = [tmux.pane_pid, *children(tmux.pane_pid)]
        watched = {
            "board": board_pids,  # the UI's process and its probe workers
            "board_ui_process": [tmux.pane_pid],  # the loop, the engine thread, history
            "nginx": nginx.pids(),
            "tmux": [tmux.server_pid],
            "bench": [os.getpid()],
        }
        cpu0 = {k: sum(proc_cpu(p) for p in v) for k, v in watched.items()}
        parse0, chunks0 = screen.parse_s, len(run.chunks)
        load0 = os.getloadavg()
        started = time.perf_counter()
        deadline = started + args.duration
        moved = 0
        while time.perf_counter() < deadline:
            before = screen.cursor()
            if moved >= args.endpoints - 2:  # the list's end: back to the top, unmeasured
                tmux.send("Home")
                reader.until_cursor_differs(before, time.perf_counter() + MISSED_MS / 1000)
                moved = 0
                continue
            replies = len(tmux.replies)
            sent = tmux.send("j")
            seen = reader.until_cursor_differs(before, sent + MISSED_MS / 1000)
            run.latencies.append(MISSED_MS if seen is None else (seen - sent) * 1000)
            if len(tmux.replies) > replies:
                run.in_pty.append((tmux.replies[replies] - sent) * 1000)
            moved += 1
            next_key = sent + args.key_gap
            while time.perf_counter() < next_key:
                reader.pump(next_key)
        wall = time.perf_counter() - started
        load1 = os.getloadavg()
        cpu = {k: sum(proc_cpu(p) for p in v) - cpu0[k] for k, v in watched.items()}
        if args.board_command:  # a profiler writes its file when the board exits: quit
            tmux.send("q")
            gone = time.monotonic() + 20
            while Path(f"/proc/{tmux.pane_pid}").exists() and time.monotonic() < gone:
                reader.pump(time.perf_counter() + 0.1)
        window = [(t, n) for t, n in run.chunks[chunks0:]]
        total = sum(n for _, n in window)
        sizes = sorted(n for _, n in window)
        report = {
            "endpoints": args.endpoints,
            "probes_per_s": args.rate,
            "interval_s": round(interval, 3),
            "size": f"{width}x{height}",
            "workers": "board default" if args.workers is None else args.workers,
            "board_processes": len(board_pids),
            "rows_on_screen": full,
            "first_frame_s": None if run.first_frame_s is None else round(run.first_frame_s, 3),
            "key_to_screen_ms": pcts(run.latencies),
            "key_in_pty_ms": pcts(run.in_pty),
            "missed_keys": sum(1 for v in run.latencies if v >= MISSED_MS),
            "output": {
                "bytes_per_s": round(total / wall),
                "chunks_per_s": round(len(window) / wall, 1),
                "chunk_bytes_p50": sizes[len(sizes) // 2] if sizes else 0,
                "chunk_bytes_max": sizes[-1] if sizes else 0,
            },
            "cpu_percent": {k: round(100 * v / wall, 1) for k, v in cpu.items()},
            "pyte_parse_percent": round(100 * (screen.parse_s - parse0) / wall, 1),
            "load_average": {
                "start": [round(v, 2) for v in load0],
                "end": [round(v, 2) for v in load1],
            },
            "measured_s": round(wall, 1),
            "cpus": os.cpu_count(),
        }
    finally:
        tmux.close()
        if reader is not None and reader.dump is not None:
            reader.dump.close()
    # The closed terminal (SIGHUP) must end the board and its workers; one that lingers
    # is reported and killed, never left behind.
    lingering = [pid for pid in board_pids if not _gone(pid, within=10.0)]
    for pid in lingering:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    report["board_after_sighup"] = f"lingered, killed: {lingering}" if lingering else "exited"
    return report


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="probes per second")
    parser.add_argument("--size", type=size, default=(160, 45), help="WIDTHxHEIGHT (160x45)")
    parser.add_argument("--workers", type=int, default=None, help="the board's --workers "
                        "(default: not given, so the board picks as for a user)")  # fmt: skip
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of keys")
    parser.add_argument("--warmup", type=float, default=None, help="default 1.5 intervals")
    parser.add_argument("--key-gap", type=float, default=0.1, help="seconds between keys")
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument(
        "--board-command",
        help="instead of `python -m gatewatch`, e.g. `python -m cProfile -o FILE -m gatewatch` "
        "(q is pressed at the end, so a profiler writes its file)",
    )
    parser.add_argument("--dump", type=Path, help="write every chunk the board wrote here, stamped")
    args = parser.parse_args()
    if args.warmup is None:
        args.warmup = max(3.0, 1.5 * args.endpoints / args.rate)
    # The reading thread must get the GIL back at once when a chunk arrives.
    sys.setswitchinterval(0.0005)
    nginx = start_nginx()
    try:
        with tempfile.TemporaryDirectory(prefix="gatewatch-bench-tmux-") as tmp:
            report = measure(args, nginx, Path(tmp))
    finally:
        stop_nginx(nginx)
    key_p95 = report["key_to_screen_ms"]["p95"]
    first = report["first_frame_s"]
    report["goals"] = {
        "key_p95_ms": key_p95 is not None and key_p95 < GOALS["key_p95_ms"],
        "first_frame_s": first is not None and first < GOALS["first_frame_s"],
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if all(report["goals"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
