"""The board's state without a UI: endpoints, live rows, commands (add, edit, delete, pause,
probe now, save), each returning what changed. Never imports Textual (import-linter)."""

from gatewatch.board.api import BoardModel
from gatewatch.board.engine import Engine, Feed, Inbox, News
from gatewatch.board.rows import Row, Sample
from gatewatch.board.state import BoardState, Changes, build_endpoint

__all__ = [
    "BoardModel",
    "BoardState",
    "Changes",
    "Engine",
    "Feed",
    "Inbox",
    "News",
    "Row",
    "Sample",
    "build_endpoint",
]
