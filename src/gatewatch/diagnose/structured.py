"""RFC 8941 structured field values: the List parser that ``Proxy-Status`` needs.

Only what RFC 9209 uses: a List of Items (a token or string member, with parameters)
and Inner Lists (parsed, kept as a tuple). Bare items: integers, decimals, strings,
tokens, byte sequences, booleans. The parser follows RFC 8941 §4.2 step by step and
raises ``StructuredError`` on anything malformed: a header that does not parse is
ignored whole (§4.2: "fail parsing"), never half-read.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass


class StructuredError(ValueError):
    """The field value is not a valid structured field."""


@dataclass(frozen=True)
class Token:
    """An RFC 8941 token (distinct from a string: ``error=dns_timeout`` vs ``"…"``)."""

    value: str

    def __str__(self) -> str:
        return self.value


BareItem = int | float | str | bytes | bool | Token
Params = tuple[tuple[str, BareItem], ...]


@dataclass(frozen=True)
class Item:
    value: BareItem | tuple[Item, ...]
    params: Params = ()

    def param(self, key: str) -> BareItem | None:
        for name, value in self.params:
            if name == key:
                return value
        return None


_TCHAR = frozenset("!#$%&'*+-.^_`|~:/" + "0123456789abcdefghijklmnopqrstuvwxyz"
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ")  # fmt: skip
_KEY_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz*")
_KEY_CHAR = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-.*")


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.pos += 1
        return char

    def skip_sp(self) -> None:
        while self.peek() == " ":
            self.pos += 1

    def skip_ows(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.pos += 1

    @property
    def done(self) -> bool:
        return self.pos >= len(self.text)


def parse_list(value: str) -> tuple[Item, ...]:
    """Parse an RFC 8941 List (§4.2.1). Several field lines: join them with ``", "``."""
    reader = _Reader(value)
    reader.skip_sp()
    members: list[Item] = []
    while not reader.done:
        members.append(_inner_list(reader) if reader.peek() == "(" else _item(reader))
        reader.skip_ows()
        if reader.done:
            break
        if reader.take() != ",":
            raise StructuredError("expected a comma between list members")
        reader.skip_ows()
        if reader.done:
            raise StructuredError("trailing comma")
    reader.skip_sp()
    return tuple(members)


def _inner_list(reader: _Reader) -> Item:
    reader.take()  # "("
    items: list[Item] = []
    while not reader.done:
        reader.skip_sp()
        if reader.peek() == ")":
            reader.take()
            return Item(tuple(items), _params(reader))
        items.append(_item(reader))
        if reader.peek() not in (" ", ")"):
            raise StructuredError("inner list members are separated by spaces")
    raise StructuredError("unterminated inner list")


def _item(reader: _Reader) -> Item:
    return Item(_bare(reader), _params(reader))


def _params(reader: _Reader) -> Params:
    params: list[tuple[str, BareItem]] = []
    while reader.peek() == ";":
        reader.take()
        reader.skip_sp()
        key = _key(reader)
        value: BareItem = True
        if reader.peek() == "=":
            reader.take()
            value = _bare(reader)
        params = [(k, v) for k, v in params if k != key]  # §4.2.3.2: the last one wins
        params.append((key, value))
    return tuple(params)


def _key(reader: _Reader) -> str:
    if reader.peek() not in _KEY_FIRST or not reader.peek():
        raise StructuredError("a key starts with a lower-case letter or *")
    start = reader.pos
    while reader.peek() and reader.peek() in _KEY_CHAR:
        reader.pos += 1
    return reader.text[start : reader.pos]


def _bare(reader: _Reader) -> BareItem:
    char = reader.peek()
    if char == "-" or char.isdigit():
        return _number(reader)
    if char == '"':
        return _string(reader)
    if char == ":":
        return _bytes(reader)
    if char == "?":
        reader.take()
        flag = reader.take()
        if flag not in ("0", "1"):
            raise StructuredError("a boolean is ?0 or ?1")
        return flag == "1"
    if char and (char.isalpha() or char == "*") and char.isascii():
        return _token(reader)
    raise StructuredError(f"unexpected character {char!r}")


def _number(reader: _Reader) -> int | float:
    start = reader.pos
    if reader.peek() == "-":
        reader.pos += 1
    if not reader.peek().isdigit():
        raise StructuredError("a number needs a digit")
    decimal = False
    while reader.peek() and (reader.peek().isdigit() or (reader.peek() == "." and not decimal)):
        if reader.peek() == ".":
            decimal = True
        reader.pos += 1
    text = reader.text[start : reader.pos]
    digits = text.lstrip("-")
    if decimal:
        whole, _, frac = digits.partition(".")
        if len(whole) > 12 or not 1 <= len(frac) <= 3:
            raise StructuredError("a decimal has at most 12 integer and 1-3 fraction digits")
        return float(text)
    if len(digits) > 15:
        raise StructuredError("an integer has at most 15 digits")
    return int(text)


def _string(reader: _Reader) -> str:
    reader.take()
    out: list[str] = []
    while not reader.done:
        char = reader.take()
        if char == "\\":
            escaped = reader.take()
            if escaped not in ('"', "\\"):
                raise StructuredError('only \\" and \\\\ are escapes in a string')
            out.append(escaped)
        elif char == '"':
            return "".join(out)
        elif not " " <= char <= "~":
            raise StructuredError("a string holds printable ASCII only")
        else:
            out.append(char)
    raise StructuredError("unterminated string")


def _token(reader: _Reader) -> Token:
    start = reader.pos
    reader.pos += 1
    while reader.peek() and reader.peek() in _TCHAR:
        reader.pos += 1
    return Token(reader.text[start : reader.pos])


def _bytes(reader: _Reader) -> bytes:
    reader.take()
    end = reader.text.find(":", reader.pos)
    if end < 0:
        raise StructuredError("unterminated byte sequence")
    chunk = reader.text[reader.pos : end]
    reader.pos = end + 1
    try:
        return base64.b64decode(chunk, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StructuredError("bad base64 in a byte sequence") from exc
