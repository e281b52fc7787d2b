"""What the headless commands share: exit codes, errors, the watchlist, probing once.

Exit status (DESIGN.md, "The contract"): 0 all healthy, 1 some endpoint unhealthy,
2 usage or watchlist error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gatewatch.model import Endpoint, ProbeResult, result_to_json
from gatewatch.text import dumps

if TYPE_CHECKING:
    from gatewatch.watchlist import Watchlist

EXIT_OK, EXIT_UNHEALTHY, EXIT_USAGE = 0, 1, 2


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


def print_results(results: Sequence[ProbeResult], as_json: bool, many: bool, out: TextIO) -> int:
    from gatewatch.report import render_result

    if as_json:
        payload = [result_to_json(r) for r in results] if many else result_to_json(results[0])
        out.write(dumps(payload, indent=None if many else 2) + "\n")
    else:
        out.write("\n\n".join(render_result(r, colour=_colour(out)) for r in results) + "\n")
    return EXIT_OK if all(r.ok for r in results) else EXIT_UNHEALTHY


def fail(message: str, err: TextIO) -> int:
    from gatewatch.text import visible

    err.write(f"gatewatch: {visible(message, keep_newlines=True)}\n")
    return EXIT_USAGE


def load_watchlist(args: argparse.Namespace, err: TextIO) -> Watchlist | int:
    """The watchlist named on the command line (or the default), or the exit status."""
    from gatewatch.monitor.watchlist_check import load_checked
    from gatewatch.watchlist import WatchlistError, default_path

    path = Path(args.watchlist) if args.watchlist else default_path()
    try:
        watchlist = load_checked(path)  # the monitor's keys too: one validation for all
    except FileNotFoundError:
        return fail(f"{path}: no such watchlist", err)
    except WatchlistError as exc:
        return fail(exc.describe_all(), err)
    except OSError as exc:
        return fail(f"{path}: {exc.strerror or exc}", err)
    warn_about(watchlist, err)
    return watchlist


def warn_about(watchlist: Watchlist, err: TextIO) -> None:
    """Each warning of the file (a misspelt key …) on stderr: stdout stays the contract."""
    from gatewatch.text import visible

    for warning in watchlist.warnings:
        err.write(f"gatewatch: warning: {visible(warning.describe())}\n")


def add_workers_option(parser: argparse.ArgumentParser) -> None:
    """``--workers N`` for the commands that run the engine (watch, the board)."""
    parser.add_argument(
        "--workers",
        type=_worker_count,
        default=None,
        metavar="N",
        help="probe worker processes (default: one per core; the board one fewer, and "
        "none under 100 probes/s; 0: probe in this process)",
    )


def _worker_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def workers_from(
    args: argparse.Namespace, *, board: bool = False, endpoints: Sequence[Endpoint] = ()
) -> int:
    """``--workers``, or its default: one per core; for the board one fewer, and none for
    a watchlist one engine thread handles (see ``default_workers``)."""
    from gatewatch.monitor.workers import default_workers

    if args.workers is not None:
        return int(args.workers)
    return default_workers(board=board, endpoints=endpoints if board else None)
