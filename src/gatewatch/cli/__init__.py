"""``gatewatch`` command line: the composition root. One module per command:

- :mod:`~gatewatch.cli.probe`, :mod:`~gatewatch.cli.check`, :mod:`~gatewatch.cli.diagnose`,
  :mod:`~gatewatch.cli.watch`: the headless commands scripts and cron jobs rely on;
- :mod:`~gatewatch.cli.board`: the board and ``demo`` (the only place the lab meets the UI);
- :mod:`~gatewatch.cli.lab`: the fault lab in the foreground;
- :mod:`~gatewatch.cli.exporter`: blackbox_exporter's ``/probe`` and ``/metrics``.

Exit status (DESIGN.md, "The contract"): 0 all healthy, 1 some endpoint unhealthy,
2 usage or watchlist error. ``--json`` output is a stable contract: add keys, never
rename or remove them. Building the parser imports nothing heavy; each command imports what
it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from gatewatch import __version__
from gatewatch.cli.common import EXIT_OK, EXIT_UNHEALTHY, EXIT_USAGE, add_workers_option

__all__ = ["COMMANDS", "EXIT_OK", "EXIT_UNHEALTHY", "EXIT_USAGE", "build_parser", "main"]

Command = Callable[[argparse.Namespace, TextIO, TextIO], int]


def _probe_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gatewatch.cli.diagnose import add_probe_options  # shared with `diagnose`

    p = sub.add_parser("probe", help="probe one URL once, hop by hop, and say why it fails")
    add_probe_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gatewatch",
        description="Which hop broke, and why: HTTP(S) probes broken down into "
        "dns, tcp, tls, proxy and upstream.",
    )
    parser.add_argument("--version", action="version", version=f"gatewatch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("demo", help="the board over a built-in loopback lab (no network needed)")
    board = sub.add_parser("board", help="the live board over a watchlist (the default)")
    board.add_argument("watchlist", nargs="?")
    add_workers_option(board)
    _probe_parser(sub)
    from gatewatch.cli.diagnose import add_diagnose_parser  # light: no httpx import

    add_diagnose_parser(sub)
    c = sub.add_parser("check", help="probe every endpoint of a watchlist once")
    c.add_argument(
        "watchlist",
        nargs="?",
        help="watchlist TOML (default: $GATEWATCH_WATCHLIST or the config dir)",
    )
    c.add_argument("--json", action="store_true", help="print a JSON list")
    c.add_argument(
        "--brief", action="store_true", help="one line per endpoint instead of every hop"
    )
    c.add_argument("--concurrency", default="20", help="probes at once (default 20)")
    from gatewatch.cli.diagnose import add_http_version_options

    add_http_version_options(c)
    w = sub.add_parser("watch", help="monitor a watchlist headless, printing state changes")
    w.add_argument("watchlist", nargs="?")
    w.add_argument("--json", action="store_true", help="JSON lines")
    w.add_argument("--history", metavar="PATH", help="history database (default: state dir)")
    add_workers_option(w)
    from gatewatch.cli.exporter import add_exporter_parser

    add_exporter_parser(sub)
    lab = sub.add_parser("lab", help="start the loopback fault lab and print its URLs")
    lab.add_argument("--json", action="store_true")
    lab.add_argument("--host", default="127.0.0.1")
    return parser


#: Command → the module that is its one home (imported when the command runs).
COMMANDS: dict[str, str] = {
    "probe": "probe",
    "check": "check",
    "watch": "watch",
    "lab": "lab",
    "exporter": "exporter",
    "diagnose": "diagnose",
    "demo": "board",
    "board": "board",
}


def _command(name: str) -> Command:
    import importlib

    module = importlib.import_module(f"gatewatch.cli.{COMMANDS[name]}")
    run: Command = getattr(module, f"cmd_{name}")
    return run


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # `gatewatch [WATCHLIST]` opens the board: a first argument that is no command
    # (and no option) is the watchlist's path.
    if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
        argv = ["board", *argv]
    args = parser.parse_args(argv)
    try:
        return _command(args.command)(args, out, err)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
