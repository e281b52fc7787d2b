"""The watchlist as a value: validated endpoints plus the raw document they came from.

Why keep the raw document: saving must carry every key and table this version does not
know (``[alerts]``, ``down_after``, a newer layer's settings) through untouched, and an
edited endpoint must keep the spelling the user wrote (``"2xx"``, ``"1m30s"``). So the
TOML dict is the source of truth, and every Watchlist, loaded or edited, is built from
one by :func:`build` with the same validation a load runs. The sibling modules ``reader``
and ``writer`` use the private attributes of this class; nothing else should.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import tomli_w

from gatewatch import secrets
from gatewatch.model import Endpoint, frozen_mapping
from gatewatch.watchlist import layers
from gatewatch.watchlist.errors import KeyPath, WatchlistError, WatchlistWarning, show
from gatewatch.watchlist.fields import (
    MODEL_DEFAULTS,
    REQUIRED,
    RULES,
    FieldError,
    parse_field,
    parse_table,
    plain,
    to_toml,
)
from gatewatch.watchlist.locate import KeyLines
from gatewatch.watchlist.sources import Source, parse_sources

VERSION = 1
_MISSING = object()

#: Arrays and tables nest at most this deep. A watchlist needs 3 levels; a file nested
#: hundreds deep is hostile or broken, and copying it would exhaust Python's recursion.
MAX_DEPTH = 32

Problem = tuple[KeyPath, str, "str | None"]


class Watchlist:
    """A validated watchlist: its endpoints, plus the raw document they came from.

    Immutable: the edit methods return a new Watchlist and never touch the file; call
    :func:`save` for that. ``document`` is the whole TOML document as read (unknown keys
    and tables included), and is what gets saved.
    """

    __slots__ = (
        "_base_dir",
        "_defaults",
        "_defaults_extra",
        "_digest",
        "_disk_known",
        "_document",
        "_endpoints",
        "_label",
        "_path",
        "_sources",
        "_text",
        "_warnings",
    )

    def __init__(self) -> None:  # use load(), loads() or Watchlist.empty()
        self._document: dict[str, Any] = {"version": VERSION}
        self._endpoints: tuple[Endpoint, ...] = ()
        self._sources: tuple[Source, ...] = ()
        self._defaults: dict[str, Any] = {}
        self._defaults_extra: dict[str, Any] = {}
        self._path: Path | None = None
        self._label = "<string>"
        self._base_dir: Path | None = None
        #: Whether we know what the file held when this watchlist was read (see save()).
        self._disk_known = False
        self._digest: str | None = None
        self._warnings: tuple[WatchlistWarning, ...] = ()
        #: The text it was read from (None once edited): where each key's line is.
        self._text: str | None = None

    @classmethod
    def empty(cls, path: str | os.PathLike[str] | None = None) -> Watchlist:
        """An empty watchlist (``version = 1``) for a first run.

        Saving it refuses to replace a file that exists by then (``WatchlistConflict``):
        a first run must not erase a watchlist that failed to load or appeared meanwhile.
        """
        wl = cls()
        if path is not None:
            wl._path = Path(os.path.expanduser(os.fspath(path)))
            wl._label = os.fspath(path)
            wl._base_dir = wl._path.parent
            wl._disk_known = True
        return wl

    # ----------------------------------------------------------------- reading

    @property
    def path(self) -> Path | None:
        """The file this watchlist was loaded from (or will be saved to), if any."""
        return self._path

    @property
    def warnings(self) -> tuple[WatchlistWarning, ...]:
        """What loads but is probably a mistake (an unknown key, maybe misspelt), in file
        order, once :meth:`checked` was told every key the other layers read. Commands
        show these; the keys themselves are kept by a save."""
        return self._warnings

    def checked(
        self,
        problems: list[tuple[KeyPath, str]],
        *,
        endpoint_keys: tuple[str, ...],
        alert_keys: tuple[str, ...],
    ) -> Watchlist:
        """This watchlist after the other layers judged their keys (the monitor's settings,
        ``[alerts]``): raise their ``problems`` as one WatchlistError with file:line:key,
        else return a copy that warns about every key nobody reads (``timout``).

        Why here: the file, its lines and the endpoints' names are the watchlist's; the
        meaning of ``down_after`` is the monitor's, which sits above and asks.
        """
        names = _endpoint_names(self._document)
        if problems:
            located = [
                (keypath, message, names.get(keypath[1]) if keypath[:1] == ("endpoint",) else None)
                for keypath, message in problems
            ]
            raise _error(located, self._label, self._text)
        found = layers.unknown_keys(
            self._document, endpoint_keys=(*RULES, *endpoint_keys), alert_keys=alert_keys
        )
        copy_ = copy.copy(self)
        copy_._warnings = _warnings(found, names, self._label, self._text)
        return copy_

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return self._endpoints

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(ep.name for ep in self._endpoints)

    @property
    def defaults(self) -> Mapping[str, Any]:
        """The ``[defaults]`` keys as the model holds them (``interval`` → 30.0), plus the
        keys of other layers as written."""
        return MappingProxyType({**copy.deepcopy(self._defaults_extra), **self._defaults})

    @property
    def alerts(self) -> Mapping[str, Any]:
        """The ``[alerts]`` table, raw (the monitor owns its meaning); empty if absent."""
        return MappingProxyType(copy.deepcopy(self._document.get("alerts", {})))

    @property
    def sources(self) -> tuple[Source, ...]:
        """The ``[[source]]`` tables: Prometheus servers reporting other vantage points."""
        return self._sources

    @property
    def document(self) -> dict[str, Any]:
        """A copy of the whole TOML document, unknown keys and tables included."""
        return copy.deepcopy(self._document)

    def find(self, name: str) -> Endpoint | None:
        for ep in self._endpoints:
            if ep.name == name:
                return ep
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Watchlist):
            return NotImplemented
        return self._document == other._document and self._endpoints == other._endpoints

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Watchlist(path={self._label!r}, endpoints={list(self.names)!r})"

    # ----------------------------------------------------------------- editing

    def with_endpoint(self, endpoint: Endpoint) -> Watchlist:
        """A copy with ``endpoint`` added at the end; its name must be new.

        Only values that differ from the effective defaults are written into its table.
        Raises WatchlistError (``key`` like ``endpoint[4].url``, ``line`` None) if the
        endpoint would not load back.
        """
        index = len(self._endpoints)
        if self.find(endpoint.name) is not None:
            raise self._edit_error(
                index,
                "name",
                f"another endpoint is already named {show(endpoint.name)}",
                endpoint.name,
            )
        table: dict[str, Any] = {}
        for key in RULES:
            value = getattr(endpoint, key)
            if key in REQUIRED or not self._is_default(key, value):
                table[key] = to_toml(key, value)
        self._add_extras(table, endpoint, index, old={})
        document = copy.deepcopy(self._document)
        tables = document.setdefault("endpoint", [])
        tables.append(table)
        return self._edited(document, index, endpoint.name)

    def replace_endpoint(self, old_name: str, endpoint: Endpoint) -> Watchlist:
        """A copy with the endpoint named ``old_name`` replaced by ``endpoint`` (maybe renamed).

        The table keeps its key order and the keys this module does not own; a value
        that did not change keeps the spelling the user wrote (``"2xx"``, ``"1m30s"``), and
        a value changed to the effective default is removed so the default applies
        again. ``endpoint.extra`` entries override the table's keys of the same name;
        keys absent from ``endpoint.extra`` are kept (so a form that knows nothing of
        ``down_after`` does not erase it). Raises KeyError if there is no ``old_name``.
        """
        index = self._index(old_name)
        if endpoint.name != old_name and self.find(endpoint.name) is not None:
            raise self._edit_error(
                index,
                "name",
                f"another endpoint is already named {show(endpoint.name)}",
                endpoint.name,
            )
        old: dict[str, Any] = self._document["endpoint"][index]
        table: dict[str, Any] = {}
        for key, raw in old.items():
            if key in RULES:
                value = getattr(endpoint, key)
                if self._same(key, raw, value):
                    table[key] = raw
                elif key in REQUIRED or not self._is_default(key, value):
                    table[key] = to_toml(key, value)
            elif key in endpoint.extra and plain(endpoint.extra[key]) != raw:
                table[key] = plain(endpoint.extra[key])
            else:
                table[key] = raw
        for key in RULES:
            value = getattr(endpoint, key)
            if key not in old and (key in REQUIRED or not self._is_default(key, value)):
                table[key] = to_toml(key, value)
        self._add_extras(table, endpoint, index, old=old)
        document = copy.deepcopy(self._document)
        document["endpoint"][index] = table
        return self._edited(document, index, endpoint.name)

    def without_endpoint(self, name: str) -> Watchlist:
        """A copy without the endpoint named ``name``; raises KeyError if there is none."""
        index = self._index(name)
        document = copy.deepcopy(self._document)
        del document["endpoint"][index]
        return self._edited(document, None, None)

    def _index(self, name: str) -> int:
        for index, ep in enumerate(self._endpoints):
            if ep.name == name:
                return index
        raise KeyError(name)

    def _is_default(self, key: str, value: Any) -> bool:
        default = self._defaults.get(key, MODEL_DEFAULTS.get(key, _MISSING))
        return bool(self._normal(key, value) == default)

    def _normal(self, key: str, value: Any) -> Any:
        """``value`` as a load would hold it (lists → tuples, "get" → "GET"), if valid."""
        try:
            return parse_field(key, to_toml(key, value), self._base_dir)
        except (FieldError, TypeError, ValueError):
            return value

    def _same(self, key: str, raw: object, value: Any) -> bool:
        try:
            return bool(parse_field(key, raw, self._base_dir) == self._normal(key, value))
        except FieldError:
            return False

    def _add_extras(
        self, table: dict[str, Any], endpoint: Endpoint, index: int, old: Mapping[str, Any]
    ) -> None:
        for key, value in endpoint.extra.items():
            if key in RULES:
                raise self._edit_error(
                    index,
                    key,
                    f"{key!r} is an Endpoint field: set it on the Endpoint, not in extra",
                    endpoint.name,
                )
            if key in old or self._defaults_extra.get(key, _MISSING) == plain(value):
                continue
            table[key] = plain(value)

    def _edit_error(self, index: int, key: str, message: str, name: str | None) -> WatchlistError:
        return WatchlistError(
            message, path=self._label, keypath=("endpoint", index, key), endpoint=name
        )

    def _edited(self, document: dict[str, Any], index: int | None, name: str | None) -> Watchlist:
        if index is not None:
            try:
                tomli_w.dumps({"endpoint": [document["endpoint"][index]]})
            except (TypeError, ValueError) as exc:
                raise WatchlistError(
                    f"can't be written as TOML: {exc}",
                    path=self._label,
                    keypath=("endpoint", index),
                    endpoint=name,
                ) from None
        wl = build(document, label=self._label, path=self._path, text=None)
        wl._disk_known, wl._digest = self._disk_known, self._digest
        return wl


def build(
    document: dict[str, Any], *, label: str, path: Path | None, text: str | None
) -> Watchlist:
    """Validate ``document`` and make the Watchlist; raise every problem found at once."""
    base_dir = path.parent if path is not None else None
    problems: list[Problem] = []
    too_deep = _too_deep(document)
    if too_deep is not None:
        problems.append(
            (too_deep, f"arrays or tables nested too deeply (at most {MAX_DEPTH} levels)", None)
        )
        raise _error(problems, label, text)  # nothing below may recurse into it
    version = document.get("version", VERSION)
    if isinstance(version, bool) or not isinstance(version, int):
        problems.append((("version",), f"expected the number {VERSION}, got {show(version)}", None))
    elif version != VERSION:
        problems.append(
            (
                ("version",),
                f"unsupported watchlist version {version}: this gatewatch reads version {VERSION} "
                "(was the file written by a newer gatewatch?)",
                None,
            )
        )
        raise _error(problems, label, text)  # nothing else can be trusted to mean the same

    defaults_table = document.get("defaults", {})
    if not isinstance(defaults_table, dict):
        problems.append(
            (("defaults",), f"expected a [defaults] table, got {show(defaults_table)}", None)
        )
        defaults_table = {}
    defaults, defaults_extra, bad = parse_table(defaults_table, base_dir)
    problems += [(("defaults", *key), message, None) for key, message in bad]
    for key in REQUIRED:
        if key in defaults_table:
            defaults.pop(key, None)
            problems.append(
                (
                    ("defaults", key),
                    f"every endpoint needs its own {key}; it can't be a default",
                    None,
                )
            )

    alerts = document.get("alerts", {})
    if not isinstance(alerts, dict):
        problems.append((("alerts",), f"expected an [alerts] table, got {show(alerts)}", None))

    sources, source_problems = parse_sources(document.get("source"))
    problems += [(keypath, message, None) for keypath, message in source_problems]

    tables = document.get("endpoint", [])
    if not isinstance(tables, list):
        problems.append(
            (
                ("endpoint",),
                f"expected [[endpoint]] tables (note the double brackets), got {show(tables)}",
                None,
            )
        )
        tables = []
    endpoints: list[Endpoint] = []
    first_index: dict[str, int] = {}
    for index, table in enumerate(tables):
        if not isinstance(table, dict):
            problems.append((("endpoint", index), f"expected a table, got {show(table)}", None))
            continue
        raw_name = table.get("name")
        name = raw_name if isinstance(raw_name, str) else None
        known, extra, bad = parse_table(table, base_dir)
        mine = [(("endpoint", index, *key), message, name) for key, message in bad]
        for key in REQUIRED:
            if key not in table:
                mine.append(
                    (("endpoint", index, key), f"missing: every endpoint needs a {key}", name)
                )
        if "name" in known:
            if known["name"] in first_index:
                mine.append(
                    (
                        ("endpoint", index, "name"),
                        f"duplicate name: endpoint[{first_index[known['name']] + 1}] is already "
                        f"named {show(known['name'])} (names must be unique)",
                        name,
                    )
                )
            else:
                first_index[known["name"]] = index
        headers = known.get("headers", defaults.get("headers", ()))
        for key in ("url", "origin"):  # the origin is probed with the same headers
            url = known.get(key, defaults.get(key))
            if isinstance(url, str) and (conflict := secrets.credentials_conflict(url, headers)):
                mine.append((("endpoint", index, key), conflict, name))
        problems += mine
        if not mine:
            merged_extra = {**copy.deepcopy(defaults_extra), **copy.deepcopy(extra)}
            endpoints.append(Endpoint(**{**defaults, **known}, extra=frozen_mapping(merged_extra)))
    if problems:
        raise _error(problems, label, text)

    wl = Watchlist()
    wl._document = copy.deepcopy(document)
    wl._endpoints = tuple(endpoints)
    wl._sources = sources
    wl._defaults = defaults
    wl._defaults_extra = copy.deepcopy(defaults_extra)
    wl._path = path
    wl._label = label
    wl._base_dir = base_dir
    wl._text = text
    return wl


def _warnings(
    found: list[tuple[KeyPath, str]], names: dict[str | int, str], label: str, text: str | None
) -> tuple[WatchlistWarning, ...]:
    if not found:
        return ()
    lines = KeyLines(text) if text is not None else None
    return tuple(
        WatchlistWarning(
            message,
            path=label,
            line=lines.line_of(keypath) if lines else None,
            keypath=keypath,
            endpoint=names.get(keypath[1]) if keypath[:1] == ("endpoint",) else None,
        )
        for keypath, message in found
    )


def _endpoint_names(document: dict[str, Any]) -> dict[str | int, str]:
    tables = document.get("endpoint")
    if not isinstance(tables, list):
        return {}
    return {
        index: table["name"]
        for index, table in enumerate(tables)
        if isinstance(table, dict) and isinstance(table.get("name"), str)
    }


def _too_deep(document: dict[str, Any]) -> KeyPath | None:
    """The top-level key path of the first value nested past MAX_DEPTH, else None.

    Iterative on purpose: a recursive walk would fail exactly where it is needed.
    """
    stack: list[tuple[KeyPath, object, int]] = [((), document, 0)]
    while stack:
        keypath, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return keypath[:3]
        if isinstance(value, dict):
            stack.extend(((*keypath, k), v, depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*keypath, i), v, depth + 1) for i, v in enumerate(value))
    return None


def _error(problems: list[Problem], label: str, text: str | None) -> WatchlistError:
    lines = KeyLines(text) if text is not None else None
    errors = [
        WatchlistError(
            message,
            path=label,
            line=lines.line_of(keypath) if lines else None,
            keypath=keypath,
            endpoint=name,
        )
        for keypath, message, name in problems
    ]
    # The first problem in the file is the one to fix first (and the one str() shows).
    errors.sort(key=lambda e: (e.line is None, e.line or 0))
    first = errors[0]
    return WatchlistError(
        first.message,
        path=label,
        line=first.line,
        keypath=first.keypath,
        endpoint=first.endpoint,
        errors=errors[1:],
    )
