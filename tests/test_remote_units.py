"""Remote vantage points without Prometheus: the model, the sources' problems, the records.

The model is pure (series in, rows out); the source problems are real loopback servers
that refuse, demand a token, send garbage or never answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from gatewatch.lab import Lab
from gatewatch.remote.events import RemoteRowChanged, SourceProblem, SourceStatus
from gatewatch.remote.prometheus import read_source
from gatewatch.remote.records import human_line, remote_record
from gatewatch.remote.vantage import RemoteRow, RowChange, Series, Snapshot, changes, rows
from gatewatch.watchlist import WatchlistError, loads
from gatewatch.watchlist.sources import Source
from gateways_support import reserve_refused_port

NOW = 1_800_000_000.0


def _s(value: float, age: float = 1.0, **labels: str) -> Series:
    return Series(dict(labels), value, NOW - age)


def _metrics(region: str, endpoint: str, value: float, age: float = 1.0) -> Series:
    return _s(value, age, job="gatewatch", instance=f"{region}:9115", region=region,
              endpoint=endpoint)


def _up(region: str, value: float) -> Series:
    return _s(value, job="gatewatch", instance=f"{region}:9115", region=region)


def _rows(snapshot: Snapshot) -> dict[str, RemoteRow]:
    found = rows(snapshot, source="global", vantage_label="region", now=NOW)
    return {row.endpoint: row for row in found}


def test_k_of_n_vantage_points_failing() -> None:
    current = (_metrics("eu", "shop", 1), _metrics("us", "shop", 0), _metrics("ap", "shop", 1))
    snapshot = Snapshot(
        up=(_up("eu", 1), _up("us", 1), _up("ap", 1)),
        known=current,
        current=current,
        verdicts=(
            _s(1, job="gatewatch", instance="us:9115", region="us", endpoint="shop",
               cause="network", kind="refused", generator="none"),
        ),
        hops=(
            _s(1, job="gatewatch", instance="us:9115", region="us", endpoint="shop",
               hop="tcp", status="fail"),
            _s(1, job="gatewatch", instance="us:9115", region="us", endpoint="shop",
               hop="dns", status="ok"),
        ),
    )
    shop = _rows(snapshot)["shop"]
    assert shop.state == "partial"
    assert shop.failing == ("us",) and shop.down == ()
    assert shop.summary == "1 of 3 failing (us)"
    us = next(v for v in shop.vantages if v.vantage == "us")
    assert us.verdict is not None and (us.verdict.cause, us.verdict.kind) == ("network", "refused")
    assert us.hops == (("dns", "ok"), ("tcp", "fail"))  # hop order, not label order
    eu = next(v for v in shop.vantages if v.vantage == "eu")
    assert eu.state == "ok" and eu.verdict is None  # no verdict series for eu here
    line = human_line(remote_record(RemoteRowChanged(RowChange(None, shop), NOW)))
    assert line.endswith("new → PARTIAL  1 of 3 failing (us)  [us: network/refused]")


def test_a_vantage_point_that_stopped_reporting_is_vantage_down_not_failing() -> None:
    known = (_metrics("eu", "shop", 1), _metrics("us", "shop", 1))
    # us's exporter is down: up == 0 and its probe_success went stale (no current sample).
    down = Snapshot(
        up=(_up("eu", 1), _up("us", 0)),
        known=known,
        current=(_metrics("eu", "shop", 1),),
        target_errors=(("gatewatch", "us:9115", "connection refused"),),
    )
    shop = _rows(down)["shop"]
    assert shop.state == "vantage_down" and shop.failing == () and shop.down == ("us",)
    assert shop.summary == "0 of 2 failing · 1 vantage down (us)"
    us = next(v for v in shop.vantages if v.vantage == "us")
    assert us.reason == "up == 0 (job=gatewatch: connection refused)"
    # A sample older than stale_after: down too, even while up says 1.
    stale = Snapshot(
        up=(_up("eu", 1), _up("us", 1)),
        known=known,
        current=(_metrics("eu", "shop", 0), _metrics("us", "shop", 1, age=500)),
    )
    row = _rows(stale)["shop"]
    assert row.failing == ("eu",) and row.down == ("us",)
    assert row.state == "failing"  # every vantage point that can see it fails
    assert next(v for v in row.vantages if v.vantage == "us").reason == "no sample for 500 s"


def test_blackbox_series_name_the_endpoint_by_instance_and_have_no_verdict() -> None:
    url = "http://shop.example/health"
    probe = _s(0, job="blackbox", instance=url)
    snapshot = Snapshot(up=(_s(1, job="blackbox", instance=url),), known=(probe,),
                        current=(probe,))
    found = rows(snapshot, source="eu", vantage_label=None, now=NOW)
    assert [(r.endpoint, r.summary) for r in found] == [(url, "1 of 1 failing (eu)")]
    assert found[0].vantages[0].verdict is None  # unknown: blackbox_exporter has no verdict


def test_changes_report_new_rows_and_state_changes_only() -> None:
    first = _rows(Snapshot(up=(_up("eu", 1),), known=(_metrics("eu", "shop", 1),),
                           current=(_metrics("eu", "shop", 1),)))
    assert [c.old for c in changes({}, list(first.values()))] == [None]
    keyed = {(r.source, r.endpoint): r for r in first.values()}
    same = _rows(Snapshot(up=(_up("eu", 1),), known=(_metrics("eu", "shop", 1, age=3),),
                          current=(_metrics("eu", "shop", 1, age=3),)))
    assert changes(keyed, list(same.values())) == []
    worse = _rows(Snapshot(up=(_up("eu", 1),), known=(_metrics("eu", "shop", 0),),
                           current=(_metrics("eu", "shop", 0),)))
    change = changes(keyed, list(worse.values()))
    assert [(c.old.state if c.old else None, c.new.state) for c in change] == [("ok", "failing")]
    record = remote_record(RemoteRowChanged(change[0], NOW))
    assert record["type"] == "remote" and (record["from"], record["to"]) == ("ok", "failing")
    assert record["failing"] == ["eu"] and record["summary"] == "1 of 1 failing (eu)"
    assert json.loads(json.dumps(record)) == record
    assert "ok → FAILING" in human_line(record)
    # Same state, but now the vantage point says why: news for the on-call engineer.
    failing = {(r.source, r.endpoint): r for r in worse.values()}
    why = _rows(Snapshot(
        up=(_up("eu", 1),), known=(_metrics("eu", "shop", 0),),
        current=(_metrics("eu", "shop", 0),),
        verdicts=(_s(1, job="gatewatch", instance="eu:9115", region="eu", endpoint="shop",
                     cause="tls", kind="expired", generator="none"),),
    ))
    assert [c.new.state for c in changes(failing, list(why.values()))] == ["failing"]
    assert changes({(r.source, r.endpoint): r for r in why.values()}, list(why.values())) == []


def test_sources_in_the_watchlist_are_validated_with_file_line_and_key() -> None:
    wl = loads(
        'version = 1\n[[source]]\nname = "eu"\nkind = "prometheus"\n'
        'url = "http://127.0.0.1:9090"\nvantage_label = "region"\n'
        'headers = { Authorization = "env:PROM_TOKEN" }\n',
    )
    assert wl.sources == (
        Source("eu", "http://127.0.0.1:9090", vantage_label="region",
               headers=(("Authorization", "env:PROM_TOKEN"),)),
    )
    with pytest.raises(WatchlistError) as caught:
        loads('version = 1\n\n[[source]]\nname = "eu"\nkind = "graphite"\n'
              'url = "http://x"\nvantage_label = "not a label"\n', "w.toml")
    messages = [str(caught.value), *(str(e) for e in caught.value.errors)]
    assert messages[0].startswith("w.toml:5: key 'source[1].kind'")
    assert any(m.startswith("w.toml:7: key 'source[1].vantage_label'") for m in messages)


# --------------------------------------------------------------------------- failing sources


#: The fake source's clock: a day behind ours, as a skewed server's may be.
SERVER_NOW = round(time.time() - 86_400, 3)


class _Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/token"):
            wanted = "Bearer s3cret-token"
            if self.headers.get("Authorization") != wanted:
                self._answer(401, b'{"status":"error","error":"unauthorized"}')
                return
            if "targets" in self.path:
                self._answer(200, b'{"status":"success","data":{"activeTargets":[]}}')
                return
            if "time%28%29" in self.path:  # the source's own clock, asked first
                scalar = b'{"status":"success","data":{"resultType":"scalar","result":[%.3f,"x"]}}'
                self._answer(200, scalar % SERVER_NOW)
                return
            self._answer(200, b'{"status":"success","data":{"resultType":"vector","result":[]}}')
        elif self.path.startswith("/garbage"):
            self._answer(200, b"<html>not the API</html>")
        else:
            self._answer(200, b'{"status":"success","data":{"resultType":"matrix","result":[]}}')

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def _read(url: str, *, deadline: float = 5.0, env: dict[str, str] | None = None,
                headers: tuple[tuple[str, str], ...] = ()) -> Snapshot | SourceProblem:
    source = Source("eu", url, headers=headers, timeout=deadline)
    async with httpx.AsyncClient(trust_env=False) as client:
        return await read_source(source, client, environ=env or {})


async def test_a_failing_source_is_a_source_problem_never_an_exception(
    hostile: str, lab: Lab
) -> None:
    refused = reserve_refused_port()
    try:
        problem = await _read(f"http://127.0.0.1:{refused.port}")
    finally:
        refused.close()
    assert isinstance(problem, SourceProblem) and problem.kind == "refused"

    unauthorized = await _read(f"{hostile}/token")
    assert isinstance(unauthorized, SourceProblem) and unauthorized.kind == "unauthorized"
    token = (("Authorization", "env:PROM_TOKEN"),)
    answered = await _read(f"{hostile}/token", env={"PROM_TOKEN": "Bearer s3cret-token"},
                           headers=token)
    # Evaluated at the source's own "now", which may be far from ours (clock skew).
    assert answered == Snapshot(at=SERVER_NOW)
    missing_env = await _read(f"{hostile}/token", headers=token)
    assert isinstance(missing_env, SourceProblem) and missing_env.kind == "config"

    garbage = await _read(f"{hostile}/garbage")
    assert isinstance(garbage, SourceProblem) and garbage.kind == "bad_json"
    matrix = await _read(f"{hostile}/matrix")
    assert isinstance(matrix, SourceProblem) and matrix.kind == "bad_json"

    # The lab's blackhole port never completes a connect: bounded by the source's timeout.
    slow = await _read(f"http://127.0.0.1:{lab.blackhole_port}", deadline=0.5)
    assert isinstance(slow, SourceProblem) and slow.kind == "timeout"

    secret = await _read(f"http://user:hunter2pw@127.0.0.1:{lab.blackhole_port}/?token=zz99zz",
                         deadline=0.3)
    assert isinstance(secret, SourceProblem)
    assert "hunter2pw" not in secret.message and "zz99zz" not in secret.message


def test_source_problem_records() -> None:
    problem = SourceStatus("eu", SourceProblem("refused", "http://x: cannot connect"), NOW)
    record = remote_record(problem)
    assert record == {
        "type": "source_problem",
        "at": "2027-01-15T08:00:00Z",
        "source": "eu",
        "active": True,
        "kind": "refused",
        "reason": "http://x: cannot connect",
    }
    cleared = remote_record(SourceStatus("eu", None, NOW))
    assert cleared["active"] is False and cleared["kind"] is None
    assert human_line(record).startswith("*  SOURCE PROBLEM eu")
