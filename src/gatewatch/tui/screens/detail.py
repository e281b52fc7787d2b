"""One endpoint in depth: verdict, hop strip, waterfall, each hop's facts, the response,
gateway against origin, the last probes per hop, and the recent state changes.

Why a full screen, not a panel: during an incident this is where the engineer reads the
evidence, so it gets the whole terminal; ``esc`` goes back to the board with the cursor
where it was. Live: it is handed the board's state when built, hears :class:`BoardChanged`
like every screen, and redraws when its endpoint changed. History (state changes, earlier
probes for the chart) is read in a thread worker, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from gatewatch.board import BoardModel
from gatewatch.board.rows import SAMPLES, Row, Sample
from gatewatch.monitor import TransitionEvent
from gatewatch.tui import keys
from gatewatch.tui.looks import hop_strip_wide, to_content
from gatewatch.tui.messages import BoardChanged, Commanded, OpenChecklist
from gatewatch.tui.screens import detail_parts as parts
from gatewatch.tui.screens import detail_remote
from gatewatch.tui.screens.board_edits import acknowledge_endpoint, edit_endpoint
from gatewatch.tui.widgets.fitted import FittedStatic
from gatewatch.tui.widgets.hop_chart import HopChart
from gatewatch.tui.widgets.waterfall import Waterfall

EVENT_WINDOW = timedelta(days=7)


class DetailScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = list(keys.DETAIL)

    def __init__(
        self,
        state: BoardModel,
        row: Row,
        *,
        replay_at: datetime | None = None,
        neighbour: Callable[[str, int], Row | None] | None = None,
    ) -> None:
        super().__init__()
        self.state = state
        self.row = row
        #: The row ``step`` places away in the board's order (``]`` and ``[``).
        self.neighbour = neighbour
        self.replay_at = replay_at
        self.events: list[TransitionEvent] = []
        self._history_samples: tuple[Sample, ...] = ()

    @property
    def name_shown(self) -> str:
        return self.row.name

    def compose(self) -> ComposeResult:
        yield Static(id="detail-head")
        with VerticalScroll(id="detail-body"):
            yield FittedStatic(id="detail-verdict", classes="section")
            yield Static(id="detail-vantages", classes="section")
            yield Static(id="detail-strip", classes="section")
            yield Waterfall(id="detail-waterfall", classes="section")
            yield Static(id="detail-facts", classes="section")
            yield Static(id="detail-addresses", classes="section")
            with Horizontal(id="detail-compare", classes="section"):
                yield Static(id="detail-gateway", classes="side")
                yield Static(id="detail-origin", classes="side")
            yield Static(id="detail-response", classes="section")
            yield HopChart(id="detail-chart", classes="section")
            yield Static(id="detail-changes", classes="section")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        titles = {
            "detail-verdict": "Verdict",
            "detail-vantages": "Vantage points",
            "detail-strip": "Hops",
            "detail-waterfall": "Waterfall",
            "detail-facts": "Hop by hop",
            "detail-addresses": "Every address",
            "detail-compare": "Gateway vs origin",
            "detail-response": "Response",
            "detail-chart": "Last probes per hop",
            "detail-changes": "Recent state changes",
        }
        for ident, title in titles.items():
            self.query_one(f"#{ident}").border_title = title
        self.show()
        self.load_history()

    # ------------------------------------------------------------------ drawing

    def show(self) -> None:
        row = self.row
        result = row.result
        now = None if self.replay_at is not None else self.state.now()
        head = detail_remote.header(row) if row.remote_only else parts.header(
            row, now, self.replay_at
        )
        self.query_one("#detail-head", Static).update(head)
        if row.remote_only:
            remote_only = Content.styled(
                "not in the watchlist: only a remote source knows this endpoint, "
                "so nothing is probed from here (see Vantage points)",
                "dim",
            )
            self.query_one("#detail-verdict", FittedStatic).show(lambda width: remote_only)
        else:
            self.query_one("#detail-verdict", FittedStatic).show(
                lambda width: parts.verdict(result, width)
            )
        vantages = detail_remote.vantages(row.remote)
        section = self.query_one("#detail-vantages", Static)
        section.display = vantages is not None
        section.update(vantages or Content(""))
        strip = to_content(hop_strip_wide(result)) if result else Content("no probe yet")
        self.query_one("#detail-strip", Static).update(strip)
        self.query_one("#detail-waterfall", Waterfall).show(result)
        self.query_one("#detail-facts", Static).update(parts.facts(result))
        addresses = parts.addresses(result)
        box = self.query_one("#detail-addresses", Static)
        box.display = addresses is not None
        box.update(addresses or Content(""))
        sides = parts.sides(result)
        compare = self.query_one("#detail-compare")
        compare.display = sides is not None
        if sides is not None:
            self.query_one("#detail-gateway", Static).update(sides[0])
            self.query_one("#detail-origin", Static).update(sides[1])
        response = result.response if result is not None else None
        self.query_one("#detail-response", Static).update(parts.response(response))
        self.query_one("#detail-chart", HopChart).show(self.samples())
        self.query_one("#detail-changes", Static).update(parts.changes(self.events))

    def samples(self) -> tuple[Sample, ...]:
        """Live samples, topped up with older ones from the history."""
        live = self.row.samples
        if len(live) >= SAMPLES or not self._history_samples:
            return live
        return (*self._history_samples, *live)[-SAMPLES:]

    @on(BoardChanged)
    def _board_changed(self, message: BoardChanged) -> None:
        """The board's state changed; redraw if it concerns this endpoint."""
        changes = message.changes
        if self.replay_at is not None or self.row.name not in changes.names:
            return
        row = self.state.rows.get(self.row.name)
        if row is not None:
            self.row = row
            self.show()
            if self.row.name in changes.states:
                self.load_history()

    # ------------------------------------------------------------------ history

    @work(thread=True, exclusive=True, group="detail-history")
    def load_history(self) -> None:
        history = self.state.history
        if history is None or self.row.remote_only:  # never probed here: no local history
            return
        until = self.replay_at or self.state.now()
        try:
            events = history.events(until - EVENT_WINDOW, until, endpoint=self.row.name)
            records = [] if self.row.samples else history.last_results(self.row.name, SAMPLES)
        except Exception as exc:  # the history must never take the screen down
            self.app.call_from_thread(self._history_failed, str(exc))
            return
        samples = tuple(Sample.of(r.to_result()) for r in records if r.at <= until)
        self.app.call_from_thread(self._history_loaded, events, samples)

    def _history_loaded(self, events: list[TransitionEvent], samples: tuple[Sample, ...]) -> None:
        self.events = events
        self._history_samples = samples
        if self.is_mounted:
            self.show()

    def _history_failed(self, reason: str) -> None:
        self.notify(f"history: {reason}", severity="warning", markup=False)

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.dismiss()

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#detail-body", VerticalScroll)
        if direction == "down":
            body.scroll_down(animate=False)
        else:
            body.scroll_up(animate=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "checklist") and self.replay_at is not None:
            return None
        if action == "step" and self.neighbour is None:
            return None
        return True

    def action_step(self, step: int) -> None:
        """Show the next (1) or previous (-1) endpoint without going back to the board."""
        if self.neighbour is None:
            return
        row = self.neighbour(self.row.name, step)
        if row is None or row.name == self.row.name:
            return
        self.row = row
        self.events = []
        self._history_samples = ()
        self.show()
        self.query_one("#detail-body", VerticalScroll).scroll_home(animate=False)
        self.load_history()

    def _in_replay(self, what: str) -> bool:
        if self.replay_at is None:
            return False
        self.notify(f"replay shows the past: nothing to {what} (esc back, esc to live)",
                    severity="warning")
        return True

    def action_checklist(self) -> None:
        self.post_message(OpenChecklist(self.row.name))

    def action_acknowledge(self) -> None:
        if not self._in_replay("acknowledge"):
            acknowledge_endpoint(self, self.state, self.row.name)

    def action_probe_now(self) -> None:
        if not self._in_replay("probe"):
            self.post_message(Commanded(self.state.probe_now(self.row.name)))

    def action_pause(self) -> None:
        if not self._in_replay("pause"):
            self.post_message(Commanded(self.state.toggle_pause(self.row.name)))

    def action_edit(self) -> None:
        def edited(name: str | None) -> None:
            if name is None:
                return
            row = self.state.rows.get(name)
            if row is None:
                self.dismiss()
                return
            self.row = row
            self.show()

        edit_endpoint(self, self.state, self.row.name, then=edited)
