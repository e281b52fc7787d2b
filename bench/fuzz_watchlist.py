"""Fuzz the watchlist loader: how many hostile files crash it instead of being refused?

Each document is a valid watchlist with random damage: values of every TOML type (huge
integers, inf/nan, control characters, dates, deep nesting) put under known keys, misspelt
keys and random ones, in ``[defaults]``, ``[[endpoint]]`` and ``[alerts]``; or the text
itself mangled byte by byte. For each, three outcomes of ``gatewatch.watchlist.loads``:
loaded, refused (``WatchlistError``) or **crashed** (any other exception). A loaded file is
then handed to what `gatewatch watch` does with it first (the monitor's rules for each
endpoint, the ``[alerts]`` config and its sinks): an exception there is a **watch crash**,
a file that ``check`` accepted and ``watch`` dies on.

Reproducible: the same ``--seed`` makes the same documents. Run against any checkout::

    PYTHONPATH=src python3 bench/fuzz_watchlist.py --count 10000 --seed 1
    PYTHONPATH=/work/main/src python3 bench/fuzz_watchlist.py --count 10000 --seed 1   # before

Prints one JSON object: counts, and the exception types of the crashes.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import json
import random
import sys
import time
from collections.abc import Callable
from typing import Any

BASE = """version = 1

[defaults]
interval = "30s"
timeout = "10s"

[alerts]
command = "true"

[[endpoint]]
name = "shop"
url = "http://127.0.0.1:9/health"
expect_status = [200]

[[endpoint]]
name = "api"
url = "https://127.0.0.1:9/ready"
"""

ENDPOINT_KEYS = [
    "interval", "timeout", "expect_status", "expect_body", "origin", "proxy", "resolvers",
    "headers", "tags", "method", "all_addresses", "insecure", "ca_bundle",
    "down_after", "up_after", "flap_threshold", "flap_window", "maintenance", "slow_factor",
    "timout", "intervall", "expect_stauts", "foo",
]  # fmt: skip
ALERT_KEYS = [
    "command", "command_timeout", "webhook", "webhook_headers", "webhook_timeout",
    "webhook_retries", "webhook_backoff", "comand",
]  # fmt: skip
TOP_KEYS = ["version", "owner", "defaults", "alerts", "endpoint"]


def scalar(rng: random.Random) -> str:
    """One TOML value as text, drawn from the shapes that broke loaders before."""
    choice = rng.randrange(16)
    if choice == 0:
        return str(rng.choice([0, 1, -1, 2, 10, 11, 10**6]))
    if choice == 1:
        return "9" * rng.randint(15, 600)  # beyond the float range past 308 digits
    if choice == 2:
        return rng.choice(["inf", "-inf", "nan", "1e308", "1e-308", "0.0", "-0.0", "1e300"])
    if choice == 3:
        return rng.choice(["true", "false"])
    if choice == 4:
        unit = rng.choice(["ms", "s", "m", "h", "d", "", "x", " min"])
        number = rng.choice(["0", ".5", "5.", "1.5", "-3", "9" * rng.randint(1, 400)])
        return json.dumps(number + unit)
    if choice == 5:
        return json.dumps("".join(chr(rng.randrange(0, 0x250)) for _ in range(rng.randint(0, 12))))
    if choice == 6:
        return rng.choice(["1979-05-27T07:32:00Z", "1979-05-27", "07:32:00"])
    if choice == 7:
        return json.dumps(
            rng.choice(
                [
                    "Sat 02:00-04:00 UTC",
                    "daily 25:00-26:00 Mars/Olympus",
                    "x/y",
                    "Mon-Xyz 01:00-02:00",
                    "weekdays 00:00-00:00 +99:99",
                ]
            )
        )
    if choice == 8:
        return json.dumps(
            rng.choice(
                [
                    "http://",
                    "https://[::1",
                    "ftp://x/",
                    "http://x:99999/",
                    "env:",
                    "env:1BAD",
                    "'unclosed",
                    "env:HOOK",
                ]
            )
        )
    if choice == 9:
        depth = rng.choice([2, 30, 40, 331, 1200, 3000])
        opener, closer = rng.choice([("[", "]"), ("{a=", "}")])
        return opener * depth + ("1" if opener != "[" else "") + closer * depth
    if choice == 10:
        return "[" + ", ".join(scalar(rng) for _ in range(rng.randint(0, 3))) + "]"
    if choice == 11:
        return "{ " + ", ".join(f"k{i} = {scalar(rng)}" for i in range(rng.randint(0, 3))) + " }"
    if choice == 12:
        return json.dumps("2xx") if rng.random() < 0.5 else str(rng.choice([99, 600, 200]))
    if choice == 13:
        return str(rng.uniform(-10, 10 ** rng.randint(0, 20)))
    if choice == 14:
        return json.dumps("\x1b[31m" * rng.randint(1, 3))
    return json.dumps(rng.choice(["", " ", "GET", "get me", "1.1.1.1", "[::1]:53"]))


def document(rng: random.Random) -> str:
    if rng.random() < 0.15:  # byte-level damage of a valid file
        text = list(BASE)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(text))
            op = rng.randrange(3)
            if op == 0:
                del text[at]
            elif op == 1:
                text.insert(at, rng.choice("[]{}=\"'.,#\n\\ 0123456789xé\x00\x7f"))
            else:
                text[at] = rng.choice("[]{}=\"'.,#\n\\ 9")
        return "".join(text)
    lines = BASE.splitlines()
    extra: dict[str, list[str]] = collections.defaultdict(list)
    for _ in range(rng.randint(1, 4)):
        table = rng.choice(["top", "defaults", "alerts", "endpoint"])
        pool = {"top": TOP_KEYS, "alerts": ALERT_KEYS}.get(table, ENDPOINT_KEYS)
        key = rng.choice(pool)
        if table == "top" and key in ("defaults", "alerts", "endpoint", "version"):
            continue  # would redefine a table: a plain TOML error, not interesting
        extra[table].append(f"{key} = {scalar(rng)}")
    out: list[str] = []
    section = "top"
    for line in lines:
        if line.startswith("[") and section in extra:
            out += extra.pop(section)
        if line == "[defaults]":
            section = "defaults"
        elif line == "[alerts]":
            section = "alerts"
        elif line == "[[endpoint]]":
            section = "endpoint"
        out.append(line)
    for rest in extra.values():
        out += rest
    return "\n".join(out) + "\n"


def watch_setup(wl: Any) -> None:
    """What `gatewatch watch` does with a loaded watchlist before the first probe."""
    from gatewatch.monitor.alerts import AlertConfig
    from gatewatch.monitor.settings import rules_for
    from gatewatch.monitor.sinks import sinks_from_config

    for endpoint in wl.endpoints:
        rules_for(endpoint)
    sinks_from_config(AlertConfig.from_mapping(wl.alerts))


def _unchecked(watchlist: Any) -> Any:
    return watchlist


def run(count: int, seed: int) -> dict[str, Any]:
    from gatewatch.watchlist import WatchlistError, loads

    # The loader every command uses: the watchlist's checks, then the monitor's (on an
    # older checkout, to measure "before", the watchlist's alone).
    try:
        module = importlib.import_module("gatewatch.monitor.watchlist_check")
        check_watchlist: Callable[[Any], Any] = module.check_watchlist
    except ImportError:
        check_watchlist = _unchecked

    rng = random.Random(seed)
    outcome: collections.Counter[str] = collections.Counter()
    crashes: collections.Counter[str] = collections.Counter()
    watch_crashes: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()
    for _ in range(count):
        text = document(rng)
        try:
            wl = check_watchlist(loads(text))
        except WatchlistError:
            outcome["refused"] += 1
            continue
        except Exception as exc:
            outcome["crashed"] += 1
            crashes[type(exc).__name__] += 1
            continue
        outcome["loaded"] += 1
        try:
            watch_setup(wl)
        except Exception as exc:
            outcome["watch_crashed"] += 1
            watch_crashes[type(exc).__name__] += 1
    return {
        "documents": count,
        "seed": seed,
        "loaded": outcome["loaded"],
        "refused": outcome["refused"],
        "crashed": outcome["crashed"],
        "crash_types": dict(crashes),
        "loaded_but_watch_crashed": outcome["watch_crashed"],
        "watch_crash_types": dict(watch_crashes),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sys.setrecursionlimit(1000)  # the interpreter's default, whatever the caller set
    print(json.dumps(run(args.count, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
