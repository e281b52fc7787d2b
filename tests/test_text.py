"""Untrusted text never reaches the terminal as control codes."""

from __future__ import annotations

import json
import unicodedata

from gatewatch.text import dumps, one_line, visible


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


def test_bidi_c1_and_format_characters_are_spelled_out() -> None:
    hostile = "moc.\u202eknab \x9b31m a\u200bb \u2066x\u2069 \ufeff \u2028"
    shown = visible(hostile)
    for raw in ("\u202e", "\x9b", "\u200b", "\u2066", "\u2069", "\ufeff", "\u2028"):
        assert raw not in shown
    assert "\\u202e" in shown and "\\x9b" in shown and "\\u200b" in shown
    assert visible("café 東京 ✓ Ωmega") == "café 東京 ✓ Ωmega"  # readable text stays


def test_every_format_character_of_this_python_is_covered() -> None:
    """INVISIBLE_RANGES against the running Python's Unicode database (category Cf)."""
    missing = [
        f"U+{code:04X}"
        for code in range(0x110000)
        if unicodedata.category(chr(code)) == "Cf" and visible(chr(code)) == chr(code)
    ]
    assert missing == []


def test_dumps_escapes_exactly_the_invisible_characters() -> None:
    value = {
        "subject": "evil\u202emoc",
        "reason": "Bad \x9b31m",
        "city": "Zürich 東京",
        "t": "\U000e0041",
    }
    text = dumps(value)
    assert "\u202e" not in text and "\x9b" not in text and "\U000e0041" not in text
    assert "\\u202e" in text and "\\u009b" in text and "\\udb40\\udc41" in text
    assert "Zürich 東京" in text
    assert json.loads(text) == value
