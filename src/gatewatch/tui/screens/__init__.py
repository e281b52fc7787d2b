"""Screens of the board: each handed what it needs (the board's state) when built; none imports
the app (import-linter)."""
