"""The board's Textual messages: engine news, changed rows, and where to go next.

Why messages: the engine's thread must never touch a widget, and a screen must never reach
into another (or into the app) to tell it something. The engine's listener posts
:class:`EngineNews` (thread-safe, coalesced: a flood of results is one message); the app
folds the engine's events into the :class:`~gatewatch.board.BoardState` and posts
:class:`BoardChanged` to every screen; a screen that wants another screen opened posts
:class:`OpenDetail` or :class:`OpenChecklist`, which bubble up to the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.message import Message

from gatewatch.board import Changes


@dataclass
class EngineNews(Message):
    """The engine said something; its events wait in the app's inbox.

    Coalesced: while one is still queued, newer ones replace it, so the app drains the inbox
    once however many results arrived.
    """

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EngineNews)


@dataclass
class BoardChanged(Message):
    """The board's state changed; ``changes`` says exactly what."""

    changes: Changes


@dataclass
class OpenDetail(Message):
    """Open the detail screen of ``name`` (as of ``replay_at`` when replaying)."""

    name: str
    replay_at: datetime | None = None


@dataclass
class OpenChecklist(Message):
    """Open the troubleshooting checklist of ``name``."""

    name: str


@dataclass
class Commanded(Message):
    """A screen ran a command on the state; the app tells every screen (and the engineer)."""

    changes: Changes
