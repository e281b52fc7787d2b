"""``gatewatch probe URL``: one probe, hop by hop, and why it fails."""

from __future__ import annotations

import argparse
import asyncio
from typing import TextIO

from gatewatch.cli.common import fail, print_results, probe_endpoints


def cmd_probe(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gatewatch.probe import ProbeSetupError

    try:
        from gatewatch.cli.diagnose import endpoint_from_args

        endpoint = endpoint_from_args(args)
        results = asyncio.run(probe_endpoints([endpoint]))
    except (ValueError, ProbeSetupError) as exc:
        return fail(str(exc), err)
    return print_results(results, args.json, False, out)
