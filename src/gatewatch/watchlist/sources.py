"""``[[source]]`` tables: Prometheus servers that report other vantage points.

```toml
[[source]]
name = "eu"                   # or one global server
kind = "prometheus"
url = "http://prometheus.eu:9090"
vantage_label = "region"      # the label that tells vantage points apart
headers = { Authorization = "env:PROM_TOKEN" }
timeout = "10s"               # optional; the same default deadline as probes
interval = "15s"              # optional; how often the source is read
```

Validated with the same rules (and file:line:key errors) as endpoints; header values stay
``env:`` references until the request is made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gatewatch.model import DEFAULT_TIMEOUT
from gatewatch.watchlist.errors import KeyPath, show
from gatewatch.watchlist.fields import RULES, FieldError

KINDS = ("prometheus",)
DEFAULT_SOURCE_INTERVAL = 15.0
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


@dataclass(frozen=True)
class Source:
    """A Prometheus server whose series describe probes from other vantage points."""

    name: str
    url: str
    kind: str = "prometheus"
    #: The label whose values name vantage points; None: the whole source is one vantage.
    vantage_label: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    interval: float = DEFAULT_SOURCE_INTERVAL


def _kind(value: object) -> str:
    if value not in KINDS:
        raise FieldError(f"expected kind = {' or '.join(map(repr, KINDS))}, got {show(value)}")
    return str(value)


def _vantage_label(value: object) -> str:
    if not isinstance(value, str) or not _LABEL_NAME.fullmatch(value):
        raise FieldError(f"expected a Prometheus label name like \"region\", got {show(value)}")
    return value


_RULES = {
    "name": RULES["name"],
    "kind": _kind,
    "url": RULES["url"],
    "vantage_label": _vantage_label,
    "headers": RULES["headers"],
    "timeout": RULES["timeout"],
    "interval": RULES["interval"],
}
_REQUIRED = ("name", "kind", "url")

Problem = tuple[KeyPath, str]


def parse_sources(tables: object) -> tuple[tuple[Source, ...], list[Problem]]:
    """The ``[[source]]`` array as Sources, and every problem with its key path."""
    if tables is None:
        return (), []
    if not isinstance(tables, list):
        return (), [(("source",), f"expected [[source]] tables, got {show(tables)}")]
    sources: list[Source] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, table in enumerate(tables):
        if not isinstance(table, dict):
            problems.append((("source", index), f"expected a table, got {show(table)}"))
            continue
        parsed, mine = _parse_one(table, index)
        name = parsed.get("name")
        if isinstance(name, str):
            if name in seen:
                mine.append((("source", index, "name"), f"duplicate source name {show(name)}"))
            seen.add(name)
        problems += mine
        if not mine:
            sources.append(Source(**parsed))
    return tuple(sources), problems


def _parse_one(table: dict[str, object], index: int) -> tuple[dict[str, Any], list[Problem]]:
    parsed: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in table.items():
        rule = _RULES.get(key)
        if rule is None:
            continue  # kept in the document, as unknown endpoint keys are
        try:
            parsed[key] = rule(value)
        except FieldError as exc:
            problems.append((("source", index, key, *exc.sub), exc.message))
    for key in _REQUIRED:
        if key not in table:
            problems.append((("source", index, key), f"missing: every source needs a {key}"))
    return parsed, problems


def source_names(sources: Sequence[Source]) -> tuple[str, ...]:
    return tuple(s.name for s in sources)
