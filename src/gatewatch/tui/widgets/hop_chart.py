"""The last probes per hop: one Textual Sparkline per hop, with p50 and p95 beside it.

Why sparklines and percentiles together: the line shows *when* a hop got slow (a step, a
spike, a drift), the percentiles *how* slow as numbers one can quote in an incident
channel. Percentiles use the monitor's own definition so the board and reports agree.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Label, Sparkline

from gatewatch.board.rows import Sample, hop_series, latencies
from gatewatch.model import HOP_NAMES
from gatewatch.monitor.stats import percentile
from gatewatch.tui import format as fmt

SERIES: tuple[str, ...] = (*HOP_NAMES, "total")


def series(samples: Sequence[Sample], name: str) -> list[float]:
    return latencies(samples) if name == "total" else hop_series(samples, name)


def stats_text(values: Sequence[float]) -> Content:
    if not values:
        return Content.styled("no timings", "dim")
    ordered = sorted(values)
    p50, p95 = percentile(ordered, 50), percentile(ordered, 95)
    return Content.assemble(
        ("p50 ", "dim"),
        (fmt.ms_long(p50).rjust(9), ""),
        ("  p95 ", "dim"),
        (fmt.ms_long(p95).rjust(9), ""),
        (f"  n={len(values)}", "dim"),
    )


class HopChart(Vertical):
    """Sparklines of each hop's time (and the total) over the given samples."""

    DEFAULT_CSS = """
    HopChart { height: auto; }
    HopChart > Horizontal { height: 1; }
    HopChart .chart-label { width: 10; text-style: bold; }
    HopChart Sparkline { width: 1fr; margin-right: 2; }
    HopChart .chart-stats { width: 42; }
    """

    def __init__(self, samples: Sequence[Sample] = (), **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._samples = tuple(samples)

    def compose(self) -> ComposeResult:
        for name in SERIES:
            values = series(self._samples, name)
            with Horizontal(id=f"chart-{name}"):
                yield Label(Content(name), classes="chart-label")
                yield Sparkline(values, classes="chart-line")
                yield Label(stats_text(values), classes="chart-stats")

    def show(self, samples: Sequence[Sample]) -> None:
        self._samples = tuple(samples)
        if not self.is_mounted:
            return
        for name in SERIES:
            values = series(self._samples, name)
            row = self.query_one(f"#chart-{name}", Horizontal)
            row.query_one(Sparkline).data = values
            row.query_one(".chart-stats", Label).update(stats_text(values))
