"""A runner's recent results, packed: diagnose's history at a few hundred bytes a result.

Why: twenty results per endpoint are kept as diagnose's history, and with the incremental
Diagnoser they are read only on a full diagnosis (a change of answer, or every 30th
probe). A slimmed ProbeResult (:func:`~gatewatch.monitor.status.for_history`) is nine
objects and ~1.2 KB; at 1,000 endpoints per worker that was ~2 KB a result and most of a
worker's memory (measured: RSS grew 1.9 KB per probe until the deques filled).

What varies from one probe of an endpoint to the next is almost only its timings. So a
packed result is four fields: the start, the timings as one ``array('d')``, the verdict's
summary (it quotes the timing), and a *shape* — everything else, as plain tuples — which
is the very object of the previous packed result whenever they are equal. A healthy
endpoint's twenty results then share one shape.

:func:`unpack_history` rebuilds exactly ``for_history(result)``.
"""

from __future__ import annotations

import math
from array import array
from datetime import datetime
from typing import Any, NamedTuple

from gatewatch.model import Cause, Hop, HopName, HopStatus, ProbeResult, Response, Verdict
from gatewatch.monitor.status import NO_DETAIL, first_byte_detail, identity_headers

#: (name, status, error, kind, has_ms, has_first_byte) of one hop.
HopShape = tuple[HopName, HopStatus, str | None, str | None, bool, bool]
#: (http_version, status_code, reason, body_size, content_length, complete, headers):
#: the headers as :func:`identity_headers` keeps them, for a healthy answer only.
ResponseShape = tuple[str, int | None, str, int, int | None, bool, tuple[tuple[str, str], ...]]
#: (cause, kind, hop, generator, confidence): the verdict without its summary.
VerdictShape = tuple[Cause, str | None, HopName | None, str | None, float]
#: (name, url, address, response, verdict, hops).
Shape = tuple[str, str, str | None, ResponseShape | None, VerdictShape | None, tuple[HopShape, ...]]


class Packed(NamedTuple):
    """One past result as a runner keeps it (see the module docstring)."""

    started_at: datetime
    #: total_ms, then every hop's ms and first_byte_ms in order; NaN where there is none
    #: (the shape says which, so a real NaN survives).
    times: array[float]
    summary: str | None
    shape: Shape


def pack_for_history(result: ProbeResult, like: Packed | None = None) -> Packed:
    """What a runner keeps of ``result``; its shape is ``like``'s when they are equal."""
    response, verdict = result.response, result.verdict
    times = array("d", (result.total_ms,))
    hops: list[HopShape] = []
    for hop in result.hops:
        first_byte = hop.detail.get("first_byte_ms") if hop.detail else None
        hops.append(
            (hop.name, hop.status, hop.error, hop.kind, hop.ms is not None, first_byte is not None)
        )
        times.append(math.nan if hop.ms is None else hop.ms)
        times.append(math.nan if first_byte is None else first_byte)
    shape: Shape = (
        result.name,
        result.url,
        result.address,
        None
        if response is None
        else (
            response.http_version,
            response.status_code,
            response.reason,
            response.body_size,
            response.content_length,
            response.complete,
            identity_headers(response) if result.ok else (),
        ),
        None
        if verdict is None
        else (verdict.cause, verdict.kind, verdict.hop, verdict.generator, verdict.confidence),
        tuple(hops),
    )
    if like is not None and like.shape == shape:
        shape = like.shape
    return Packed(result.started_at, times, None if verdict is None else verdict.summary, shape)


def unpack_history(packed: Packed) -> ProbeResult:
    """The ProbeResult ``for_history`` would have kept (see :func:`pack_for_history`)."""
    name, url, address, response, verdict, hop_shapes = packed.shape
    times = packed.times
    hops = []
    for i, (hop_name, status, error, kind, has_ms, has_first_byte) in enumerate(hop_shapes):
        ms: Any = times[1 + 2 * i] if has_ms else None
        first_byte = times[2 + 2 * i] if has_first_byte else None
        detail = NO_DETAIL if first_byte is None else first_byte_detail(first_byte)
        hops.append(Hop(name=hop_name, status=status, ms=ms, error=error, kind=kind, detail=detail))
    return ProbeResult(
        name=name,
        url=url,
        started_at=packed.started_at,
        hops=tuple(hops),
        total_ms=times[0],
        response=None
        if response is None
        else Response(
            http_version=response[0],
            status_code=response[1],
            reason=response[2],
            headers=response[6],
            body_size=response[3],
            content_length=response[4],
            complete=response[5],
        ),
        address=address,
        verdict=None if verdict is None else Verdict(*verdict, summary=packed.summary or ""),
    )
