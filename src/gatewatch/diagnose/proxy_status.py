"""RFC 9209 ``Proxy-Status``: the gateway says in a header why it failed. Read it first.

Envoy emits it, Caddy, Traefik and others are adding it. Each intermediary adds one
list member named after itself, the one nearest the origin first; the member with an
``error`` parameter made the error. Its error type maps to our kinds (``ERROR_KINDS``,
every type of RFC 9209 §2.3), its ``details`` are evidence, and it outranks a body
template: a page may be a generic one, the header is the gateway's own words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gatewatch.diagnose.structured import Item, StructuredError, Token, parse_list
from gatewatch.diagnose.text import clip
from gatewatch.diagnose.tiers import product_token
from gatewatch.model import Response

#: RFC 9209 §2.3 error type → our kind. Prefix rows end with ``*``.
ERROR_KINDS: Mapping[str, str] = MappingProxyType(
    {
        "dns_timeout": "upstream_dns",
        "dns_error": "upstream_dns",
        "destination_not_found": "gateway_misconfigured",
        "destination_unavailable": "no_healthy_upstream",
        "destination_ip_prohibited": "gateway_misconfigured",
        "destination_ip_unroutable": "upstream_refused",
        "connection_refused": "upstream_refused",
        "connection_terminated": "upstream_closed",
        "connection_timeout": "upstream_timeout",
        "connection_read_timeout": "upstream_timeout",
        "connection_write_timeout": "upstream_timeout",
        "connection_limit_reached": "gateway_overloaded",
        "tls_*": "upstream_tls",
        "http_request_error": "gateway_error",
        "http_request_denied": "waf_block",
        "http_response_incomplete": "upstream_invalid_response",
        "http_response_header_*": "upstream_invalid_response",
        "http_response_body_*": "upstream_invalid_response",
        "http_response_trailer_*": "upstream_invalid_response",
        "http_response_transfer_coding": "upstream_invalid_response",
        "http_response_content_coding": "upstream_invalid_response",
        "http_response_timeout": "upstream_timeout",
        "http_upgrade_failed": "upstream_invalid_response",
        "http_protocol_error": "upstream_invalid_response",
        "proxy_internal_response": "gateway_error",
        "proxy_internal_error": "gateway_error",
        "proxy_configuration_error": "gateway_misconfigured",
        "proxy_loop_detected": "gateway_misconfigured",
    }
)

#: How sure a mapped error type is: the gateway states it, so high.
CONFIDENCE = 0.9


@dataclass(frozen=True)
class ProxyStatus:
    """The member of a Proxy-Status field that carries the error."""

    #: The intermediary's name as it gives it (token or string).
    name: str
    error: str
    kind: str | None
    details: str | None
    #: Status the next hop sent (``received-status``), if given.
    received_status: int | None
    evidence: tuple[str, ...]

    @property
    def generator(self) -> str:
        """The intermediary, normalised like a Server token (``edgeproxy/3.1`` → ``edgeproxy``)."""
        return product_token(self.name) or self.name.lower()


def kind_of(error: str) -> str | None:
    """Our kind for an RFC 9209 error type, or None for a type the RFC does not define."""
    if error in ERROR_KINDS:
        return ERROR_KINDS[error]
    for key, kind in ERROR_KINDS.items():
        if key.endswith("*") and error.startswith(key[:-1]):
            return kind
    return None


def read_proxy_status(response: Response) -> ProxyStatus | None:
    """The erroring member of the response's Proxy-Status, or None (absent, no error, bad)."""
    values = response.header_all("proxy-status")
    if not values:
        return None
    try:
        members = parse_list(", ".join(values))
    except StructuredError:
        return None
    for member in members:
        error = member.param("error")
        if not isinstance(member.value, str | Token) or not isinstance(error, Token):
            continue
        return _reading(member, str(member.value), str(error))
    return None


def _reading(member: Item, name: str, error: str) -> ProxyStatus:
    kind = kind_of(error)
    details = member.param("details")
    details_text = str(details) if isinstance(details, str | Token) else None
    received = member.param("received-status")
    received_status = None
    if isinstance(received, int) and not isinstance(received, bool):
        received_status = received
    evidence = [
        f"Proxy-Status (RFC 9209): {clip(name, 40)} says error={clip(error, 60)}"
        + (f", which is {kind}" if kind else ", a type RFC 9209 does not define")
    ]
    if details_text:
        evidence.append(f'Proxy-Status details: "{clip(details_text, 160)}"')
    if received_status is not None:
        evidence.append(f"Proxy-Status received-status={received_status}: the next hop sent it")
    rcode = member.param("rcode")
    if isinstance(rcode, str | Token):
        evidence.append(f"Proxy-Status rcode={clip(str(rcode), 20)} (the DNS answer code)")
    return ProxyStatus(name, error, kind, details_text, received_status, tuple(evidence))
