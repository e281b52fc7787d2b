"""Secrets out of everything the checklist writes: reports, JSON, curl lines, progress files.

The rules and the redaction itself live in :mod:`gatewatch.secrets`, the one redaction path
of every output; this module only knows an endpoint: which secret values its probes use
(header values, URL and proxy credentials, the environment's proxy), so the report's
literal pass can hunt for them wherever they ended up (an echo endpoint that reflects the
Authorization header into its body, a verdict that quotes a URL, a note the engineer
pasted). Both passes run on the final text, so a new section added to the report later is
covered without anyone remembering to redact it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from gatewatch import secrets
from gatewatch.model import Endpoint
from gatewatch.secrets import (
    MASK,
    MIN_LITERAL,
    URL_MASK,
    secret_header,
    secret_param,
    secret_variants,
    url_secrets,
)

__all__ = [
    "MASK",
    "MIN_LITERAL",
    "URL_MASK",
    "Redactor",
    "secret_header",
    "secret_param",
    "url_secrets",
]


class Redactor(secrets.Redactor):
    """:class:`gatewatch.secrets.Redactor` that knows an endpoint's secrets."""

    @classmethod
    def for_endpoint(
        cls, endpoint: Endpoint, environ: Mapping[str, str], *, extra: Iterable[str] = ()
    ) -> Redactor:
        """Every secret this endpoint's probes use: header values that are ``env:``
        references or have a secret's name, passwords and tokens in its URLs and proxies
        (the environment's proxy too)."""
        found: set[str] = set(extra)
        for name, value in endpoint.headers:
            resolved = _resolved(value, environ)
            if resolved and (secrets.is_reference(value) or secret_header(name)):
                found |= secret_variants(resolved)
        for url in (endpoint.url, endpoint.origin):
            found |= url_secrets(url)
        proxy = _resolved(endpoint.proxy, environ) if endpoint.proxy else None
        if endpoint.proxy and secrets.is_reference(endpoint.proxy) and proxy:
            found.add(proxy)
        found |= url_secrets(proxy)
        found |= url_secrets(_environment_proxy(endpoint.url, environ))
        return cls(found)


def _resolved(value: str | None, environ: Mapping[str, str]) -> str | None:
    if value is None:
        return None
    try:
        return secrets.resolve(value, environ)
    except secrets.SecretError:
        return None


def _environment_proxy(url: str, environ: Mapping[str, str]) -> str | None:
    import httpx

    from gatewatch.probe import environment_proxy

    try:
        return environment_proxy(httpx.URL(url), environ)
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
