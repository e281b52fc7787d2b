"""``python -m gatewatch.lab [--json] [--host 127.0.0.1]``: a lab in the foreground.

The same as ``gatewatch lab``, whose one home is :mod:`gatewatch.cli.lab` (an entry point,
like ``gatewatch/__main__.py``; the lab's own modules never import the CLI)."""

from __future__ import annotations

import sys

from gatewatch.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["lab", *sys.argv[1:]]))
