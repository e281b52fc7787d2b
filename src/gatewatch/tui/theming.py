"""Themes as TOML files, loaded defensively: a bad file is reported, never fatal.

Why defensive: Textual registers a ``Theme`` with a misspelt colour without complaint and
fails later, mid-render, when the colour is first used. A status board that dies at 3 a.m.
because someone edited a theme file is worse than one in the default colours. So every
file is parsed, every colour checked with ``Color.parse``, failures are collected per file
and reported together in one notification, and a theme is registered only when whole.

Where themes come from, later ones overriding earlier ones of the same name:

1. the shipped folder: ``gatewatch/themes`` inside the installed package (the wheel
   force-includes the repository's ``themes/`` there), else ``themes/`` at the top of the
   repository when running from a checkout;
2. the user's folder: ``<config dir>/themes`` (``platformdirs.user_config_dir("gatewatch")``).

The board's own colours (``$status-up`` …) get defaults from :data:`STATUS_DEFAULTS` via
``App.get_theme_variable_defaults``; a theme overrides them in its ``[variables]`` table.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "gatewatch-dark"

#: Fallbacks for the board's colours, for any theme (Textual's own included) that does not
#: set them. Chosen to be told apart on dark and light backgrounds alike.
STATUS_DEFAULTS: Mapping[str, str] = {
    "status-up": "#3fb950",
    "status-degraded": "#d29922",
    "status-down": "#f85149",
    "status-flapping": "#db61a2",
    "status-muted": "#8b949e",
    "status-info": "#58a6ff",
}

_COLOUR_KEYS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_OTHER_KEYS = {"name", "dark", "luminosity_spread", "text_alpha", "variables", "description"}
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_TEXT_STYLES = {"bold", "italic", "underline", "reverse", "dim", "strike", "none", "not"}


class ThemeFileError(ValueError):
    """One theme file that could not be used, with every problem found in it."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path.name}: " + "; ".join(problems))
        self.path = path
        self.problems = problems


@dataclass(frozen=True)
class ThemeLoad:
    """The themes that loaded, in order, and one line per file that did not."""

    themes: tuple[Theme, ...]
    failures: tuple[str, ...]


def shipped_theme_dir() -> Path | None:
    """``gatewatch/themes`` in the installed package, else the checkout's ``themes/``."""
    try:
        packaged = Path(str(resources.files("gatewatch") / "themes"))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - zipimport and friends
        packaged = None
    if packaged is not None and packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "themes"
    return checkout if checkout.is_dir() else None


def user_theme_dir(config_dir: Path) -> Path:
    return config_dir / "themes"


def parse_theme(data: Mapping[str, Any], path: Path) -> Theme:
    """A Theme from a parsed TOML table; raises ThemeFileError listing every problem."""
    problems: list[str] = []
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        problems.append(
            f"name: expected a lower-case name like 'my-theme', got {name!r}"
            if name is not None
            else "name: every theme needs a name"
        )
    for key in data:
        if key not in _COLOUR_KEYS and key not in _OTHER_KEYS:
            problems.append(f"{key}: unknown key")
    colours: dict[str, str] = {}
    for key in _COLOUR_KEYS:
        if key not in data:
            continue
        problem = _colour_problem(data[key])
        if problem:
            problems.append(f"{key}: {problem}")
        else:
            colours[key] = data[key]
    if "primary" not in data:
        problems.append("primary: every theme needs a primary colour")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        problems.append(f"dark: expected true or false, got {dark!r}")
    numbers: dict[str, float] = {}
    for key in ("luminosity_spread", "text_alpha"):
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                problems.append(f"{key}: expected a number from 0 to 1, got {value!r}")
            else:
                numbers[key] = float(value)
    variables = _variables(data.get("variables", {}), problems)
    if problems:
        raise ThemeFileError(path, problems)
    return Theme(
        name=str(name),
        dark=bool(dark),
        variables=variables,
        **colours,  # type: ignore[arg-type]
        **numbers,  # type: ignore[arg-type]
    )


def _colour_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"expected a colour string like '#1e1e2e', got {value!r}"
    try:
        Color.parse(value)
    except ColorParseError:
        return f"not a colour: {value!r}"
    return None


def _variables(table: object, problems: list[str]) -> dict[str, str]:
    if not isinstance(table, dict):
        problems.append(f"variables: expected a table, got {table!r}")
        return {}
    out: dict[str, str] = {}
    for key, value in table.items():
        if not isinstance(value, str):
            problems.append(f"variables.{key}: expected a string, got {value!r}")
            continue
        if key.endswith("text-style"):
            if not set(value.split()) <= _TEXT_STYLES:
                problems.append(f"variables.{key}: not a text style: {value!r}")
                continue
        elif (problem := _colour_problem(value)) is not None:
            problems.append(f"variables.{key}: {problem}")
            continue
        out[key] = value
    return out


def load_theme_file(path: Path) -> Theme:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(path, [f"invalid TOML: {exc}"]) from None
    except OSError as exc:
        raise ThemeFileError(path, [f"can't read it: {exc.strerror or exc}"]) from None
    return parse_theme(data, path)


def load_themes(folders: Iterable[Path | None]) -> ThemeLoad:
    """Every ``*.toml`` theme in ``folders`` (missing folders are fine), failures collected."""
    themes: dict[str, Theme] = {}
    failures: list[str] = []
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        try:
            paths = sorted(folder.glob("*.toml"))
        except OSError as exc:  # pragma: no cover - an unreadable folder
            failures.append(f"{folder}: {exc}")
            continue
        for path in paths:
            try:
                theme = load_theme_file(path)
            except ThemeFileError as exc:
                failures.append(str(exc))
                continue
            themes[theme.name] = theme
    return ThemeLoad(tuple(themes.values()), tuple(failures))


def status_defaults(theme: Theme | None) -> dict[str, str]:
    """Defaults for ``$status-*``: the theme's own success/warning/error where it has them."""
    defaults = dict(STATUS_DEFAULTS)
    if theme is not None:
        for variable, attribute in (
            ("status-up", "success"),
            ("status-degraded", "warning"),
            ("status-down", "error"),
        ):
            value = getattr(theme, attribute, None)
            if isinstance(value, str) and _colour_problem(value) is None:
                defaults[variable] = value
    return defaults
