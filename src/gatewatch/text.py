"""Untrusted text made safe to show: control characters become visible symbols.

Everything a server sends (headers, reason phrases, bodies, certificate fields, DNS
names) and everything in a watchlist may hold terminal escape sequences. h11 accepts
ESC in reason phrases and header values, and Rich's ``Text`` drops BEL but lets ESC
through, so one function turns C0/C1 controls and DEL into visible symbols before any
layer (CLI table, board, reports) shows them. Markup safety is the renderer's job
(plain ``Text``/``Content``); this module only removes the power to move the cursor.

Invisible characters lie without moving the cursor: a right-to-left override (U+202E)
in a certificate subject shows ``moc.knab`` as ``bank.com``, a zero-width space makes two
names look equal. Bidi controls, the other format characters (Unicode category Cf) and the
line/paragraph separators are spelled out (``\\u202e``) like the C1 controls (``\\x9b``).
JSON keeps non-ASCII text readable (``ensure_ascii=False``) but writes exactly these
characters as ``\\u`` escapes: :func:`dumps`.
"""

from __future__ import annotations

import json
from typing import Any

#: Unicode category Cf (format characters: bidi controls, zero-width characters, BOM, tags)
#: as of Unicode 15, plus the line and paragraph separators (Zl, Zp). A test checks this
#: table against the running Python's ``unicodedata``.
INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),  # zero-width space … right-to-left mark
    (0x2028, 0x2029),  # line and paragraph separators
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x2064),
    (0x2066, 0x206F),  # bidi isolates and deprecated format characters
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _spelled(code: int) -> str:
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


_INVISIBLE = [code for low, high in INVISIBLE_RANGES for code in range(low, high + 1)]
_C0 = {code: chr(0x2400 + code) for code in range(0x20)}  # ␀ … ␟ (␛ for ESC)
_TABLE: dict[int, str] = {**_C0, 0x7F: "␡"}
_TABLE.update({code: _spelled(code) for code in range(0x80, 0xA0)})  # C1 controls
_TABLE.update({code: _spelled(code) for code in _INVISIBLE})
_TABLE_KEEP_NEWLINES = {k: v for k, v in _TABLE.items() if k not in (0x0A, 0x09)}


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control and invisible character shown: ``\\x1b`` → ``␛``,
    U+009B → ``\\x9b``, U+202E → ``\\u202e``."""
    return text.translate(_TABLE_KEEP_NEWLINES if keep_newlines else _TABLE)


def one_line(text: str, limit: int = 200) -> str:
    """A visible, single-line excerpt of at most ``limit`` characters."""
    flat = visible(" ".join(text.split()) if "\n" in text or "\r" in text else text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _json_escape(code: int) -> str:
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    high, low = divmod(code - 0x10000, 0x400)
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"


#: DEL, C1 controls and the invisible characters as JSON ``\u`` escapes (json.dumps
#: already escapes C0).
_JSON_TABLE = {code: _json_escape(code) for code in (0x7F, *range(0x80, 0xA0), *_INVISIBLE)}


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` for output: non-ASCII text stays readable, but controls and
    invisible characters are ``\\u`` escapes, so a terminal or viewer never acts on them.

    Safe as a pass over the finished text: outside strings JSON is plain ASCII, and a
    ``\\uXXXX`` escape means the same character inside a string.
    """
    return json.dumps(value, ensure_ascii=False, **options).translate(_JSON_TABLE)
