"""Untrusted text made safe to show: control characters become visible symbols.

Everything a server sends (headers, reason phrases, bodies, certificate fields, DNS
names) and everything in a watchlist may hold terminal escape sequences. h11 accepts
ESC in reason phrases and header values, and Rich's ``Text`` drops BEL but lets ESC
through, so one function turns C0/C1 controls and DEL into visible symbols before any
layer (CLI table, board, reports) shows them. Markup safety is the renderer's job
(plain ``Text``/``Content``); this module only removes the power to move the cursor.
"""

from __future__ import annotations

_C0 = {code: chr(0x2400 + code) for code in range(0x20)}  # ␀ … ␟ (␛ for ESC)
_TABLE: dict[int, str] = {**_C0, 0x7F: "␡"}
_TABLE.update({code: f"\\x{code:02x}" for code in range(0x80, 0xA0)})  # C1 controls
_TABLE_KEEP_NEWLINES = {k: v for k, v in _TABLE.items() if k not in (0x0A, 0x09)}


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character shown as a symbol (``\\x1b`` → ``␛``)."""
    return text.translate(_TABLE_KEEP_NEWLINES if keep_newlines else _TABLE)


def one_line(text: str, limit: int = 200) -> str:
    """A visible, single-line excerpt of at most ``limit`` characters."""
    flat = visible(" ".join(text.split()) if "\n" in text or "\r" in text else text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
