"""The board's table: one line per endpoint, drawn with Textual's line API.

Why not ``DataTable``: measured with ``bench/bench_tui.py`` (1,000 endpoints, 100 results a
second), every ``DataTable.update_cell`` invalidates the render cache of every cell, so each
batch of results re-rendered every visible cell, a cursor move re-assembled every visible
row, and the board's event loop spent most of its time in Rich: key-to-screen p95 ~200 ms,
and the busy UI thread holding the GIL added ~3 ms p95 to the engine's probe timings.

Here each row is rendered once into a strip and cached until one of its cells changes; a
frame only styles cached strips, and only the lines that changed are refreshed. The cursor
follows its endpoint, not its index, through reorders. Keys and mouse work as in a
DataTable (up/down/page/home/end, ``enter`` or a click on the selected row to open it).

Columns fit the terminal instead of scrolling sideways (:func:`board_cells.layout`): state,
name and verdict always, the others by priority while there is room, so at 80 columns a
row still says what is wrong. A click on a header sorts by that column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gatewatch.board.rows import Row
from gatewatch.tui.widgets.board_cells import CELLS, PAD, CellLook, Column, NeedsTally, keys, layout


def _shows_on_blanks(style: Style | None) -> bool:
    """Whether ``style`` changes how a space looks (a background, a line, reversed video)."""
    return style is not None and bool(
        style.bgcolor is not None
        or style.reverse
        or style.underline
        or style.underline2
        or style.strike
        or style.overline
        or style.link
    )


def _joined(segments: Iterable[Segment]) -> list[Segment]:
    """Neighbours that look the same joined: equal styles, and spaces into the text beside
    them when neither style shows on a space (a space in grey is a space in red). Every
    segment costs the compositor a pass per frame and the terminal an SGR sequence; a row
    of the board falls from ~40 segments to ~10."""
    out: list[Segment] = []
    for segment in segments:
        text, style, _ = segment
        if out:
            last_text, last_style, _ = out[-1]
            if style == last_style:
                out[-1] = Segment(last_text + text, last_style)
                continue
            if not _shows_on_blanks(style) and not _shows_on_blanks(last_style):
                if text.isspace():
                    out[-1] = Segment(last_text + text, last_style)
                    continue
                if last_text.isspace():
                    out[-1] = Segment(last_text + text, style)
                    continue
        out.append(segment)
    return out


def _column_strip(texts: Sequence[Text], widths: Sequence[int], look: CellLook) -> Strip:
    """Cells side by side, each cut or padded to its width, one space of padding around."""
    segments: list[Segment] = []
    console = look.console
    plain = Style.null()
    pad = Segment(" " * PAD, plain)
    for text, width in zip(texts, widths, strict=True):
        cell = text.copy()
        cell.no_wrap = True
        cell.end = ""
        cell.truncate(width, overflow="ellipsis", pad=False)
        room = width - cell.cell_len
        if room > 0:
            if cell.justify == "right":
                cell.pad_left(room)
            else:
                cell.pad_right(room)
        segments.append(pad)
        segments.extend(Segment(part, style or plain) for part, style, _ in cell.render(console))
        segments.append(pad)
    return Strip(_joined(segments), sum(widths) + 2 * PAD * len(widths))


class BoardTable(ScrollView, can_focus=True):
    """The endpoints table. Call :meth:`present` with the rows to show, in order."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "board--header",
        "board--cursor",
        "board--cursor-blurred",
        "board--even",
    }

    DEFAULT_CSS = """
    BoardTable { height: 1fr; background: $surface; }
    BoardTable > .board--header { background: $panel; text-style: bold; }
    BoardTable > .board--even { background: $surface-lighten-1 40%; }
    BoardTable > .board--cursor { background: $block-cursor-background 45%; text-style: bold; }
    BoardTable > .board--cursor-blurred { background: $block-cursor-blurred-background; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "top", "Top", show=False),
        Binding("end", "bottom", "Bottom", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, repaint=False, init=False)

    class Highlighted(Message):
        """The cursor moved to another endpoint (``name`` None when the table is empty)."""

        def __init__(self, name: str | None) -> None:
            super().__init__()
            self.name = name

    class SortBy(Message):
        """A click on a column's header: order the rows by it."""

        def __init__(self, sort: str) -> None:
            super().__init__()
            self.sort = sort

    class Selected(Message):
        """``enter`` or a click on the highlighted row: open it."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        #: What each row's cells depend on (None: not worked out, the row is off screen).
        self._keys: dict[str, tuple[Any, ...] | None] = {}
        self._rows: dict[str, Row] = {}
        self._strips: dict[str, Strip] = {}
        #: Each row's lines as drawn (background, cursor, cropped to the width), by
        #: (odd row, cursor style, width): a scroll redraws every visible line, and most of
        #: them look as they did one line higher a moment ago.
        self._drawn: dict[str, dict[tuple[bool, str, int], Strip]] = {}
        self._styles: dict[str, Style] = {}
        self._columns: list[tuple[Column, int]] = []
        self._needs: dict[str, int] = {}
        self._tally = NeedsTally()
        self._header: Strip | None = None
        self._look: CellLook | None = None
        #: The sort order to mark in the header (``board.rows.SORT_MODES``).
        self.sort_mode = ""

    # ------------------------------------------------------------------ what is shown

    @property
    def order(self) -> list[str]:
        """The endpoint names as listed, top to bottom."""
        return list(self._order)

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def columns(self) -> list[str]:
        """The keys of the columns shown at this width, left to right."""
        return [column.key for column, _ in self._columns]

    @property
    def highlighted_name(self) -> str | None:
        if 0 <= self.cursor_row < len(self._order):
            return self._order[self.cursor_row]
        return None

    def present(
        self, rows: Sequence[Row], look: CellLook, changed: Iterable[str] | None = None
    ) -> None:
        """Show ``rows`` in this order; look again only at rows in ``changed`` (None: all).

        Cheap for rows off screen: a changed row only forgets its strips, and is drawn
        when (if) it is next on screen.
        """
        self._look = look
        keep = self.highlighted_name
        wanted = [row.name for row in rows]
        wanted_set = set(wanted)
        for gone in set(self._order) - wanted_set:
            self._keys.pop(gone, None)
            self._rows.pop(gone, None)
            self._forget(gone)
            self._tally.discard(gone)
        check = wanted_set if changed is None else set(changed) & wanted_set
        fresh = [row for row in rows if row.name not in self._keys or row.name in check]
        for row in fresh:
            self._tally.update(row)
        self._fit(self._tally.needs())
        reordered = wanted != self._order
        if reordered:
            self._order = wanted
            self._index = {name: i for i, name in enumerate(wanted)}
            self.virtual_size = Size(self._table_width(), len(wanted) + 1)
            self.refresh()
        top = round(self.scroll_y)
        bottom = top + self.scrollable_content_region.height
        index = self._index
        for row in fresh:
            name = row.name
            self._rows[name] = row
            if not top <= index[name] < bottom:
                # Off screen: drawn from its row when (if) it is next shown; what its cells
                # depend on is worked out then, not for every result of a thousand rows.
                self._keys[name] = None
                self._forget(name)
                continue
            new = keys(row, look)
            if new != self._keys.get(name):
                self._keys[name] = new
                self._forget(name)
                if not reordered:
                    self.refresh_line(index[name] + 1)
        self.restore_cursor(keep, announce=reordered)

    def redraw_all(self, rows: Sequence[Row], look: CellLook) -> None:
        """Draw every row again (a new theme changes every colour)."""
        self._keys.clear()
        self._forget_all()
        self._header = None
        self._rich_style_cache.clear()
        self._styles.clear()
        self.present(rows, look)
        self.refresh()

    def set_sort(self, mode: str) -> None:
        if mode != self.sort_mode:
            self.sort_mode = mode
            self._header = None
            self.refresh_line(0)

    # ------------------------------------------------------------------ columns

    def _table_width(self) -> int:
        return max(1, self.scrollable_content_region.width or self.size.width)

    def _fit(self, wanted: dict[str, int] | None = None) -> None:
        """Choose the columns for this width and these contents; forget every drawn row
        when they change (a resize, a longer name)."""
        if wanted is not None:
            self._needs = wanted
        columns = layout(self._table_width(), self._needs)
        if columns != self._columns:
            self._columns = columns
            self._forget_all()
            self._header = None
            self.virtual_size = Size(self._table_width(), len(self._order) + 1)
            self.refresh()

    def on_resize(self) -> None:
        self._fit()

    # ------------------------------------------------------------------ the cursor

    def restore_cursor(self, name: str | None, *, announce: bool = False) -> None:
        """Put the cursor back on ``name``'s row, wherever reordering moved it."""
        if name is not None and name in self._index:
            self.move_cursor(row=self._index[name])
        elif self.cursor_row >= len(self._order):
            self.move_cursor(row=max(0, len(self._order) - 1))
        elif announce:
            self.post_message(self.Highlighted(self.highlighted_name))

    def move_cursor(self, row: int, animate: bool = False) -> None:
        row = max(0, min(row, len(self._order) - 1))
        if row != self.cursor_row:
            self.cursor_row = row
        self._scroll_to_cursor()

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh_line(old + 1)
        self.refresh_line(new + 1)
        self._scroll_to_cursor()
        self.post_message(self.Highlighted(self.highlighted_name))

    def _scroll_to_cursor(self) -> None:
        rows_visible = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + rows_visible:
            self.scroll_to(y=self.cursor_row - rows_visible + 1, animate=False)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + max(1, self.scrollable_content_region.height - 2))

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - max(1, self.scrollable_content_region.height - 2))

    def action_top(self) -> None:
        self.move_cursor(0)

    def action_bottom(self) -> None:
        self.move_cursor(len(self._order) - 1)

    def action_select(self) -> None:
        if (name := self.highlighted_name) is not None:
            self.post_message(self.Selected(name))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y < 1:
            self._header_clicked(offset.x)
            return
        row = round(self.scroll_y) + offset.y - 1
        if 0 <= row < len(self._order):
            if row == self.cursor_row and event.chain >= 2:
                self.action_select()
            self.move_cursor(row)

    def _header_clicked(self, x: int) -> None:
        left = 0
        for column, width in self._columns:
            left += width + 2 * PAD
            if x < left:
                self.post_message(self.SortBy(column.sort))
                return

    def on_focus(self) -> None:
        self.refresh_line(self.cursor_row + 1)

    def on_blur(self) -> None:
        self.refresh_line(self.cursor_row + 1)

    # ------------------------------------------------------------------ drawing

    def _forget(self, name: str) -> None:
        """``name``'s row is drawn again when next shown (one of its cells changed)."""
        self._strips.pop(name, None)
        self._drawn.pop(name, None)

    def _forget_all(self) -> None:
        self._strips.clear()
        self._drawn.clear()

    def _row_strip(self, name: str) -> Strip:
        strip = self._strips.get(name)
        if strip is None:
            assert self._look is not None
            row = self._rows[name]
            texts = [CELLS[column.key][0](row, self._look) for column, _ in self._columns]
            strip = _column_strip(texts, [w for _, w in self._columns], self._look)
            self._strips[name] = strip
        return strip

    def _style(self, *components: str) -> Style:
        """The widget's style plus these components', kept until the styles change (the
        widget's own ``rich_style`` walks every ancestor on each call)."""
        key = " ".join(components)
        style = self._styles.get(key)
        if style is None:
            style = self.rich_style
            for component in components:
                style += self.get_component_rich_style(component)
            self._styles[key] = style
        return style

    def _header_strip(self) -> Strip:
        if self._header is None:
            assert self._look is not None
            labels = []
            for column, width in self._columns:
                label = Text(column.header, end="")
                if column.sort == self.sort_mode:  # the order's column: underlined, ▼ if room
                    if label.cell_len + 2 <= width:
                        label.append(" ▼")
                    label.stylize("underline")
                labels.append(label)
            self._header = _column_strip(labels, [w for _, w in self._columns], self._look)
        return self._header

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if self._look is None or not self._columns:
            return Strip.blank(width, self._style())
        if y == 0:
            style = self._style("board--header")
            return (
                self._header_strip()
                .apply_style(style)
                .crop(0, width)
                .extend_cell_length(width, style)
            )
        index = round(self.scroll_y) + y - 1
        if index >= len(self._order):
            return Strip.blank(width, self._style())
        name = self._order[index]
        odd = bool(index % 2)
        cursor = ""
        if index == self.cursor_row:
            cursor = "board--cursor" if self.has_focus else "board--cursor-blurred"
        drawn = self._drawn.setdefault(name, {})
        line = drawn.get((odd, cursor, width))
        if line is None:
            style = self._style(*(["board--even"] if odd else []), *([cursor] if cursor else []))
            strip = self._row_strip(name)
            line = strip.apply_style(style).crop(0, width).extend_cell_length(width, style)
            drawn[(odd, cursor, width)] = line
        return line

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._rich_style_cache.clear()
        self._styles.clear()
        self._drawn.clear()
        self.refresh()
