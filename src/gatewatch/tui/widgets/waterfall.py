"""The waterfall: each hop as a bar on one time axis, like a browser's network timing.

Rows in hop order (dns, tcp, tls, proxy, upstream), as the hop strip, the CLI and the
reports list them, so a hop is always found in the same place; bars at their place in time.
Through a forward proxy the CONNECT tunnel is set up after TCP and before TLS, so there the
proxy bar starts before the TLS bar although it is listed after it. The upstream hop is
split into waiting for the first byte and transferring the body. A failing hop is drawn in
the failure colour and marked with ``✖ FAIL`` and its error on the next line, so the break
is visible without colour.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import RenderResult
from textual.content import Content
from textual.widget import Widget

from gatewatch.model import Hop, ProbeResult
from gatewatch.text import one_line
from gatewatch.tui import format as fmt
from gatewatch.tui.looks import HOP_LOOKS, Piece, to_content

_EIGHTHS = " ▏▎▍▌▋▊▉"
LABEL = 11
VALUE = 11
#: Room for the ``  ✖ FAIL`` marker after a bar.
MARK = 8


@dataclass(frozen=True)
class Bar:
    label: str
    start_ms: float
    ms: float | None
    status: str
    note: str | None = None
    error: str | None = None


def bars(result: ProbeResult) -> list[Bar]:
    """The waterfall's bars in hop order, each starting when it did; ``ms`` None for a hop
    that did not run."""
    by_name: dict[str, Hop] = {h.name: h for h in result.hops}
    order = ["dns", "tcp", "proxy", "tls", "upstream"]  # when each happens, for start times
    out: list[Bar] = []
    t = 0.0
    for name in order:
        hop = by_name.get(name)
        if hop is None:
            continue
        ms = hop.ms if hop.status != "skip" else None
        note = _note(hop)
        if name == "upstream" and ms is not None:
            send = _number(hop.detail.get("send_ms")) or 0.0
            out.append(Bar("upstream", t + send, ms, hop.status, "wait for first byte", hop.error))
            t += send + ms
            transfer = _number(hop.detail.get("transfer_ms"))
            if transfer is not None and hop.status != "fail":
                out.append(Bar("  body", t, transfer, "ok", "transfer"))
                t += transfer
            continue
        out.append(Bar(name, t, ms, hop.status, note, hop.error))
        t += ms or 0.0
    rows = ["dns", "tcp", "tls", "proxy", "upstream", "  body"]
    return sorted(out, key=lambda bar: rows.index(bar.label))


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _note(hop: Hop) -> str | None:
    detail = hop.detail
    if hop.name == "proxy" and detail.get("generator"):
        return f"answered by {detail['generator']}"
    if hop.name == "dns" and detail.get("source") not in (None, "dns", "system"):
        return f"from {detail['source']}"
    return None


def track(start: float, ms: float, scale: float, width: int) -> tuple[int, str]:
    """(offset in cells, bar text) for a bar from ``start`` lasting ``ms`` on ``width`` cells."""
    if scale <= 0 or width <= 0:
        return 0, ""
    offset = min(width - 1, int(start / scale * width))
    eighths = max(1, round(ms / scale * width * 8))
    eighths = min(eighths, (width - offset) * 8)
    full, part = divmod(eighths, 8)
    return offset, "█" * full + (_EIGHTHS[part] if part else "")


def lines(result: ProbeResult, width: int) -> list[list[Piece]]:
    """The waterfall as lines of pieces for a widget ``width`` cells wide."""
    items = bars(result)
    ends = [b.start_ms + (b.ms or 0.0) for b in items]
    scale = max([*ends, result.total_ms if result.total_ms == result.total_ms else 0.0, 0.001])
    area = max(10, width - LABEL - VALUE - MARK)
    out: list[list[Piece]] = []
    for bar in items:
        look = HOP_LOOKS.get(bar.status, HOP_LOOKS["skip"])  # type: ignore[call-overload]
        label = (bar.label + " ").ljust(LABEL)[:LABEL]
        line: list[Piece] = [(label, "bold")]
        if bar.ms is None:
            line += [
                (" " * area, ""),
                ("  " + f"{look.symbol} {look.word}".rjust(VALUE - 2), look.role),
            ]
        else:
            offset, text = track(bar.start_ms, bar.ms, scale, area)
            pad = area - offset - len(text)
            line += [(" " * offset, ""), (text, look.role), (" " * max(pad, 0), "")]
            line.append((" " + fmt.ms_long(bar.ms).rjust(VALUE - 1), ""))
        if bar.status in ("fail", "warn"):
            line.append((f"  {look.symbol} {look.word}", look.role))
        out.append(line)
        if bar.status in ("fail", "warn") and bar.error:
            out.append(
                [
                    (" " * LABEL, ""),
                    ("└ " + one_line(bar.error, max(20, width - LABEL - 4)), look.role),
                ]
            )
        elif bar.note:
            out.append(
                [(" " * LABEL, ""), ("└ " + one_line(bar.note, max(20, width - LABEL - 4)), "dim")]
            )
    axis = f"0 ms{'':>{max(0, area - 4 - len(fmt.ms_long(scale)))}}{fmt.ms_long(scale)}"
    out.append([(" " * LABEL, ""), (axis, "dim")])
    return out


class Waterfall(Widget):
    """Renders :func:`lines` at the widget's width."""

    DEFAULT_CSS = """
    Waterfall { height: auto; }
    """

    def __init__(self, result: ProbeResult | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.result = result

    def show(self, result: ProbeResult | None) -> None:
        self.result = result
        self.refresh(layout=True)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        if self.result is None:
            return 1
        return len(lines(self.result, width))

    def render(self) -> RenderResult:
        if self.result is None:
            return Content("no probe yet")
        width = self.content_region.width or self.size.width
        return Content("\n").join(to_content(line) for line in lines(self.result, width))
