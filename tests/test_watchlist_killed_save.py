"""A save killed mid-way (SIGKILL, a power cut) leaves its temporary file; the next save
removes it, but never the temporary file of a save that is still running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from gatewatch.watchlist import load, save

TEXT = 'version = 1\n\n[[endpoint]]\nname = "shop"\nurl = "http://127.0.0.1:9/"\n'

# A real save in a child process that stops inside fsync (the temporary file written,
# not yet renamed) and says so; the test then kills it, or lets it hang there.
CHILD = textwrap.dedent(
    """\
    import os, sys, time
    from gatewatch.model import Endpoint
    from gatewatch.watchlist import load, save

    def stuck(fd):
        print("in-fsync", flush=True)
        time.sleep(600)

    os.fsync = stuck
    wl = load(sys.argv[1])
    save(wl.with_endpoint(Endpoint(name="new", url="http://127.0.0.1:9/new")))
    """
)


def saving_child(path: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "in-fsync"
    return child


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_the_next_save_removes_what_a_killed_save_left(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_text(TEXT)
    child = saving_child(path)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert len(leftovers(tmp_path)) == 1  # what the issue measured: the kill leaves one
    assert path.read_text() == TEXT  # and the file is intact
    save(load(path).without_endpoint("shop"))
    assert leftovers(tmp_path) == []


def test_a_save_in_progress_keeps_its_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_text(TEXT)
    child = saving_child(path)
    try:
        (stale,) = leftovers(tmp_path)
        save(load(path).without_endpoint("shop"))  # another gatewatch saves meanwhile
        assert leftovers(tmp_path) == [stale]  # the living save's file was left alone
    finally:
        child.kill()
        child.wait(timeout=30)
    save(load(path), force=True)
    assert leftovers(tmp_path) == []


def test_a_planted_leftover_of_another_name_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_text(TEXT)
    other = tmp_path / ".other.toml.abc.tmp"
    other.write_text("not ours")
    mine = tmp_path / ".watchlist.toml.abc.tmp"
    mine.write_text("half a save")
    os.utime(mine, (0, 0))
    save(load(path))
    assert leftovers(tmp_path) == [other.name]


def test_a_bak_that_is_the_file_itself_leaves_no_temporary_file(tmp_path: Path) -> None:
    # A save killed between making .bak (a hard link to the file) and the rename leaves
    # both names on one inode; renaming a link onto its twin does nothing (POSIX), which
    # left the link behind on every later save.
    path = tmp_path / "watchlist.toml"
    path.write_text(TEXT)
    os.link(path, tmp_path / "watchlist.toml.bak")
    save(load(path).without_endpoint("shop"))
    assert leftovers(tmp_path) == []
    assert (tmp_path / "watchlist.toml.bak").read_text() == TEXT
