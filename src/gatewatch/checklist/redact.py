"""Secrets out of everything the checklist writes: reports, JSON, curl lines, progress files.

Why two layers: an incident report is pasted into chat rooms and tickets, so a secret in it
is a leak. Structure catches the secrets we can see (a header whose name suggests one, a
password in a URL, a ``token=`` query parameter, an ``env:`` reference's value); a literal
pass over the finished text then replaces every *known* secret value wherever it ended up
(an echo endpoint that reflects the Authorization header into its body, a verdict that
quotes a URL, a note the engineer pasted). Both run on the final text, so a new section
added to the report later is covered without anyone remembering to redact it.

Values shorter than :data:`MIN_LITERAL` characters are masked where structure finds them
but not hunted for in free text: replacing every "abc" in a report would make it unreadable
and such a secret is no secret anyway.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from gatewatch import secrets
from gatewatch.model import Endpoint

MASK = "[REDACTED]"
#: In URLs: no brackets, so the URL stays one that curl and browsers accept.
URL_MASK = "REDACTED"
MIN_LITERAL = 4
#: A username this long is likely a token used as a username (``https://TOKEN@host``).
TOKEN_USERNAME = 8

_SECRET_HEADER = re.compile(
    r"authorization|cookie|token|secret|passw|signature|credential|session|auth|"
    r"api[-_]?key|(?:^|[-_])key(?:$|[-_])",
    re.IGNORECASE,
)
_SECRET_PARAM = re.compile(
    r"token|secret|passw|pwd|signature|credential|session|auth|api[-_]?key|access[-_]?key|"
    r"(?:^|[-_])(?:key|sig)$",
    re.IGNORECASE,
)
#: A reference, not a value: ``env:NAME`` in reports, ``$NAME`` / ``${NAME}`` in curl lines.
_REFERENCE = re.compile(r"^(?:env:[A-Za-z_]\w*|\$\{?[A-Za-z_]\w*\}?)")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s@?#'\"|`<>]+)@")
_QUERY_PARAM = re.compile(r"([?&;])([^=&#\s'\"|`<>]+)=([^&#\s'\"|`<>]*)")
#: ``Name: value`` where a header line can stand in free text (never ``host:8443``).
_HEADER_LINE = re.compile(r"(?<![\w./:-])([A-Za-z][A-Za-z0-9_-]*)(:[ \t]+)([^\r\n|`'\"]+)")


def secret_header(name: str) -> bool:
    """Whether a header called ``name`` carries a secret (challenges do not)."""
    lowered = name.lower()
    if lowered.endswith("authenticate"):  # WWW-/Proxy-Authenticate: a challenge, no secret
        return False
    return _SECRET_HEADER.search(lowered) is not None


def secret_param(name: str) -> bool:
    """Whether a query parameter called ``name`` carries a secret."""
    return _SECRET_PARAM.search(unquote(name)) is not None


def _variants(value: str) -> set[str]:
    """A secret and the forms it travels in: after an auth scheme, Basic-decoded, per cookie,
    percent-encoded."""
    found = {value}
    scheme, _, rest = value.partition(" ")
    if rest and scheme.isalpha():
        found.add(rest.strip())
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                decoded = ""
            if decoded:
                found.add(decoded)
                found.add(decoded.partition(":")[2])
    for part in value.split(";"):
        _, eq, cookie = part.partition("=")
        if eq:
            found.add(cookie.strip())
    found |= {quote(v, safe="") for v in list(found)}
    return {v for v in found if v}


def url_secrets(url: str | None) -> set[str]:
    """The secret values in a URL: userinfo (and its Basic form) and secret query values."""
    if not url:
        return set()
    try:
        parts = urlsplit(url)
        username, password = parts.username, parts.password
    except ValueError:
        return set()
    found: set[str] = set()
    if password:
        found |= _variants(unquote(password)) | {password}
        user = unquote(username or "")
        found.add(base64.b64encode(f"{user}:{unquote(password)}".encode()).decode())
    if username and (not password or len(username) >= TOKEN_USERNAME):
        found |= {username, unquote(username)}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if value and secret_param(name):
            found |= _variants(value)
    return found


class Redactor:
    """Replaces secrets in text. Build one per endpoint with :meth:`for_endpoint`."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        known = {v for v in values if len(v) >= MIN_LITERAL}
        # Longest first: a secret that contains another is replaced whole.
        self._values = tuple(sorted(known, key=len, reverse=True))
        self._literal = re.compile("|".join(map(re.escape, self._values))) if known else None

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
                found |= _variants(resolved)
        for url in (endpoint.url, endpoint.origin):
            found |= url_secrets(url)
        proxy = _resolved(endpoint.proxy, environ) if endpoint.proxy else None
        if endpoint.proxy and secrets.is_reference(endpoint.proxy) and proxy:
            found.add(proxy)
        found |= url_secrets(proxy)
        found |= url_secrets(_environment_proxy(endpoint.url, environ))
        return cls(found)

    # ------------------------------------------------------------------ text

    def text(self, text: str) -> str:
        """``text`` with known secrets, URL credentials, secret query values and secret
        header lines masked."""
        if self._literal is not None:
            text = self._literal.sub(MASK, text)
        text = _USERINFO.sub(lambda m: f"{m[1]}{URL_MASK}@", text)
        text = _QUERY_PARAM.sub(_mask_param, text)
        return _HEADER_LINE.sub(_mask_header_line, text)

    def url(self, url: str) -> str:
        """A URL with its userinfo and secret query values masked (``env:`` kept as is)."""
        if secrets.is_reference(url):
            return url
        try:
            parts = urlsplit(url)
        except ValueError:
            return self.text(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{URL_MASK}@{netloc.rpartition('@')[2]}"
        query = "&".join(
            f"{name}={URL_MASK}" if value and secret_param(unquote(name)) else piece
            for piece in parts.query.split("&")
            if piece
            for name, _, value in [piece.partition("=")]
        )
        return self.text(urlunsplit(parts._replace(netloc=netloc, query=query)))

    def header(self, name: str, value: str) -> str:
        """A header's value as it may be shown: references kept, secrets masked."""
        if secrets.is_reference(value):
            return value
        if secret_header(name):
            return MASK
        return self.text(value)

    def data(self, value: Any) -> Any:
        """JSON-ready ``value`` with every string in it redacted (keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.data(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value


def _mask_param(match: re.Match[str]) -> str:
    sep, name, value = match[1], match[2], match[3]
    if value and value != MASK and secret_param(name) and not _REFERENCE.match(value):
        return f"{sep}{name}={URL_MASK}"
    return match[0]


def _mask_header_line(match: re.Match[str]) -> str:
    name, colon, value = match[1], match[2], match[3]
    if not secret_header(name) or _REFERENCE.match(value) or value.strip() == MASK:
        return match[0]
    return f"{name}{colon}{MASK}"


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
