"""Where each key of a TOML text was written, for errors that point at a line.

Why a scanner of our own: tomllib returns plain dicts without positions, and an error
that says only "endpoint 7, key timeout" makes an engineer count tables at 3 a.m. This
walks the text once (after tomllib accepted it, or to find a key tomllib complained
about) and records the line of every table header, key and array element, including
dotted keys (``headers.Authorization = …``), sub-tables (``[endpoint.headers]``),
inline tables and multi-line arrays. It never raises: on anything it does not follow,
it stops and keeps what it found, and callers fall back to the enclosing table's line.
"""

from __future__ import annotations

import contextlib
import re
import tomllib

from gatewatch.watchlist.errors import KeyPath

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = frozenset(",]}#\n\r")


class _Stop(Exception):
    """The scanner met text it does not follow; keep what was found so far."""


class KeyLines:
    """Line numbers of the keys in one TOML text (paths use 0-based array indexes)."""

    def __init__(self, text: str) -> None:
        self._first: dict[KeyPath, int] = {}
        #: The first key or table that the text defines twice, with its line.
        self.duplicate: tuple[KeyPath, int] | None = None
        scanner = _Scanner(text, self)
        with contextlib.suppress(_Stop, IndexError, RecursionError, tomllib.TOMLDecodeError):
            scanner.run()

    def line_of(self, path: KeyPath) -> int | None:
        """The line of ``path``, else of its nearest enclosing table or key, else None."""
        while path:
            if path in self._first:
                return self._first[path]
            path = path[:-1]
        return None

    def _record(self, path: KeyPath, line: int) -> None:
        self._first.setdefault(path, line)


class _Scanner:
    def __init__(self, text: str, out: KeyLines) -> None:
        self.s = text
        self.i = 0
        self.line = 1
        self.out = out
        self.table: KeyPath = ()
        #: Current index of each array of tables, by its path (without the index).
        self.arrays: dict[KeyPath, int] = {}
        self.defined: set[KeyPath] = set()

    # ----------------------------------------------------------------- characters

    def peek(self, n: int = 1) -> str:
        return self.s[self.i : self.i + n]

    def advance(self, n: int = 1) -> None:
        self.line += self.s.count("\n", self.i, self.i + n)
        self.i += n

    def skip_blanks(self, newlines: bool) -> None:
        """Spaces and tabs; with ``newlines``, also line breaks and comments."""
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch in " \t" or (newlines and ch in "\r\n"):
                self.advance()
            elif newlines and ch == "#":
                self.skip_comment()
            else:
                return

    def skip_comment(self) -> None:
        end = self.s.find("\n", self.i)
        self.i = len(self.s) if end < 0 else end

    def end_of_line(self) -> None:
        self.skip_blanks(newlines=False)
        if self.peek() == "#":
            self.skip_comment()
        if self.peek() == "\r":
            self.advance()
        if self.i < len(self.s):
            if self.peek() != "\n":
                raise _Stop
            self.advance()

    # ----------------------------------------------------------------- structure

    def run(self) -> None:
        while True:
            self.skip_blanks(newlines=True)
            if self.i >= len(self.s):
                return
            if self.peek(2) == "[[":
                self.header(array=True)
            elif self.peek() == "[":
                self.header(array=False)
            else:
                self.key_value(self.table)
            self.end_of_line()

    def header(self, array: bool) -> None:
        line = self.line
        self.advance(2 if array else 1)
        keys = self.keys()
        close = "]]" if array else "]"
        if self.peek(len(close)) != close:
            raise _Stop
        self.advance(len(close))
        path: KeyPath = ()
        for key in keys[:-1] if array else keys:
            path = self.into_array((*path, key))
        if array:
            path += (keys[-1],)
            index = self.arrays.get(path, -1) + 1
            self.arrays[path] = index
            path += (index,)
        else:
            self.define(path, line)
        self.table = path
        self.out._record(path, line)

    def into_array(self, path: KeyPath) -> KeyPath:
        """``endpoint`` inside a header means the latest ``[[endpoint]]`` table."""
        return (*path, self.arrays[path]) if path in self.arrays else path

    def define(self, path: KeyPath, line: int) -> None:
        if path in self.defined and self.out.duplicate is None:
            self.out.duplicate = (path, line)
        self.defined.add(path)

    def key_value(self, base: KeyPath) -> None:
        line = self.line
        keys = self.keys()
        if self.peek() != "=":
            raise _Stop
        self.advance()
        self.skip_blanks(newlines=False)
        path = base + tuple(keys)
        for end in range(len(base) + 1, len(path) + 1):
            self.out._record(path[:end], line)
        self.define(path, line)
        self.value(path)

    def keys(self) -> list[str]:
        keys = []
        while True:
            self.skip_blanks(newlines=False)
            keys.append(self.simple_key())
            self.skip_blanks(newlines=False)
            if self.peek() != ".":
                return keys
            self.advance()

    def simple_key(self) -> str:
        start = self.i
        if self.peek() == '"':
            self.basic_string()
        elif self.peek() == "'":
            self.literal_string()
        else:
            match = _BARE_KEY.match(self.s, self.i)
            if match is None:
                raise _Stop
            self.advance(match.end() - self.i)
            return match.group()
        # A quoted key: let tomllib decode its escapes exactly.
        decoded = tomllib.loads("k = " + self.s[start : self.i])["k"]
        return str(decoded)

    # ----------------------------------------------------------------- values

    def value(self, path: KeyPath) -> None:
        if self.peek(3) == '"""':
            self.multiline('"""', escapes=True)
        elif self.peek(3) == "'''":
            self.multiline("'''", escapes=False)
        elif self.peek() == '"':
            self.basic_string()
        elif self.peek() == "'":
            self.literal_string()
        elif self.peek() == "[":
            self.array(path)
        elif self.peek() == "{":
            self.inline_table(path)
        else:
            start = self.i
            while self.i < len(self.s) and self.s[self.i] not in _SCALAR_END:
                self.i += 1
            if self.i == start:
                raise _Stop

    def basic_string(self) -> None:
        self.advance()
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch == "\\":
                self.i += 2
            elif ch == '"':
                self.i += 1
                return
            elif ch == "\n":
                raise _Stop
            else:
                self.i += 1
        raise _Stop

    def literal_string(self) -> None:
        end = self.s.find("'", self.i + 1)
        if end < 0 or "\n" in self.s[self.i : end]:
            raise _Stop
        self.i = end + 1

    def multiline(self, quotes: str, escapes: bool) -> None:
        self.advance(3)
        while self.i < len(self.s):
            if escapes and self.peek() == "\\":
                self.advance(2)
            elif self.peek(3) == quotes:
                self.advance(3)
                extra = 0  # up to two quotes may end the content: """a""""" is 'a""'
                while extra < 2 and self.peek() == quotes[0]:
                    self.advance()
                    extra += 1
                return
            else:
                self.advance()
        raise _Stop

    def array(self, path: KeyPath) -> None:
        self.advance()
        index = 0
        while True:
            self.skip_blanks(newlines=True)
            if self.peek() == "]":
                self.advance()
                return
            self.out._record((*path, index), self.line)
            self.value((*path, index))
            index += 1
            self.skip_blanks(newlines=True)
            if self.peek() == ",":
                self.advance()
            elif self.peek() == "]":
                self.advance()
                return
            else:
                raise _Stop

    def inline_table(self, path: KeyPath) -> None:
        self.advance()
        while True:
            self.skip_blanks(newlines=True)
            if self.peek() == "}":
                self.advance()
                return
            self.key_value(path)
            self.skip_blanks(newlines=True)
            if self.peek() == ",":
                self.advance()
            elif self.peek() == "}":
                self.advance()
                return
            else:
                raise _Stop
