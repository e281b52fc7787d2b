"""Secrets: ``env:`` references resolved at the last moment, and the one redaction path.

Why: a watchlist is saved, shared and pasted into incident channels. The value behind
``env:SHOP_TOKEN`` must never be written into it, into a report or into a log, so every
layer keeps the reference and calls :func:`resolve` at the last moment.

Credentials also travel inside URLs (``https://user:pw@host``, ``?token=…``) and headers
(Authorization, Cookie, X-Api-Key). The real values go on the wire only: every output —
probe/check text and JSON, history rows, alerts, the board, reports — shows them through
:func:`redact_url`, :func:`redact_headers` and :func:`redact_text`, built on one set of
rules (:func:`secret_param`, :func:`secret_header`). The checklist's :class:`Redactor` adds
a literal pass over the endpoint's known secret values for free text (reports).

Values shorter than :data:`MIN_LITERAL` characters are masked where structure finds them
but not hunted for in free text: replacing every "abc" in a report would make it unreadable
and such a secret is no secret anyway.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

PREFIX = "env:"


class SecretError(ValueError):
    """A referenced environment variable is not set."""


def is_reference(value: str) -> bool:
    return value.startswith(PREFIX)


def resolve(value: str, environ: Mapping[str, str] | None = None) -> str:
    """The real value of ``value``: itself, or the environment variable it names."""
    if not is_reference(value):
        return value
    name = value[len(PREFIX) :]
    env = os.environ if environ is None else environ
    if name not in env:
        raise SecretError(f"environment variable {name!r} is not set (referenced as {value!r})")
    return env[name]


# --------------------------------------------------------------------------- redaction

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


def secret_variants(value: str) -> set[str]:
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
        found |= secret_variants(unquote(password)) | {password}
        user = unquote(username or "")
        found.add(base64.b64encode(f"{user}:{unquote(password)}".encode()).decode())
    if username and (not password or len(username) >= TOKEN_USERNAME):
        found |= {username, unquote(username)}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if value and secret_param(name):
            found |= secret_variants(value)
    return found


class Redactor:
    """Replaces secrets in text: the structural pass (:func:`redact_text`) plus every
    known secret value wherever it ended up. ``checklist.redact.Redactor.for_endpoint``
    builds one with an endpoint's secrets."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        known = {v for v in values if len(v) >= MIN_LITERAL}
        # Longest first: a secret that contains another is replaced whole.
        self._values = tuple(sorted(known, key=len, reverse=True))
        self._literal = re.compile("|".join(map(re.escape, self._values))) if known else None

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
        if is_reference(url):
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
        if is_reference(value):
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


def redact_url(url: str) -> str:
    """``url`` as it may be shown: userinfo and secret query values masked (``env:`` kept).

    ``https://user:pw@h/p?token=t&page=2`` → ``https://REDACTED@h/p?token=REDACTED&page=2``.
    Idempotent, so a layer may apply it to a URL that is already redacted.
    """
    return _PLAIN.url(url)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header name → value as it may be shown: Authorization, Cookie, Proxy-Authorization,
    X-Api-Key and every other secret-named header masked; ``env:`` references kept."""
    return {name: redact_header(name, value) for name, value in headers.items()}


def redact_header(name: str, value: str) -> str:
    """One header's value as it may be shown (for header lists with repeated names)."""
    return _PLAIN.header(name, value)


def redact_text(text: str) -> str:
    """Free text (an error message, a log line) with URL credentials, secret query values
    and secret ``Name: value`` header lines masked."""
    return _PLAIN.text(text)


def credentials_conflict(url: str, headers: Iterable[tuple[str, str]]) -> str | None:
    """Why ``url`` and ``headers`` cannot go together, or None.

    A URL with userinfo makes the HTTP client send Basic auth, which silently replaces a
    configured Authorization header: refuse the pair instead of guessing which one is meant.
    """
    try:
        userinfo = "@" in (urlsplit(url).netloc or "")
    except ValueError:
        return None
    if not userinfo:
        return None
    if not any(name.strip().lower() == "authorization" for name, _ in headers):
        return None
    return (
        "the URL carries credentials (user:password@) and an Authorization header is "
        "configured: the URL's Basic auth would replace the header; keep only one"
    )


_PLAIN = Redactor()
