"""One board session: the watchlist being edited, what is on disk, and the engine it feeds.

Why not in the app: editing goes through two owners that must agree, the watchlist
(validated, immutable, saved atomically by :mod:`gatewatch.watchlist`) and the engine
(:class:`gatewatch.monitor.Monitor`), and "unsaved changes" is the difference between the
watchlist in hand and the one last read or written. That is bookkeeping, not UI, so it
lives here without Textual and is tested without an app.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import tomli_w

from gatewatch import watchlist as wl
from gatewatch.model import Endpoint
from gatewatch.monitor import EndpointStatus, History, Message


class Engine(Protocol):
    """What the board needs of the probe engine; :class:`gatewatch.monitor.Monitor` has it."""

    history: History

    def subscribe(self, callback: Callable[[Message], None]) -> Callable[[], None]: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def snapshot(self) -> dict[str, EndpointStatus]: ...
    def add(self, endpoint: Endpoint) -> concurrent.futures.Future[None]: ...
    def remove(self, name: str) -> concurrent.futures.Future[None]: ...
    def rename(self, old_name: str, endpoint: Endpoint) -> concurrent.futures.Future[None]: ...
    def update(self, endpoint: Endpoint) -> concurrent.futures.Future[None]: ...
    def pause(self, name: str) -> concurrent.futures.Future[None]: ...
    def resume(self, name: str) -> concurrent.futures.Future[None]: ...
    def pause_all(self) -> concurrent.futures.Future[None]: ...
    def resume_all(self) -> concurrent.futures.Future[None]: ...
    def probe_now(self, name: str) -> concurrent.futures.Future[None]: ...


class Session:
    """The watchlist in hand and on disk, kept in step with the engine.

    Every edit validates against the watchlist first (nothing changes if it would not
    load back), then tells the engine. ``save`` blocks on the disk: call it from a worker.
    """

    def __init__(self, watchlist: wl.Watchlist, engine: Engine) -> None:
        self.watchlist = watchlist
        self.saved = watchlist
        self.engine = engine

    @property
    def dirty(self) -> bool:
        return self.watchlist != self.saved

    def add(self, endpoint: Endpoint) -> None:
        edited = self.watchlist.with_endpoint(endpoint)
        self.engine.add(endpoint)
        self.watchlist = edited

    def edit(self, old_name: str, endpoint: Endpoint) -> None:
        edited = self.watchlist.replace_endpoint(old_name, endpoint)
        if endpoint.name == old_name:
            self.engine.update(endpoint)
        else:  # its state and history follow it to the new name
            self.engine.rename(old_name, endpoint)
        self.watchlist = edited

    def delete(self, name: str) -> None:
        edited = self.watchlist.without_endpoint(name)
        self.engine.remove(name)
        self.watchlist = edited

    def save(self, *, force: bool = False) -> wl.Watchlist:
        """Write the watchlist (atomic, with .bak). Raises WatchlistError/OSError."""
        in_hand = self.watchlist
        saved = wl.save(in_hand, force=force)
        self.saved = saved
        if self.watchlist is in_hand:  # no edit arrived while the disk was busy
            self.watchlist = saved
        return saved


def build_endpoint(
    fields: Mapping[str, Any], watchlist: wl.Watchlist, *, extra: Mapping[str, Any] | None = None
) -> Endpoint:
    """The Endpoint a form describes, read exactly as a load would read it.

    ``fields`` are TOML-shaped values (as :func:`gatewatch.watchlist.endpoint_errors`
    takes them). Empty fields are left out, so the watchlist's ``[defaults]`` apply, as
    they would in the file. ``extra`` (an edited endpoint's other keys) is carried over.
    Raises WatchlistError.
    """
    document: dict[str, Any] = {"version": 1, "endpoint": [dict(fields)]}
    defaults = watchlist.document.get("defaults")
    if isinstance(defaults, dict):
        document["defaults"] = defaults
    text = tomli_w.dumps(document)
    path = watchlist.path if watchlist.path is not None else "<string>"
    endpoint = wl.loads(text, path=path).endpoints[0]
    return endpoint.replace(extra=dict(extra or {}))
