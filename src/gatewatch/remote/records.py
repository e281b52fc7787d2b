"""Remote events as ``watch`` prints them: JSON records (a contract: add keys only) and lines.

``{"type": "remote", …}`` when a remote row appears or its state, failing or down vantage
points change; ``{"type": "source_problem", "active": …}`` when a source starts or stops
failing. Labels read from a source are someone else's text: JSON escapes control
characters by itself, and the human line makes them visible.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gatewatch.model import format_time
from gatewatch.remote.events import RemoteEvent, RemoteRowChanged
from gatewatch.remote.vantage import RemoteRow, VantageView
from gatewatch.text import one_line


def _vantage(view: VantageView) -> dict[str, Any]:
    return {
        "vantage": view.vantage,
        "state": view.state,
        "reason": view.reason,
        "verdict": None
        if view.verdict is None
        else {
            "cause": view.verdict.cause,
            "kind": view.verdict.kind,
            "generator": view.verdict.generator,
        },
        "hops": [{"name": hop, "status": status} for hop, status in view.hops],
    }


def row_to_json(row: RemoteRow) -> dict[str, Any]:
    return {
        "source": row.source,
        "endpoint": row.endpoint,
        "state": row.state,
        "summary": row.summary,
        "failing": list(row.failing),
        "down": list(row.down),
        "vantages": [_vantage(v) for v in row.vantages],
    }


def remote_record(event: RemoteEvent) -> dict[str, Any]:
    at = format_time(datetime.fromtimestamp(event.at, UTC))
    if isinstance(event, RemoteRowChanged):
        old, new = event.change.old, event.change.new
        return {
            "type": "remote",
            "at": at,
            "from": old.state if old else None,
            "to": new.state,
            **row_to_json(new),
        }
    problem = event.problem
    return {
        "type": "source_problem",
        "at": at,
        "source": event.source,
        "active": problem is not None,
        "kind": problem.kind if problem else None,
        "reason": problem.message if problem else "the source answers again",
    }


def human_line(record: dict[str, Any]) -> str:
    if record["type"] == "remote":
        name = one_line(f"{record['source']}/{record['endpoint']}", 60)
        before = record["from"] or "new"
        why = [
            f"{v['vantage']}: {v['verdict']['cause']}/{v['verdict']['kind']}"
            for v in record["vantages"]
            if v["state"] == "failing" and v["verdict"]
        ]
        tail = f"  [{'; '.join(why)}]" if why else ""
        return f"{record['at']}  {name}  {before} → {record['to'].upper()}  " + one_line(
            record["summary"] + tail
        )
    head = "SOURCE PROBLEM" if record["active"] else "source problem cleared"
    return f"*  {head} {one_line(record['source'], 40)}: {one_line(record['reason'])}"
