"""The troubleshooting checklist for one endpoint: steps in verdict order, checks, notes, report.

Why this shape: during an incident the engineer works down a list (retry, server, proxy,
DNS, TLS, load, software, escalate) and wants each step's check to run on a key, their own
marks and notes beside it, and at the end one report to paste. The checklist itself
(:mod:`gatewatch.checklist`) knows nothing of Textual; this screen only draws its state
and turns keys into jobs.

Threads: a check probes, so it never runs on the UI loop (its timings are evidence). Each
one runs in a thread worker owned by the app (so leaving the screen does not lose it), on a
loop of its own or on the monitor's loop when one is given; checks run one at a time, the
rest wait in a :class:`~gatewatch.checklist.queue.CheckQueue`. Progress (marks, notes,
results) goes through the app's :class:`~gatewatch.checklist.ProgressStore`, handed in, and
is written by workers, atomically. Styles live in ``gatewatch.tcss``.

Everything from a server or the watchlist is drawn as Content from ``visible`` text, never
parsed as markup.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from gatewatch.board import BoardModel
from gatewatch.checklist import (
    CheckResult,
    CheckSettings,
    Mark,
    Past,
    Progress,
    ProgressStore,
    Redactor,
    StepJob,
    order_steps,
    render_report,
    report_path,
    run_job,
    write_report,
)
from gatewatch.checklist.context import utc_now
from gatewatch.checklist.queue import CheckQueue
from gatewatch.checklist.report import OUTCOME_WORDS
from gatewatch.checklist.runner import ProberFactory, default_prober
from gatewatch.checklist.steps import Step
from gatewatch.model import Endpoint, ProbeResult, format_time
from gatewatch.text import one_line, visible
from gatewatch.tui import keys
from gatewatch.tui.looks import Look, Piece, to_content
from gatewatch.tui.messages import BoardChanged
from gatewatch.tui.widgets.fitted import FittedStatic, hanging

#: Seconds of quiet typing before a note is written to disk.
NOTE_SAVE_DELAY = 0.8

#: How each check outcome (and a step's run state) looks: symbol, word, colour role.
OUTCOME_LOOKS: Mapping[str | None, Look] = {
    "pass": Look("✔", OUTCOME_WORDS["pass"], "up"),
    "warn": Look("▲", OUTCOME_WORDS["warn"], "degraded bold"),
    "fail": Look("✖", OUTCOME_WORDS["fail"], "down bold"),
    "inconclusive": Look("?", OUTCOME_WORDS["inconclusive"], "muted"),
    "not_applicable": Look("·", OUTCOME_WORDS["not_applicable"], "muted"),
    "running": Look("◌", "RUNNING", "info bold"),
    "queued": Look("…", "QUEUED", "info"),
    None: Look(" ", "not run", "muted"),
}
MARK_LOOKS: Mapping[str | None, Piece] = {
    "done": ("☑ done", "up"),
    "skipped": ("☐ skipped", "muted"),
    None: ("", ""),
}
WORD_WIDTH = 12


@dataclass(frozen=True)
class Exported:
    """Where a report went (for the notification and for tests)."""

    path: Path
    text: str


class ChecklistScreen(Screen[None]):
    """The checklist of ``endpoint``, opened from its latest ``result``.

    ``history_provider`` returns the endpoint's past (it may block on SQLite: it is called
    in a worker). ``store`` is the app's progress store (a private one when not given);
    ``board``, when given, keeps the latest result for the next checks. ``loop``: run
    checks on this (running) loop, e.g. the monitor's, instead of
    a loop of their own. ``store``, ``reports_folder``, ``prober_factory``, ``settings``,
    ``environ`` and ``clock`` are for tests and for the app to share.
    """

    BINDINGS: ClassVar[list[BindingType]] = list(keys.CHECKLIST)

    class CheckFinished(Message):
        """A step's check finished (posted when the screen is still showing)."""

        def __init__(self, result: CheckResult) -> None:
            super().__init__()
            self.result = result

    class ReportExported(Message):
        def __init__(self, exported: Exported) -> None:
            super().__init__()
            self.exported = exported

    def __init__(
        self,
        endpoint: Endpoint,
        result: ProbeResult | None,
        history_provider: Callable[[], Past] | None = None,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        store: ProgressStore | None = None,
        reports_folder: Path | None = None,
        prober_factory: ProberFactory = default_prober,
        settings: CheckSettings | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        board: BoardModel | None = None,
    ) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.result = result
        self.history_provider = history_provider
        self.loop = loop
        self.store = store or ProgressStore()
        self.board = board
        self.reports_folder = reports_folder
        self.prober_factory = prober_factory
        self.settings = settings or CheckSettings()
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.clock = clock
        self.redactor = Redactor.for_endpoint(endpoint, self.environ)
        self.steps: tuple[Step, ...] = order_steps(result.verdict if result else None)
        self.past = Past()
        self.progress = Progress(name=endpoint.name, url=self.redactor.url(endpoint.url))
        self.jobs = CheckQueue()
        self.last_export: Exported | None = None
        self._note_step: str | None = None
        self._note_timer: Timer | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static(self._head(), id="checklist-head")
        yield OptionList(*(Option(self._row(s), id=s.id) for s in self.steps), id="checklist-steps")
        with Horizontal(id="checklist-lower"):
            with VerticalScroll(id="checklist-detail-box"):
                yield FittedStatic(id="checklist-detail")
            with Vertical(id="checklist-notes-box"):
                yield TextArea(id="checklist-notes", soft_wrap=True, show_line_numbers=False)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#checklist-steps").border_title = "Checklist"
        self.query_one("#checklist-detail-box").border_title = "Step"
        self.query_one("#checklist-notes", TextArea).border_title = "Notes"
        steps = self.query_one("#checklist-steps", OptionList)
        steps.highlighted = 0
        steps.focus()
        self.app.run_worker(self._load, thread=True, group="checklist-load")

    @property
    def selected(self) -> Step:
        index = self.query_one("#checklist-steps", OptionList).highlighted or 0
        return self.steps[index]

    # ------------------------------------------------------------------ drawing

    def _head(self) -> Content:
        url = visible(self.redactor.url(self.endpoint.url))
        first: list[Piece] = [(visible(self.endpoint.name), "bold"), ("  ", ""), (url, "dim")]
        verdict = self.result.verdict if self.result else None
        if verdict is None:
            second: list[Piece] = [("no verdict yet: the first check probes", "dim")]
        elif verdict.healthy:
            second = [("✔ ", "up"), (one_line(verdict.summary, 200), "")]
        else:
            second = [
                (f"✖ {verdict.cause} / {verdict.kind or '?'}  ", "down bold"),
                (one_line(verdict.summary, 200), ""),
            ]
        return Content("\n").join([to_content(first), to_content(second)])

    def _state(self, step_id: str) -> str | None:
        queued = self.jobs.state(step_id)
        if queued is not None:
            return queued
        found = self.progress.step(step_id).result
        return found.outcome if found else None

    def _row(self, step: Step) -> Content:
        index = self.steps.index(step) + 1
        look = OUTCOME_LOOKS[self._state(step.id)]
        mine = self.progress.step(step.id)
        summary = mine.result.summary if mine.result and step.id != self.jobs.running else ""
        mark, mark_role = MARK_LOOKS[mine.mark]
        note = " ✎" if mine.note.strip() else ""
        return to_content(
            [
                (f"{index}. {step.title:<18}", "bold"),
                (f"{look.symbol} {look.word:<{WORD_WIDTH}}", look.role),
                (f"{mark:<10}", mark_role),
                (f"{note:<3}", "$accent"),
                (one_line(summary, 160), ""),
            ]
        )

    def _detail(self, step: Step, width: int | None = None) -> Content:
        mine = self.progress.step(step.id)
        lines: list[list[Piece]] = [
            [(step.title, "bold")],
            [(step.question, "italic")],
            [("By hand: ", "dim"), (step.manual, "dim")],
            [("", "")],
        ]
        found = mine.result
        state = self._state(step.id)
        if state in ("running", "queued"):
            look = OUTCOME_LOOKS[state]
            lines.append([(f"{look.symbol} {look.word.lower()}…", look.role)])
        if found is None:
            lines.append([("not checked yet: r runs the check", "muted")])
        else:
            look = OUTCOME_LOOKS[found.outcome]
            lines.append(
                [(f"{look.symbol} {look.word}  ", look.role), (visible(found.summary), "bold")]
            )
            for line in found.evidence:
                lines += hanging(("• ", "dim"), one_line(line, 300), width)
            when = format_time(found.checked_at) if found.checked_at else "?"
            took = f" in {found.ms:.0f} ms" if found.ms is not None else ""
            lines.append([(f"checked at {when}{took}", "dim")])
        if mine.mark:
            lines.append([(f"marked {mine.mark}", MARK_LOOKS[mine.mark][1])])
        return Content("\n").join(to_content(line) for line in lines)

    def redraw(self, step_ids: list[str] | None = None) -> None:
        """Redraw the rows of ``step_ids`` (default: all) and the selected step's detail."""
        if not self.is_mounted:
            return
        steps = self.query_one("#checklist-steps", OptionList)
        for step in self.steps:
            if step_ids is None or step.id in step_ids:
                steps.replace_option_prompt(step.id, self._row(step))
        self._show_detail()

    def _show_detail(self) -> None:
        step = self.selected
        self.query_one("#checklist-detail", FittedStatic).show(
            lambda width: self._detail(step, width)
        )

    def _show_note(self) -> None:
        step = self.selected
        if step.id == self._note_step:
            return
        self._note_step = step.id
        notes = self.query_one("#checklist-notes", TextArea)
        notes.load_text(self.progress.step(step.id).note)
        notes.border_title = f"Notes: {step.title}"

    # ------------------------------------------------------------------ loading

    def _load(self) -> None:
        """Worker thread: the stored progress and the endpoint's past."""
        progress, problem = self.store.load(self.endpoint, self.redactor)
        past = Past()
        history_problem = None
        if self.history_provider is not None:
            try:
                past = self.history_provider()
            except Exception as exc:  # history must never take the checklist down
                history_problem = f"history: {exc}"
        self.app.call_from_thread(self._loaded, progress, past, problem or history_problem)

    def _loaded(self, progress: Progress, past: Past, problem: str | None) -> None:
        # A key pressed while loading already changed the store: take what is current.
        self.progress = self.store.update(self.endpoint, self.redactor, lambda p: p)
        self.past = past
        if problem:
            self.notify(visible(problem), severity="warning", markup=False)
        if self.is_mounted:
            self._note_step = None
            self._show_note()
            self.redraw()

    @on(BoardChanged)
    def _board_changed(self, message: BoardChanged) -> None:
        """The board's engine has news: keep the latest result for the next checks and the
        header. The step order stays as it was opened: rows moving under the cursor
        mid-incident would do more harm than good."""
        if self.board is None or self.endpoint.name not in message.changes.names:
            return
        row = self.board.rows.get(self.endpoint.name)
        if row is not None and row.result is not None:
            self.result = row.result
            if self.is_mounted:
                self.query_one("#checklist-head", Static).update(self._head())

    # ------------------------------------------------------------------ changes

    def _change(self, change: Callable[[Progress], Progress], *, save: bool = True) -> None:
        self.progress = self.store.update(self.endpoint, self.redactor, change)
        if save:
            self._save()

    def _save(self) -> None:
        self.app.run_worker(self._write, thread=True, group="checklist-save")

    def _write(self) -> None:
        try:
            self.store.save(self.endpoint, self.redactor, self.clock())
        except OSError as exc:
            message = f"checklist progress not saved: {exc.strerror or exc}"
            self.app.call_from_thread(
                self.app.notify, visible(message), severity="error", markup=False
            )

    @on(OptionList.OptionHighlighted, "#checklist-steps")
    def _highlighted(self) -> None:
        self._flush_note()
        self._show_note()
        self._show_detail()

    @on(OptionList.OptionSelected, "#checklist-steps")
    def _selected(self) -> None:
        self.action_run()

    @on(TextArea.Changed, "#checklist-notes")
    def _note_changed(self, event: TextArea.Changed) -> None:
        step_id, text = self._note_step or self.selected.id, event.text_area.text
        if text == self.progress.step(step_id).note:
            return  # loading a step's note into the area, not typing
        self._change(lambda p: p.with_note(step_id, text), save=False)
        self.redraw([step_id])
        if self._note_timer is not None:
            self._note_timer.stop()
        self._note_timer = self.set_timer(NOTE_SAVE_DELAY, self._flush_note)

    def _flush_note(self) -> None:
        if self._note_timer is not None:
            self._note_timer.stop()
            self._note_timer = None
            self._save()

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        notes = self.query_one("#checklist-notes", TextArea)
        if notes.has_focus:
            self.query_one("#checklist-steps", OptionList).focus()
            return
        self._flush_note()
        self.dismiss()

    def action_cursor(self, direction: str) -> None:
        steps = self.query_one("#checklist-steps", OptionList)
        if direction == "down":
            steps.action_cursor_down()
        else:
            steps.action_cursor_up()

    def action_notes(self) -> None:
        self._show_note()
        self.query_one("#checklist-notes", TextArea).focus()

    def action_mark(self, mark: Mark) -> None:
        step_id = self.selected.id
        self._change(lambda p: p.toggle_mark(step_id, mark))
        self.redraw([step_id])

    def action_run(self) -> None:
        self._enqueue([self.selected.id])

    def action_run_all(self) -> None:
        self._enqueue([s.id for s in self.steps])

    def _enqueue(self, step_ids: list[str]) -> None:
        fresh = self.jobs.enqueue(step_ids)
        self._next()
        self.redraw(fresh)

    def _next(self) -> None:
        """Start the next queued check unless one runs: one endpoint, one probe at a time."""
        step_id = self.jobs.start_next()
        if step_id is None:
            return
        job = StepJob(
            step=step_id,
            endpoint=self.endpoint,
            result=self.result,
            past=self.past,
            earlier=self.progress.results,
            settings=self.settings,
        )
        self.app.run_worker(partial(self._execute, job), thread=True, group="checklist-run")

    def _execute(self, job: StepJob) -> None:
        """Worker thread: run one check to the end, hand the frozen result back.

        A check never raises (its crash is an inconclusive result); this guards the setup
        around it (building or warming the prober), since a worker's error ends the app.
        """
        try:
            result = run_job(job, loop=self.loop, prober_factory=self.prober_factory)
        except Exception as exc:
            result = CheckResult(
                job.step,
                "inconclusive",
                f"the check could not start: {type(exc).__name__}: {exc}",
                checked_at=self.clock(),
            )
        self.app.call_from_thread(self._finished, result)

    def _finished(self, result: CheckResult) -> None:
        self.jobs.finished(result.step)
        self._change(lambda p: p.with_result(result))
        self.redraw([result.step])
        if self.is_mounted:
            self.post_message(self.CheckFinished(result))
        self._next()

    def action_export(self) -> None:
        self._flush_note()
        self.app.run_worker(
            partial(self._export, self.progress, self.past, self.clock()),
            thread=True,
            group="checklist-export",
        )

    def _export(self, progress: Progress, past: Past, now: datetime) -> None:
        """Worker thread: render, redact and write the report; the UI copies and tells."""
        text = render_report(
            self.endpoint,
            result=self.result,
            past=past,
            steps=self.steps,
            results=progress.results,
            progress=progress,
            redactor=self.redactor,
            generated_at=now,
        )
        path = report_path(self.endpoint.name, now, self.reports_folder)
        try:
            write_report(text, path)
        except OSError as exc:
            message = f"report not written to {path}: {exc.strerror or exc}"
            self.app.call_from_thread(
                self.app.notify, visible(message), severity="error", markup=False
            )
            return
        self.app.call_from_thread(self._exported, Exported(path, text))

    def _exported(self, exported: Exported) -> None:
        self.last_export = exported
        # Textual writes OSC 52 itself (the same sequence checklist.export.osc52 builds).
        self.app.copy_to_clipboard(exported.text)
        self.app.notify(
            f"Incident report written to {visible(str(exported.path))} and copied to the clipboard",
            title="Report exported",
            markup=False,
        )
        if self.is_mounted:
            self.post_message(self.ReportExported(exported))
