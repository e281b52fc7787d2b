"""Each step's automated check against the lab: a scenario where it must pass, one where it
must fail (or warn), and the evidence an engineer would check it by."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from diagnose_factory import STARTED, ok
from gatewatch.checklist import CheckResult, CheckSettings, Outcome, order_steps
from gatewatch.lab import Lab
from gatewatch.model import Cause, ProbeResult, Verdict
from gatewatch.probe import Prober
from gateway_pages import nginx
from test_checklist_support import (
    FAST,
    check,
    ep,
    raw_response,
    servers,
    simple_response,
)

# --------------------------------------------------------------------------- retry


async def test_retry_passes_when_every_probe_answers(lab: Lab, prober: Prober) -> None:
    sleeps: list[float] = []
    settings = dataclasses.replace(FAST, retries=5, backoff=0.25, backoff_cap=2.0)
    found = await check("retry", ep(lab.url("/ok")), prober, settings=settings, sleeps=sleeps)
    assert found.outcome == "pass"
    assert found.summary.startswith("0 of 5 probes failed")
    assert found.facts["pattern"] == "none" and found.facts["attempts"] == 5
    assert sleeps == [0.25, 0.5, 1.0, 2.0]  # backoff doubles, capped
    assert len(found.probes) == 5 and found.probes[0].note == "retry 1/5"
    assert sum(line.startswith("#") for line in found.evidence) == 5


async def test_retry_says_persistent_when_every_probe_fails(lab: Lab, prober: Prober) -> None:
    found = await check("retry", ep(lab.url("/status/502")), prober)
    assert found.outcome == "fail"
    assert found.summary.startswith("persistent: 3 of 3 probes failed")
    assert found.facts["pattern"] == "persistent"
    assert all(p.status_code == 502 for p in found.probes)


async def test_retry_says_transient_when_some_fail(lab: Lab, prober: Prober) -> None:
    settings = dataclasses.replace(FAST, retries=4)
    found = await check("retry", ep(lab.url("/flap")), prober, settings=settings)
    assert found.outcome == "warn"
    assert found.summary.startswith("transient: 2 of 4 probes failed")
    assert found.facts["pattern"] == "transient"


# --------------------------------------------------------------------------- server status


async def test_server_fails_when_the_origin_refuses(lab: Lab, prober: Prober) -> None:
    endpoint = ep(lab.url("/status/502"), origin=f"http://127.0.0.1:{lab.refused_port}/")
    found = await check("server", endpoint, prober)
    assert found.outcome == "fail"
    assert "refused" in found.summary
    assert any(
        line.startswith("TCP connect to 127.0.0.1:") and "refused" in line
        for line in found.evidence
    )
    assert found.probes[0].note == "origin"


async def test_server_passes_when_the_origin_answers(lab: Lab, prober: Prober) -> None:
    origin = f"http://admin:origin-password-789@127.0.0.1:{lab.http_port}/ok"
    found = await check("server", ep(lab.url("/status/502"), origin=origin), prober)
    assert found.outcome == "pass"
    assert "answers 200 directly" in found.summary
    assert any("accepted in" in line for line in found.evidence)
    assert "origin-password-789" not in repr(found)  # redacted at the source: the screen too


async def test_server_without_origin(lab: Lab, prober: Prober) -> None:
    refused = await check("server", ep(f"http://127.0.0.1:{lab.refused_port}/"), prober)
    assert refused.outcome == "fail" and "does not accept connections" in refused.summary
    # JSON is the application's own evidence (an unknown Server alone would prove nothing).
    app = await check("server", ep(lab.url("/status/503?json=1")), prober)
    assert app.outcome == "fail" and app.summary == "the application itself answers 503"
    unknown = await check("server", ep(lab.url("/status/503")), prober)
    assert unknown.outcome == "inconclusive"
    async with servers({"127.0.0.1": raw_response(nginx(502))}) as port:
        gateway = await check("server", ep(f"http://127.0.0.1:{port}/"), prober)
    assert gateway.outcome == "inconclusive"  # nginx's own page: what is behind it?
    assert any("Configure `origin`" in line for line in gateway.evidence)
    healthy = await check("server", ep(lab.url("/ok")), prober)
    assert healthy.outcome == "pass"


# --------------------------------------------------------------------------- proxy settings


async def test_proxy_names_the_gateway_and_its_log_lines(prober: Prober) -> None:
    async with servers({"127.0.0.1": raw_response(nginx(502))}) as port:
        found = await check("proxy", ep(f"http://127.0.0.1:{port}/health"), prober)
    assert found.outcome == "warn"
    assert found.summary == "nginx generated this 502: its log says why"
    assert found.facts["generator"] == "nginx"
    text = "\n".join(found.evidence)
    assert "connect() failed (111: Connection refused)" in text  # gateways.md §1
    assert "nginx's usual timeouts: proxy_read_timeout 60 s" in text
    assert "HTTP/1.1 502 Bad Gateway" in text and "no forward proxy" in text


async def test_proxy_fails_when_the_origin_answers_but_the_gateway_does_not(
    lab: Lab, prober: Prober
) -> None:
    async with servers({"127.0.0.1": raw_response(nginx(502))}) as port:
        endpoint = ep(f"http://127.0.0.1:{port}/health", origin=lab.url("/ok"))
        found = await check("proxy", endpoint, prober)
    assert found.outcome == "fail"
    assert "origin" in found.summary and "answers 200 directly" in found.summary
    assert any(line.startswith("origin direct: first byte") for line in found.evidence)


async def test_proxy_passes_for_a_healthy_answer(lab: Lab, prober: Prober) -> None:
    found = await check("proxy", ep(lab.url("/ok")), prober)
    assert found.outcome == "pass"
    assert not any(" log: " in line for line in found.evidence)


async def test_proxy_fails_when_the_forward_proxy_wants_credentials(
    lab: Lab, prober: Prober
) -> None:
    proxy = f"http://127.0.0.1:{lab.proxy_ports['auth']}"
    found = await check("proxy", ep(lab.url("/ok"), proxy=proxy), prober)
    assert found.outcome == "fail"
    assert "forward proxy" in found.summary
    assert f"forward proxy (watchlist): {proxy}" in found.evidence


async def test_proxy_shows_the_environments_proxy_without_its_password(lab: Lab) -> None:
    open_proxy = f"127.0.0.1:{lab.proxy_ports['open']}"
    environ = {"HTTP_PROXY": f"http://someone:hunter2-proxy-pw@{open_proxy}"}
    prober = Prober(environ=environ)
    try:
        found = await check("proxy", ep(lab.url("/ok")), prober)
    finally:
        await prober.aclose()
    assert f"forward proxy (environment): http://REDACTED@{open_proxy}" in found.evidence
    assert "hunter2-proxy-pw" not in repr(found)


# --------------------------------------------------------------------------- DNS


async def test_dns_fails_for_nxdomain_and_servfail(lab: Lab, prober: Prober) -> None:
    nx = await check("dns", ep(lab.url("/ok", host="nx.lab.test"), lab), prober)
    assert nx.outcome == "fail" and "NXDOMAIN" in nx.summary
    servfail = await check("dns", ep(lab.url("/ok", host="servfail.lab.test"), lab), prober)
    assert servfail.outcome == "fail" and "SERVFAIL" in servfail.summary


async def test_dns_passes_with_answers_ttls_and_the_cname_chain(lab: Lab, prober: Prober) -> None:
    found = await check("dns", ep(lab.url("/ok", host="cname.lab.test"), lab), prober)
    assert found.outcome == "pass"
    assert "127.0.0.1" in found.summary
    text = "\n".join(found.evidence)
    assert "TTL" in text
    assert "CNAME chain: cname.lab.test → alias.lab.test → app.lab.test" in text


async def test_dns_flags_resolvers_that_disagree(lab: Lab, prober: Prober) -> None:
    other = lab.add_dns_server({"app.lab.test": ["127.0.0.3"]})
    resolvers = (f"127.0.0.1:{lab.dns_port}", f"127.0.0.1:{other}")
    found = await check(
        "dns", ep(lab.url("/ok", host="app.lab.test"), lab, resolvers=resolvers), prober
    )
    assert found.outcome == "warn"
    assert "resolvers disagree" in found.summary
    lines = [line for line in found.evidence if line.startswith("resolver ")]
    assert len(lines) == 2 and "127.0.0.3" in lines[1]
    assert any("propagating" in line for line in found.evidence)


async def test_dns_compares_the_system_resolver(lab: Lab, prober: Prober) -> None:
    settings = dataclasses.replace(FAST, system_resolver=True)
    found = await check(
        "dns", ep(lab.url("/ok", host="app.lab.test"), lab), prober, settings=settings
    )
    # The system's resolver does not know the lab's zone: shown, but the endpoint's own
    # resolver decides.
    assert found.outcome == "pass"
    assert len(found.facts["answers"]) == 2
    assert any(line.startswith("system") for line in found.evidence)


async def test_dns_not_applicable_for_an_address(lab: Lab, prober: Prober) -> None:
    found = await check("dns", ep(lab.url("/ok")), prober)
    assert found.outcome == "not_applicable"


# --------------------------------------------------------------------------- TLS


def tls_url(lab: Lab, cert: str) -> str:
    return lab.url("/ok", scheme="https", cert=cert, host="app.lab.test")


async def test_tls_fails_for_an_expired_certificate(lab: Lab, prober: Prober) -> None:
    found = await check("tls", ep(tls_url(lab, "expired"), lab), prober)
    assert found.outcome == "fail"
    assert found.summary == "the certificate of app.lab.test has expired"
    assert any(line.startswith("leaf: ") for line in found.evidence)  # read without verifying
    assert found.facts["days_left"] < 0


async def test_tls_fails_for_the_wrong_name(lab: Lab, prober: Prober) -> None:
    found = await check("tls", ep(tls_url(lab, "wrong_host"), lab), prober)
    assert found.outcome == "fail"
    assert "does not cover app.lab.test" in found.summary
    assert "the certificate does NOT cover app.lab.test" in found.evidence


async def test_tls_warns_when_expiring(lab: Lab, prober: Prober) -> None:
    found = await check("tls", ep(tls_url(lab, "expiring"), lab), prober)
    assert found.outcome == "warn"
    assert "expires in 5.0 days" in found.summary


async def test_tls_passes_for_a_valid_certificate(lab: Lab, prober: Prober) -> None:
    found = await check("tls", ep(tls_url(lab, "valid"), lab), prober)
    assert found.outcome == "pass"
    assert "the certificate covers app.lab.test" in found.evidence
    assert any(line.startswith("chain: ") for line in found.evidence)
    plain = await check("tls", ep(lab.url("/ok")), prober)
    assert plain.outcome == "not_applicable"


# --------------------------------------------------------------------------- load


def rising_history() -> list[ProbeResult]:
    """Twelve passing probes whose first byte climbs from 40 ms to 370 ms."""
    return [
        ok(first_byte_ms=40.0 + 30 * i, started_at=STARTED - timedelta(minutes=12 - i))
        for i in range(12)
    ]


async def test_load_fails_when_rate_limited(lab: Lab, prober: Prober) -> None:
    found = await check("load", ep(lab.url("/ratelimit")), prober)
    assert found.outcome == "fail"
    assert "rate limited: 429 Too Many Requests with Retry-After: 30" in found.summary
    assert found.facts["retry_after"] == "30"


async def test_load_fails_when_unavailable_with_retry_after(lab: Lab, prober: Prober) -> None:
    found = await check("load", ep(lab.url("/unavailable")), prober)
    assert found.outcome == "fail"
    assert found.summary.startswith("unavailable for now: 503")
    plain = await check("load", ep(lab.url("/status/503")), prober)  # no Retry-After
    assert plain.outcome == "inconclusive" and "now: 503 Service Unavailable" in plain.evidence


async def test_load_warns_when_latency_rises(lab: Lab, prober: Prober) -> None:
    found = await check("load", ep(lab.url("/ok")), prober, past=rising_history())
    assert found.outcome == "warn"
    assert found.summary.startswith("latency rising: first byte")
    early, late = found.facts["first_byte_trend_ms"]
    assert late > 1.5 * early


async def test_load_passes_with_a_flat_history(lab: Lab, prober: Prober) -> None:
    flat = [ok(first_byte_ms=1.0, started_at=STARTED - timedelta(minutes=i)) for i in range(8)]
    found = await check("load", ep(lab.url("/ok")), prober, past=flat)
    assert found.outcome == "pass"
    assert found.facts["error_rate"] == 0


async def test_load_fails_for_a_dead_pool_member(lab: Lab, prober: Prober) -> None:
    found = await check("load", ep(lab.url("/ok", host="pool.lab.test"), lab), prober)
    assert found.outcome == "fail"
    assert "1 of 2 pool members fail: 127.0.0.2" in found.summary
    assert found.facts["addresses"] == {"127.0.0.1": True, "127.0.0.2": False}


# --------------------------------------------------------------------------- software


async def test_software_fails_when_addresses_run_different_versions(
    lab: Lab, prober: Prober
) -> None:
    lab.dns.add("versions.lab.test", "A", ["127.0.0.1", "127.0.0.2"])
    answers = {
        "127.0.0.1": simple_response(server="nginx/1.25.3"),
        "127.0.0.2": simple_response(server="nginx/1.18.0"),
    }
    async with servers(answers) as port:
        found = await check("software", ep(f"http://versions.lab.test:{port}/", lab), prober)
    assert found.outcome == "fail"
    assert "different software" in found.summary
    assert found.facts["by_address"] == {"127.0.0.1": "nginx/1.25.3", "127.0.0.2": "nginx/1.18.0"}


async def test_software_passes_when_every_address_agrees(lab: Lab, prober: Prober) -> None:
    lab.dns.add("same.lab.test", "A", ["127.0.0.1", "127.0.0.2"])
    same = simple_response(server="nginx/1.25.3")
    async with servers({"127.0.0.1": same, "127.0.0.2": same}) as port:
        found = await check("software", ep(f"http://same.lab.test:{port}/", lab), prober)
    assert found.outcome == "pass"
    assert found.summary == "all 2 addresses: nginx/1.25.3"
    assert found.facts["versions"] == ["nginx/1.25.3"]


async def test_software_inconclusive_without_headers(prober: Prober) -> None:
    async with servers({"127.0.0.1": simple_response(server=None)}) as port:
        found = await check("software", ep(f"http://127.0.0.1:{port}/"), prober)
    assert found.outcome == "inconclusive"


# --------------------------------------------------------------------------- escalate and order


def result_of(step: str, outcome: Outcome, summary: str = "s") -> CheckResult:
    return CheckResult(step=step, outcome=outcome, summary=summary)


async def test_escalate_sums_up_the_other_steps(lab: Lab, prober: Prober) -> None:
    endpoint = ep(lab.url("/ok"))
    none = await check("escalate", endpoint, prober)
    assert none.outcome == "inconclusive"
    passing = {"retry": result_of("retry", "pass"), "dns": result_of("dns", "not_applicable")}
    assert (await check("escalate", endpoint, prober, earlier=passing)).outcome == "pass"
    failing = {**passing, "server": result_of("server", "fail", "origin refused")}
    found = await check("escalate", endpoint, prober, earlier=failing)
    assert found.outcome == "fail"
    assert "Server status: FAIL — origin refused" in found.evidence
    assert found.facts["alarming"] == ["server"]


@pytest.mark.parametrize(
    ("cause", "kind", "first"),
    [
        ("dns", "nxdomain", ["dns", "retry"]),
        ("backend", "upstream_refused", ["server", "proxy", "retry"]),
        ("overload", "rate_limited", ["load", "retry", "server"]),
        ("backend", "pool_member_down", ["load", "software", "server"]),
        ("tls", "expiring_soon", ["tls", "retry"]),
        ("healthy", None, ["retry", "server", "proxy"]),
    ],
)
def test_the_verdict_orders_the_steps(cause: Cause, kind: str | None, first: list[str]) -> None:
    verdict = Verdict(cause, kind, None, None, 0.9, "s")
    ids = [s.id for s in order_steps(verdict)]
    assert ids[: len(first)] == first
    assert ids[-1] == "escalate" and len(ids) == len(set(ids)) == 8


def test_settings_pauses() -> None:
    assert CheckSettings(retries=1).pauses() == ()
    assert CheckSettings(retries=6, backoff=1.0, backoff_cap=3.0).pauses() == (1, 2, 3, 3, 3)
