"""The verdict's list items wrap under their own text, not under the bullet or number:
mid-incident, a line that starts at the left edge reads as a new item."""

from __future__ import annotations

from gatewatch.model import Verdict
from gatewatch.tui.screens.detail_parts import verdict_content

LONG = (
    "nginx sends this same 502 page when the upstream refused, reset or closed the "
    "connection, sent an invalid header, failed TLS, could not be resolved or had no live server"
)
VERDICT = Verdict(
    cause="backend",
    kind="upstream_refused",
    hop="upstream",
    generator="nginx",
    confidence=0.95,
    summary="502 from nginx: the upstream refused the connection",
    evidence=("origin refused the connection", LONG),
    next_steps=("Check the application runs and listens on the port the gateway targets.",),
)


def _lines(width: int | None) -> list[str]:
    return verdict_content(VERDICT, width).plain.splitlines()


def test_long_items_hang_under_their_text_at_the_given_width() -> None:
    lines = _lines(50)
    start = next(i for i, line in enumerate(lines) if line.startswith("  • nginx sends"))
    continued = []
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        continued.append(line)
    assert len(continued) >= 2  # the long item really wrapped …
    assert all(len(line) <= 50 for line in lines[start : start + 1 + len(continued)])
    words = " ".join([lines[start][4:], *(c[4:] for c in continued)]).split()
    assert words == LONG.split()  # … and nothing was lost or reordered
    step = lines.index("Next steps") + 1
    assert lines[step].startswith("  1. ") and lines[step + 1].startswith("     ")


def test_without_a_width_each_item_is_one_line() -> None:
    lines = _lines(None)
    assert "  • " + LONG in lines
    assert sum(line.startswith("  • ") for line in lines) == 2


async def test_a_fitted_section_lays_its_items_out_again_when_the_terminal_narrows() -> None:
    from textual.app import App, ComposeResult

    from gatewatch.tui.widgets.fitted import FittedStatic

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield FittedStatic(id="box")

        def on_mount(self) -> None:
            self.query_one(FittedStatic).show(lambda width: verdict_content(VERDICT, width))

    def shown(app: App[None]) -> list[str]:
        return str(app.query_one(FittedStatic).render()).splitlines()

    app = One()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        wide = shown(app)
        await pilot.resize_terminal(50, 40)
        await pilot.pause()
        narrow = shown(app)
    def items(lines: list[str]) -> list[str]:  # other lines are Textual's to wrap
        return [line for line in lines if line.startswith("  ")]

    assert max(len(line) for line in items(wide)) > 50  # laid out for 100 columns first …
    assert max(len(line) for line in items(narrow)) <= 50  # … then again for 50
    start = next(i for i, line in enumerate(narrow) if line.startswith("  • nginx sends"))
    assert narrow[start + 1].startswith("    ") and not narrow[start + 1].startswith("     ")
