"""Reading a Prometheus source: ``/api/v1/query`` instant vectors, with httpx.

Every way a source can fail (refused, 401/403, timeout, an answer that is not the API's
JSON) becomes a :class:`SourceProblem` with a closed ``kind`` and a redacted message, never
an exception: the board and ``watch`` show it as a source problem and carry on. A read is
bounded by the source's timeout (the same default deadline as a probe).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import httpx

from gatewatch.remote.events import ProblemKind, SourceProblem
from gatewatch.remote.vantage import Series, Snapshot
from gatewatch.secrets import SecretError, redact_url, resolve
from gatewatch.text import one_line
from gatewatch.watchlist.sources import Source

#: How far back "this vantage point has reported this endpoint" reaches.
MEMBERSHIP_WINDOW = "15m"

QUERIES: Mapping[str, str] = {
    "up": "up",
    "known": f"last_over_time(probe_success[{MEMBERSHIP_WINDOW}])",
    "current": "probe_success",
    "current_at": "timestamp(probe_success)",
    "verdicts": "gatewatch_verdict_info",
    "hops": "gatewatch_hop_status == 1",
    "hop_seconds": "gatewatch_hop_duration_seconds",
    "phases": "probe_http_duration_seconds",
}


class _Problem(Exception):
    def __init__(self, kind: ProblemKind, message: str) -> None:
        super().__init__(message)
        self.problem = SourceProblem(kind, message)


def _headers(source: Source, environ: Mapping[str, str] | None) -> dict[str, str]:
    try:
        return {name: resolve(value, environ) for name, value in source.headers}
    except SecretError as exc:
        raise _Problem("config", str(exc)) from None


async def read_source(
    source: Source,
    client: httpx.AsyncClient,
    *,
    environ: Mapping[str, str] | None = None,
    at: float | None = None,
) -> Snapshot | SourceProblem:
    """Run the queries against ``source``; a Snapshot, or the first problem met.

    Every query is evaluated at one instant, so a scrape landing between two queries cannot
    give ``probe_success`` without its verdict: ``at`` (unix seconds), or by default the
    source's own "now" (``time()``, asked first): our clock and the server's may disagree,
    and the server's is the one its samples carry.
    """
    try:
        headers = _headers(source, environ)
        async with asyncio.timeout(source.timeout):
            if at is None:
                at = await _server_time(source, client, headers)
            results = await asyncio.gather(
                *(_query(source, client, headers, q, at) for q in QUERIES.values())
            )
            errors = await _target_errors(source, client, headers)
    except _Problem as exc:
        return exc.problem
    except TimeoutError:
        return SourceProblem("timeout", f"no answer within {source.timeout:g} s")
    by_name = dict(zip(QUERIES, results, strict=True))
    sampled = {_key(s.labels): s.value for s in by_name["current_at"]}
    current = tuple(
        Series(s.labels, s.value, sampled.get(_key(s.labels), s.timestamp))
        for s in by_name["current"]
    )
    return Snapshot(
        up=by_name["up"],
        known=by_name["known"],
        current=current,
        verdicts=by_name["verdicts"],
        hops=by_name["hops"],
        hop_seconds=by_name["hop_seconds"],
        phases=by_name["phases"],
        target_errors=errors,
        at=at,
    )


def _key(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if k != "__name__"))


async def _query(
    source: Source,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    promql: str,
    at: float | None,
) -> tuple[Series, ...]:
    params = {"query": promql}
    if at is not None:
        params["time"] = f"{at:.3f}"
    payload = await _get(source, client, headers, "/api/v1/query", params)
    return _vector(payload, redact_url(source.url))


async def _server_time(source: Source, client: httpx.AsyncClient, headers: dict[str, str]) -> float:
    """The source's own clock: ``time()`` evaluated by the server now."""
    payload = await _get(source, client, headers, "/api/v1/query", {"query": "time()"})
    data = payload.get("data")
    result = data.get("result") if isinstance(data, dict) else None
    if isinstance(data, dict) and data.get("resultType") == "scalar" and isinstance(result, list):
        try:
            return float(result[0])
        except (IndexError, TypeError, ValueError):
            pass
    raise _Problem("bad_json", f"{redact_url(source.url)}: time() did not answer a scalar")


async def _target_errors(
    source: Source, client: httpx.AsyncClient, headers: dict[str, str]
) -> tuple[tuple[str, str, str], ...]:
    """(job, instance, last error) of every scrape target that is not up."""
    payload = await _get(source, client, headers, "/api/v1/targets", {"state": "active"})
    data = payload.get("data")
    targets = data.get("activeTargets") if isinstance(data, dict) else None
    if not isinstance(targets, list):
        raise _Problem("bad_json", f"{redact_url(source.url)}: no activeTargets in the answer")
    found = []
    for target in targets:
        if not isinstance(target, dict) or target.get("health") == "up":
            continue
        labels = target.get("labels")
        if not isinstance(labels, dict):
            continue
        error = one_line(redact_url(str(target.get("lastError") or "")), 160)
        found.append((str(labels.get("job", "")), str(labels.get("instance", "")), error))
    return tuple(found)


async def _get(
    source: Source,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    path: str,
    params: dict[str, str],
) -> dict[str, Any]:
    url = source.url.rstrip("/") + path
    shown = redact_url(source.url)
    try:
        response = await client.get(url, params=params, headers=headers, timeout=source.timeout)
    except httpx.TimeoutException:
        raise _Problem("timeout", f"{shown}: no answer within {source.timeout:g} s") from None
    except httpx.ConnectError as exc:
        raise _Problem("refused", f"{shown}: cannot connect ({one_line(str(exc), 120)})") from None
    except httpx.HTTPError as exc:
        raise _Problem("http_error", f"{shown}: {type(exc).__name__}") from None
    if response.status_code in (401, 403):
        raise _Problem(
            "unauthorized", f"{shown}: {response.status_code} (check the source's headers)"
        )
    try:
        payload = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        raise _Problem(
            "bad_json" if response.is_success else "http_error",
            f"{shown}: answered {response.status_code} without the API's JSON",
        ) from None
    if not isinstance(payload, dict):
        raise _Problem("bad_json", f"{shown}: the answer is not a JSON object")
    if payload.get("status") != "success":
        error = one_line(str(payload.get("error", "no error text")), 160)
        raise _Problem("query_error", f"{shown}: {path} {params} failed: {error}")
    return payload


def _vector(payload: dict[str, Any], shown: str) -> tuple[Series, ...]:
    data = payload.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "vector":
        raise _Problem("bad_json", f"{shown}: expected an instant vector")
    out = []
    for item in data.get("result") or ():
        try:
            labels = {str(k): str(v) for k, v in item["metric"].items()}
            stamp, value = item["value"]
            out.append(Series(labels, float(value), float(stamp)))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise _Problem("bad_json", f"{shown}: a malformed sample in the answer") from None
    return tuple(out)


def make_client() -> httpx.AsyncClient:
    """A client for sources: no environment proxies (a source is named explicitly)."""
    return httpx.AsyncClient(trust_env=False, follow_redirects=False)
