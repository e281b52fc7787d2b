"""The board's own small settings file (``<config dir>/tui.toml``): the chosen theme.

Why separate from the watchlist: the watchlist is the on-call team's shared file and may
live in a repository; a colour preference is one person's. A broken or unreadable file
means defaults (with a note), never a crash, and a write failure is reported, not raised.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import platformdirs
import tomli_w

FILE_NAME = "tui.toml"


def default_config_dir() -> Path:
    """The same folder the watchlist lives in by default (``user_config_dir("gatewatch")``)."""
    return Path(platformdirs.user_config_dir("gatewatch", appauthor=False))


@dataclass(frozen=True)
class Settings:
    theme: str | None = None


def load_settings(config_dir: Path) -> tuple[Settings, str | None]:
    """The settings, and a problem to tell the user about (None when all is well)."""
    path = config_dir / FILE_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings(), None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Settings(), f"{path}: ignored ({exc})"
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        return Settings(), f"{path}: theme must be a string, got {theme!r}"
    return Settings(theme=theme), None


def save_settings(config_dir: Path, settings: Settings) -> str | None:
    """Write the settings atomically; returns a problem (None on success)."""
    path = config_dir / FILE_NAME
    data: dict[str, object] = {}
    if settings.theme is not None:
        data["theme"] = settings.theme
    try:
        config_dir.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".tui-", suffix=".toml", dir=config_dir)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(tomli_w.dumps(data).encode("utf-8"))
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
    except OSError as exc:
        return f"could not remember the theme in {path}: {exc.strerror or exc}"
    return None
