"""One result never contradicts itself: ``settle`` moves the hop strip to the verdict.

Over data (the real-gateway tests show the same on the wire, and the autouse property in
conftest.py checks every result the suite produces).
"""

from __future__ import annotations

import dataclasses

import gateway_pages as pages
from diagnose_factory import gateway_error, history, ok, origin_ok, response, result
from gatewatch.diagnose import annotate
from gatewatch.diagnose.consistent import UNCLASSIFIED, contradictions, settle
from gatewatch.model import AddressResult, Hop, ProbeResult, Verdict, result_to_json


def statuses(result: ProbeResult) -> list[str]:
    return [h.status for h in result.hops]


def verdict(**changes: object) -> Verdict:
    base = Verdict("backend", "x", "upstream", None, 0.5, "summary")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_gateway_misconfigured_fails_the_proxy_hop_and_skips_the_rest() -> None:
    probe = gateway_error(pages.nginx(502), origin=origin_ok())
    raw = probe.with_verdict(verdict(cause="proxy", kind="gateway_misconfigured", hop="proxy"))
    assert contradictions(raw)  # the strip says upstream, the verdict says proxy
    settled = settle(raw)
    assert contradictions(settled) == []
    proxy = settled.hop("proxy")
    assert (proxy.status, proxy.kind) == ("fail", "gateway_misconfigured")
    assert proxy.error == probe.hop("upstream").error  # the failure moved with the blame
    upstream = settled.hop("upstream")
    assert (upstream.status, upstream.error) == ("skip", None)
    assert upstream.detail["status_code"] == 502  # facts kept


def test_annotate_settles_the_three_cases_from_the_issue() -> None:
    misconfigured = annotate(gateway_error(pages.nginx(502), origin=origin_ok()))
    assert misconfigured.verdict is not None and misconfigured.verdict.hop == "proxy"
    assert misconfigured.hop("proxy").status == "fail"
    limited = annotate(gateway_error(pages.nginx(503)))
    assert limited.verdict is not None and limited.verdict.kind == "rate_limited"
    assert limited.hop(limited.verdict.hop or "").status == "fail"
    pool = annotate(
        ok(
            addresses=(
                AddressResult("203.0.113.10", True, 200, 5.0, ()),
                AddressResult("203.0.113.11", False, None, 1.0, (), "tcp", "refused", "refused"),
            )
        )
    )
    assert pool.ok is False and result_to_json(pool)["ok"] is False
    assert pool.verdict is not None and pool.verdict.kind == "pool_member_down"
    assert statuses(pool) == ["ok", "fail", "skip", "skip", "skip"]
    for annotated in (misconfigured, limited, pool):
        assert contradictions(annotated) == []


def test_a_dead_address_alone_makes_the_result_not_ok() -> None:
    dead = AddressResult("203.0.113.11", False, None, 1.0, (), "tcp", "refused", "refused")
    assert ok().ok is True
    assert ok(addresses=(dead,)).ok is False


def test_a_warning_keeps_ok_and_marks_its_hop_warn() -> None:
    probe = ok(first_byte_ms=900.0)
    flagged = settle(probe.with_verdict(verdict(cause="overload", kind="slow", hop="upstream")))
    assert flagged.ok is True
    assert flagged.hop("upstream").status == "warn" and flagged.hop("upstream").kind == "slow"
    assert contradictions(flagged) == []


def test_intermittent_from_history_is_a_warning_on_its_hop() -> None:
    annotated = annotate(ok(), history=history("xx.x.x.x"))
    assert annotated.verdict is not None and not annotated.verdict.healthy
    assert annotated.ok is True
    assert annotated.hop(annotated.verdict.hop or "").status == "warn"
    assert contradictions(annotated) == []


def test_healthy_has_no_kind_and_others_always_have_one() -> None:
    healthy = settle(ok().with_verdict(verdict(cause="healthy", kind="ok", hop="upstream")))
    assert healthy.verdict is not None
    assert (healthy.verdict.kind, healthy.verdict.hop) == (None, None)
    failing = result(fail="tcp", kind="refused", error="refused")
    unknown = settle(failing.with_verdict(verdict(cause="unknown", kind=None, hop=None)))
    assert unknown.verdict is not None
    assert (unknown.verdict.kind, unknown.verdict.hop) == (UNCLASSIFIED, "tcp")


def test_a_verdict_after_the_first_failure_follows_the_failure() -> None:
    failing = result(fail="tcp", kind="refused", error="refused")
    settled = settle(failing.with_verdict(verdict(hop="upstream")))
    assert settled.verdict is not None and settled.verdict.hop == "tcp"
    assert contradictions(settled) == []


def test_contradictions_are_named() -> None:
    page = response(502, "Bad Gateway", [("Server", "nginx")], "x")
    probe = gateway_error(page).with_verdict(verdict(cause="healthy", kind="x", hop="proxy"))
    found = " | ".join(contradictions(probe))
    assert "healthy verdict with kind" in found
    assert "not ok" in found
    assert "names hop proxy, which is skip" in found
    skipped = gateway_error(page).replace(
        hops=(*gateway_error(page).hops[:3], Hop("proxy", "fail"), Hop("upstream", "ok"))
    )
    assert any("not skip" in p for p in contradictions(skipped.with_verdict(verdict(hop="proxy"))))
