"""Alerts under a webhook that never answers: delivered, digested, failed, dropped, and how
many of the undelivered ones were reported.

    PYTHONPATH=src python3 bench/alerts_hung_sink.py
    PYTHONPATH=/work/main/src python3 bench/alerts_hung_sink.py   # before

A loopback TCP server accepts and never answers. The real dispatcher and WebhookSink
(timeout 2 s, 1 retry) get 20 alerts a second for 10 s (200 alerts), then the engine's
stop: drain with 3 s of grace. A second run uses a webhook that answers after 0.3 s
(slow, not dead). Prints one JSON object per run.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from gatewatch.monitor.alerts import transition_alert
from gatewatch.monitor.sinks import AlertDispatcher, WebhookSink
from gatewatch.monitor.state import State, TransitionEvent

RATE, SECONDS, GRACE = 20, 10, 3.0


def server(answer_after: float | None) -> int:
    """A webhook on 127.0.0.1: never answers (None), or answers 200 after a pause."""
    listener = socket.create_server(("127.0.0.1", 0))

    def handle(conn: socket.socket) -> None:
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                if answer_after is not None and b"\r\n\r\n" in data:
                    time.sleep(answer_after)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    def accept() -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return int(listener.getsockname()[1])


async def run(answer_after: float | None) -> dict[str, Any]:
    port = server(answer_after)
    sink = WebhookSink(f"http://127.0.0.1:{port}/hook", timeout=2.0, retries=1, backoff=0.2)
    reported: list[tuple[Any, ...]] = []
    dispatcher = AlertDispatcher([sink], lambda *args: reported.append(args))
    t0 = datetime.now(UTC)
    sent = 0
    start = time.monotonic()
    for i in range(RATE * SECONDS):
        await asyncio.sleep(max(0.0, start + i / RATE - time.monotonic()))
        frm, to = (State.UP, State.DOWN) if i % 2 == 0 else (State.DOWN, State.UP)
        name = f"ep{i % 40}"
        event = TransitionEvent(t0 + timedelta(seconds=i / RATE), name, frm, to, None, "x")
        dispatcher.send(transition_alert(event, None))
        sent += 1
    stop = time.monotonic()
    await dispatcher.drain(GRACE)
    drained = time.monotonic() - stop
    reported_alerts = sum(args[2] if len(args) > 2 else 1 for args in reported)
    out: dict[str, Any] = {
        "webhook": "hung" if answer_after is None else f"answers after {answer_after}s",
        "alerts": sent,
        "post_attempts": sink.attempts,
        "failure_lines": len(reported),
        "undelivered_alerts_reported": reported_alerts,
        "stop_took_s": round(drained, 1),
    }
    tallies = getattr(dispatcher, "tallies", None)
    if tallies is not None:
        tally = tallies()[sink.name]
        out |= {
            "delivered": tally.delivered,
            "digested": tally.digested,
            "failed": tally.failed,
            "dropped": tally.dropped,
        }
    return out


if __name__ == "__main__":
    for answer in (None, 0.3):
        print(json.dumps(asyncio.run(run(answer))))
    sys.exit(0)
