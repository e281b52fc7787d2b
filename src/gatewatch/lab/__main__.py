"""``python -m gatewatch.lab [--json] [--host 127.0.0.1]``: a lab in the foreground."""

from __future__ import annotations

import argparse

from .cli import run_lab_command


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the lab until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m gatewatch.lab",
        description="Run the gatewatch loopback fault lab until Ctrl-C or SIGTERM.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line of every port")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    args = parser.parse_args(argv)
    return run_lab_command(args.json, args.host)


if __name__ == "__main__":
    raise SystemExit(main())
