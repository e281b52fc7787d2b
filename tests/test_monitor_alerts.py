"""Alerts: the policy, the sinks against real local receivers, and the engine's use of them."""

from __future__ import annotations

import dataclasses
import json
import socket
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gatewatch.model import Endpoint, Verdict
from gatewatch.monitor import (
    AlertFailed,
    LocalProblem,
    Monitor,
    ProbeCompleted,
    State,
    StateChanged,
)
from gatewatch.monitor.alerts import (
    Alert,
    AlertConfig,
    AlertPolicy,
    local_alert,
    sink_label,
    transition_alert,
)
from gatewatch.monitor.events import Message
from gatewatch.monitor.runners import ProbeFn
from gatewatch.monitor.sinks import CommandSink, SinkError, WebhookSink
from gatewatch.monitor.state import TransitionEvent
from test_monitor_support import T0, FakeProbe, drain, endpoint, identity, wait_for

VERDICT = Verdict(
    "backend",
    "upstream_refused",
    "upstream",
    "nginx",
    0.8,
    "nginx: upstream refused <!channel> & co",
)


def ev(frm: State, to: State, name: str = "shop", at: datetime = T0) -> TransitionEvent:
    return TransitionEvent(at, name, frm, to, VERDICT, f"{frm} → {to}")


# ---------------------------------------------------------------- policy


def test_policy_alerts_into_and_out_of_problem_states() -> None:
    p = AlertPolicy()
    assert not p.should_alert(ev(State.PENDING, State.UP))
    assert p.should_alert(ev(State.UP, State.DEGRADED))
    assert p.should_alert(ev(State.DEGRADED, State.DOWN))
    assert p.should_alert(ev(State.DOWN, State.FLAPPING))
    assert p.should_alert(ev(State.FLAPPING, State.UP))
    assert not p.should_alert(ev(State.UP, State.PAUSED))
    assert not p.should_alert(ev(State.PAUSED, State.PENDING))


def test_policy_quiet_states_and_maintenance() -> None:
    p = AlertPolicy()
    assert p.should_alert(ev(State.UP, State.DOWN))
    assert not p.should_alert(ev(State.DOWN, State.MAINTENANCE))
    assert not p.should_alert(ev(State.MAINTENANCE, State.DOWN))  # told already: still down
    assert p.should_alert(ev(State.DOWN, State.UP))
    assert not p.should_alert(ev(State.UP, State.MAINTENANCE))
    assert p.should_alert(ev(State.MAINTENANCE, State.DOWN))  # the window closed on a failure


def test_policy_local_problem_holds_back_then_reconciles() -> None:
    p = AlertPolicy()
    p.local = True
    assert not p.should_alert(ev(State.UP, State.DOWN, "a"))
    assert not p.should_alert(ev(State.UP, State.DOWN, "b"))
    assert not p.should_alert(ev(State.DOWN, State.UP, "b"))  # no orphan "recovered"
    p.local = False
    due = p.reconcile({"a": State.DOWN, "b": State.UP, "c": State.PAUSED})
    assert due == [("a", State.UP)]
    assert p.reconcile({"a": State.DOWN}) == []
    assert p.should_alert(ev(State.DOWN, State.UP, "a"))


# ---------------------------------------------------------------- messages


def test_alert_json_env_and_escaping() -> None:
    alert = transition_alert(ev(State.UP, State.DOWN), "https://user:pw@shop.test/health")
    body = alert.to_json()
    assert "&lt;!channel&gt; &amp; co" in body["text"]  # Slack cannot be made to ping
    assert body["url"] == "https://REDACTED@shop.test/health"
    assert body["state"] == "down" and body["verdict"]["kind"] == "upstream_refused"
    env = alert.environment()
    assert env["GATEWATCH_ENDPOINT"] == "shop" and env["GATEWATCH_STATE"] == "down"
    assert env["GATEWATCH_SUMMARY"] == VERDICT.summary
    local = local_alert(LocalProblem(True, "4 of 4 endpoints cannot be reached"), T0)
    assert local.to_json()["probably_local"] and "probably local" in local.text


def test_server_text_in_alerts_is_spelled_out() -> None:
    """A summary quoting a server (U+202E, U+009B, ESC) reaches Slack, the command's stdin
    and its environment spelled out: a terminal or chat client never acts on it."""
    hostile = "moc.\u202eknab \x9b31m \x1b[2J"
    event = ev(State.UP, State.DOWN)
    event = dataclasses.replace(
        event, verdict=dataclasses.replace(VERDICT, summary=hostile), reason=hostile
    )
    alert = transition_alert(event, "http://shop.test/")
    shown = [*alert.to_json().values(), *alert.environment().values()]
    texts = [v for v in shown if isinstance(v, str)]
    assert all(c not in t for t in texts for c in ("\u202e", "\x9b", "\x1b"))
    assert any("\\u202e" in t for t in texts)


def test_url_redaction() -> None:
    assert (
        sink_label("https://hooks.slack.com/services/T0/B0/SECRET") == "https://hooks.slack.com/…"
    )
    assert sink_label("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/"
    alert = transition_alert(ev(State.UP, State.DOWN), "http://a:pw@h:1/p?token=tok123&page=2")
    assert alert.url == "http://REDACTED@h:1/p?token=REDACTED&page=2"


def test_alert_config() -> None:
    config = AlertConfig.from_mapping(
        {
            "command": "notify",
            "webhook": "http://x/",
            "webhook_headers": {"A": "env:T"},
            "webhook_timeout": "2s",
            "webhook_retries": 3,
        }
    )
    assert config.webhook_timeout == 2 and config.webhook_retries == 3
    assert config.webhook_headers == (("A", "env:T"),)
    assert AlertConfig.from_mapping(None) == AlertConfig()
    for bad in (
        {"command": ""},
        {"webhook_retries": -1},
        {"webhook_headers": {"A": 1}},
        {"webhook_timeout": "soon"},
    ):
        with pytest.raises(ValueError, match="alerts"):
            AlertConfig.from_mapping(bad)


# ---------------------------------------------------------------- a real receiver


class Receiver:
    """A tiny webhook receiver on 127.0.0.1: answers ``statuses`` in turn (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self.arrived = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(size) or b"{}")
                with outer.arrived:
                    outer.requests.append((self.path, dict(self.headers), body))
                    outer.arrived.notify_all()
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0/SECRET"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> None:
        """Until ``count`` requests have arrived (``timeout`` only bounds a broken test)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{len(self.requests)} of {count} requests in {timeout}s")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


ALERT = transition_alert(ev(State.UP, State.DOWN), "http://shop.test/")


async def test_webhook_delivers_json_with_text_and_secret_headers(receiver: Receiver) -> None:
    sink = WebhookSink(
        receiver.url,
        headers=[("Authorization", "env:HOOK_TOKEN")],
        environ={"HOOK_TOKEN": "Bearer s3cret"},
    )
    await sink.send(ALERT)
    await sink.aclose()
    ((path, headers, body),) = receiver.requests
    assert path == "/services/T0/SECRET"
    assert headers["Authorization"] == "Bearer s3cret"
    assert body["text"].startswith("gatewatch: shop is DOWN") and body["endpoint"] == "shop"


async def test_webhook_500_is_retried_then_reported_without_secrets(receiver: Receiver) -> None:
    receiver.statuses = [500, 502, 503]
    sink = WebhookSink(
        receiver.url,
        retries=2,
        backoff=0.01,
        headers=[("X-Token", "env:HOOK_TOKEN")],
        environ={"HOOK_TOKEN": "s3cret"},
    )
    with pytest.raises(SinkError) as failure:
        await sink.send(ALERT)
    await sink.aclose()
    assert len(receiver.requests) == 3 and sink.attempts == 3
    reason = str(failure.value)
    assert "after 3 attempt(s): HTTP 503" in reason
    assert "SECRET" not in reason and "s3cret" not in reason


async def test_webhook_recovers_on_retry(receiver: Receiver) -> None:
    receiver.statuses = [500]
    sink = WebhookSink(receiver.url, retries=2, backoff=0.01)
    await sink.send(ALERT)
    await sink.aclose()
    assert len(receiver.requests) == 2


async def test_webhook_client_error_is_not_retried(receiver: Receiver) -> None:
    receiver.statuses = [404]
    sink = WebhookSink(receiver.url, retries=3, backoff=0.01)
    with pytest.raises(SinkError, match="after 1 attempt"):
        await sink.send(ALERT)
    await sink.aclose()


async def test_webhook_refused() -> None:
    url = f"http://127.0.0.1:{refused_port()}/hooks/SECRET"
    sink = WebhookSink(url, retries=2, backoff=0.01, timeout=1)
    with pytest.raises(SinkError) as failure:
        await sink.send(ALERT)
    await sink.aclose()
    assert sink.attempts == 3
    assert "ConnectError" in str(failure.value) and "SECRET" not in str(failure.value)


async def test_webhook_missing_secret() -> None:
    sink = WebhookSink("env:HOOK_URL", environ={})
    with pytest.raises(SinkError, match="HOOK_URL"):
        await sink.send(ALERT)


async def test_command_gets_json_on_stdin_and_env(tmp_path: Path) -> None:
    out = tmp_path / "alert.json"
    script = (
        "import json, os, sys; d = json.load(sys.stdin); "
        f"d['env'] = {{k: v for k, v in os.environ.items() if k.startswith('GATEWATCH_')}}; "
        f"open({str(out)!r}, 'w').write(json.dumps(d))"
    )
    sink = CommandSink(f"{sys.executable} -c {json.dumps(script)}")
    await sink.send(ALERT)
    data = json.loads(out.read_text())
    assert data["state"] == "down" and data["text"].startswith("gatewatch:")
    assert data["env"]["GATEWATCH_ENDPOINT"] == "shop"
    assert data["env"]["GATEWATCH_STATE"] == "down"
    assert data["env"]["GATEWATCH_SUMMARY"] == VERDICT.summary


async def test_command_failures() -> None:
    failing = CommandSink(
        f"{sys.executable} -c \"import sys; sys.stderr.write('boom\\x1b[31m\\n'); sys.exit(3)\""
    )
    with pytest.raises(SinkError, match="exited with status 3: boom") as failure:
        await failing.send(ALERT)
    assert "\x1b" not in str(failure.value)
    missing = CommandSink("/nonexistent/gatewatch-notify --token abc")
    with pytest.raises(SinkError, match="cannot run '/nonexistent/gatewatch-notify'") as failure:
        await missing.send(ALERT)
    assert "abc" not in str(failure.value)
    slow = CommandSink(f'{sys.executable} -c "import time; time.sleep(30)"', timeout=0.3)
    with pytest.raises(SinkError, match="did not finish"):
        await slow.send(ALERT)


# ---------------------------------------------------------------- through the engine


def make(endpoints: list[Endpoint], probe: ProbeFn, **kw: Any) -> Monitor:
    return Monitor(
        endpoints, probe=probe, annotate=identity, history=":memory:", resolver_check=None, **kw
    )


def test_engine_alerts_a_webhook_and_reports_a_failing_command(receiver: Receiver) -> None:
    probe = FakeProbe(failing={"bad"})
    alerts = {"webhook": receiver.url, "command": "/nonexistent/notify", "webhook_backoff": 0.01}
    monitor = make([endpoint("bad", interval=0.05)], probe, alerts=alerts)
    inbox = monitor.events()
    with monitor:
        failed = wait_for(inbox, lambda m: isinstance(m, AlertFailed), timeout=10)
        receiver.wait_for_requests(1)
    assert isinstance(failed, AlertFailed)
    assert failed.sink == "command" and "cannot run" in failed.reason
    (_, _, body), *more = receiver.requests
    assert body["endpoint"] == "bad" and body["state"] == "down" and not more


def test_engine_says_probably_local_once_instead_of_paging_each(receiver: Receiver) -> None:
    names = [f"e{i}" for i in range(4)]
    probe = FakeProbe(failing=set(names))  # all fail at tcp: refused
    monitor = make(
        [endpoint(n, interval=0.05) for n in names], probe, alerts={"webhook": receiver.url}
    )
    inbox = monitor.events()
    with monitor:
        problem = wait_for(inbox, lambda m: isinstance(m, LocalProblem), timeout=10)
        wait_for(
            inbox,
            lambda m: (
                isinstance(m, StateChanged)
                and m.event.to_state == State.DOWN
                and m.event.endpoint == "e3"
            ),
            timeout=10,
        )
        receiver.wait_for_requests(1)
        local_alerts = [b for _, _, b in receiver.requests if b["type"] == "local"]
        assert len(receiver.requests) == 1 and len(local_alerts) == 1
        assert local_alerts[0]["probably_local"]
        # The network comes back for three of them; the fourth is really down.
        probe.failing.difference_update({"e0", "e1", "e2"})
        cleared = wait_for(inbox, lambda m: isinstance(m, LocalProblem), timeout=10)
        receiver.wait_for_requests(3)
    assert isinstance(problem, LocalProblem) and isinstance(cleared, LocalProblem)
    assert problem.active and "endpoints cannot be reached at once" in problem.reason
    assert not cleared.active
    bodies = [b for _, _, b in receiver.requests]
    assert [b["type"] for b in bodies] == ["local", "local", "transition"]
    assert bodies[2]["endpoint"] == "e3" and bodies[2]["state"] == "down"


def test_engine_keeps_quiet_in_maintenance(receiver: Receiver) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    start, end = now - timedelta(minutes=1), now + timedelta(hours=1)
    window = f"{start:%Y-%m-%dT%H:%MZ}/{end:%Y-%m-%dT%H:%MZ}"
    probe = FakeProbe(failing={"m"})
    seen: list[Message] = []
    monitor = make(
        [endpoint("m", interval=0.05, maintenance=[window])],
        probe,
        alerts={"webhook": receiver.url},
    )
    inbox = monitor.events()
    with monitor:
        # Three failures in maintenance (each would page outside it), then stop: stopping
        # drains the alert queue, so an alert wrongly sent would reach the receiver.
        for _ in range(3):
            wait_for(inbox, lambda m: isinstance(m, ProbeCompleted), timeout=10, seen=seen)
        assert monitor.snapshot()["m"].state == State.MAINTENANCE
        assert monitor.snapshot()["m"].consecutive_failures >= 3
    seen += drain(inbox)
    transitions = [m.event.to_state for m in seen if isinstance(m, StateChanged)]
    assert transitions == [State.MAINTENANCE]
    assert receiver.requests == []


async def test_dispatcher_bounds_concurrent_sends_and_reports_failures() -> None:
    import asyncio

    from gatewatch.monitor.sinks import AlertDispatcher

    class SlowSink:
        running = peak = 0

        def __init__(self, name: str, fail: str | None = None) -> None:
            self.name = name
            self.fail = fail

        async def send(self, alert: Alert) -> None:
            SlowSink.running += 1
            SlowSink.peak = max(SlowSink.peak, SlowSink.running)
            await asyncio.sleep(0.02)
            SlowSink.running -= 1
            if self.fail == "refuse":
                raise SinkError("receiver said no")
            if self.fail == "bug":
                raise RuntimeError("bug")

        async def aclose(self) -> None:
            pass

    failures: list[tuple[str, str, int]] = []
    sinks = [SlowSink(f"s{i}") for i in range(4)] + [
        SlowSink("no", "refuse"),
        SlowSink("bug", "bug"),
    ]
    dispatcher = AlertDispatcher(sinks, lambda *f: failures.append(f), max_concurrent=3)
    dispatcher.send(transition_alert(ev(State.UP, State.DOWN, "e0"), None))
    await dispatcher.drain(grace=2)
    assert SlowSink.peak == 3  # six sinks, three sends at once
    assert failures == [("no", "receiver said no", 1), ("bug", "internal error (RuntimeError)", 1)]
