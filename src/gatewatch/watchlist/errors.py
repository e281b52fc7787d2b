"""Watchlist errors that name the file, the line and the key, and show values safely.

Why so much care for an error: the engineer reading it is on call, and the watchlist is
untrusted text (DESIGN.md). A message must point at the exact line to fix, and must never
let a value from the file move the terminal's cursor or hide part of itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gatewatch.excerpt import quote, show, show_key

__all__ = [
    "KeyPath",
    "WatchlistConflict",
    "WatchlistError",
    "WatchlistWarning",
    "dotted",
    "show",
    "show_key",
]

#: A key path inside the TOML document: table keys, and 0-based indexes into arrays.
KeyPath = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def dotted(path: KeyPath) -> str:
    """``("endpoint", 1, "headers", "X-Api")`` → ``endpoint[2].headers.X-Api``.

    Array indexes are shown 1-based: ``endpoint[2]`` is the second ``[[endpoint]]`` in the
    file, which is how a person counts while scrolling. Keys that are not bare TOML keys
    are quoted as TOML would quote them.
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            text = part if _BARE_KEY.fullmatch(part) else quote(part, '"')
            out += f".{text}" if out else text
    return out


class WatchlistError(ValueError):
    """A watchlist that cannot be read (or an edit that would make it unreadable).

    ``str()`` reads ``watchlist.toml:14: endpoint[2] "shop" key 'timeout': expected …``.
    Attributes: ``path`` (as given), ``line`` (1-based, or None when unknown), ``key``
    (dotted, 1-based indexes, or None for the whole file), ``message`` (the reason alone),
    ``endpoint`` (the endpoint's name when known), ``index`` (0-based position of the
    endpoint in the file, when the error is inside one), and ``errors``: every problem
    found, this one first, so a UI can list them all.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str = "<string>",
        line: int | None = None,
        keypath: KeyPath = (),
        endpoint: str | None = None,
        errors: Sequence[WatchlistError] = (),
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.keypath: KeyPath = keypath
        self.key: str | None = dotted(keypath) if keypath else None
        self.endpoint = endpoint
        self.index: int | None = (
            keypath[1]
            if len(keypath) >= 2 and keypath[0] == "endpoint" and isinstance(keypath[1], int)
            else None
        )
        self.errors: tuple[WatchlistError, ...] = (self, *errors)
        super().__init__(self.describe())

    def describe(self) -> str:
        """This error alone, as one line: ``file:line: where key 'k': message``."""
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        parts = [where]
        scope, leaf = self._scope()
        if scope and leaf:
            parts.append(f"{scope} key {show_key(leaf)}")
        elif scope:
            parts.append(scope)
        elif leaf:
            parts.append(f"key {show_key(leaf)}")
        return ": ".join([*parts, self.message])

    def describe_all(self) -> str:
        """Every problem found, one per line (the first is the one ``str()`` shows)."""
        return "\n".join(error.describe() for error in self.errors)

    def _scope(self) -> tuple[str, str]:
        path = self.keypath
        if self.index is not None:
            scope = f"endpoint[{self.index + 1}]"
            if self.endpoint is not None:
                scope += f" {show(self.endpoint)}"
            return scope, dotted(path[2:])
        if path and path[0] == "defaults":
            return "defaults", dotted(path[1:])
        return "", dotted(path)

    def __str__(self) -> str:
        return self.describe()


class WatchlistWarning:
    """Something in the file that loads but is probably not what was meant (a misspelt key).

    Never raised: a Watchlist carries its warnings (``wl.warnings``) and each command shows
    them. ``describe()`` reads like an error: ``watchlist.toml:7: endpoint[1] "shop" key
    'timout': unknown key: did you mean `timeout`? …``.
    """

    __slots__ = ("_as_error",)

    def __init__(
        self,
        message: str,
        *,
        path: str = "<string>",
        line: int | None = None,
        keypath: KeyPath = (),
        endpoint: str | None = None,
    ) -> None:
        self._as_error = WatchlistError(
            message, path=path, line=line, keypath=keypath, endpoint=endpoint
        )

    @property
    def message(self) -> str:
        return self._as_error.message

    @property
    def path(self) -> str:
        return self._as_error.path

    @property
    def line(self) -> int | None:
        return self._as_error.line

    @property
    def key(self) -> str | None:
        return self._as_error.key

    @property
    def keypath(self) -> KeyPath:
        return self._as_error.keypath

    def describe(self) -> str:
        return self._as_error.describe()

    def __str__(self) -> str:
        return self.describe()

    def __repr__(self) -> str:
        return f"WatchlistWarning({self.describe()!r})"


class WatchlistConflict(WatchlistError):
    """The file changed on disk since it was loaded: saving now would lose those edits."""
