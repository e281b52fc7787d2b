"""``gatewatch check [WATCHLIST]``: every endpoint of a watchlist probed once."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import TextIO

from gatewatch.cli.common import (
    EXIT_OK,
    EXIT_UNHEALTHY,
    fail,
    load_watchlist,
    print_results,
    probe_endpoints,
)
from gatewatch.model import ProbeResult
from gatewatch.text import one_line


def cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gatewatch.cli.diagnose import positive_int_option
    from gatewatch.probe import ProbeSetupError

    try:
        concurrency = positive_int_option("--concurrency", args.concurrency)
    except ValueError as exc:
        return fail(str(exc), err)
    watchlist = load_watchlist(args, err)
    if isinstance(watchlist, int):
        return watchlist
    if not watchlist.endpoints:
        return fail(f"{watchlist.path}: the watchlist has no [[endpoint]]", err)
    endpoints = watchlist.endpoints
    if args.http_version:  # --http1.1 / --http2 override every endpoint's http_version
        endpoints = tuple(e.replace(http_version=args.http_version) for e in endpoints)
    try:
        results = asyncio.run(probe_endpoints(endpoints, concurrency))
    except ProbeSetupError as exc:
        return fail(str(exc), err)
    if args.json:
        return print_results(results, True, True, out)
    if args.brief:
        out.write(brief_table(results) + "\n")
    else:
        print_results(results, False, True, out)
        out.write("\n")
    out.write(summary_line(results) + "\n")
    return EXIT_OK if all(r.ok for r in results) else EXIT_UNHEALTHY


def _verdict_tag(result: ProbeResult) -> str:
    verdict = result.verdict
    if verdict is None:
        hop = result.failed_hop
        return f"{hop.name}/{hop.kind or 'failed'}" if hop is not None else "unknown"
    return f"{verdict.cause}/{verdict.kind or '-'}"


def summary_line(results: Sequence[ProbeResult]) -> str:
    """One line to end on: ``2 of 4 endpoints unhealthy: api (dns/nxdomain), checkout
    (backend/upstream_refused)``, or ``all 4 endpoints healthy``."""
    bad = [r for r in results if not r.ok]
    total = len(results)
    noun = "endpoint" if total == 1 else "endpoints"
    if not bad:
        return f"all {total} {noun} healthy" if total != 1 else "1 endpoint healthy"
    named = ", ".join(f"{one_line(r.name, 60)} ({_verdict_tag(r)})" for r in bad)
    return f"{len(bad)} of {total} {noun} unhealthy: {named}"


def brief_table(results: Sequence[ProbeResult]) -> str:
    """``--brief``: one line per endpoint — ok/FAIL, name, HTTP status, time, cause/kind,
    summary — failing first, in the order given otherwise."""
    rows = sorted(results, key=lambda r: r.ok)  # stable: failures first
    width = max(4, *(len(one_line(r.name, 40)) for r in rows))
    lines = [f"{'':4}  {'NAME':<{width}}  HTTP  {'TIME':>8}  {'VERDICT':<28}  SUMMARY"]
    for r in rows:
        mark = "ok" if r.ok else "FAIL"
        code = str(r.status_code) if r.status_code is not None else "-"
        took = f"{r.total_ms:.0f} ms" if r.total_ms == r.total_ms else "-"
        healthy = r.ok and (r.verdict is None or r.verdict.healthy)
        verdict = "healthy" if healthy else _verdict_tag(r)
        summary = one_line(r.verdict.summary, 100) if r.verdict and not r.verdict.healthy else ""
        lines.append(
            f"{mark:<4}  {one_line(r.name, 40):<{width}}  {code:<4}  {took:>8}  "
            f"{verdict:<28}  {summary}".rstrip()
        )
    return "\n".join(lines)
