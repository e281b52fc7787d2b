"""``gatewatch exporter`` against the real thing: blackbox_exporter and Prometheus.

1. The same lab targets probed by the real blackbox_exporter (Debian's 0.23.0) and by
   ``gatewatch exporter``: metric names and types must match, and the values that do not
   depend on timing must be equal.
2. A real Prometheus (1 s scrapes, temporary TSDB) scrapes two gatewatch exporters as two
   vantage points (``region`` eu / us; the us one resolves the shop's name to an address
   where nothing listens), one blackbox_exporter, and gatewatch through blackbox_exporter's
   README multi-target scrape config, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gatewatch.lab import Lab
from gatewatch.model import Endpoint
from gateways_support import Gateway
from prometheus_support import (
    by_label,
    check_with_promtool,
    gatewatch_exporter,
    parse_exposition,
    query_until,
    start_blackbox,
    start_prometheus,
)

BLACKBOX_CONFIG = """\
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      tls_config:
        insecure_skip_verify: true
"""

#: blackbox_exporter's README (v0.23.0), "Prometheus Configuration", verbatim but for the
#: targets and the exporter's address, which are the placeholders.
README_SCRAPE_CONFIG = """\
  - job_name: 'blackbox'
    metrics_path: /probe
    params:
      module: [http_2xx]  # Look for a HTTP 200 response.
    static_configs:
      - targets:
        - {target}
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: {exporter}  # The blackbox exporter's real hostname:port.
"""

#: Families blackbox_exporter has that gatewatch leaves out, and why (see blackbox.py).
LEFT_OUT = {
    # Subject, issuer and SANs of the leaf as label values: free text from the server
    # (unbounded series, hostile text); gatewatch shows them on the tls hop instead.
    "probe_ssl_last_chain_info",
}

#: Values that depend on no clock: both exporters must report the same.
EXACT = (
    "probe_success",
    "probe_http_status_code",
    "probe_http_version",
    "probe_http_ssl",
    "probe_http_redirects",
    "probe_http_content_length",
    "probe_http_uncompressed_body_length",
    "probe_ip_protocol",
    "probe_ip_addr_hash",
    "probe_failed_due_to_regex",
    "probe_ssl_earliest_cert_expiry",
    "probe_ssl_last_chain_expiry_timestamp_seconds",
)


@pytest.fixture
def blackbox(tmp_path: Path, lab: Lab) -> Iterator[Gateway]:
    # A second module verifies against the lab's CA: the verified chain's expiry then counts.
    verified = (
        "  http_2xx_ca:\n    prober: http\n    timeout: 5s\n    http:\n"
        "      preferred_ip_protocol: ip4\n      tls_config:\n"
        f"        ca_file: {lab.ca_bundle}\n"
    )
    running = start_blackbox(tmp_path / "blackbox", BLACKBOX_CONFIG + verified)
    yield running
    running.stop()


def _targets(lab: Lab) -> dict[str, tuple[Endpoint, str]]:
    """name → (gatewatch's endpoint, blackbox_exporter's module); the refused one last."""
    insecure = {
        "ok": lab.url("/ok"),
        "tls": lab.url("/ok", scheme="https"),
        "bad_gateway": lab.url("/status/502"),
    }
    found = {
        name: (Endpoint(name=name, url=url, insecure=True, timeout=5), "http_2xx")
        for name, url in insecure.items()
    }
    verified = Endpoint(
        name="tls_verified",
        url=lab.url("/ok", scheme="https", host="localhost"),
        ca_bundle=lab.ca_bundle,
        timeout=5,
    )
    found["tls_verified"] = (verified, "http_2xx_ca")
    refused = f"http://127.0.0.1:{lab.refused_port}/"
    found["refused"] = (Endpoint(name="refused", url=refused, timeout=5), "http_2xx")
    return found


def _values(text: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            found[key] = float(value)
    return found


def _get(url: str, params: dict[str, str]) -> str:
    response = httpx.get(
        url, params=params, headers={"X-Prometheus-Scrape-Timeout-Seconds": "5"},
        timeout=15.0, trust_env=False,
    )
    assert response.status_code == 200, response.text
    return response.text


def test_the_same_metric_names_types_and_values_as_blackbox_exporter(
    lab: Lab, blackbox: Gateway, tmp_path: Path
) -> None:
    targets = _targets(lab)
    endpoints = [endpoint for endpoint, _ in targets.values()]
    with gatewatch_exporter(endpoints, tmp_path / "h.sqlite", watch=False) as ours:
        for name, (endpoint, module) in targets.items():
            url = endpoint.url
            theirs_text = _get(blackbox.url("/probe"), {"target": url, "module": module})
            ours_text = _get(ours.url("/probe"), {"target": url, "module": "http_2xx"})
            theirs, mine = parse_exposition(theirs_text), parse_exposition(ours_text)
            missing = {n: t for n, t in theirs.items() if mine.get(n) != t} .keys() - LEFT_OUT
            assert not missing, f"{name}: blackbox has {sorted(missing)}, gatewatch not"
            extra = {n for n in mine if n not in theirs and not n.startswith("gatewatch_")}
            assert not extra, f"{name}: gatewatch adds non-gatewatch families {extra}"
            a, b = _values(theirs_text), _values(ours_text)
            for metric in EXACT:
                if metric in theirs:
                    assert b[metric] == a[metric], f"{name}: {metric} {b[metric]} != {a[metric]}"
            phases = {k for k in b if k.startswith("probe_http_duration_seconds")}
            assert phases == {k for k in a if k.startswith("probe_http_duration_seconds")}
            tls_versions = {k for k in a if k.startswith("probe_tls_version_info")}
            assert tls_versions == {k for k in b if k.startswith("probe_tls_version_info")}
            check_with_promtool(ours_text)
        assert _values(ours_text)["probe_success"] == 0  # the refused port, last
    assert b['gatewatch_verdict_info{cause="network",generator="none",kind="refused"}'] == 1


def _prometheus_config(jobs: str) -> str:
    return (
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        f"scrape_configs:\n{jobs}"
    )


def test_prometheus_scrapes_two_vantage_points_and_the_readme_config(
    lab: Lab, blackbox: Gateway, tmp_path: Path
) -> None:
    # eu resolves app.lab.test like everyone; us asks a resolver that sends it to 127.0.0.2,
    # where nothing listens: the shop fails from us only.
    us_dns = lab.add_dns_server({"app.lab.test": ["127.0.0.2"]})
    shop_url = lab.url("/ok", host="app.lab.test")
    shop = Endpoint(name="shop", url=shop_url, interval=1.0, timeout=2.0)
    ok_url = lab.url("/ok")
    plain = Endpoint(name="plain", url=ok_url, interval=1.0, timeout=2.0)
    eu_endpoints = [shop.replace(resolvers=(f"127.0.0.1:{lab.dns_port}",)), plain]
    us_endpoints = [shop.replace(resolvers=(f"127.0.0.1:{us_dns}",)), plain]
    with (
        gatewatch_exporter(eu_endpoints, tmp_path / "eu.sqlite") as eu,
        gatewatch_exporter(us_endpoints, tmp_path / "us.sqlite") as us,
    ):
        blackbox_address = f"127.0.0.1:{blackbox.ports['http']}"
        jobs = (
            "  - job_name: gatewatch\n    static_configs:\n"
            f"      - targets: ['{eu.address}']\n        labels: {{region: eu}}\n"
            f"      - targets: ['{us.address}']\n        labels: {{region: us}}\n"
            + README_SCRAPE_CONFIG.format(target=ok_url, exporter=blackbox_address)
            + README_SCRAPE_CONFIG.format(target=ok_url, exporter=eu.address).replace(
                "'blackbox'", "'blackbox-readme-gatewatch'"
            )
        )
        prometheus = start_prometheus(tmp_path / "prometheus", lambda _: _prometheus_config(jobs))
        try:
            # The README config, unchanged, against gatewatch exporter.
            readme = query_until(
                prometheus,
                'probe_success{job="blackbox-readme-gatewatch"}',
                lambda r: len(r) == 1,
            )
            assert readme[0]["metric"]["instance"] == ok_url
            assert float(readme[0]["value"][1]) == 1
            real = query_until(prometheus, 'probe_success{job="blackbox"}', lambda r: len(r) == 1)
            assert float(real[0]["value"][1]) == 1
            # gatewatch's diagnosis rides along on the same scrape.
            verdict = query_until(
                prometheus,
                'gatewatch_verdict_info{job="blackbox-readme-gatewatch"}',
                lambda r: len(r) == 1,
            )
            assert verdict[0]["metric"]["cause"] == "healthy"
            # Two vantage points: the shop fails from us only, with the reason.
            shop_success = query_until(
                prometheus,
                'probe_success{job="gatewatch",endpoint="shop"}',
                lambda r: by_label(r, "region") == {"eu": 1.0, "us": 0.0},
            )
            assert len(shop_success) == 2
            why = query_until(
                prometheus,
                'gatewatch_verdict_info{job="gatewatch",endpoint="shop",region="us"}',
                lambda r: len(r) == 1 and r[0]["metric"]["cause"] != "unknown",
            )
            assert (why[0]["metric"]["cause"], why[0]["metric"]["kind"]) == (
                "network",
                "refused",
            )
            plain_success = query_until(
                prometheus,
                'probe_success{job="gatewatch",endpoint="plain"}',
                lambda r: by_label(r, "region") == {"eu": 1.0, "us": 1.0},
            )
            assert len(plain_success) == 2
            state = query_until(
                prometheus,
                'gatewatch_endpoint_state{job="gatewatch",endpoint="shop",state="down"} == 1',
                lambda r: set(by_label(r, "region")) == {"us"},
            )
            assert state
            up = query_until(prometheus, "up", lambda r: len(r) == 4)
            assert all(float(s["value"][1]) == 1 for s in up), up
        finally:
            prometheus.stop()
