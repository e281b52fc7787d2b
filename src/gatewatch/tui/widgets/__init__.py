"""Reusable widgets of the board: they draw what they are given, and know no screen or app."""
