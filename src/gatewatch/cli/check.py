"""``gatewatch check [WATCHLIST]``: every endpoint of a watchlist probed once."""

from __future__ import annotations

import argparse
import asyncio
from typing import TextIO

from gatewatch.cli.common import fail, load_watchlist, print_results, probe_endpoints


def cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gatewatch.probe import ProbeSetupError

    watchlist = load_watchlist(args, err)
    if isinstance(watchlist, int):
        return watchlist
    if not watchlist.endpoints:
        return fail(f"{watchlist.path}: the watchlist has no [[endpoint]]", err)
    endpoints = watchlist.endpoints
    if args.http_version:  # --http1.1 / --http2 override every endpoint's http_version
        endpoints = tuple(e.replace(http_version=args.http_version) for e in endpoints)
    try:
        results = asyncio.run(probe_endpoints(endpoints, args.concurrency))
    except ProbeSetupError as exc:
        return fail(str(exc), err)
    return print_results(results, args.json, True, out)
