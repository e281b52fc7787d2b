"""Proven against more real gateways: Apache mod_proxy, Caddy, Varnish, Squid, and the lab's.

Every row of ``gateway_scenarios.SCENARIOS`` runs against the real binary from its
Debian package, started here on loopback with its own config (one instance of each for
the whole module), and is probed through ``gatewatch probe --json`` in-process. Each
test asserts reality first — the gateway's own log line (Apache's error log through the
request's log id, Caddy's http.log.error, ``varnishlog``'s FetchError, Squid's access
log) — and then the verdict: generator, kind, confidence, and, where the answer cannot
tell kinds apart, the true kind among the candidates in the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gatewatch.lab import Lab
from gateway_scenarios import NEEDED, SCENARIOS, Gateways, Scenario, gateways
from test_real_gateways import candidates_in_evidence, probe

pytestmark = pytest.mark.usefixtures("no_forward_proxy")



@pytest.fixture(scope="module")
def fronts(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateways]:
    with gateways(lab, tmp_path_factory.mktemp("gateways"), NEEDED) as running:
        yield running


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_real_gateway_scenario(scenario: Scenario, fronts: Gateways, lab: Lab) -> None:
    url, extra = scenario.target(fronts, lab)
    report = probe(url, *extra)
    gateway = fronts.running.get(scenario.gateway)
    why = report.explain(*([gateway] if gateway else []))
    if gateway is not None:
        scenario.log(gateway, report.tag)  # the scenario really happened
    assert report.doc["status_code"] == scenario.status, why
    assert [h["name"] for h in report.doc["hops"]] == ["dns", "tcp", "tls", "proxy", "upstream"]
    verdict = report.verdict
    generator, kind = scenario.truth
    if kind is None:
        assert report.code == 0 and verdict["cause"] == "healthy", why
        return
    assert report.code == 1 and report.doc["ok"] is False, why
    assert (verdict["generator"], verdict["kind"]) == (generator, scenario.said), why
    assert scenario.min_confidence <= verdict["confidence"] <= scenario.max_confidence, why
    assert verdict["summary"] and verdict["next_steps"], why
    if scenario.said == "upstream_failed":
        # The answer cannot tell: the truth must be among the kinds the evidence lists.
        assert kind in candidates_in_evidence(report), why
    if generator not in (None, "app") and scenario.said != "proxy_tunnel_failed":
        assert report.hop("proxy")["detail"].get("generator") == generator, why


def test_varnish_page_carries_its_marker(fronts: Gateways) -> None:
    """Varnish's builtin page: 'Guru Meditation' and an XID to find the request by."""
    report = probe(fronts["varnish"].url("/refused/"))
    evidence = " ".join(report.verdict["evidence"])
    assert "Guru Meditation" in evidence, report.explain(fronts["varnish"])
    assert report.hop("upstream")["detail"]["reason"] == "Backend fetch failed"


def test_caddy_dead_upstream_is_an_empty_502_signed_caddy(fronts: Gateways) -> None:
    report = probe(fronts["caddy"].url("/refused/"))
    detail = report.hop("upstream")["detail"]
    assert (report.doc["status_code"], detail["body_bytes"], detail["server"]) == (502, 0, "Caddy")
