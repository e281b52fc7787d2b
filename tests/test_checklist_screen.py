"""The checklist screen through Pilot (run a step, mark it, write a note, export, come back)
and one snapshot with fixed data (no clocks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import OptionList, Static, TextArea

from gatewatch import tui
from gatewatch import watchlist as wl
from gatewatch.board import BoardState
from gatewatch.checklist import CheckResult, Outcome, Past, Progress, ProgressStore, Redactor
from gatewatch.lab import Lab
from gatewatch.model import Endpoint, ProbeResult
from gatewatch.monitor import ProbeCompleted, State
from gatewatch.probe import Prober
from gatewatch.tui.messages import BoardChanged
from gatewatch.tui.screens.checklist import ChecklistScreen
from gatewatch.tui.theming import STATUS_DEFAULTS
from snapshot_support import SnapCompare
from test_checklist_support import FAST, FIXED, ep
from test_tui_samples import FakeEngine, gateway_502

SIZE = (120, 36)


class Host(App[None]):
    """A bare app holding the screen, with the board's styles and status colours."""

    CSS_PATH = str(Path(tui.__file__).parent / "gatewatch.tcss")

    def __init__(self, screen: ChecklistScreen) -> None:
        super().__init__()
        self.checklist = screen

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(STATUS_DEFAULTS)

    def on_mount(self) -> None:
        self.push_screen(self.checklist)


def screen_for(
    endpoint: Endpoint,
    store: ProgressStore,
    tmp_path: Path,
    *,
    result: ProbeResult | None = None,
    prober_factory: Callable[[], Prober] = lambda: Prober(environ={}),
    board: BoardState | None = None,
) -> ChecklistScreen:
    return ChecklistScreen(
        endpoint,
        result,
        lambda: Past(),
        store=store,
        reports_folder=tmp_path / "reports",
        prober_factory=prober_factory,
        settings=replace(FAST, retries=2),
        environ={},
        clock=lambda: FIXED,
        board=board,
    )


async def test_run_mark_note_export_and_come_back(lab: Lab, tmp_path: Path) -> None:
    endpoint = ep(lab.url("/ok"), name="shop")
    store = ProgressStore(tmp_path / "progress")
    screen = screen_for(endpoint, store, tmp_path)
    app = Host(screen)
    seen: list[object] = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.selected.id == "retry"

        await pilot.press("r")  # run the selected step's check, in a worker
        await app.workers.wait_for_complete()
        await pilot.pause()
        found = screen.progress.step("retry").result
        assert found is not None and found.outcome == "pass"
        assert any(isinstance(m, ChecklistScreen.CheckFinished) for m in seen)
        detail = str(screen.query_one("#checklist-detail", Static).render())
        assert "PASS" in detail and "0 of 2 probes failed" in detail

        await pilot.press("d")  # done
        assert screen.progress.step("retry").mark == "done"
        await pilot.press("j", "s")  # next step: skipped
        assert screen.progress.step(screen.steps[1].id).mark == "skipped"
        await pilot.press("k", "n")  # back to retry, write a note
        assert screen.query_one("#checklist-notes", TextArea).has_focus
        await pilot.press(*"saw [/red] 502s")
        await pilot.press("escape")  # leaves the notes, not the screen
        assert screen.query_one("#checklist-steps", OptionList).has_focus
        assert screen.progress.step("retry").note == "saw [/red] 502s"

        await pilot.press("x")  # export
        await app.workers.wait_for_complete()
        await pilot.pause()
        exported = screen.last_export
        assert exported is not None and exported.path.is_file()
        assert exported.path.parent == tmp_path / "reports"
        assert app.clipboard == exported.text == exported.path.read_text()
        assert "> saw [/red] 502s" in exported.text and "Marked **done**" in exported.text
        assert "| 1 | Retry | PASS | 0 of 2 probes failed" in exported.text

        await pilot.press("escape")  # back: the screen goes
        await app.workers.wait_for_complete()
        assert screen not in app.screen_stack

        again = screen_for(endpoint, store, tmp_path)  # re-entering the screen
        await app.push_screen(again)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert again.progress.step("retry").mark == "done"
        notes = again.query_one("#checklist-notes", TextArea)
        assert notes.text == "saw [/red] 502s"

    # Restarting the app: a new store reads the file the workers wrote.
    restored, problem = ProgressStore(tmp_path / "progress").load(endpoint, Redactor())
    assert problem is None
    assert restored.step("retry").mark == "done"
    assert restored.step("retry").note == "saw [/red] 502s"
    assert restored.step("retry").result is not None


async def test_hostile_evidence_is_shown_as_text(tmp_path: Path) -> None:
    endpoint = Endpoint(name="[b]x[/b]", url="https://x.example/\x1b]0;pwned\x07")
    store = ProgressStore(tmp_path)
    hostile = CheckResult(
        "retry", "fail", "[/] broke \x1b[31m", ("Server: [/foo] \x1b]0;t\x07",), checked_at=FIXED
    )
    store.update(endpoint, Redactor(), lambda p: p.with_result(hostile))
    screen = screen_for(endpoint, store, tmp_path)
    async with Host(screen).run_test(size=SIZE) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        detail = str(screen.query_one("#checklist-detail", Static).render())
        assert "[/] broke ␛[31m" in detail and "Server: [/foo] ␛]0;t␇" in detail
        head = str(screen.query_one("#checklist-head", Static).render())
        assert "[b]x[/b]" in head and "␛" in head


async def test_a_check_that_cannot_start_does_not_end_the_app(tmp_path: Path) -> None:
    def broken() -> Prober:
        raise RuntimeError("no prober today")

    endpoint = Endpoint(name="x", url="http://127.0.0.1:9/")
    screen = screen_for(endpoint, ProgressStore(tmp_path), tmp_path, prober_factory=broken)
    async with Host(screen).run_test(size=SIZE) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.press("r")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        found = screen.progress.step("retry").result
        assert found is not None and found.outcome == "inconclusive"
        assert "no prober today" in found.summary
        assert pilot.app.is_running


async def test_live_results_reach_the_open_checklist(tmp_path: Path) -> None:
    endpoint = Endpoint(name="checkout", url="https://checkout.example/health")
    board = BoardState(wl.Watchlist.empty(None).with_endpoint(endpoint), FakeEngine([endpoint]))
    screen = screen_for(endpoint, ProgressStore(tmp_path), tmp_path, board=board)
    async with Host(screen).run_test(size=SIZE) as pilot:
        await pilot.app.workers.wait_for_complete()
        fresh = gateway_502("checkout", endpoint.url)
        changes = board.apply([ProbeCompleted("checkout", fresh, State.DOWN)])
        screen.post_message(BoardChanged(changes))
        await pilot.pause()
        assert screen.result is fresh
        assert "upstream_refused" in str(screen.query_one("#checklist-head", Static).render())


# --------------------------------------------------------------------------- snapshot


def seeded_screen(tmp_path: Path) -> ChecklistScreen:
    """The checkout 502 from the board's samples, halfway through its checklist."""
    result = gateway_502("checkout", "https://checkout.example/health")
    endpoint = Endpoint(
        name="checkout",
        url="https://checkout.example/health",
        origin="http://10.0.0.12:8080/health",
        headers=(("Authorization", "env:CHECKOUT_TOKEN"),),
    )
    store = ProgressStore(tmp_path)

    def r(step: str, outcome: Outcome, summary: str, *evidence: str) -> CheckResult:
        return CheckResult(step, outcome, summary, evidence, checked_at=FIXED, ms=12.0)

    seeds = [
        r(
            "proxy",
            "fail",
            "502 from nginx, but origin 10.0.0.12:8080 answers 200 directly",
            "generated by nginx",
            "nginx log: “connect() failed (111: Connection refused)”",
        ),
        r("server", "pass", "the application answers directly: origin answers 200 in 9 ms"),
        r("retry", "fail", "persistent: 5 of 5 probes failed (gateway_misconfigured ×5)"),
        r("dns", "pass", "checkout.example → 10.0.0.12 (2 resolvers agree)"),
        r("tls", "warn", "the certificate of checkout.example expires in 9.0 days"),
    ]
    redactor = Redactor()
    for seed in seeds:

        def seeded(p: Progress, s: CheckResult = seed) -> Progress:
            return p.with_result(s)

        store.update(endpoint, redactor, seeded)
    store.update(endpoint, redactor, lambda p: p.with_mark("server", "done"))
    store.update(endpoint, redactor, lambda p: p.with_mark("dns", "skipped"))
    store.update(
        endpoint, redactor, lambda p: p.with_note("proxy", "nginx upstream points at :8081")
    )
    return screen_for(endpoint, store, tmp_path, result=result)


def test_snapshot(snap_compare: SnapCompare, tmp_path: Path) -> None:
    async def loaded(pilot: Pilot[Any]) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    app = Host(seeded_screen(tmp_path))
    assert snap_compare(app, terminal_size=SIZE, run_before=loaded)
