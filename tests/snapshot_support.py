"""The type of pytest-textual-snapshot's ``snap_compare`` fixture, for mypy.

The plugin ships no ``py.typed`` and its fixture is annotated as returning
``Callable[[str | PurePath], bool]``, while the function it returns also takes ``press``,
``terminal_size`` and ``run_before`` (pytest_textual_snapshot 1.1.0). This protocol spells
out the real signature so the snapshot tests are checked like the others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import PurePath
from typing import Any, Protocol

from textual.app import App
from textual.pilot import Pilot

#: Runs against the app before the picture is taken.
RunBefore = Callable[[Pilot[Any]], Awaitable[None] | None]


class SnapCompare(Protocol):
    """Compares a picture of ``app`` with the one stored; True when they match."""

    def __call__(
        self,
        app: str | PurePath | App[Any],
        press: Iterable[str] = (),
        terminal_size: tuple[int, int] = (80, 24),
        run_before: RunBefore | None = None,
    ) -> bool: ...
