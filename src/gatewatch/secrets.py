"""Secrets in a watchlist are references (``env:VAR``), resolved only at the moment of use.

Why: a watchlist is saved, shared and pasted into incident channels. The value behind
``env:SHOP_TOKEN`` must never be written into it, into a report or into a log, so every
layer keeps the reference and calls :func:`resolve` at the last moment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

PREFIX = "env:"


class SecretError(ValueError):
    """A referenced environment variable is not set."""


def is_reference(value: str) -> bool:
    return value.startswith(PREFIX)


def resolve(value: str, environ: Mapping[str, str] | None = None) -> str:
    """The real value of ``value``: itself, or the environment variable it names."""
    if not is_reference(value):
        return value
    name = value[len(PREFIX) :]
    env = os.environ if environ is None else environ
    if name not in env:
        raise SecretError(f"environment variable {name!r} is not set (referenced as {value!r})")
    return env[name]
