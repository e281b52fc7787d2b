"""Untrusted text never reaches the terminal as control codes."""

from __future__ import annotations

from gatewatch.text import one_line, visible


def test_escape_sequences_become_visible() -> None:
    hostile = "\x1b]0;pwned\x07\x1b[2J\x9b31m\x7f"
    shown = visible(hostile)
    assert all(ord(c) >= 0x20 and not 0x7F <= ord(c) < 0xA0 for c in shown)
    assert shown.startswith("␛]0;pwned␇␛[2J")


def test_markup_is_left_alone_for_the_renderer() -> None:
    assert visible("[bold red]x[/]") == "[bold red]x[/]"


def test_newlines_kept_only_when_asked() -> None:
    assert visible("a\nb") == "a␊b"
    assert visible("a\nb", keep_newlines=True) == "a\nb"


def test_one_line_flattens_and_caps() -> None:
    assert one_line("a\n  b\x1b", 10) == "a b␛"
    assert len(one_line("x" * 500, 50)) == 50
