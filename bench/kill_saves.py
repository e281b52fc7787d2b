"""SIGKILL a process that saves a watchlist in a loop; count the temporary files left
behind, and how many remain after the next save.

    PYTHONPATH=src python3 bench/kill_saves.py --trials 200 --seed 1

Each trial starts a child that saves the same watchlist over and over, waits a random
0–40 ms after it has started saving, kills it with SIGKILL, counts the
``.watchlist.toml.*.tmp`` files, then saves once from this process and counts again.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import sys
from gatewatch.watchlist import load, save
wl = load(sys.argv[1])
print("ready", flush=True)
while True:
    wl = save(wl, force=True)
"""

TEXT = "version = 1\n" + "".join(
    f'\n[[endpoint]]\nname = "e{i}"\nurl = "http://127.0.0.1:9/{i}"\n' for i in range(200)
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from gatewatch.watchlist import load, save

    rng = random.Random(args.seed)
    left_by_kill = left_after_save = 0
    with tempfile.TemporaryDirectory(prefix="gatewatch-killsave-") as folder:
        path = Path(folder) / "watchlist.toml"
        path.write_text(TEXT)
        for _ in range(args.trials):
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
            )
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0, 0.04))
            child.send_signal(signal.SIGKILL)
            child.wait()
            stray = list(Path(folder).glob(".watchlist.toml.*.tmp"))
            left_by_kill += bool(stray)
            save(load(path), force=True)
            remaining = list(Path(folder).glob(".watchlist.toml.*.tmp"))
            left_after_save += len(remaining)
            if remaining:
                print("left:", [p.name for p in remaining], file=sys.stderr)
            for leftover in remaining:  # start the next trial clean either way
                leftover.unlink()
    print(
        json.dumps(
            {
                "trials": args.trials,
                "kills_that_left_a_tmp": left_by_kill,
                "tmp_files_left_after_the_next_save": left_after_save,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
