"""Reading a watchlist: bytes → TOML → validated Watchlist, or an error with file:line:key.

Why it only reads: a file that does not load must stay exactly as the engineer left it
(they will fix it in their editor), so nothing on this path opens it for writing.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from pathlib import Path

from gatewatch.watchlist.document import MAX_DEPTH, Watchlist, build
from gatewatch.watchlist.errors import KeyPath, WatchlistError
from gatewatch.watchlist.locate import KeyLines

_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")


def digest(data: bytes) -> str:
    """What a file held, to notice later whether someone else changed it."""
    return hashlib.sha256(data).hexdigest()


def load(path: str | os.PathLike[str]) -> Watchlist:
    """Read and validate the watchlist at ``path``.

    Raises WatchlistError for anything malformed (the file is only read), and OSError
    (FileNotFoundError …) when it can't be read at all: a missing file is the caller's
    first run, not an error of the file's.
    """
    label = os.fspath(path)
    target = Path(os.path.expanduser(label))
    data = target.read_bytes()
    wl = _from_bytes(data, label=label, path=target)
    wl._disk_known, wl._digest = True, digest(data)
    return wl


def loads(text: str, path: str | os.PathLike[str] = "<string>") -> Watchlist:
    """Validate watchlist ``text``; ``path`` names it in errors and becomes ``wl.path``
    (unless it is the default ``"<string>"``, which means no file)."""
    label = os.fspath(path)
    target = None if label == "<string>" else Path(os.path.expanduser(label))
    return parse_text(text, label=label, path=target)


def _from_bytes(data: bytes, *, label: str, path: Path | None) -> Watchlist:
    if data.startswith(b"\xef\xbb\xbf"):  # a BOM left by a Windows editor
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise WatchlistError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            path=label,
            line=line,
        ) from None
    return parse_text(text, label=label, path=path)


def parse_text(text: str, *, label: str, path: Path | None) -> Watchlist:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, label) from None
    except RecursionError:
        # tomllib recurses once per nested array or inline table.
        raise WatchlistError(
            f"invalid TOML: arrays or tables nested too deeply (gatewatch reads at most "
            f"{MAX_DEPTH} levels)",
            path=label,
            line=_deep_line(text),
        ) from None
    except ValueError:
        # tomllib lets int() refuse a number of more than 4300 digits with a bare ValueError.
        raise WatchlistError(
            "invalid TOML: a number with more than 4300 digits",
            path=label,
            line=_long_number_line(text),
        ) from None
    return build(document, label=label, path=path, text=text)


def _deep_line(text: str) -> int | None:
    """The line where brackets first nest past MAX_DEPTH (strings ignored roughly: an
    approximation for a message; the error stands without it)."""
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        for char in line.partition("#")[0]:
            if char in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return number
            elif char in "]}":
                depth = max(0, depth - 1)
    return None


def _long_number_line(text: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.search(r"\d{4300}", line.replace("_", "")):
            return number
    return None


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, label: str) -> WatchlistError:
    reason = str(exc)
    match = _TOML_POSITION.search(reason)
    line: int | None = None
    if match:
        reason = reason[: match.start()]
        if match.group(1):
            line = int(match.group(1))
            reason += f" (column {match.group(2)})"
        else:
            line = max(1, len(text.splitlines()))
            reason += " (at the end of the file)"
    keypath: KeyPath = ()
    if "overwrite" in reason or "twice" in reason:
        # tomllib often reports these at the end of the file; find the repeated key.
        duplicate = KeyLines(text).duplicate
        if duplicate is not None:
            keypath, line = duplicate
            reason = "defined twice (each key and table may appear only once)"
    return WatchlistError(f"invalid TOML: {reason}", path=label, line=line, keypath=keypath)
