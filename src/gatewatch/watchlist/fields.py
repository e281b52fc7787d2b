"""The rules for each endpoint key: TOML value → Endpoint field, and back.

Why one table of rules: the loader, the editor's live validation (:func:`endpoint_errors`)
and the code that writes an edited endpoint back must agree exactly, or a form would accept
what the next load refuses. Every rule returns the model's value or raises FieldError with
a message written for the person who typed the value.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gatewatch import secrets
from gatewatch.model import HTTP_VERSIONS, Endpoint
from gatewatch.secrets import PREFIX as ENV_PREFIX
from gatewatch.secrets import is_reference, redact_url
from gatewatch.watchlist.durations import format_duration, parse_duration
from gatewatch.watchlist.errors import KeyPath, show, show_key

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 header names and methods
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STATUS_CLASS = re.compile(r"[1-5]xx", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_TAB = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

#: Keys that must be set on every endpoint and can't come from [defaults].
REQUIRED = ("name", "url")


class FieldError(ValueError):
    """One bad value. ``sub`` locates it inside the value (a header name, a list index)."""

    def __init__(self, message: str, sub: KeyPath = ()) -> None:
        super().__init__(message)
        self.message = message
        self.sub = sub


def _expect_str(value: object, what: str = "a string") -> str:
    if not isinstance(value, str):
        raise FieldError(f"expected {what}, got {show(value)}")
    return value


def _plain_text(value: object, what: str) -> str:
    text = _expect_str(value)
    if not text.strip():
        raise FieldError(f"{what} can't be empty")
    if _CONTROL.search(text):
        raise FieldError(f"{what} can't contain control characters, got {show(text)}")
    return text


def _name(value: object) -> str:
    return _plain_text(value, "a name")


def _check_url(value: str, what: str) -> str:
    """``value`` if it is an http(s) URL with a host; errors show it redacted (a URL may
    carry a password or a token, and errors reach terminals, logs and CI output)."""
    if _CONTROL.search(value) or any(ch.isspace() for ch in value):
        raise FieldError(
            f"{what} can't contain spaces or control characters (a space in a path is "
            f"written %20), got {show(redact_url(value))}"
        )
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise FieldError(f"not a valid URL ({exc}): {show(redact_url(value))}") from None
    if "://" not in value:
        guess = redact_url("http://" + value.removeprefix("//"))  # the hint shows no password
        raise FieldError(
            f"expected an http:// or https:// {what}, got {show(guess.removeprefix('http://'))} "
            f"(did you mean {show(guess)}?)"
        )
    if parts.scheme.lower() not in ("http", "https"):
        raise FieldError(f"expected an http:// or https:// {what}, got {show(redact_url(value))}")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 and parts.netloc.rpartition("@")[2].rpartition("]")[2].count(":") == 1:
        raise FieldError(f"a port runs from 1 to 65535, got {show(redact_url(value))}")
    if not parts.hostname:
        raise FieldError(f"the {what} has no host: {show(redact_url(value))}")
    return value


def _url(value: object) -> str:
    return _check_url(_expect_str(value, "a URL like https://shop.example/health"), "URL")


def _optional_url(value: object) -> str | None:
    text = _expect_str(value, "a URL like http://10.0.0.12:8080/health")
    return None if text == "" else _check_url(text, "URL")


def _env_reference(text: str) -> str:
    if not _ENV_NAME.fullmatch(text[len(ENV_PREFIX) :]):
        raise FieldError(
            f"an {ENV_PREFIX} reference names an environment variable, like "
            f"env:SHOP_TOKEN; got {show(text)}"
        )
    return text


def _proxy(value: object) -> str | None:
    text = _expect_str(value, "a proxy URL like http://proxy.corp:3128")
    if text == "":
        return None
    if is_reference(text):
        return _env_reference(text)
    return _check_url(text, "proxy URL")


#: Probing more often than this is a typo (30ms for 30s), not monitoring: it would hammer
#: a production endpoint. Refused with the key's line, like any other bad value.
MIN_INTERVAL = 0.5


def _interval(value: object) -> float:
    seconds = _positive_duration(value, "an interval")
    if seconds < MIN_INTERVAL:
        raise FieldError(
            f"an interval of at least {MIN_INTERVAL:g}s (probing more often would hammer the "
            f"endpoint; did you mean seconds?), got {show(value)}"
        )
    return seconds


def _timeout(value: object) -> float:
    return _positive_duration(value, "a timeout")


def _positive_duration(value: object, what: str) -> float:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise FieldError(str(exc)) from None
    if seconds == 0:
        raise FieldError(f"{what} must be longer than zero, got {show(value)}")
    return seconds


_STATUS_HINT = 'a status like 200, a class like "2xx", or a list of them'


def _expect_status(value: object) -> tuple[int | str, ...]:
    if isinstance(value, list):
        return tuple(_status(item, (index,)) for index, item in enumerate(value))
    if isinstance(value, int | str) and not isinstance(value, bool):
        return (_status(value, ()),)
    raise FieldError(f"expected {_STATUS_HINT}, got {show(value)}")


def _status(item: object, sub: KeyPath) -> int | str:
    if isinstance(item, str) and item.strip().isdigit():
        item = int(item.strip())
    if isinstance(item, int) and not isinstance(item, bool):
        if 100 <= item <= 599:
            return item
        raise FieldError(f"HTTP statuses run from 100 to 599, got {item}", sub)
    if isinstance(item, str) and _STATUS_CLASS.fullmatch(item):
        return item.lower()
    raise FieldError(f"expected {_STATUS_HINT}, got {show(item)}", sub)


def _expect_body(value: object) -> str | None:
    text = _expect_str(value, "a string to find in the body")
    return text or None


_RESOLVER_HINT = "an IP address with an optional port, like 1.1.1.1, 127.0.0.1:5353 or [::1]:53"


def _resolvers(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise FieldError(f"expected a list of resolvers ({_RESOLVER_HINT}), got {show(value)}")
    return tuple(_resolver(item, (index,)) for index, item in enumerate(value))


def _resolver(item: object, sub: KeyPath) -> str:
    if not isinstance(item, str):
        raise FieldError(f"expected {_RESOLVER_HINT}, got {show(item)}", sub)
    port = "53"
    if item.startswith("["):
        host, bracket, rest = item[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise FieldError(f"expected {_RESOLVER_HINT}, got {show(item)}", sub)
        port = rest[1:] if rest else port
    elif item.count(":") == 1:
        host, _, port = item.partition(":")
    else:
        host = item
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise FieldError(
            f"expected {_RESOLVER_HINT} (a resolver is an address: a name would need DNS "
            f"itself), got {show(item)}",
            sub,
        ) from None
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise FieldError(f"a resolver's port runs from 1 to 65535, got {show(item)}", sub)
    return item


def _headers(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise FieldError(
            f'expected a table of header names and values, like {{ Authorization = "env:TOKEN" }}'
            f", got {show(value)}"
        )
    seen: dict[str, str] = {}
    out = []
    for name, item in value.items():
        sub = (name,)
        if not _TOKEN.fullmatch(name):
            raise FieldError(f"not a valid header name: {show_key(name)}", sub)
        if name.lower() in seen:
            raise FieldError(
                f"header {show_key(name)} repeats {show_key(seen[name.lower()])} "
                "(header names ignore case)",
                sub,
            )
        seen[name.lower()] = name
        if not isinstance(item, str):
            raise FieldError(f"a header value must be a string, got {show(item)}", sub)
        if "\r" in item or "\n" in item:
            raise FieldError(
                f"a header value can't contain a line break (CR or LF), got {show(item)}", sub
            )
        if _CONTROL_BUT_TAB.search(item):
            raise FieldError(
                f"a header value can't contain control characters, got {show(item)}", sub
            )
        if is_reference(item):
            try:
                _env_reference(item)
            except FieldError as exc:
                raise FieldError(exc.message, sub) from None
        out.append((name, item))
    return tuple(out)


def _tags(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise FieldError(f'expected a list of tags, like ["prod", "payments"], got {show(value)}')
    tags = []
    for index, item in enumerate(value):
        try:
            tags.append(_plain_text(item, "a tag"))
        except FieldError as exc:
            raise FieldError(exc.message, (index,)) from None
    return tuple(tags)


def _method(value: object) -> str:
    text = _expect_str(value, "an HTTP method like GET or HEAD")
    if not _TOKEN.fullmatch(text):
        raise FieldError(f"expected an HTTP method like GET or HEAD, got {show(text)}")
    return text.upper()


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise FieldError(f"expected true or false, got {show(value)}")
    return value


def _ca_bundle(value: object) -> str | None:
    text = _expect_str(value, "the path of a PEM file")
    if text and _CONTROL.search(text):
        raise FieldError(f"a path can't contain control characters, got {show(text)}")
    return text or None


def _http_version(value: object) -> str:
    """``"auto"``, ``"1.1"`` or ``"2"``; the bare TOML numbers 2 and 1.1 mean the same."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = {2: "2", 1.1: "1.1"}.get(value, value)
    if value in HTTP_VERSIONS:
        return str(value)
    raise FieldError(
        'expected "auto" (offer HTTP/2 and HTTP/1.1, as a browser does), "1.1" or "2", '
        f"got {show(value)}"
    )


#: Endpoint keys in the order they are written for a new endpoint, with their rules.
RULES: Mapping[str, Callable[[object], Any]] = {
    "name": _name,
    "url": _url,
    "interval": _interval,
    "timeout": _timeout,
    "expect_status": _expect_status,
    "expect_body": _expect_body,
    "origin": _optional_url,
    "proxy": _proxy,
    "resolvers": _resolvers,
    "headers": _headers,
    "tags": _tags,
    "method": _method,
    "all_addresses": _flag,
    "insecure": _flag,
    "ca_bundle": _ca_bundle,
    "http_version": _http_version,
}

_MODEL_FIELDS = {f.name for f in dataclasses.fields(Endpoint)} - {"extra"}
assert set(RULES) == _MODEL_FIELDS, "every Endpoint field needs a rule (and no more)"

MODEL_DEFAULTS: Mapping[str, Any] = {
    f.name: f.default
    for f in dataclasses.fields(Endpoint)
    if f.name in RULES and f.name != "name" and f.name != "url"
}


def parse_field(key: str, value: object, base_dir: Path | None = None) -> Any:
    """The model's value for ``key = value``; raises FieldError.

    ``ca_bundle`` is resolved the way an engineer means it: ``~`` expanded, and a relative
    path taken from the watchlist's own folder, so `gatewatch check` from cron (cwd=$HOME)
    finds the same file as the board started in the config folder.
    """
    parsed = RULES[key](value)
    if key == "ca_bundle" and parsed is not None:
        path = Path(os.path.expanduser(parsed))
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        parsed = str(path)
    return parsed


def parse_table(
    table: Mapping[str, object], base_dir: Path | None = None
) -> tuple[dict[str, Any], dict[str, Any], list[tuple[KeyPath, str]]]:
    """Known keys parsed, unknown keys as they are, and ``(key path, message)`` problems."""
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    problems: list[tuple[KeyPath, str]] = []
    for key, value in table.items():
        if key not in RULES:
            extra[key] = value
            continue
        try:
            known[key] = parse_field(key, value, base_dir)
        except FieldError as exc:
            problems.append(((key, *exc.sub), exc.message))
    return known, extra, problems


def endpoint_errors(
    fields: Mapping[str, object], *, existing_names: Collection[str] = ()
) -> dict[str, str]:
    """Per-field messages for an endpoint form, by the same rules as a load.

    ``fields`` holds TOML-shaped values (a list for ``tags``, a table for ``headers`` …);
    keys that are not endpoint keys are not checked (they belong to other layers). A
    missing or empty ``name``/``url`` is reported, and a ``name`` found in
    ``existing_names`` (the other endpoints' names) is a duplicate. An empty dict means
    the form is valid.
    """
    errors: dict[str, str] = {}
    for key in REQUIRED:
        if key not in fields or fields[key] == "":
            errors[key] = f"required: every endpoint needs a {key}"
    for key, value in fields.items():
        if key not in RULES or key in errors:
            continue
        try:
            parse_field(key, value)
        except FieldError as exc:
            errors[key] = _with_sub(exc)
    headers = fields.get("headers")
    pairs = list(headers.items()) if isinstance(headers, Mapping) else []
    for key in ("url", "origin"):  # the origin is probed with the same headers
        url = fields.get(key)
        if key in errors or "headers" in errors or not isinstance(url, str):
            continue
        if conflict := secrets.credentials_conflict(url, pairs):
            errors[key] = conflict
    name = fields.get("name")
    if "name" not in errors and isinstance(name, str) and name in existing_names:
        errors["name"] = f"another endpoint is already named {show(name)}"
    return errors


def _with_sub(exc: FieldError) -> str:
    if not exc.sub:
        return exc.message
    where = exc.sub[0]
    label = f"item {where + 1}" if isinstance(where, int) else f"header {show_key(where)}"
    return f"{label}: {exc.message}"


# --------------------------------------------------------------------------- back to TOML


def to_toml(key: str, value: Any) -> Any:
    """The TOML value to write for an Endpoint field (None: the key is written as "")."""
    if key in ("interval", "timeout"):
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            text = format_duration(value)
            # Write the plain number if the friendly spelling would not read back exactly.
            return text if parse_duration(text) == value else value
        return value
    if key == "expect_status":
        items = list(value)
        return items[0] if len(items) == 1 and isinstance(items[0], str) else items
    if key == "headers":
        return dict(value)
    if key in ("resolvers", "tags"):
        return list(value)
    if value is None:
        return ""  # clears an optional key that [defaults] sets (TOML has no null)
    return value


def plain(value: Any) -> Any:
    """``value`` with tuples and read-only mappings turned into what tomli-w writes."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
