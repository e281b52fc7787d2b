"""``gatewatch`` command line: the headless commands scripts and cron jobs rely on.

Exit status (DESIGN.md, "The contract"): 0 all healthy, 1 some endpoint unhealthy,
2 usage or watchlist error. ``--json`` output is a stable contract: add keys, never
rename or remove them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gatewatch import __version__
from gatewatch.model import Endpoint, ProbeResult, result_to_json
from gatewatch.text import dumps

if TYPE_CHECKING:
    from gatewatch.watchlist import Watchlist

EXIT_OK, EXIT_UNHEALTHY, EXIT_USAGE = 0, 1, 2


def _probe_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gatewatch.checklist.command import add_probe_options  # shared with `diagnose`

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
    _probe_parser(sub)
    from gatewatch.checklist.command import add_diagnose_parser  # light: no httpx import

    add_diagnose_parser(sub)
    c = sub.add_parser("check", help="probe every endpoint of a watchlist once")
    c.add_argument(
        "watchlist",
        nargs="?",
        help="watchlist TOML (default: $GATEWATCH_WATCHLIST or the config dir)",
    )
    c.add_argument("--json", action="store_true", help="print a JSON list")
    c.add_argument("--concurrency", type=int, default=20)
    from gatewatch.checklist.command import add_http_version_options

    add_http_version_options(c)
    w = sub.add_parser("watch", help="monitor a watchlist headless, printing state changes")
    w.add_argument("watchlist", nargs="?")
    w.add_argument("--json", action="store_true", help="JSON lines")
    w.add_argument("--history", metavar="PATH", help="history database (default: state dir)")
    lab = sub.add_parser("lab", help="start the loopback fault lab and print its URLs")
    lab.add_argument("--json", action="store_true")
    lab.add_argument("--host", default="127.0.0.1")
    return parser


async def probe_endpoints(
    endpoints: Sequence[Endpoint], concurrency: int = 20
) -> list[ProbeResult]:
    """Probe each endpoint once (bounded concurrency) and attach the verdicts."""
    from gatewatch.diagnose import annotate
    from gatewatch.probe import Prober
    from gatewatch.probe.siblings import sibling_history

    prober = Prober()
    await prober.warm_up()
    limit = asyncio.Semaphore(max(1, concurrency))

    async def one(endpoint: Endpoint) -> ProbeResult:
        async with limit:
            result = await prober.probe(endpoint)
            # No history here: after a 5xx, one healthy sibling path shows the path's identity.
            history = await sibling_history(prober.probe, endpoint, result)
            return annotate(result, history=history)

    try:
        return list(await asyncio.gather(*(one(e) for e in endpoints)))
    finally:
        await prober.aclose()


def _colour(out: TextIO) -> bool:
    return out.isatty() and "NO_COLOR" not in os.environ


def _print_results(results: Sequence[ProbeResult], as_json: bool, many: bool, out: TextIO) -> int:
    from gatewatch.report import render_result

    if as_json:
        payload = [result_to_json(r) for r in results] if many else result_to_json(results[0])
        out.write(dumps(payload, indent=None if many else 2) + "\n")
    else:
        out.write("\n\n".join(render_result(r, colour=_colour(out)) for r in results) + "\n")
    return EXIT_OK if all(r.ok for r in results) else EXIT_UNHEALTHY


def _fail(message: str, err: TextIO) -> int:
    from gatewatch.text import visible

    err.write(f"gatewatch: {visible(message, keep_newlines=True)}\n")
    return EXIT_USAGE


def cmd_probe(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gatewatch.probe import ProbeSetupError

    try:
        from gatewatch.checklist.command import endpoint_from_args

        endpoint = endpoint_from_args(args)
        results = asyncio.run(probe_endpoints([endpoint]))
    except (ValueError, ProbeSetupError) as exc:
        return _fail(str(exc), err)
    return _print_results(results, args.json, False, out)


def _load_watchlist(args: argparse.Namespace, err: TextIO) -> Watchlist | int:
    """The watchlist named on the command line (or the default), or the exit status."""
    from gatewatch.watchlist import WatchlistError, default_path, load

    path = Path(args.watchlist) if args.watchlist else default_path()
    try:
        return load(path)
    except FileNotFoundError:
        return _fail(f"{path}: no such watchlist", err)
    except WatchlistError as exc:
        return _fail(str(exc), err)


def cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gatewatch.probe import ProbeSetupError

    watchlist = _load_watchlist(args, err)
    if isinstance(watchlist, int):
        return watchlist
    if not watchlist.endpoints:
        return _fail(f"{watchlist.path}: the watchlist has no [[endpoint]]", err)
    endpoints = watchlist.endpoints
    if args.http_version:  # --http1.1 / --http2 override every endpoint's http_version
        endpoints = tuple(e.replace(http_version=args.http_version) for e in endpoints)
    try:
        results = asyncio.run(probe_endpoints(endpoints, args.concurrency))
    except ProbeSetupError as exc:
        return _fail(str(exc), err)
    return _print_results(results, args.json, True, out)


def cmd_watch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gatewatch.monitor.watch_command import run_watch

    watchlist = _load_watchlist(args, err)
    if isinstance(watchlist, int):
        return watchlist
    return run_watch(
        watchlist.endpoints,
        watchlist.alerts,
        json_lines=args.json,
        history_path=args.history,
        out=out,
    )


def cmd_lab(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gatewatch.lab.cli import run_lab_command

    return run_lab_command(json_output=args.json, host=args.host)


def cmd_diagnose(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gatewatch.checklist.command import run_diagnose_command

    return run_diagnose_command(args, out, err)


def cmd_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gatewatch.tui.app import run_demo

    return run_demo()


def cmd_board(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gatewatch.tui.app import run_board

    return run_board(Path(args.watchlist) if args.watchlist else None)


COMMANDS = {
    "probe": cmd_probe,
    "check": cmd_check,
    "watch": cmd_watch,
    "lab": cmd_lab,
    "diagnose": cmd_diagnose,
    "demo": cmd_demo,
    "board": cmd_board,
}


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
        return COMMANDS[args.command](args, out, err)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
