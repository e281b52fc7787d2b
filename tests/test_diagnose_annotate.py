"""annotate(): the verdict on the result, the recognised gateway on the proxy hop."""

from __future__ import annotations

import gateway_pages as pages
from diagnose_factory import gateway_error, history, ok, origin_failing, origin_ok, response
from gatewatch.diagnose import annotate, diagnose
from gatewatch.model import result_to_json


def test_sets_the_verdict() -> None:
    probe = gateway_error(pages.nginx(502))
    annotated = annotate(probe)
    assert annotated.verdict == diagnose(probe)
    assert probe.verdict is None, "the input is left alone"


def test_names_the_reverse_proxy_on_a_skipped_proxy_hop() -> None:
    annotated = annotate(gateway_error(pages.nginx_chain_haproxy_alldown(), elapsed_ms=2.0))
    hop = annotated.hop("proxy")
    assert (hop.status, hop.ms) == ("ok", None)
    assert hop.detail["generator"] == "haproxy"
    assert hop.detail["relayed_by"] == ["nginx"]
    assert hop.detail["template"] == "haproxy"


def test_keeps_the_forward_proxy_facts() -> None:
    probe = gateway_error(pages.nginx(502), proxy="http://proxy.corp:3128")
    hop = annotate(probe).hop("proxy")
    assert (hop.status, hop.ms) == ("ok", 2.0)
    assert hop.detail["proxy"] == "http://proxy.corp:3128"
    assert hop.detail["generator"] == "nginx"


def test_app_relayed_through_a_cdn_is_named() -> None:
    page = response(200, "OK", [("Server", "cloudflare"), ("CF-RAY", "8a1b-AMS")], "ok")
    hop = annotate(ok(page)).hop("proxy")
    assert (hop.status, hop.detail["generator"], hop.detail["relayed_by"]) == (
        "ok", "app", ["cloudflare"],
    )  # fmt: skip


def test_no_gateway_no_change() -> None:
    probe = ok(response(200, "OK", [("Server", "gunicorn")], "ok"))
    assert annotate(probe).hop("proxy") == probe.hop("proxy")


def test_no_response_no_change() -> None:
    probe = origin_failing("tcp", "refused")
    assert annotate(probe).hop("proxy").status == "skip"


def test_annotates_the_origin_recursively() -> None:
    probe = gateway_error(pages.nginx(502), origin=origin_failing("tcp", "refused"))
    annotated = annotate(probe, history=history("...."))
    assert annotated.verdict is not None and annotated.verdict.kind == "upstream_refused"
    assert annotated.origin is not None and annotated.origin.verdict is not None
    assert (annotated.origin.verdict.cause, annotated.origin.verdict.kind) == (
        "network", "refused",
    )  # fmt: skip


def test_json_contract_carries_the_proxy_detail() -> None:
    out = result_to_json(annotate(gateway_error(pages.nginx(502), origin=origin_ok())))
    proxy = out["hops"][3]
    assert proxy["name"] == "proxy"
    assert proxy["detail"]["generator"] == "nginx"
    assert proxy["detail"]["relayed_by"] == []
    assert out["verdict"]["kind"] == "gateway_misconfigured"
    assert out["origin"]["verdict"]["cause"] == "healthy"
