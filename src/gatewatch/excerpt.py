"""Values from a file or a command line, shown safely inside an error message.

Why a module of its own: the watchlist, the duration grammar, the monitor's settings and
the CLI all quote what the user wrote back at them, and the value is untrusted text
(DESIGN.md): it must never move the terminal's cursor or hide part of itself. One
function quotes them all, so every message reads alike.
"""

from __future__ import annotations

import datetime as _dt
import unicodedata

_SHOW_LIMIT = 60
_DIGITS_LIMIT = 20


def show(value: object) -> str:
    """``value`` as a short, quoted, single-line excerpt fit for an error message.

    Strings are double-quoted with control, format and line-separator characters escaped
    (``"\\x1b[31m"``), and cut at 60 characters; other TOML values are named by kind.
    """
    if isinstance(value, str):
        return quote(value, '"')
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) >= 10**_DIGITS_LIMIT:
        # Not 400 digits back at the user (and str() refuses past 4300 digits).
        return f"a number of more than {_DIGITS_LIMIT} digits"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return "a date/time"
    return f"a {type(value).__name__}"


def show_key(key: str) -> str:
    """A key (maybe a header name from the file) in single quotes, escaped like show()."""
    return quote(key, "'")


def quote(text: str, quote: str) -> str:
    cut = len(text) > _SHOW_LIMIT
    out = []
    for ch in text[:_SHOW_LIMIT] if cut else text:
        if ch in (quote, "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return quote + "".join(out) + quote + ("…" if cut else "")
