"""``gatewatch exporter``: blackbox_exporter's ``/probe`` and ``/metrics`` for Prometheus.

The command only parses and wires; the exporter itself lives in :mod:`gatewatch.exporter`.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from gatewatch.model import Endpoint


def add_exporter_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    e = sub.add_parser(
        "exporter",
        help="serve blackbox_exporter-style /probe and /metrics for Prometheus",
    )
    e.add_argument("watchlist", nargs="?", help="watchlist TOML: its endpoints are the targets")
    e.add_argument("--listen", default="127.0.0.1:9115", metavar="HOST:PORT")
    e.add_argument(
        "--allow-any-target",
        action="store_true",
        help="probe any URL asked for, not only the watchlist's (an SSRF risk)",
    )
    e.add_argument("--history", metavar="PATH", help="history database (default: state dir)")


def cmd_exporter(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gatewatch.cli.common import fail, load_watchlist
    from gatewatch.exporter.server import parse_listen, serve

    endpoints: list[Endpoint] = []
    if args.watchlist:
        watchlist = load_watchlist(args, err)
        if isinstance(watchlist, int):
            return watchlist
        endpoints = list(watchlist.endpoints)
    elif not args.allow_any_target:
        err.write("gatewatch: no watchlist: /probe refuses every target (see --allow-any-target)\n")
    try:
        parse_listen(args.listen)
        return serve(
            endpoints,
            listen=args.listen,
            allow_any_target=args.allow_any_target,
            watch=bool(endpoints),
            history=args.history,
            out=out,
        )
    except (ValueError, OSError) as exc:
        return fail(str(exc), err)
