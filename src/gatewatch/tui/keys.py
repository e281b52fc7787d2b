"""Every key binding as data: the footers, the help screen and the command palette read it.

Why one table: a key that the footer shows, the help screen explains and the palette
offers must be the same key doing the same thing; three hand-written lists drift. The
keys follow k9s, which on-call engineers already know: ``/`` filter, ``esc`` back,
``?`` help, ``enter``/``d`` describe, ``ctrl+d`` delete, shift+letter to sort, ``j``/``k``.
Each binding has an id, so a user keymap could rebind it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Command:
    """A board action as the command palette offers it."""

    title: str
    help: str
    action: str


BOARD: tuple[Binding, ...] = (
    Binding(
        "d",
        "detail",
        "Detail",
        tooltip="Waterfall, hop facts and verdict of the selected endpoint (or enter)",
        id="board.detail",
    ),
    Binding(
        "c",
        "checklist",
        "Checklist",
        tooltip="The troubleshooting checklist for the selected endpoint: steps with real checks",
        id="board.checklist",
    ),
    Binding(
        "slash",
        "filter",
        "Filter",
        tooltip="Filter by text, #tag / tag:NAME, state:down",
        id="board.filter",
    ),
    Binding(
        "s",
        "cycle_sort",
        "Sort",
        tooltip="Cycle the order through every column (or click a column's header)",
        id="board.sort",
    ),
    Binding(
        "p",
        "pause",
        "Pause",
        tooltip="Pause or resume probing the selected endpoint",
        id="board.pause",
    ),
    Binding(
        "P",
        "pause_all",
        "Pause all",
        show=False,
        tooltip="Pause every endpoint, or resume them all",
        key_display="P",
        id="board.pause_all",
    ),
    Binding(
        "r",
        "probe_now",
        "Probe",
        tooltip="Probe the selected endpoint at once",
        id="board.probe_now",
    ),
    Binding(
        "A",
        "acknowledge",
        "Ack",
        tooltip="Acknowledge the selected failing endpoint, with a reason: its alerts stop, "
        "its checks go on, until it is UP again",
        key_display="A",
        id="board.acknowledge",
    ),
    Binding(
        "a", "add", "Add", show=False, tooltip="Add an endpoint to the watchlist", id="board.add"
    ),
    Binding("e", "edit", "Edit", show=False, tooltip="Edit the selected endpoint", id="board.edit"),
    Binding(
        "ctrl+d,delete",
        "delete",
        "Delete",
        show=False,
        tooltip="Remove the selected endpoint (asks first)",
        key_display="^d",
        id="board.delete",
    ),
    Binding(
        "ctrl+s",
        "save",
        "Save",
        show=False,
        key_display="^s",
        tooltip="Save the watchlist (atomic; the old file is kept as .bak)",
        id="board.save",
    ),
    Binding(
        "t",
        "replay",
        "Replay",
        show=False,
        tooltip="Show the board as it was at a past time (03:12, -15m)",
        id="board.replay",
    ),
    Binding(
        "escape",
        "back",
        "Back",
        show=False,
        tooltip="Clear the filter, or leave replay",
        id="board.back",
    ),
    Binding("N", "sort('name')", "Sort by name", show=False, id="board.sort_name"),
    Binding("L", "sort('latency')", "Sort by latency", show=False, id="board.sort_latency"),
    Binding("S", "sort('state')", "Sort by state", show=False, id="board.sort_state"),
    Binding("j", "cursor('down')", "Down", show=False, id="board.down"),
    Binding("k", "cursor('up')", "Up", show=False, id="board.up"),
    Binding("g", "cursor('top')", "Top", show=False, id="board.top"),
    Binding("G", "cursor('bottom')", "Bottom", show=False, id="board.bottom"),
)

DETAIL: tuple[Binding, ...] = (
    Binding("escape,q", "back", "Back", tooltip="Back to the board", id="detail.back"),
    Binding(
        "r", "probe_now", "Probe", tooltip="Probe this endpoint at once", id="detail.probe_now"
    ),
    Binding(
        "p", "pause", "Pause", tooltip="Pause or resume probing this endpoint", id="detail.pause"
    ),
    Binding("e", "edit", "Edit", tooltip="Edit this endpoint", id="detail.edit"),
    Binding(
        "A",
        "acknowledge",
        "Ack",
        tooltip="Acknowledge this endpoint, with a reason (alerts stop until it is UP again)",
        key_display="A",
        id="detail.acknowledge",
    ),
    Binding(
        "c",
        "checklist",
        "Checklist",
        tooltip="The troubleshooting checklist for this endpoint",
        id="detail.checklist",
    ),
    Binding(
        "right_square_bracket",
        "step(1)",
        "Next",
        tooltip="The next endpoint, in the board's order",
        key_display="]",
        id="detail.next",
    ),
    Binding(
        "left_square_bracket",
        "step(-1)",
        "Prev",
        tooltip="The previous endpoint, in the board's order",
        key_display="[",
        id="detail.previous",
    ),
    Binding("j", "scroll('down')", "Down", show=False, id="detail.down"),
    Binding("k", "scroll('up')", "Up", show=False, id="detail.up"),
)

APP: tuple[Binding, ...] = (
    Binding(
        "question_mark",
        "help",
        "Help",
        tooltip="Keys, symbols and states",
        key_display="?",
        id="app.help",
    ),
    Binding(
        "q", "quit", "Quit", tooltip="Quit (asks when there are unsaved changes)", id="app.quit"
    ),
)

#: What the command palette offers on the board (every board action, by name).
COMMANDS: tuple[Command, ...] = (
    Command(
        "Show endpoint detail",
        "Waterfall, hop facts and verdict of the selected endpoint",
        "detail",
    ),
    Command(
        "Troubleshooting checklist",
        "Work through the steps for the selected endpoint, each with a real check",
        "checklist",
    ),
    Command("Filter endpoints", "Filter by text, #tag or state:down", "filter"),
    Command("Clear filter", "Show every endpoint again", "clear_filter"),
    Command(
        "Sort: failing first", "Down, flapping and degraded endpoints at the top", "sort('state')"
    ),
    Command("Sort: by name", "Alphabetical", "sort('name')"),
    Command("Sort: slowest first", "By the last probe's total time", "sort('latency')"),
    Command("Pause or resume endpoint", "Stop or restart probing the selected endpoint", "pause"),
    Command("Pause all endpoints", "Stop probing everything", "pause_all_now"),
    Command("Resume all endpoints", "Start probing everything again", "resume_all_now"),
    Command("Probe now", "Probe the selected endpoint at once", "probe_now"),
    Command(
        "Acknowledge endpoint",
        "Hold the selected endpoint's alerts, with a reason, until it is UP again",
        "acknowledge",
    ),
    Command("Add endpoint", "Add an endpoint to the watchlist", "add"),
    Command("Edit endpoint", "Edit the selected endpoint", "edit"),
    Command("Delete endpoint", "Remove the selected endpoint from the watchlist", "delete"),
    Command("Save watchlist", "Write the watchlist to disk (keeps a .bak)", "save"),
    Command("Replay a past moment", "Show every endpoint as it was at a time you type", "replay"),
    Command("Back to live", "Leave replay", "live"),
    Command("Help", "Keys, symbols and states", "app.help"),
)

#: The troubleshooting checklist (tui/screens/checklist.py).
CHECKLIST: tuple[Binding, ...] = (
    Binding(
        "escape,q",
        "back",
        "Back",
        tooltip="Back to where you came from (from the notes: back to the steps)",
        id="checklist.back",
    ),
    Binding("r", "run", "Run check", tooltip="Run the selected step's check", id="checklist.run"),
    Binding(
        "R",
        "run_all",
        "Run all",
        tooltip="Run every step's check, in this order",
        key_display="R",
        id="checklist.run_all",
    ),
    Binding(
        "d",
        "mark('done')",
        "Done",
        tooltip="Mark the selected step done (again: clear the mark)",
        id="checklist.done",
    ),
    Binding(
        "s",
        "mark('skipped')",
        "Skip",
        tooltip="Mark the selected step skipped (again: clear the mark)",
        id="checklist.skip",
    ),
    Binding(
        "n",
        "notes",
        "Notes",
        tooltip="Write notes for the selected step (esc: back to the steps)",
        id="checklist.notes",
    ),
    Binding(
        "x",
        "export",
        "Export",
        tooltip="Write the incident report to a file and copy it to the clipboard",
        id="checklist.export",
    ),
    Binding("j", "cursor('down')", "Down", show=False, id="checklist.down"),
    Binding("k", "cursor('up')", "Up", show=False, id="checklist.up"),
)


#: Symbols on the board, for the help screen.
LEGEND: tuple[tuple[str, str], ...] = (
    ("✔", "ok / UP"),
    ("▲", "warning / DEGRADED (works, but slow, rate-limited or a certificate expiring)"),
    ("✖", "failed / DOWN"),
    ("↯", "FLAPPING: changed state too often in the flap window"),
    ("‖", "PAUSED: not probed until resumed"),
    ("◷", "MAINT: in a maintenance window (probed, not alerted)"),
    ("…", "PENDING: too few probes to decide a state (its last verdict is shown)"),
    ("✓ ACK", "acknowledged: who, when, why; alerts held until UP again"),
    ("✖ in Recent", "a failed probe (bars are good probes' times)"),
    ("·", "hop skipped (did not run, or nothing to do: no TLS, no proxy)"),
)
