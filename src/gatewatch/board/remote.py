"""Remote vantage points beside the local rows: which remote row belongs to which endpoint.

Why here and pure: the board's one state (:mod:`gatewatch.board.state`) folds the
:class:`~gatewatch.remote.watcher.RemoteWatcher`'s events into its rows like the engine's;
matching a remote row to a local endpoint, merging the same endpoint seen by several
sources, and the short texts the board shows of it are plain functions over frozen data,
so they are unit tests without an app (:func:`sync` is the one place rows learn of them).
A remote endpoint belongs to a local one when its
name (the series' ``endpoint`` label, else ``instance``) is the local endpoint's name or URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import replace

from gatewatch.board.rows import Row
from gatewatch.model import Endpoint
from gatewatch.remote.vantage import RemoteRow

Key = tuple[str, str]


def merged(rows: Sequence[RemoteRow]) -> RemoteRow:
    """One endpoint's rows from several sources as one row (vantage points side by side)."""
    if len(rows) == 1:
        return rows[0]
    ordered = sorted(rows, key=lambda r: r.source)
    vantages = tuple(v for row in ordered for v in row.vantages)
    return RemoteRow("+".join(r.source for r in ordered), ordered[0].endpoint, vantages)


def attach(
    remote: Mapping[Key, RemoteRow], endpoints: Iterable[Endpoint]
) -> tuple[dict[str, RemoteRow], dict[str, RemoteRow]]:
    """(remote row per local endpoint name, remote-only rows by their remote name)."""
    by_remote_name: dict[str, list[RemoteRow]] = {}
    for (_source, name), row in sorted(remote.items()):
        by_remote_name.setdefault(name, []).append(row)
    local: dict[str, RemoteRow] = {}
    claimed: set[str] = set()
    for endpoint in endpoints:
        found: list[RemoteRow] = []
        for name in (endpoint.name, endpoint.url):
            if name in by_remote_name and name not in claimed:
                found += by_remote_name[name]
                claimed.add(name)
        if found:
            local[endpoint.name] = merged(found)
    only = {
        name: merged(rows)
        for name, rows in by_remote_name.items()
        if name not in claimed and name not in local
    }
    return local, only


def cell(row: RemoteRow | None) -> str:
    """The board's Vantage column: ``1/2 ✖``, ``2 ok``, ``vantage down (eu)``."""
    if row is None or not row.vantages:
        return ""
    failing, down, n = row.failing, row.down, len(row.vantages)
    if failing:
        text = f"{len(failing)}/{n} ✖"
        return text + (f" +{len(down)} down" if down else "")
    if down:
        return f"vantage down ({', '.join(down)})"
    return f"{n} ok"


def line(row: RemoteRow | None) -> str:
    """The inspector's words for it: ``remote: 1 of 2 failing (us)``."""
    return "" if row is None or not row.vantages else f"remote: {row.summary}"


def remote_only_endpoint(name: str) -> Endpoint:
    """The stand-in endpoint of a row that only a source knows (never probed, never saved)."""
    url = name if "://" in name else ""
    return Endpoint(name=name, url=url)


def sync(
    rows: MutableMapping[str, Row],
    remote: Mapping[Key, RemoteRow],
    endpoints: Sequence[Endpoint],
) -> tuple[set[str], set[str], set[str]]:
    """Give each local row its remote vantage points and keep one row per endpoint only a
    source knows, in place. Returns the names (added, changed, removed)."""
    added: set[str] = set()
    changed: set[str] = set()
    removed: set[str] = set()
    local, only = attach(remote, endpoints)
    local_names = {e.name for e in endpoints}
    for name, row in list(rows.items()):
        if row.remote_only:
            if name not in only or name in local_names:
                del rows[name]
                removed.add(name)
            continue
        wanted = local.get(name)
        if row.remote != wanted:
            rows[name] = replace(row, remote=wanted)
            changed.add(name)
    for name, found in only.items():
        known = rows.get(name)
        if known is None:
            rows[name] = Row(
                endpoint=remote_only_endpoint(name), state=None, remote=found, remote_only=True
            )
            added.add(name)
        elif known.remote_only and known.remote != found:
            rows[name] = replace(known, remote=found)
            changed.add(name)
    return added, changed, removed
